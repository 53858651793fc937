"""Masks consumed across layers (docs/traps.md 16: "Masking (mask_value): the produced mask, and how every
recurrent layer consumes it"): a mask-producing layer (Masking, Embedding(mask_zero=True)) followed by a recurrent
layer, run by the adapter's `mask_chain` (adapters/base.py): a real two-layer model on the Keras adapters (the
mask travels from one real layer to the next as Keras propagates it), the adapter's compute_mask fed to the second
layer as `mask=` elsewhere (torch has no implicit masks). The truth is oracle.compute_mask of the first layer and oracle.forward(second, mask=that).

Bound: both first layers are selections (Masking multiplies by an exact 0/1, Embedding gathers rows of weights
already drawn in the dtype), so their backend output equals the oracle's exactly and the composition's bound is
the second layer's own forward bound at that input and mask (tolerance.forward_bound)."""
from __future__ import annotations

import numpy as np

import oracle

from .compare import Comparison, compare
from .strategies import Case, arrays, case_mask
from .truth import DOCUMENTED, Truth

# The recurrent layers a sequence mask reaches (3-D input). ConvLSTM2D is left out: Masking on its 5-D input
# computes a per-pixel mask (batch, time, rows, cols) (any over the channel axis only), not a (batch, time) one,
# and Keras 2.2.x ConvRNN2D documents no mask of that form. CuDNN* set supports_masking = False (GPU only).
SECOND = ("SimpleRNN", "GRU", "LSTM", "RNN", "Bidirectional")


def masked_input(case: Case, dtype: str, mask_value: float) -> tuple[np.ndarray, np.ndarray]:
    """(x, kept): the recurrent case's input with the steps the case's mask drops set wholly to mask_value, and
    one feature of each kept step set to mask_value too (docs/traps.md 16: a step is masked only when *all* its features
    equal mask_value, so that step must stay unmasked)."""
    x, _, _ = arrays(case, dtype)
    kept = case_mask(Case(case.config, case.input_shape, case.seed, True))
    x = np.array(x)
    x[~kept] = mask_value
    if x.shape[-1] > 1:
        x[..., 0][kept] = mask_value
    return x, kept


def embedding_input(case: Case, input_dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(indices (batch, timesteps), kept): index 0 where the case's mask drops a step, 1..input_dim-1 elsewhere."""
    kept = case_mask(Case(case.config, case.input_shape, case.seed, True))
    rng = np.random.default_rng(case.seed + 1)
    idx = rng.integers(1, input_dim, size=kept.shape)
    return np.where(kept, idx, 0).astype(np.float64), kept


def truth(first: dict, w1: list, second: dict, w2: list, x: np.ndarray, dtype: str, semantics: Truth = DOCUMENTED):
    """(mask, output of the second layer, its bound): the oracle's chain; `semantics` for the second layer (an
    alternative of suites/alternatives/ when a known divergence is judged)."""
    mask = oracle.compute_mask(first, x)
    y1 = oracle.forward(first, w1, x)
    y2 = semantics.forward(second, w2, y1, mask=mask)
    return mask, y2, semantics.forward_bound(second, w2, y1, dtype, mask=mask)


def comparisons(expected_mask, got_mask, expected, bound, got) -> list[Comparison]:
    """The produced mask (exact) and every output of the second layer within its bound."""
    ok = got_mask is not None and np.array_equal(np.asarray(got_mask, bool), expected_mask)
    out = [Comparison("mask", ok, 0.0 if ok else np.inf, 0.0 if ok else np.inf,
                      shape_error=None if ok else f"mask {None if got_mask is None else np.asarray(got_mask).astype(int).tolist()}, "
                                                  f"but should be {expected_mask.astype(int).tolist()}")]
    exp = expected if isinstance(expected, list) else [expected]
    bnd = bound if isinstance(bound, list) else [bound]
    act = got if isinstance(got, list) else [got]
    if len(act) != len(exp):
        return out + [Comparison("outputs", False, np.inf, np.inf,
                                 shape_error=f"{len(act)} outputs, but should be {len(exp)}")]
    return out + [compare(f"output[{i}]", np.asarray(a, dtype=np.float64), e, b)
                  for i, (a, e, b) in enumerate(zip(act, exp, bnd))]
