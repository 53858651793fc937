"""The `round_trip` check: the common layer API of seed 003 on a Keras adapter (see test_round_trip.py).

One example passes when the real layer comes back from ``from_config(get_config())`` and from
``layers.deserialize(layers.serialize(...))`` with the same canonical config (oracle.normalize of both sides),
get_weights() has the documented shapes, compute_output_shape gives the documented shape for an unknown batch,
and a copy given set_weights(get_weights()) computes bit-identical outputs (the same backend runs the same ops
on the same numbers, so the bound is zero: any difference is a lost or reordered weight)."""
from __future__ import annotations

import numpy as np

import oracle

from .backend_calls import BackendError
from .compare import Comparison, compare
from .strategies import Case, arrays


def differences(expected: dict, actual: dict) -> list[str]:
    """'key: expected ..., got ...' for every canonical parameter that differs."""
    keys = sorted(set(expected["config"]) | set(actual["config"]))
    return [f"{k}: expected {expected['config'].get(k, '<absent>')!r}, got {actual['config'].get(k, '<absent>')!r}"
            for k in keys if expected["config"].get(k, "<absent>") != actual["config"].get(k, "<absent>")]


def _fact(name: str, problem: str | None) -> Comparison:
    """A yes/no fact as a comparison: exact when it holds, infinitely wrong with its description when not."""
    ok = problem is None
    return Comparison(name, ok, 0.0 if ok else float("inf"), 0.0 if ok else float("inf"), shape_error=problem)


def round_trip_check(case: Case, adapter, device: str, dtype: str, truth=None):
    """(ok, comparisons, reference) like the other checks of suites/checks.py."""
    config = oracle.normalize(case.config)
    x, ws, _ = arrays(case, dtype)
    if isinstance(x, list) and oracle.layer_of(config).multi_input == "optional":
        x = x[0]  # a recurrent layer's initial states do not enter its config, weights or output shape
    got = adapter.round_trip(config, ws, x, dtype=dtype)
    facts = []
    for how in ("from_config", "deserialize"):
        try:
            problems = differences(config, oracle.normalize(got[how]))
        except ValueError as exc:  # the backend wrote a parameter or value the documented signature lacks
            problems = [f"unreadable: {exc}"]
        # one fact per parameter that differs ('config after from_config: axis'), so a known divergence can
        # excuse exactly the parameters it names
        facts += [_fact(f"config after {how}: {p.split(':', 1)[0]}", f"config after {how}: {p}") for p in problems] \
            or [_fact(f"config after {how}", None)]
    in_shape = [a.shape for a in x] if isinstance(x, list) else x.shape
    shapes = [tuple(s) for s in oracle.weight_shapes(config, in_shape)]
    got_shapes = [w.shape for w in got["weights"]]
    facts.append(_fact("get_weights", None if got_shapes == shapes else
                       f"get_weights() shapes {got_shapes}, but should be {shapes}"))
    batchless = [(None,) + tuple(s[1:]) for s in in_shape] if isinstance(x, list) else (None,) + tuple(x.shape[1:])
    if got["output_shape"] is not None:  # None: a cell, whose API has no output-shape method (adapter comment)
        out = oracle.output_shape(config, batchless)
        expected = [tuple(s) for s in out] if isinstance(out, list) else tuple(out)
        facts.append(_fact("compute_output_shape", None if got["output_shape"] == expected else
                           f"compute_output_shape({batchless}) = {got['output_shape']}, but should be {expected}"))
    if got["call_error"] is not None:
        if all(f.ok for f in facts):
            # the layer cannot run this config: the backend's error outcome, as in the forward check
            raise BackendError(got["call_error"])
        facts.append(_fact("call", f"calling the layer raised {type(got['call_error']).__name__}"))
        return False, facts, None
    out = np.asarray(got["output"], dtype=np.float64)
    copy = np.asarray(got["copy_output"], dtype=np.float64)
    # bit-identical, infinities and NaNs included (an overflowing recurrence gives inf on both sides)
    facts.append(_fact("output after set_weights(get_weights())", None) if copy.shape == out.shape and
                 np.array_equal(copy, out, equal_nan=True) else
                 compare("output after set_weights(get_weights())", copy, out, np.zeros(out.shape)))
    return all(f.ok for f in facts), facts, None


def keras1_native_check(case: Case, adapter, device: str, dtype: str, truth=None):
    """A Keras 1 config (seed 000) given to the real backend as written: Keras 2.2.x's legacy interface accepted
    Keras 1 arguments and read them as oracle/keras1.py translates them. Raises when the backend rejects it (an
    error outcome, recorded as a known divergence where the backend dropped that support)."""
    translated = oracle.normalize(case.config)
    native = adapter.native_config(case.config, tuple(case.input_shape))
    problems = differences(translated, oracle.normalize(native))
    facts = [_fact(f"config read by the backend: {p.split(':', 1)[0]}", p) for p in problems]
    return not problems, facts or [_fact("config read by the backend", None)], None
