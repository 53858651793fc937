"""Metamorphic relations of the recurrent layers, on the oracle and on every adapter (suites/metamorphic.py):
go_backwards is the reversed input, Bidirectional(merge_mode='sum') is the forward layer plus the re-reversed
backward layer, and two stateful calls on the halves of a sequence are one call on the whole (reset_states() a
fresh start). Each relation is checked on the backend against itself (and the stateful one against the oracle's
`stateful_run` too); the allowed difference is the sum of the two sides' bounds from the tolerance policy
(tolerance.forward_bound of each side's layer), never a literal. Generic over every recurrent layer the oracle
runs as a program with go_backwards (GRU, LSTM ... join when they register)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import adapters
import oracle

from . import strategies, tolerance
from .compare import compare
from .strategies.wrappers import inner_layers

INNER = [name for name in inner_layers() if name in strategies.CASES]


def _with(config: dict, **extra) -> dict:
    return {"class_name": config["class_name"], "config": {**config["config"], **extra}}


def _draw(data, layer: str, backend, **extra):
    """A canonical config of `layer` (with `extra`), its weights and a plain input (no initial states) in the
    backend's dtype, and the case's mask (or None)."""
    case = data.draw(strategies.cases(layer), label="case")
    x, ws, _ = strategies.arrays(case, backend.dtype)
    x = backend.cast(x[0] if isinstance(x, list) else x)
    config = _with(oracle.normalize(case.config), **extra)
    backend.skip_unless_supported(config)
    return config, [backend.cast(w) for w in ws], x, strategies.case_mask(case)


def _forward(backend, config: dict, ws: list, x, mask=None):
    """One layer on `backend` (float64 results)."""
    if backend.name == "oracle":
        return oracle.forward(config, ws, x, mask=mask)
    y = adapters.get(backend.name).forward(config, ws, x, device=backend.device, dtype=backend.dtype, mask=mask)
    return [np.asarray(a, np.float64) for a in y] if isinstance(y, list) else np.asarray(y, np.float64)


def _bound(config, ws, x, dtype, mask=None) -> np.ndarray:
    b = tolerance.forward_bound(config, ws, x, dtype, mask=mask)
    return b[0] if isinstance(b, list) else b


def _check(what: str, backend, left, right, bound) -> None:
    c = compare("lhs", left, right, bound + np.finfo(backend.dtype).tiny)
    assert c.ok, f"{what} [{backend.id}] shape={np.shape(left)}: {c.describe()}"


@pytest.mark.parametrize("layer", INNER)
@given(data=st.data())
def test_go_backwards_is_the_reversed_input(backend, layer, data):
    """layer(go_backwards=True)(x, mask) == layer(go_backwards=False)(x reversed in time, mask reversed): the
    same steps in the same order on the same numbers."""
    config, ws, x, mask = _draw(data, layer, backend, return_state=False, go_backwards=True)
    fwd = _with(config, go_backwards=False)
    rev_mask = None if mask is None else mask[:, ::-1]
    left, right = _forward(backend, config, ws, x, mask), _forward(backend, fwd, ws, x[:, ::-1], rev_mask)
    bound = _bound(config, ws, x, backend.dtype, mask) + _bound(fwd, ws, x[:, ::-1], backend.dtype, rev_mask)
    _check(f"{layer}(go_backwards) == {layer}(reversed input)", backend, left, right, bound)


@pytest.mark.parametrize("layer", INNER)
@given(data=st.data())
def test_bidirectional_sum_is_forward_plus_rereversed_backward(backend, layer, data):
    """Bidirectional(layer, merge_mode='sum')(x) == layer(x) + layer(go_backwards negated)(x), the backward
    sequence re-reversed in time (TRAPS 17), each run as its own layer with its half of the weights."""
    inner, ws, x, _ = _draw(data, layer, backend, return_state=False)
    bidi = {"class_name": "Bidirectional", "config": {"layer": inner, "merge_mode": "sum"}}
    backend.skip_unless_supported(bidi)
    bidi = oracle.normalize(bidi)
    back = _with(inner, go_backwards=not inner["config"]["go_backwards"])
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="weights seed"))
    ws_back = [backend.cast(rng.uniform(-1.0, 1.0, np.shape(w))) for w in ws]
    y_fwd, y_back = _forward(backend, inner, ws, x), _forward(backend, back, ws_back, x)
    b_back = _bound(back, ws_back, x, backend.dtype)
    if inner["config"]["return_sequences"]:
        y_back, b_back = y_back[:, ::-1], b_back[:, ::-1]
    left = _forward(backend, bidi, ws + ws_back, x)
    bound = _bound(bidi, ws + ws_back, x, backend.dtype) + _bound(inner, ws, x, backend.dtype) + b_back
    _check(f"Bidirectional({layer}, 'sum') == forward + re-reversed backward", backend, left, y_fwd + y_back, bound)


@pytest.mark.parametrize("layer", [name for name in INNER if "stateful" in oracle.LAYERS[name].spec])
@given(data=st.data())
def test_stateful_halves_equal_one_pass(backend, layer, data):
    """One stateful layer called on the two halves of a sequence == one call on the whole sequence; with
    reset_states() before the second call it == a fresh call on the second half. On an adapter both sides also
    equal the oracle's stateful_run within the same bounds."""
    config, ws, x, _ = _draw(data, layer, backend, stateful=True, return_sequences=True, return_state=False,
                             go_backwards=False)
    assume(x.shape[1] >= 2)
    half = x.shape[1] // 2
    halves = [x[:, :half], x[:, half:]]
    bound = _bound(config, ws, x, backend.dtype)
    second = _bound(config, ws, halves[1], backend.dtype)
    whole = _forward(backend, config, ws, x)
    fresh_ref = _forward(backend, config, ws, halves[1])
    if backend.name == "oracle":
        run = lambda reset=(): oracle.stateful_run(config, ws, halves, reset=reset)  # noqa: E731
    else:
        a = adapters.get(backend.name)
        if not hasattr(a, "stateful_run"):
            pytest.skip(f"{backend.name} has no stateful_run")
        run = lambda reset=(): [np.asarray(y, np.float64) for y in a.stateful_run(  # noqa: E731
            config, ws, halves, device=backend.device, dtype=backend.dtype, reset=reset)]
    joined = np.concatenate(run(), axis=1)
    _check(f"{layer} stateful halves == one pass", backend, joined, whole, 2.0 * bound)
    fresh = run(reset=(1,))[1]
    _check(f"{layer} reset_states() == a fresh call", backend, fresh, fresh_ref, 2.0 * second)
    if backend.name != "oracle":
        ref = np.concatenate(oracle.stateful_run(config, ws, halves), axis=1)
        _check(f"{layer} stateful halves == oracle.stateful_run", backend, joined, ref, bound)
