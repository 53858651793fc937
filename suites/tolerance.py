"""The tolerance policy of DESIGN.md: per-element error bounds from magnitudes and reduction lengths.

Two kinds of check, never mixed:
- semantic (float64): bound = C_SEMANTIC * n * u * mag, a worst-case bound, so any wrong mapping shows;
- precision (float32 and lower): bound = C_PRECISION * sqrt(n) * u * mag + tiny.
`mag` is the oracle's linear part evaluated on |inputs| and |weights| (the sum of absolute terms), `n` the
number of terms summed per element, `u` the unit roundoff of the dtype. The bound of the linear part y then
travels through the activation f. Every layer registered with `split_activation` (an affine map followed by an
elementwise activation, or the activation alone) uses this rule.
"""
from __future__ import annotations

import math

import numpy as np

import oracle
from oracle import activations

UNIT_ROUNDOFF = {"float64": 2.0 ** -53, "float32": 2.0 ** -24, "float16": 2.0 ** -11, "bfloat16": 2.0 ** -8}

# Worst-case bound of a length-n dot product in any summation order is gamma_n * sum|terms| with
# gamma_n = n*u / (1 - n*u) (Higham, Accuracy and Stability of Numerical Algorithms, 2nd ed., eq. 3.5).
# Both the oracle and the backend carry such an error, hence 2 (n*u << 1 here, so 1/(1-n*u) ~ 1).
C_SEMANTIC = 2.0

# Probabilistic bound (Higham & Mary, SIAM J. Sci. Comput. 41(5), 2019, Thm 3.1): with independent mean-zero
# rounding errors, |error| <= lambda * sqrt(n) * u * sum|terms| holds with probability >= 1 - 2n*exp(-lambda^2/2).
# lambda = 8 gives a false-alarm rate per element below 2n * 1.3e-14 (2.5e-11 for n = 1000).
C_PRECISION = 8.0

# Accuracy of one evaluation of an elementwise function, in ulps of the result (1 ulp <= 2u|f|). The worst
# documented backend kernel is Eigen's float32 logistic (TensorFlow's sigmoid): "exhaustive testing shows that
# we have a worst case error of 4.5 ulps" (Eigen/src/Core/functors/UnaryFunctors.h); Eigen's float tanh is "accurate
# up to a couple of ulps", libm and ATen within 1-2 ulps. 5 ulps covers them all.
ACTIVATION_ULPS = 5.0
ACTIVATION_ROUNDING = 2.0 * ACTIVATION_ULPS  # in units of u

# The magnitude an activation's rounding scales with: the absolute terms of its documented formula, as `mag`
# is for sums. elu is documented as alpha*(exp(x) - 1): a backend that evaluates exactly that (TF does) loses
# relative accuracy near 0 through cancellation, with an absolute error of about u*(exp(x) + 1), which is
# faithful to the documentation and no semantic difference. Likewise log(exp(x) + 1) and 0.2*x + 0.5.
ROUNDING_MAGNITUDE = {
    "elu": lambda y: np.where(y > 0, np.abs(y), np.exp(np.minimum(y, 0.0)) + 1.0),
    "selu": lambda y: activations.SELU_SCALE * np.where(
        y > 0, np.abs(y), activations.SELU_ALPHA * (np.exp(np.minimum(y, 0.0)) + 1.0)),
    "softplus": lambda y: np.abs(activations.apply("softplus", y)) + 1.0,
    "hard_sigmoid": lambda y: np.abs(0.2 * y) + 0.5,
}


def rounding_magnitude(name: str, y: np.ndarray) -> np.ndarray:
    """What one evaluation of activation `name` at y rounds relative to (|f(y)| unless listed above)."""
    fn = ROUNDING_MAGNITUDE.get(name)
    return fn(y) if fn else np.abs(activations.apply(name, y))


def kind(dtype: str) -> str:
    """'semantic' for float64, 'precision' for every lower precision."""
    return "semantic" if dtype == "float64" else "precision"


def sum_bound(n: int, dtype: str, mag: np.ndarray) -> np.ndarray:
    """Error bound of a sum of n terms whose absolute values add up to `mag`."""
    if n == 0:
        return np.zeros_like(mag)
    u = UNIT_ROUNDOFF[dtype]
    factor = C_SEMANTIC * n * u if kind(dtype) == "semantic" else C_PRECISION * math.sqrt(n) * u
    return factor * mag + n * np.finfo(dtype).tiny  # tiny: a backend may flush subnormals to zero


def _interval_max(fn, y, b):
    """max |fn| over [y - b, y + b], sampled at the ends and the centre (exact for monotone |fn| on the interval)."""
    with np.errstate(all="ignore"):
        return np.nanmax(np.abs(np.stack([fn(y - b), fn(y), fn(y + b)])), axis=0)


def _softmax_rounding(y, dtype):
    """Relative rounding of a backend softmax: shift by the max, exp, a sum over the axis, a division."""
    u, m = UNIT_ROUNDOFF[dtype], np.max(y, axis=-1, keepdims=True)
    c = y.shape[-1]
    sum_factor = C_SEMANTIC * c * u if kind(dtype) == "semantic" else C_PRECISION * math.sqrt(c) * u
    return u * (np.abs(y) + np.abs(m)) + ACTIVATION_ROUNDING * u + sum_factor


def activation_bound(name: str, y: np.ndarray, b: np.ndarray, dtype: str) -> np.ndarray:
    """Bound on |f(y_backend) - f(y)| when |y_backend - y| <= b: |f'| * b + rounding * |f(y)|."""
    u = UNIT_ROUNDOFF[dtype]
    if name == "softmax":
        s = activations.softmax(y)
        return s * (b + np.sum(s * b, axis=-1, keepdims=True) + _softmax_rounding(y, dtype))
    lipschitz = _interval_max(lambda t: activations.derivative(name, t), y, b)
    return lipschitz * b + ACTIVATION_ROUNDING * u * rounding_magnitude(name, y) + np.finfo(dtype).tiny


def activation_vjp_bound(name: str, y: np.ndarray, b: np.ndarray, g: np.ndarray, dtype: str) -> np.ndarray:
    """Bound on the error of the backend's pre-activation cotangent f'(y) * g.

    Backends evaluate f' from the input or from the rounded output f(y) (tanh, sigmoid, elu, exp use the
    output); an output rounding of rho*mag acts like an input error of rho*mag/|f'|, added to b."""
    u = UNIT_ROUNDOFF[dtype]
    rho = ACTIVATION_ROUNDING * u
    if name == "softmax":
        s = activations.softmax(y)
        ds = activation_bound(name, y, b, dtype)
        centred = np.abs(g - np.sum(s * g, axis=-1, keepdims=True))
        spread = np.sum(ds * np.abs(g), axis=-1, keepdims=True)
        return ds * centred + s * spread + (rho + _softmax_rounding(y, dtype)) * s * (
            np.abs(g) + np.sum(s * np.abs(g), axis=-1, keepdims=True))
    d1 = np.abs(activations.derivative(name, y))
    with np.errstate(all="ignore"):
        b_eff = b + np.where(d1 > 0, rho * rounding_magnitude(name, y) / d1, 0.0)
        second = _interval_max(lambda t: activations.derivative(name, t, order=2), y, b_eff)
        drift = np.nan_to_num(second * b_eff, nan=0.0, posinf=np.inf)
    return drift * np.abs(g) + rho * d1 * np.abs(g) + np.finfo(dtype).tiny


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
        mag = layer.magnitude(cfg, _abs(x))
    else:
        mag = np.abs(y) if layer.selects else oracle.forward(lc, [np.abs(w) for w in weights], _abs(x))
    return layer, cfg, lc, act, y, sum_bound(layer.reductions(cfg, _shape(x))["output"], dtype, mag)


def forward_bound(config: dict, weights: list, x: np.ndarray, dtype: str) -> np.ndarray:
    """Per-element bound on |backend forward - oracle forward|."""
    _, _, _, act, y, b = _parts(config, weights, x, dtype)
    return activation_bound(act, y, b, dtype)


def kink_distance(config: dict, weights: list, x: np.ndarray, dtype: str) -> float:
    """Smallest distance of a pre-activation to a kink of f', in units of its bound (inf if f' has none).

    A gradient check needs this > 1: closer, the backend's rounded pre-activation may sit on the other side."""
    _, _, _, act, y, b = _parts(config, weights, x, dtype)
    kinks = activations.KINKS.get(act, ())
    if not kinks:
        return math.inf
    dist = np.min(np.abs(y[None] - np.asarray(kinks).reshape((-1,) + (1,) * y.ndim)), axis=0)
    return float(np.min(dist / (b + np.finfo(dtype).tiny)))


def vjp_bounds(config: dict, weights: list, x: np.ndarray, g: np.ndarray, dtype: str):
    """(bound for the input gradient, [bound for each weight gradient]); for a multi-input layer the first item
    is the list of the inputs' gradient bounds."""
    layer, cfg, lc, act, y, b = _parts(config, weights, x, dtype)
    gy = activations.vjp(act, y, g)
    b_gy = activation_vjp_bound(act, y, b, g, dtype)
    if lc is None:
        return b_gy, []
    if layer.multi_input:
        return _multi_input_vjp_bounds(layer, cfg, lc, weights, x, gy, b_gy, dtype)
    red = layer.reductions(cfg, x.shape)
    # The absolute terms of each gradient sum: the VJP at |x|, |w|, |g| for (multi)linear maps; a selecting map
    # (max pooling) routes |g| through the elements the real input selects.
    aw, ax = ([np.asarray(w) for w in weights], x) if layer.selects else ([np.abs(w) for w in weights], np.abs(x))
    mag_x, mag_w = oracle.vjp(lc, aw, ax, np.abs(gy))
    if layer.vjp_magnitude is not None:
        mag_x = layer.vjp_magnitude(cfg, np.abs(gy))
    carried_x, carried_w = oracle.vjp(lc, aw, ax, b_gy)  # the cotangent's own error, carried through linearly
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
