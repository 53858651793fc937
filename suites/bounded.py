"""The tolerance policy carried through a program (oracle/sequence_ops.py): values with their error bounds.

A recurrent layer is a long chain of small sums, products and activations, so the policy's rule for one affine
map and one activation (tolerance.forward_bound) is applied at every operation instead: a `Bounded` value holds
the oracle's float64 value v and a per-element bound e on |backend - v|, and each operation of the algebra
returns the bound of its result from the bounds of its operands (first order, plus the second-order product of
bounds for bilinear maps):
- a bilinear map with n products per element: sum_bound(n, |a|.|b|) + f(e_a, |b|) + f(|a|, e_b) + f(e_a, e_b);
- a sum: the operands' bounds plus one rounding of the result's absolute terms;
- an activation: tolerance.activation_bound (|f'| times the incoming bound, plus the activation's own ulps);
- f'(z) * g: tolerance.activation_vjp_bound plus |f'| times the cotangent's bound;
- moving elements (indexing, stacking, masks) moves the bounds with them.
Running a program in this algebra gives the forward bounds; running it on a Tape gives the VJP's bounds, with
the forward errors entering the backward pass through the bounds of the taped values. Bounds accumulate over
the timesteps, as DESIGN.md asks of recurrent layers.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from oracle import activations, recurrent
from oracle.sequence_ops import Bilinear, Tape

from . import tolerance


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
        return tolerance.sum_bound(n, self.dtype, mag)

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
        return Bounded(activations.apply(name, z.v), tolerance.activation_bound(name, z.v, z.e, self.dtype))

    def act_vjp(self, name, z, g) -> Bounded:
        z, g = _b(z), _b(g)
        own = tolerance.activation_vjp_bound(name, z.v, z.e, g.v, self.dtype)
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
    """tolerance.CUSTOM entry of a layer registered as a program (oracle/recurrent.py)."""

    @staticmethod
    def _inputs(x):
        return [_exact(a) for a in x] if isinstance(x, list) else _exact(x)

    def forward_bound(self, config: dict, weights: list, x, dtype: str, mask=None):
        """Per-element bound of each output (a list when the layer returns several)."""
        name, cfg = config["class_name"], config["config"]
        outs, _, _ = recurrent.trace(BoundAlgebra(dtype), name, cfg, [_exact(w) for w in weights],
                                     self._inputs(x), mask)
        multi = _layer(config).multi_output(cfg)
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


def _layer(config):
    import oracle
    return oracle.layer_of(config)


def register_programs() -> None:
    """Every layer the oracle registered as a program gets ProgramBounds in tolerance.CUSTOM."""
    for name in recurrent.PROGRAMS:
        tolerance.CUSTOM.setdefault(name, ProgramBounds())
