"""Error bounds of one operation, and of a whole program (oracle/sequence_ops.py) carried through them.

The rules of one operation come first: the constants of the tolerance policy (DESIGN.md) with their sources,
`sum_bound` (a sum of n terms), `activation_bound` and `activation_vjp_bound`. suites/tolerance.py applies them to
one affine map and one activation, and re-exports them; they live here, below it, because the algebra below needs
them and the policy needs the algebra (no import cycle: suites/test_imports.py).

A recurrent layer is a long chain of small sums, products and activations, so those rules are applied at every
operation instead: a `Bounded` value holds the oracle's float64 value v and a per-element bound e on
|backend - v|, and each operation of the algebra returns the bound of its result from the bounds of its operands
(first order, plus the second-order product of bounds for bilinear maps):
- a bilinear map with n products per element: sum_bound(n, |a|.|b|) + f(e_a, |b|) + f(|a|, e_b) + f(e_a, e_b);
- a sum: the operands' bounds plus one rounding of the result's absolute terms;
- an activation: activation_bound (|f'| times the incoming bound, plus the activation's own ulps);
- f'(z) * g: activation_vjp_bound plus |f'| times the cotangent's bound;
- moving elements (indexing, stacking, masks) moves the bounds with them.
Running a program in this algebra gives the forward bounds; running it on a Tape gives the VJP's bounds, with
the forward errors entering the backward pass through the bounds of the taped values. Bounds accumulate over
the timesteps, as DESIGN.md asks of recurrent layers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

import oracle
from oracle import activations, recurrent
from oracle.pointwise import Pointwise, SoftmaxAlong
from oracle.sequence_ops import Bilinear, Tape

# ---- the rules of one operation (suites/tolerance.py applies them to a whole layer) ----

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


def derivative(act, y, order=1):
    """f' or f'' of a named activation or of a parametric `Pointwise` (the advanced activation layers)."""
    if isinstance(act, Pointwise):
        return (act.d1, act.d2)[order - 1](y)
    return activations.derivative(act, y, order)


def along_last(fn, axis, *arrays):
    """fn applied with `axis` moved last (a softmax along another axis), the result moved back."""
    return np.moveaxis(fn(*[np.moveaxis(a, axis, -1) for a in arrays]), -1, axis)


def rounding_magnitude(name, y: np.ndarray) -> np.ndarray:
    """What one evaluation of activation `name` at y rounds relative to (|f(y)| unless listed above); a
    `Pointwise` states the absolute terms of its own formula."""
    if isinstance(name, Pointwise):
        return name.rounding(y)
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
    if isinstance(name, SoftmaxAlong):
        return along_last(lambda yy, bb: activation_bound("softmax", yy, bb, dtype), name.axis, y, b)
    if name == "softmax":
        s = activations.softmax(y)
        return s * (b + np.sum(s * b, axis=-1, keepdims=True) + _softmax_rounding(y, dtype))
    lipschitz = _interval_max(lambda t: derivative(name, t), y, b)
    return lipschitz * b + ACTIVATION_ROUNDING * u * rounding_magnitude(name, y) + np.finfo(dtype).tiny


def activation_vjp_bound(name: str, y: np.ndarray, b: np.ndarray, g: np.ndarray, dtype: str) -> np.ndarray:
    """Bound on the error of the backend's pre-activation cotangent f'(y) * g.

    Backends evaluate f' from the input or from the rounded output f(y) (tanh, sigmoid, elu, exp use the
    output); an output rounding of rho*mag acts like an input error of rho*mag/|f'|, added to b."""
    u = UNIT_ROUNDOFF[dtype]
    rho = ACTIVATION_ROUNDING * u
    if isinstance(name, SoftmaxAlong):
        return along_last(lambda yy, bb, gg: activation_vjp_bound("softmax", yy, bb, gg, dtype), name.axis, y, b, g)
    if name == "softmax":
        s = activations.softmax(y)
        ds = activation_bound(name, y, b, dtype)
        centred = np.abs(g - np.sum(s * g, axis=-1, keepdims=True))
        spread = np.sum(ds * np.abs(g), axis=-1, keepdims=True)
        return ds * centred + s * spread + (rho + _softmax_rounding(y, dtype)) * s * (
            np.abs(g) + np.sum(s * np.abs(g), axis=-1, keepdims=True))
    d1 = np.abs(derivative(name, y))
    with np.errstate(all="ignore"):
        b_eff = b + np.where(d1 > 0, rho * rounding_magnitude(name, y) / d1, 0.0)
        second = _interval_max(lambda t: derivative(name, t, order=2), y, b_eff)
        drift = np.nan_to_num(second * b_eff, nan=0.0, posinf=np.inf)
    return drift * np.abs(g) + rho * d1 * np.abs(g) + np.finfo(dtype).tiny


# ---- values with their bounds, and the algebra of sequence_ops.py on them ----

@dataclass
class Bounded:
    v: np.ndarray   # the float64 value
    e: np.ndarray   # bound on the backend's error in it


def _b(a) -> Bounded:
    """An operand as a Bounded value: a constant (float or array) is exact."""
    if isinstance(a, Bounded):
        return a
    v = np.asarray(a, dtype=np.float64)
    return Bounded(v, np.zeros_like(v))


class BoundAlgebra:
    """The algebra of sequence_ops.py on Bounded values, for one dtype; `kink` tracks the smallest distance of an
    activation's argument to a kink of its derivative, in units of the argument's bound."""

    def __init__(self, dtype: str):
        self.dtype = dtype
        self.kink = math.inf

    def _round(self, n: int, mag) -> np.ndarray:
        return sum_bound(n, self.dtype, mag)

    def contract(self, bil: Bilinear, a, b) -> Bounded:
        a, b = _b(a), _b(b)
        aa, ab = np.abs(a.v), np.abs(b.v)
        e = self._round(bil.n, bil.f(aa, ab)) + bil.f(a.e, ab) + bil.f(aa, b.e) + bil.f(a.e, b.e)
        return Bounded(bil.f(a.v, b.v), e)

    def add(self, a, b) -> Bounded:
        a, b = _b(a), _b(b)
        return Bounded(a.v + b.v, a.e + b.e + self._round(1, np.abs(a.v) + np.abs(b.v)))

    def sub(self, a, b) -> Bounded:
        a, b = _b(a), _b(b)
        return Bounded(a.v - b.v, a.e + b.e + self._round(1, np.abs(a.v) + np.abs(b.v)))

    bias = add

    def reduce(self, a, axes: tuple) -> Bounded:
        a = _b(a)
        n = int(np.prod([a.v.shape[i] for i in axes], dtype=np.int64))
        return Bounded(np.sum(a.v, axis=axes), np.sum(a.e, axis=axes) + self._round(n, np.sum(np.abs(a.v), axis=axes)))

    def act(self, name, z) -> Bounded:
        z = _b(z)
        kinks = activations.KINKS.get(name, ()) if isinstance(name, str) else ()
        if kinks:
            dist = np.min(np.abs(z.v[None] - np.asarray(kinks).reshape((-1,) + (1,) * z.v.ndim)), axis=0)
            self.kink = min(self.kink, float(np.min(dist / (z.e + np.finfo(self.dtype).tiny))))
        return Bounded(activations.apply(name, z.v), activation_bound(name, z.v, z.e, self.dtype))

    def act_vjp(self, name, z, g) -> Bounded:
        z, g = _b(z), _b(g)
        own = activation_vjp_bound(name, z.v, z.e, g.v, self.dtype)
        if name == "softmax":  # |J| g.e for J = diag(s) - s s^T
            s = activations.softmax(z.v)
            carried = s * (g.e + np.sum(s * g.e, axis=-1, keepdims=True))
        else:
            carried = np.abs(activations.derivative(name, z.v)) * g.e
        return Bounded(activations.vjp(name, z.v, g.v), own + carried)

    def select(self, fn, *xs) -> Bounded:
        """A map that moves, copies, zeroes or negates elements: bounds move with them (a negated bound is still a
        bound on the size of the error, hence the abs)."""
        xs = [_b(x) for x in xs]
        return Bounded(fn(*[x.v for x in xs]), np.abs(fn(*[x.e for x in xs])))

    def value(self, a) -> np.ndarray:
        return _b(a).v

    def constant(self, a) -> Bounded:
        return _b(a)

    def zeros(self, shape: tuple) -> Bounded:
        return Bounded(np.zeros(shape), np.zeros(shape))


def _exact(a) -> Bounded:
    v = np.asarray(a, dtype=np.float64)
    return Bounded(v, np.zeros_like(v))


class ProgramBounds:
    """The suites/tolerance.py rule of error model "program": the layer's program (oracle/recurrent.py) run in the
    bounded algebra."""

    @staticmethod
    def _inputs(x):
        return [_exact(a) for a in x] if isinstance(x, list) else _exact(x)

    def forward_bound(self, config: dict, weights: list, x, dtype: str, mask=None):
        """Per-element bound of each output (a list when the layer returns several)."""
        name, cfg = config["class_name"], config["config"]
        outs, _, _ = recurrent.trace(BoundAlgebra(dtype), name, cfg, [_exact(w) for w in weights],
                                     self._inputs(x), mask)
        multi = oracle.layer_of(config).multi_output(cfg)
        return [o.e for o in outs] if multi else outs[0].e

    def vjp_bounds(self, config: dict, weights: list, x, g, dtype: str, mask=None):
        """(bound of the input gradient, or of each input's; [bound of each weight gradient])."""
        name, cfg = config["class_name"], config["config"]
        tape = Tape(BoundAlgebra(dtype))
        outs, xs, ws = recurrent.trace(tape, name, cfg, [_exact(w) for w in weights], self._inputs(x), mask)
        gs = [_exact(c) for c in g] if isinstance(g, list) else [_exact(g)]
        grads = tape.backward(outs, gs)
        bx = [tape.grad(grads, n, np.shape(n.value.v)).e for n in xs]
        bw = [tape.grad(grads, n, np.shape(n.value.v)).e for n in ws]
        return (bx if isinstance(x, list) else bx[0]), bw

    def kink_distance(self, config: dict, weights: list, x, dtype: str, mask=None) -> float:
        """Smallest distance of an activation argument to a kink of the activation's derivative, in bounds."""
        alg = BoundAlgebra(dtype)
        recurrent.trace(alg, config["class_name"], config["config"], [_exact(w) for w in weights],
                        self._inputs(x), mask)
        return alg.kink
