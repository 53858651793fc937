"""The tolerance policy of DESIGN.md: per-element error bounds from magnitudes and reduction lengths.

Two kinds of check, never mixed:
- semantic (float64): bound = C_SEMANTIC * n * u * mag, a worst-case bound, so any wrong mapping shows;
- precision (float32 and lower): bound = C_PRECISION * sqrt(n) * u * mag + tiny.
`mag` is the oracle's linear part evaluated on |inputs| and |weights| (the sum of absolute terms), `n` the
number of terms summed per element, `u` the unit roundoff of the dtype. The bound of the linear part y then
travels through the activation f. Every layer registered with `split_activation` (an affine map followed by an
elementwise activation, or the activation alone) uses this rule.

The constants and the rules of one sum and one activation (`sum_bound`, `activation_bound`,
`activation_vjp_bound`) are defined in suites/bounded.py, below this module, and re-exported here. Which rule
bounds a layer is its registration's `error_model` (oracle/registry.py): "affine" and "batch_statistics" use the
rule above (batch statistics add `batch_norm_training_bounds` for training mode), "program" runs the layer's
program in the bounded algebra (suites/bounded.py), "wrapped" is the wrapped layer's rule on TimeDistributed's
merged axis (suites/tolerance_wrappers.py). RULES, at the bottom, maps the last two.
"""
from __future__ import annotations

import math

import numpy as np

import oracle
from oracle import activations
from oracle.normalization import unpack_weights, batch_moments
from oracle.pointwise import Pointwise, SoftmaxAlong
from oracle.registry import ERROR_MODELS

# The rules of one sum and one activation live in suites/bounded.py (below this module: its algebra needs them);
# they are part of this policy's public names.
from .bounded import (ACTIVATION_ROUNDING, ACTIVATION_ULPS, C_PRECISION, C_SEMANTIC,  # noqa: F401
                      ROUNDING_MAGNITUDE, UNIT_ROUNDOFF, ProgramBounds, activation_bound, activation_vjp_bound,
                      along_last, kind, rounding_magnitude, sum_bound)
from .tolerance_wrappers import TimeDistributedBounds


def _abs(x):
    """|x|, elementwise over a list of inputs too."""
    return [np.abs(a) for a in x] if isinstance(x, list) else np.abs(x)


def _shape(x):
    return [a.shape for a in x] if isinstance(x, list) else x.shape


def _parts(config, weights, x, dtype):
    """(registration, linear config or None, activation, pre-activation y, bound on y)."""
    layer = oracle.layer_of(config)
    cfg = oracle.normalize(config)["config"]
    linear, act = layer.split_activation(cfg)
    if linear is None:
        return layer, cfg, None, act, x, np.zeros_like(x)
    lc = {"class_name": layer.name, "config": linear}
    y = oracle.forward(lc, weights, x)
    if layer.magnitude is not None:  # coefficients computed by the backend (UpSampling2D bilinear), Subtract
        mag = layer.magnitude(cfg, x if layer.magnitude_at_input else _abs(x))
    elif layer.abs_forward is not None:  # a formula that subtracts inputs (BatchNormalization's x - mean)
        mag = layer.abs_forward(cfg, [np.abs(w) for w in weights], np.abs(x))
    else:
        mag = np.abs(y) if layer.selects else oracle.forward(lc, [np.abs(w) for w in weights], _abs(x))
    return layer, cfg, lc, act, y, sum_bound(layer.reductions(cfg, _shape(x))["output"], dtype, mag)


def _custom(config: dict):
    """The rule of the layer's error model from RULES, or None for the affine rule of this module."""
    return RULES.get(oracle.layer_of(config).error_model)


def forward_bound(config: dict, weights: list, x: np.ndarray, dtype: str, mask=None):
    """Per-element bound on |backend forward - oracle forward| (a list for a layer with several outputs)."""
    rule = _custom(config)
    if rule is not None:
        return rule.forward_bound(oracle.normalize(config), weights, x, dtype, mask)
    _, _, _, act, y, b = _parts(config, weights, x, dtype)
    return activation_bound(act, y, b, dtype)


def kink_distance(config: dict, weights: list, x: np.ndarray, dtype: str, mask=None) -> float:
    """Smallest distance of a pre-activation to a kink of f', in units of its bound (inf if f' has none).

    A gradient check needs this > 1: closer, the backend's rounded pre-activation may sit on the other side."""
    rule = _custom(config)
    if rule is not None:
        return rule.kink_distance(oracle.normalize(config), weights, x, dtype, mask)
    _, _, _, act, y, b = _parts(config, weights, x, dtype)
    kinks = act.kinks if isinstance(act, Pointwise) else activations.KINKS.get(act, ()) \
        if isinstance(act, str) else ()
    if not kinks:
        return math.inf
    dist = np.min(np.abs(y[None] - np.asarray(kinks).reshape((-1,) + (1,) * y.ndim)), axis=0)
    return float(np.min(dist / (b + np.finfo(dtype).tiny)))


def _act_vjp(act, y, g):
    """The pre-activation cotangent f'(y) * g (softmax: its Jacobian) for any kind of activation."""
    if isinstance(act, Pointwise):
        return act.vjp(y, g)
    if isinstance(act, SoftmaxAlong):
        return along_last(lambda yy, gg: activations.vjp("softmax", yy, gg), act.axis, y, g)
    return activations.vjp(act, y, g)


def vjp_bounds(config: dict, weights: list, x: np.ndarray, g: np.ndarray, dtype: str, mask=None):
    """(bound for the input gradient, [bound for each weight gradient]); for a multi-input layer the first item
    is the list of the inputs' gradient bounds."""
    rule = _custom(config)
    if rule is not None:
        return rule.vjp_bounds(oracle.normalize(config), weights, x, g, dtype, mask)
    layer, cfg, lc, act, y, b = _parts(config, weights, x, dtype)
    gy = _act_vjp(act, y, g)
    b_gy = activation_vjp_bound(act, y, b, g, dtype)
    if lc is None:
        return b_gy, []
    if layer.multi_input:
        return _multi_input_vjp_bounds(layer, cfg, lc, weights, x, gy, b_gy, dtype)
    red = layer.reductions(cfg, x.shape)
    # The absolute terms of each gradient sum: the VJP at |x|, |w|, |g| for (multi)linear maps; a selecting map
    # (max pooling) routes |g| through the elements the real input selects.
    aw, ax = ([np.asarray(w) for w in weights], x) if layer.selects else ([np.abs(w) for w in weights], np.abs(x))
    abs_vjp = (lambda a: layer.abs_vjp(cfg, aw, ax, a)) if layer.abs_vjp else (lambda a: oracle.vjp(lc, aw, ax, a))
    mag_x, mag_w = abs_vjp(np.abs(gy))
    if layer.vjp_magnitude is not None:
        mag_x = layer.vjp_magnitude(cfg, x, np.abs(gy)) if layer.magnitude_at_input \
            else layer.vjp_magnitude(cfg, np.abs(gy))
    carried_x, carried_w = abs_vjp(b_gy)  # the cotangent's own error, carried through linearly
    if layer.selects:  # a picked term may carry a negative factor (PReLU's alpha): its size is what rounds
        mag_x, mag_w = np.abs(mag_x), [np.abs(m) for m in mag_w]
        carried_x, carried_w = np.abs(carried_x), [np.abs(c) for c in carried_w]
    bx = sum_bound(red["input"], dtype, mag_x) + carried_x
    bw = [sum_bound(red[f"weight{i}"], dtype, m) + c for i, (m, c) in enumerate(zip(mag_w, carried_w))]
    return bx, bw


def _multi_input_vjp_bounds(layer, cfg, lc, weights, xs, gy, b_gy, dtype):
    """The rule above for each input of a merge layer (no weights): the sum bound of the input's gradient over
    its absolute terms (the layer's vjp_magnitude, else the VJP at |x| and |g|; a selecting layer routes |g|
    through the input that wins at the real x), plus the cotangent's own error carried the same way."""
    ax = list(xs) if layer.selects else _abs(xs)
    red = layer.reductions(cfg, _shape(xs))
    if layer.vjp_magnitude is not None:
        mags, carried = layer.vjp_magnitude(cfg, ax, np.abs(gy)), layer.vjp_magnitude(cfg, ax, b_gy)
    else:
        mags, carried = oracle.vjp(lc, [], ax, np.abs(gy))[0], oracle.vjp(lc, [], ax, b_gy)[0]
    return [sum_bound(red[f"input{i}"], dtype, m) + c for i, (m, c) in enumerate(zip(mags, carried))], []


def chain_bound(stages: list[tuple[dict, list]], x: np.ndarray, dtype: str) -> tuple[np.ndarray, np.ndarray]:
    """(oracle output, per-element bound) of a backend running layers one after another in `dtype`.

    Each stage adds its own forward bound at the oracle's input to it, plus the error it receives carried
    through its linear map: the layer applied to the incoming bound with |weights| (for a selecting map such
    as max pooling the window maximum of the bound, also an upper bound). Stages must have a linear
    activation, where that carrying is exact; metamorphic relations only chain such layers."""
    if isinstance(x, list):  # a merge layer first, on inputs that carry no error yet
        y, b = [np.asarray(a, dtype=np.float64) for a in x], None
    else:
        y, b = np.asarray(x, dtype=np.float64), np.zeros(np.shape(x))
    for config, weights in stages:
        multi = isinstance(y, list)
        c = oracle.normalize(config, [a.shape for a in y] if multi else y.shape)
        linear, act = oracle.layer_of(c).split_activation(c["config"])
        if act != "linear":
            raise ValueError(f"chain_bound: {c['class_name']} has activation={act!r}; chained stages must be linear")
        aw = [np.abs(w) for w in weights]
        # the map applied to the incoming bound, less its value at 0 (the bias: an affine map carries an input
        # error through its linear part only); a merge stage comes first and receives exact inputs
        if multi:
            carried = 0.0
        else:
            carried = np.maximum(oracle.forward(c, aw, b) - oracle.forward(c, aw, np.zeros_like(b)), 0.0) \
                if linear is not None else b
        y, b = oracle.forward(c, weights, y), forward_bound(c, weights, y, dtype) + carried
    return y, b


# ---- weight parameters: statistical initializer checks, regularization losses, constraint projections ----

# Mean and variance of N pooled draws are compared within Z_STATISTICAL standard errors. Their sampling
# distributions are near normal for the N >= 256 the checks pool (bounded or normal elements), so a correct
# backend fails one statistic with probability about 2 * Phi(-6) = 2e-9; the draws are seeded, so CI is
# deterministic.
Z_STATISTICAL = 6.0
# The Kolmogorov-Smirnov distance of N draws exceeds sqrt(ln(2/alpha) / 2N) with probability <= alpha whatever
# the distribution (Dvoretzky-Kiefer-Wolfowitz, with Massart's constant): a rigorous false-alarm rate of 1e-9.
DKW_ALPHA = 1e-9


def statistic_bound(variance_of_statistic: float, dtype: str, magnitude: float) -> float:
    """Bound on |sample statistic - its expectation|: Z standard errors plus the dtype's rounding of values of
    size `magnitude` (samples are drawn in the backend dtype)."""
    return Z_STATISTICAL * math.sqrt(max(variance_of_statistic, 0.0)) + 4 * UNIT_ROUNDOFF[dtype] * magnitude


def ks_bound(n: int) -> float:
    """DKW bound on the Kolmogorov-Smirnov distance of n draws from the promised distribution."""
    return math.sqrt(math.log(2.0 / DKW_ALPHA) / (2.0 * n))


def regularizer_bound(n_terms: int, dtype: str, magnitude: float) -> float:
    """A loss l1 * sum|x| + l2 * sum x^2 is a sum of n terms (products with the factor rounded once): the sum
    bound of its absolute terms."""
    return float(sum_bound(n_terms, dtype, np.asarray(magnitude)))


def projection_bound(n: int, dtype: str, projected: np.ndarray) -> np.ndarray:
    """A constraint computes a norm (a sum of n squares, then a square root), a clip, a division and a
    product: the sum bound of n + 5 operations, relative to the projected weight."""
    return sum_bound(n + 5, dtype, np.abs(projected))


def orthogonality_bound(rows: int, cols: int, gain: float, dtype: str) -> np.ndarray:
    """Bound on |W^T W - gain^2 I| elementwise for a backend's orthogonal W: Householder QR's columns are
    orthonormal to about rows * cols * u (Higham, Thm 19.4), then the Gram product's own sum of rows terms."""
    return sum_bound(rows * cols + rows, dtype, np.asarray(gain * gain))
# ---- BatchNormalization in training mode (batch statistics) ----
# First-order propagation of the same per-operation bounds (sum_bound) through the batch mean, the variance,
# the normalisation and the moving averages. Magnitudes are sums of absolute terms, so the bounds hold whichever
# algebraically equal form a backend evaluates (two-pass or E[x^2] - E[x]^2 variance, rsqrt or sqrt and divide,
# `m * old + (1 - m) * new` or `old - (old - new) * (1 - m)`).

def batch_norm_training_bounds(cfg: dict, weights: list, x: np.ndarray, g: np.ndarray, dtype: str) -> dict:
    """Per-element bounds of a training step: 'output', 'moving_mean', 'moving_variance', 'input_grad',
    'gamma_grad', 'beta_grad' (arrays of the oracle's shapes)."""
    gamma, beta, old_mean, old_var, red = unpack_weights(cfg, weights, x.ndim)
    mean, var = batch_moments(x, red)
    n = x.size // mean.size
    eps, m = cfg["epsilon"], cfg["momentum"]
    ag = np.abs(g)
    b_mean = sum_bound(n + 1, dtype, np.mean(np.abs(x), axis=red, keepdims=True))
    d = x - mean
    b_d = b_mean + sum_bound(1, dtype, np.abs(x) + np.abs(mean))
    b_var = sum_bound(n + 2, dtype, np.mean(x * x, axis=red, keepdims=True) + mean * mean) + \
        2.0 * np.mean(np.abs(d) * b_d, axis=red, keepdims=True)
    r = 1.0 / np.sqrt(var + eps)
    rel_r = 0.5 * b_var / (var + eps) + sum_bound(4, dtype, np.ones_like(r))  # + eps, sqrt, division
    xhat = d * r
    b_xhat = b_d * r + np.abs(xhat) * rel_r + sum_bound(1, dtype, np.abs(xhat))
    out = {"output": np.abs(gamma) * b_xhat + sum_bound(3, dtype, np.abs(gamma * xhat) + np.abs(beta))}
    fed_scale = n / (n - (1.0 + eps))
    out["moving_mean"] = (1.0 - m) * b_mean + sum_bound(4, dtype, np.abs(old_mean) + np.abs(mean))
    out["moving_variance"] = (1.0 - m) * fed_scale * b_var + sum_bound(5, dtype, np.abs(old_var) + fed_scale * var)
    # gradients: S1 = sum g gamma, S2 = sum g gamma xhat, gx = r / n (n g gamma - S1 - xhat S2)
    gh = ag * np.abs(gamma)
    s1, s2 = np.sum(g * gamma, axis=red, keepdims=True), np.sum(g * gamma * xhat, axis=red, keepdims=True)
    b_s1 = sum_bound(n, dtype, np.sum(gh, axis=red, keepdims=True))
    b_s2 = sum_bound(n + 1, dtype, np.sum(gh * np.abs(xhat), axis=red, keepdims=True)) + \
        np.sum(gh * b_xhat, axis=red, keepdims=True)
    inner_mag = n * gh + np.abs(s1) + np.abs(xhat * s2)
    b_inner = sum_bound(3, dtype, inner_mag) + b_s1 + b_xhat * np.abs(s2) + np.abs(xhat) * b_s2
    out["input_grad"] = r / n * (b_inner + inner_mag * rel_r) + sum_bound(2, dtype, r / n * inner_mag)
    out["gamma_grad"] = (sum_bound(n + 1, dtype, np.sum(ag * np.abs(xhat), axis=red, keepdims=True)) +
                         np.sum(ag * b_xhat, axis=red, keepdims=True)).reshape(-1)
    out["beta_grad"] = sum_bound(n, dtype, np.sum(ag, axis=red, keepdims=True)).reshape(-1)
    out["moving_mean"], out["moving_variance"] = out["moving_mean"].reshape(-1), out["moving_variance"].reshape(-1)
    return out


# Error model -> an object with forward_bound(config, weights, x, dtype, mask), vjp_bounds(config, weights, x, g,
# dtype, mask) and kink_distance(config, weights, x, dtype, mask); the models not named here use the affine rule
# above. TimeDistributed's rule calls this policy on its wrapped layer: it is handed the policy's functions (its
# module sits below this one).
RULES = {"program": ProgramBounds(), "wrapped": TimeDistributedBounds(forward_bound, vjp_bounds, kink_distance)}
AFFINE_MODELS = ("affine", "batch_statistics")
if set(RULES) | set(AFFINE_MODELS) != set(ERROR_MODELS):  # a new error model needs its rule here
    raise ImportError(f"suites/tolerance.py has no rule for error models "
                      f"{sorted(set(ERROR_MODELS) - set(RULES) - set(AFFINE_MODELS))}")
