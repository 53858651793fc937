"""Oracle self-tests against hand-computed values: the allowed gap is a count of float64 roundings, not a guess.

`assert_ulps(got, ref, ops, scale)` passes when |got - ref| <= ops * eps64 * scale elementwise, where `ops` is the
number of rounded operations between the inputs and the result on both sides (each rounds by at most half an ulp
of the size it works at) and `scale` that size: |ref| by default, or the size of the terms the result is computed
from when the result itself can be 0 or cancel (a dot product of orthogonal vectors)."""
from __future__ import annotations

import numpy as np

EPS = np.finfo(np.float64).eps


def assert_ulps(got, ref, ops: int, scale=None) -> None:
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    assert got.shape == ref.shape, f"shape {got.shape}, but should be {ref.shape}"
    bound = ops * EPS * (np.abs(ref) if scale is None else np.asarray(scale, dtype=np.float64))
    err = np.abs(got - ref)
    bad = err > bound
    if np.any(bad):
        i = tuple(int(v) for v in np.argwhere(bad)[0])
        raise AssertionError(f"[{', '.join(map(str, i))}] = {got[i]!r}, but should be {ref[i]!r} "
                             f"+- {np.broadcast_to(bound, err.shape)[i]:.3g} ({ops} roundings)")
