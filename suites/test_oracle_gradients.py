"""Oracle self-tests for gradients and validation: every registered layer's VJP against float64 central
differences (with an estimated, not guessed, error allowance), the finite-difference fallback, and the
ValueErrors of invalid configs. No framework is imported."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import oracle
from oracle import activations, merge, merge_axes
from oracle.gradients import FD_RELATIVE_ERROR, STEP, directional_derivative

from . import strategies

EPS = np.finfo(np.float64).eps
# Where f' jumps, written here from the Keras 2 definitions (relu, selu at 0; hard_sigmoid's clip at +-2.5).
KINKS = {"relu": (0.0,), "selu": (0.0,), "hard_sigmoid": (-2.5, 2.5)}


def _has_activation(layer):
    return "activation" in oracle.LAYERS[layer].spec


# The layers written as programs (the recurrent layers, oracle/recurrent.py) are not an affine map and an
# activation: suites/test_oracle_recurrent.py checks their VJPs against central differences instead.
GRADIENT_CASES = [(layer, act) for layer in sorted(oracle.LAYERS) if oracle.LAYERS[layer].program is None
                  for act in (activations.NAMES if _has_activation(layer) else (None,))]


def _linear_part(config, weights, x):
    """(pre-activation function of (x, weights), activation name) from the layer's split_activation."""
    c = oracle.normalize(config)
    linear, act = oracle.LAYERS[c["class_name"]].split_activation(c["config"])
    if linear is None:
        return (lambda xx, ww: xx), act
    return (lambda xx, ww: oracle.forward({"class_name": c["class_name"], "config": linear}, ww, xx)), act


def fd_check(config, weights, x, g, v):
    """(<v, analytic VJP>, central difference D(h) of <g, f> along v, allowed |difference|).

    Allowed error = truncation + rounding of D(h); the analytic side rounds like one forward pass (~n*eps times
    the same magnitudes), a factor STEP smaller than the FD rounding below, so the FD terms cover it.
    * Truncation: D(h) = D + c*h^2 + O(h^4), so D(2h) - D(h) = 3*c*h^2: |D(h) - D(2h)| is three times the
      truncation error of D(h) (Richardson) and is allowed in full, a 3x margin (observed: errors reach ~1/3
      of the allowance on smooth activations). D(2h) is the same routine along 2v (same h, twice the step).
    * Rounding: each output f_i is a sum of n terms (products + bias, the softmax sum, and 2 for the activation's
      own roundings and the rounding of a + h*v), so it is off by at most n*eps*m_i where
      m_i = |f_i| + (2 + |f_i|) * A_i and A_i = the pre-activation recomputed from |x|, |weights| (its sum of
      absolute terms, as the linear part of Dense/Conv is multilinear in x and the weights; |x| for Activation).
      (2 + |f|) bounds |f'|: <= 1.76 for selu, <= 1 for the others, = f for exponential;
      softmax moves by <= 2 * max over the row of the input error, hence A's row maximum there. Two evaluations,
      divided by 2h = 2*STEP*s (s = max(1, max|args|), directional_derivative's scale), give
      n*eps*sum|g|*m/(STEP*s) = FD_RELATIVE_ERROR*n*sum(|g|*m)/s."""
    multi = isinstance(x, list)  # a merge layer: several inputs, first in args and in v
    xs = x if multi else [x]
    k = len(xs)
    args = [*xs, *weights]
    fn = lambda *a: oracle.forward(config, list(a[k:]), list(a[:k]) if multi else a[0])  # noqa: E731
    d1 = directional_derivative(fn, args, v, g)
    d2 = directional_derivative(fn, args, [2.0 * d for d in v], g) / 2.0
    gx, gws = oracle.vjp(config, weights, x, g)
    analytic = float(sum(np.vdot(d, a) for d, a in zip(v, [*(gx if multi else [gx]), *gws])))
    pre, act = _linear_part(config, weights, x)
    s = max(1.0, max(float(np.max(np.abs(arg), initial=0.0)) for arg in args))
    # the absolute terms at the farthest point evaluated (2 steps along v): rounding a + h*v is relative to
    # |a| + h|v|, which matters where a = 0 (max pooling's grid inputs hold an exact 0)
    reach = 2.0 * STEP * s
    far = [np.abs(a) + reach * np.abs(d) for a, d in zip(args, v)]
    if multi:  # merge layers: their absolute terms (Subtract: |x0| + |x1|) and the terms each output sums
        layer, cfg = oracle.layer_of(config), oracle.normalize(config)["config"]
        a = layer.magnitude(cfg, far[:k]) if layer.magnitude else pre(far[:k], [])
        n = layer.reductions(cfg, [xx.shape for xx in xs])["output"] + 2
    else:
        # a formula that subtracts (BatchNormalization's x - mean) states its absolute terms: the linear part at
        # |x| and |weights| can cancel and even go negative there
        layer, cfg = oracle.layer_of(config), oracle.normalize(config)["config"]
        a = layer.abs_forward(cfg, far[1:], far[0]) if layer.abs_forward else pre(far[0], far[1:])
        n = (weights[0].size // max(weights[0].shape[-1], 1) + 1 if weights else 1) + 2
    f = fn(*args)
    if act == "softmax":
        a, n = np.broadcast_to(a.max(axis=-1, keepdims=True), a.shape), n + f.shape[-1]
    m = np.abs(f) + (2.0 + np.abs(f)) * a
    return analytic, d1, abs(d1 - d2) + FD_RELATIVE_ERROR * n * float(np.sum(np.abs(g) * m)) / s


def away_from_kinks(config, weights, x, v) -> bool:
    """No pre-activation crosses or touches a kink within 4 steps along v (the FD uses 2); for Dot(normalize=True)
    no squared norm crosses l2_normalize's floor (a step of ~1e-5 crosses it from the 1e-8 inputs; the tiny
    regime has its own finite-difference test in test_oracle_merge.py)."""
    if isinstance(x, list):
        c = oracle.normalize(config)
        if c["class_name"] != "Dot" or not c["config"]["normalize"]:
            return True
        t = 4 * STEP * max(1.0, max(float(np.max(np.abs(a))) for a in x))
        axes = merge_axes.dot_axes(c["config"], [a.shape for a in x])
        return all(np.all((np.sum((a + k * t * d) ** 2, axis=ax) > merge.L2_EPSILON) ==
                          (np.sum(a ** 2, axis=ax) > merge.L2_EPSILON))
                   for a, d, ax in zip(x, v, axes) for k in (-1, 1))
    pre, act = _linear_part(config, weights, x)
    if act not in KINKS:
        return True
    s = max(1.0, max(float(np.max(np.abs(a), initial=0.0)) for a in [x, *weights]))
    t = 4 * STEP * s
    ys = [pre(x + k * t * v[0], [w + k * t * d for w, d in zip(weights, v[1:])]) for k in (-1, 0, 1)]
    return all(bool(np.all(np.sign(y - kink) == np.sign(ys[1] - kink)) and np.all(ys[1] != kink))
               for kink in KINKS[act] for y in ys)


def test_kinks_match_the_oracle_list():
    """The oracle's own kink list agrees with the one written here."""
    assert {k: tuple(v) for k, v in activations.KINKS.items()} == KINKS


@pytest.mark.parametrize("layer, activation", GRADIENT_CASES)
@given(data=st.data())
def test_vjp_matches_central_differences(layer, activation, data):
    """<v, VJP(g)> equals the central difference of <g, f> along a random v (input and weights together)."""
    case = data.draw(strategies.cases(layer))
    if activation is not None:
        case = dataclasses.replace(case, config={"class_name": layer,
                                                 "config": {**case.config["config"], "activation": activation}})
    x, weights, g = strategies.arrays(case, "float64")
    rng = np.random.default_rng(case.seed ^ 0x5EED)
    v = [rng.standard_normal(a.shape) for a in [*(x if isinstance(x, list) else [x]), *weights]]
    if oracle.LAYERS[layer].index_input(oracle.normalize(case.config)["config"]):
        # integer indices (Embedding): a step along v changes which row is read; they have no gradient
        v[0] = np.zeros_like(v[0])
    elif oracle.LAYERS[layer].compute_mask is not None:
        # a masked timestep equals mask_value exactly: any step along v flips the decision, which backends (and
        # the VJP) hold constant; move only the kept timesteps
        v[0] = v[0] * oracle.compute_mask(case.config, x)[..., None]
    assume(away_from_kinks(case.config, weights, x, v))
    analytic, fd, allowed = fd_check(case.config, weights, x, g, v)
    assert abs(analytic - fd) <= allowed, (analytic, fd, allowed)


@pytest.mark.parametrize("activation", ["tanh", "softmax", "linear"])
def test_finite_difference_fallback_equals_analytic_vjp(monkeypatch, activation):
    """A layer registered without an analytic VJP falls back to numeric_vjp; on a tiny Dense it agrees with
    the analytic VJP coordinate by coordinate, within the FD error estimated along each unit direction."""
    config = {"class_name": "Dense", "config": {"units": 2, "activation": activation}}
    rng = np.random.default_rng(3)
    x, weights = rng.uniform(-1, 1, (2, 3)), [rng.uniform(-1, 1, (3, 2)), rng.uniform(-1, 1, 2)]
    g = rng.uniform(-1, 1, (2, 2))
    gx, gws = oracle.vjp(config, weights, x, g)
    assert oracle.vjp_reference(config) == "analytic"
    monkeypatch.setitem(oracle.LAYERS, "Dense", dataclasses.replace(oracle.LAYERS["Dense"], vjp=None))
    assert oracle.vjp_reference(config) == "finite-difference"
    nx, nws = oracle.vjp(config, weights, x, g)
    args = [x, *weights]
    for i, (numeric, analytic) in enumerate(zip([nx, *nws], [gx, *gws])):
        assert numeric.shape == analytic.shape
        for idx in np.ndindex(*numeric.shape):
            e = [np.zeros_like(a) for a in args]
            e[i][idx] = 1.0
            _, _, allowed = fd_check(config, weights, x, g, e)
            assert abs(numeric[idx] - analytic[idx]) <= allowed, (i, idx, numeric[idx], analytic[idx], allowed)


def conv(rank, **kw):
    return {"class_name": f"Conv{rank}D", "config": {"filters": 2, "kernel_size": 3, **kw}}


INVALID = [  # (config, input_shape or None, pieces the message must contain)
    (conv(2, padding="full"), None, ["Conv2D", "padding", "'full'"]),
    (conv(1, padding="SAME"), None, ["Conv1D", "padding", "'SAME'"]),
    (conv(2, data_format="NHWC"), None, ["Conv2D", "data_format", "'NHWC'"]),
    (conv(3, data_format="th"), None, ["Conv3D", "data_format", "'th'"]),
    (conv(2, padding="causal"), None, ["Conv2D", "padding", "'causal'"]),
    (conv(3, padding="causal"), None, ["Conv3D", "padding", "'causal'"]),
    (conv(1, strides=2, dilation_rate=2), None, ["Conv1D", "strides=(2,)", "dilation_rate=(2,)"]),
    (conv(2, strides=(1, 2), dilation_rate=(3, 1)), None, ["Conv2D", "strides=(1, 2)", "dilation_rate=(3, 1)"]),
    (conv(2, filters=0), None, ["Conv2D", "filters", "0"]),
    (conv(1, filters=2.0), None, ["Conv1D", "filters", "2.0"]),
    (conv(3, kernel_size=0), None, ["Conv3D", "kernel_size", "0"]),
    (conv(2, kernel_size=(3, 0)), None, ["Conv2D", "kernel_size", "(3, 0)"]),
    (conv(2, kernel_size=(3, 3, 3)), None, ["Conv2D", "kernel_size", "(3, 3, 3)"]),
    (conv(1, kernel_size=5), (None, 4, 2), ["Conv1D", "kernel_size=(5,)", "input_shape=(None, 4, 2)", "'valid'"]),
    (conv(1, dilation_rate=2), (None, 4, 2), ["Conv1D", "dilation_rate=(2,)", "input_shape=(None, 4, 2)"]),
    (conv(2, kernel_size=(3, 5)), (None, 4, 4, 1), ["Conv2D", "kernel_size=(3, 5)", "input_shape=(None, 4, 4, 1)"]),
    (conv(2, data_format="channels_first"), (None, 1, 2, 8), ["Conv2D", "kernel_size=(3, 3)", "(None, 1, 2, 8)"]),
    (conv(2, use_bias="yes"), None, ["Conv2D", "use_bias", "'yes'"]),
    (conv(2, border_mode="same"), None, ["Conv2D", "'border_mode'"]),
    ({"class_name": "Dense", "config": {"units": 0}}, None, ["Dense", "units", "0"]),
    ({"class_name": "Dense", "config": {"output_dim": 3}}, None, ["Dense", "'output_dim'"]),
    ({"class_name": "Dense", "config": {}}, None, ["Dense", "'units'"]),
    ({"class_name": "Conv4D", "config": {}}, None, ["class_name", "'Conv4D'"]),
    ({"class_name": "Convolution2D", "config": {}}, None, ["Convolution2D", "'nb_filter'"]),  # Keras 1, seed 000
    ({"class_name": "Activation", "config": {"activation": "gelu"}}, None, ["Activation", "activation", "'gelu'"]),
]


@pytest.mark.parametrize("config, input_shape, pieces", INVALID, ids=[" ".join(p) for _, _, p in INVALID])
def test_invalid_config_names_layer_parameter_and_value(config, input_shape, pieces):
    """Invalid configs (and kernels larger than a 'valid' input) raise a ValueError naming what is wrong."""
    with pytest.raises(ValueError) as err:
        oracle.normalize(config, input_shape)
    assert all(p in str(err.value) for p in pieces), (str(err.value), pieces)


def test_kernel_too_large_via_batch_input_shape():
    """A batch_input_shape in the config is validated like an explicit input_shape."""
    with pytest.raises(ValueError, match=r"Conv1D: kernel_size=\(5,\)"):
        oracle.normalize(conv(1, kernel_size=5, batch_input_shape=[None, 4, 2]))
    assert oracle.normalize(conv(1, kernel_size=5, padding="same"), (None, 4, 2))["config"]["kernel_size"] == (5,)


@pytest.mark.parametrize("config, shapes, x_shape, pieces", [
    ({"class_name": "Dense", "config": {"units": 3}}, [(4, 3), (3,)], (2, 5), ["Dense", "(4, 3)", "(5, 3)"]),
    ({"class_name": "Dense", "config": {"units": 3}}, [(5, 3)], (2, 5), ["Dense", "[(5, 3)]", "(3,)"]),
    ({"class_name": "Dense", "config": {"units": 3, "use_bias": False}}, [(5, 3), (3,)], (2, 5), ["Dense"]),
    (conv(2), [(2, 1, 3, 3), (2,)], (1, 5, 5, 1), ["Conv2D", "(2, 1, 3, 3)", "(3, 3, 1, 2)"]),  # torch layout
    (conv(1), [(3, 4, 2), (2,)], (1, 5, 3), ["Conv1D", "(3, 4, 2)", "(3, 3, 2)"]),
    ({"class_name": "Activation", "config": {"activation": "relu"}}, [(1,)], (2, 3), ["Activation", "(1,)"]),
])
def test_wrong_weight_shapes_raise(config, shapes, x_shape, pieces):
    """forward() and vjp() reject weights whose shapes differ from weight_shapes(), naming both."""
    weights, x = [np.zeros(s) for s in shapes], np.zeros(x_shape)
    for call in (lambda: oracle.forward(config, weights, x),
                 lambda: oracle.vjp(config, weights, x, np.zeros(oracle.output_shape(config, x_shape)))):
        with pytest.raises(ValueError) as err:
            call()
        assert all(p in str(err.value) for p in pieces + ["weights"]), (str(err.value), pieces)
