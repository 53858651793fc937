"""Self-tests of the bounded algebra (suites/bounded.py) that gives the recurrent layers their tolerance: the
bounds are never negative, and they hold for a real lower-precision evaluation of the same program: every
operation of the oracle's step run in float32 NumPy arithmetic (a stand-in backend with the same formula and
float32 rounding at every operation) stays within the float32 bounds, forward and VJP through time. No
framework is imported."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import oracle
from oracle import activations, recurrent
from oracle.registry import programs
from oracle.sequence_ops import Exact, Tape

from . import strategies, tolerance

PROGRAMS = programs()
F32 = np.float32


class Float32(Exact):
    """The algebra evaluated in float32: operands rounded to float32, each result computed and kept in float32."""

    @staticmethod
    def _c(a):
        return np.asarray(a, dtype=F32)

    def contract(self, bil, a, b):
        return self._c(bil.f(self._c(a), self._c(b)))

    def add(self, a, b):
        return self._c(self._c(a) + self._c(b))

    def sub(self, a, b):
        return self._c(self._c(a) - self._c(b))

    bias = add

    def reduce(self, a, axes):
        return self._c(np.sum(self._c(a), axis=axes, dtype=F32))

    def act(self, name, z):
        return self._c(activations.apply(name, self._c(z)))

    def act_vjp(self, name, z, g):
        return self._c(activations.vjp(name, self._c(z), self._c(g)))

    def select(self, fn, *xs):
        return self._c(fn(*[self._c(x) for x in xs]))

    def constant(self, a):
        return self._c(a)

    def zeros(self, shape):
        return np.zeros(shape, dtype=F32)


def _flat(y):
    return [np.asarray(a, dtype=np.float64) for a in (y if isinstance(y, list) else [y])]


def _case(data, layer):
    case = data.draw(strategies.cases(layer))
    x, ws, g = strategies.arrays(case, "float32")
    kw = {"mask": strategies.case_mask(case)} if case.mask else {}
    return oracle.normalize(case.config), x, ws, g, kw


@pytest.mark.parametrize("layer", PROGRAMS)
@given(data=st.data())
def test_bounds_are_nonnegative(layer, data):
    """A negative bound would let errors cancel in the sums that carry it (a negated cotangent once did)."""
    config, x, ws, g, kw = _case(data, layer)
    bounds = _flat(tolerance.forward_bound(config, ws, x, "float64", **kw))
    bx, bw = tolerance.vjp_bounds(config, ws, x, g, "float64", **kw)
    bounds += _flat(bx) + [np.asarray(b) for b in bw]
    assert all(np.all(b >= 0) for b in bounds), f"{layer}: a negative bound"


@pytest.mark.parametrize("layer", PROGRAMS)
@given(data=st.data())
def test_float32_evaluation_of_the_program_stays_within_the_float32_bounds(layer, data):
    config, x, ws, g, kw = _case(data, layer)
    name, cfg = config["class_name"], config["config"]
    with np.errstate(all="ignore"):
        exact, _, _ = recurrent.trace(recurrent.EXACT, name, cfg, ws, x, kw.get("mask"))
    assume(all(np.all(np.abs(a) < 1e30) for a in exact))  # exp fed back through time: no float32 value to compare
    assume(tolerance.kink_distance(config, ws, x, "float32", **kw) > 4.0)  # f' jumps within the bound
    low, _, _ = recurrent.trace(Float32(), name, cfg, ws, x, kw.get("mask"))
    bounds = _flat(tolerance.forward_bound(config, ws, x, "float32", **kw))
    for i, (lo, ex, b) in enumerate(zip(low, exact, bounds)):
        err = np.abs(lo.astype(np.float64) - ex)
        assert np.all(err <= b), f"{layer} output[{i}]: float32 error {err.max():.3g} beyond its bound " \
                                 f"(worst ratio {np.max(err / (b + 1e-300)):.3g})"
    tape = Tape(Float32())
    outs, xs, wl = recurrent.trace(tape, name, cfg, ws, x, kw.get("mask"))
    gs = [np.asarray(a, dtype=F32) for a in (g if isinstance(g, list) else [g])]
    grads = tape.backward(outs, gs)
    low_x = [tape.grad(grads, n, np.shape(n.value)) for n in xs]
    low_w = [tape.grad(grads, n, np.shape(n.value)) for n in wl]
    ex_x, ex_w = oracle.vjp(config, ws, x, g, **kw)
    bx, bw = tolerance.vjp_bounds(config, ws, x, g, "float32", **kw)
    pairs = list(zip(low_x, _flat(ex_x), _flat(bx))) + list(zip(low_w, ex_w, bw))
    for i, (lo, ex, b) in enumerate(pairs):
        err = np.abs(np.asarray(lo, dtype=np.float64) - ex)
        assert np.all(err <= b), f"{layer} gradient[{i}]: float32 error {err.max():.3g} beyond its bound"
