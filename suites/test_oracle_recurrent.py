"""Oracle self-tests of the recurrent engine (oracle/recurrent.py), for every layer registered as a program: the
VJP through time against central differences, go_backwards against the reversed input, masks, stateful calls.
No framework is imported."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import oracle
from oracle import recurrent
from oracle.registry import programs
from oracle.gradients import STEP, directional_derivative

from . import strategies, tolerance

PROGRAMS = programs()


def _flat(y) -> np.ndarray:
    return np.concatenate([np.ravel(a) for a in y]) if isinstance(y, list) else np.ravel(y)


@pytest.mark.parametrize("layer", PROGRAMS)
@given(data=st.data())
def test_vjp_through_time_matches_central_differences(layer, data):
    """<v, VJP(g)> equals the central difference of <g, f> along a random direction v (of the inputs, initial
    states and weights). Allowed: |D(h) - D(2h)| (three times the truncation error, Richardson) plus the rounding
    of the two forward evaluations, each within the policy's float64 forward bound, divided by 2h."""
    case = data.draw(strategies.cases(layer))
    x, ws, g = strategies.arrays(case, "float64")
    kw = {"mask": strategies.case_mask(case)} if case.mask else {}
    config = oracle.normalize(case.config)
    xs = x if isinstance(x, list) else [x]
    k = len(xs)
    args = [*xs, *ws]
    rng = np.random.default_rng(case.seed)
    v = [rng.uniform(-1.0, 1.0, size=a.shape) for a in args]
    fn = lambda *a: _flat(oracle.forward(config, list(a[k:]), list(a[:k]) if isinstance(x, list) else a[0], **kw))  # noqa: E731
    gflat = _flat(g)
    assume(tolerance.kink_distance(config, ws, x, "float64", **kw) > 1e6)  # no kink within the FD steps
    d1 = directional_derivative(fn, args, v, gflat)
    d2 = directional_derivative(fn, args, [2.0 * d for d in v], gflat) / 2.0
    gx, gws = oracle.vjp(config, ws, x, g, **kw)
    analytic = float(sum(np.vdot(d, a) for d, a in zip(v, [*(gx if isinstance(x, list) else [gx]), *gws])))
    h = STEP * max(1.0, max(float(np.max(np.abs(a), initial=0.0)) for a in args))
    rounding = float(np.sum(np.abs(gflat) * _flat(tolerance.forward_bound(config, ws, x, "float64", **kw)))) / h
    assert abs(analytic - d1) <= abs(d1 - d2) + rounding, \
        f"{layer} {case}: <v, vjp> = {analytic!r}, central difference {d1!r} (D(2h) {d2!r}, rounding {rounding:.3g})"


@pytest.mark.parametrize("layer", [name for name in PROGRAMS if "go_backwards" in oracle.LAYERS[name].spec])
@given(data=st.data())
def test_go_backwards_is_the_reversed_input(layer, data):
    """go_backwards=True equals go_backwards=False on the input (and mask) reversed in time, exactly: the
    same operations in the same order."""
    case = data.draw(strategies.cases(layer))
    x, ws, _ = strategies.arrays(case, "float64")
    mask = strategies.case_mask(case)
    cfg = oracle.normalize(case.config)
    back = {**cfg, "config": {**cfg["config"], "go_backwards": True}}
    fwd = {**cfg, "config": {**cfg["config"], "go_backwards": False}}
    rev = (lambda a: [a[0][:, ::-1], *a[1:]]) if isinstance(x, list) else (lambda a: a[:, ::-1])
    y1 = oracle.forward(back, ws, x, mask=mask)
    y2 = oracle.forward(fwd, ws, rev(x), mask=None if mask is None else mask[:, ::-1])
    for a, b in zip(*(([y1, y2]) if isinstance(y1, list) else ([[y1], [y2]]))):
        np.testing.assert_array_equal(a, b)


def test_masked_step_repeats_the_previous_output_and_carries_the_state():
    """docs/traps.md 16 and Keras 2.2.x K.rnn (unrolled path): at a masked step the output repeats the previous output
    (zeros at a leading masked step) and the state is unchanged. Written from the documented SimpleRNN formula."""
    rng = np.random.default_rng(0)
    x, h0 = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 2))
    kernel, rec, bias = rng.normal(size=(3, 2)), rng.normal(size=(2, 2)), rng.normal(size=2)
    mask = np.array([[False, True, False, True], [True, True, True, False]])
    cfg = {"class_name": "SimpleRNN", "config": {"units": 2, "return_sequences": True, "return_state": True}}
    y, h = oracle.forward(cfg, [kernel, rec, bias], [x, h0], mask=mask)
    state, outs = h0, []
    for t in range(4):
        new = np.tanh(x[:, t] @ kernel + state @ rec + bias)
        m = mask[:, t][:, None]
        outs.append(np.where(m, new, outs[-1] if outs else 0.0))
        state = np.where(m, new, state)
    np.testing.assert_array_equal(y, np.stack(outs, axis=1))
    np.testing.assert_array_equal(h, state)
    np.testing.assert_array_equal(y[0, 0], [0.0, 0.0])  # a leading masked step outputs zeros, not the initial state
    np.testing.assert_array_equal(y[0, 2], y[0, 1])      # a later one repeats the previous output


@pytest.mark.parametrize("layer", [name for name in PROGRAMS if "stateful" in oracle.LAYERS[name].spec])
@given(data=st.data())
def test_stateful_halves_equal_one_pass(layer, data):
    """Two stateful calls on the halves of a sequence equal one call on the whole (the metamorphic
    relation), and a reset before the second call equals a fresh call on the second half."""
    case = data.draw(strategies.cases(layer))
    x, ws, _ = strategies.arrays(case, "float64")
    x = x[0] if isinstance(x, list) else x
    assume(x.shape[1] >= 2)
    cfg = oracle.normalize(case.config)
    cfg = {**cfg, "config": {**cfg["config"], "stateful": True, "return_sequences": True}}
    if "go_backwards" in oracle.LAYERS[layer].spec:  # CuDNNGRU / CuDNNLSTM have none
        cfg["config"]["go_backwards"] = False
    half = x.shape[1] // 2
    first, second = oracle.stateful_run(cfg, ws, [x[:, :half], x[:, half:]])
    whole = oracle.forward({**cfg, "config": {**cfg["config"], "return_state": False}}, ws, x)
    np.testing.assert_array_equal(np.concatenate([first, second], axis=1), whole)
    _, fresh = oracle.stateful_run(cfg, ws, [x[:, :half], x[:, half:]], reset=(1,))
    plain = oracle.forward({**cfg, "config": {**cfg["config"], "return_state": False}}, ws, x[:, half:])
    np.testing.assert_array_equal(fresh, plain)
