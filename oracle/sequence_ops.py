"""The few operations a recurrent cell step is written in, once, and reverse-mode differentiation over them.

A cell step (oracle/recurrent.py) is a plain function of an *algebra* `alg` and its arrays. The same step runs:
- with `EXACT` (NumPy float64): the oracle's forward;
- with `Tape(EXACT)`: the same values, recorded, so `Tape.backward` gives the exact VJP through time (one
  backward rule per operation below, instead of a hand-written BPTT per cell);
- with the tolerance policy's bounded algebra (suites/bounded.py: every value carries its error bound), plain or
  taped: the per-element bounds of the forward pass and of the VJP, propagated operation by operation.

Operations (the algebra interface):
    contract(bil, a, b)   a bilinear map (a matrix product over the feature axis, a convolution, a product)
    add(a, b), sub(a, b)  elementwise, b may be a constant (Python float or array)
    bias(z, b)            z + b broadcast over the leading axes
    reduce(a, axes)       sum over axes (the bias's gradient)
    act(name, z)          an activation of oracle/activations.py
    act_vjp(name, z, g)   f'(z) * g (softmax: its Jacobian applied to g)
    select(fn, *xs)       a map that only moves, copies or zeroes elements (index, concatenate, where with a
                          constant mask, negate): applied to values and bounds alike
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from . import activations


@dataclass(frozen=True)
class Bilinear:
    """y = f(a, b), bilinear. adj_a(g, b) and adj_b(a, g) are its two adjoints; n, n_a, n_b the number of products
    summed per element of y, of the gradient of a and of the gradient of b (the reduction lengths of the policy)."""
    f: Callable
    adj_a: Callable
    adj_b: Callable
    n: int
    n_a: int
    n_b: int

    def grad_a(self) -> "Bilinear":
        """The bilinear map (g, b) -> gradient of a."""
        return Bilinear(self.adj_a, _unused, _unused, self.n_a, 0, 0)

    def grad_b(self) -> "Bilinear":
        """The bilinear map (a, g) -> gradient of b."""
        return Bilinear(self.adj_b, _unused, _unused, self.n_b, 0, 0)


def _unused(*args):
    raise AssertionError("second-order gradients are not used")


def matmul(a_shape: tuple, w_shape: tuple) -> Bilinear:
    """a (..., k) times w (k, m): the feature axis of a contracted with the first axis of w."""
    lead = tuple(range(len(a_shape) - 1))
    return Bilinear(f=lambda a, w: np.tensordot(a, w, axes=1),
                    adj_a=lambda g, w: np.tensordot(g, np.swapaxes(w, 0, 1), axes=1),
                    adj_b=lambda a, g: np.tensordot(a, g, axes=(lead, lead)),
                    n=w_shape[0], n_a=w_shape[1], n_b=int(np.prod(a_shape[:-1], dtype=np.int64)))


PRODUCT = Bilinear(f=np.multiply, adj_a=np.multiply, adj_b=np.multiply, n=1, n_a=1, n_b=1)


class Exact:
    """The oracle's algebra: float64 NumPy, no error."""

    @staticmethod
    def contract(bil: Bilinear, a, b):
        return bil.f(a, b)

    @staticmethod
    def add(a, b):
        return a + b

    @staticmethod
    def sub(a, b):
        return a - b

    @staticmethod
    def bias(z, b):
        return z + b

    @staticmethod
    def reduce(a, axes: tuple):
        return np.sum(a, axis=axes)

    @staticmethod
    def act(name, z):
        return activations.apply(name, z)

    @staticmethod
    def act_vjp(name, z, g):
        return activations.vjp(name, z, g)

    @staticmethod
    def select(fn: Callable, *xs):
        return fn(*xs)

    @staticmethod
    def value(a) -> np.ndarray:
        return a

    @staticmethod
    def constant(a: np.ndarray):
        return np.asarray(a, dtype=np.float64)

    @staticmethod
    def zeros(shape: tuple):
        return np.zeros(shape)


EXACT = Exact()


class Node:
    """A taped value: `value` in the underlying algebra, and how its cotangent reaches its parents."""
    __slots__ = ("value", "parents")

    def __init__(self, value, parents=()):
        self.value = value
        self.parents = parents  # ((node, cotangent -> the parent's share), ...)


def _v(a):
    return a.value if isinstance(a, Node) else a


class Tape:
    """Reverse-mode differentiation over an algebra: every operation returns a `Node` and records its VJP."""

    def __init__(self, alg: Any):
        self.alg = alg
        self.nodes: list[Node] = []

    def leaf(self, value) -> Node:
        """A differentiable input (x, an initial state, a weight)."""
        node = Node(value)
        self.nodes.append(node)
        return node

    def _node(self, value, *parents) -> Node:
        node = Node(value, tuple((p, fn) for p, fn in parents if isinstance(p, Node)))
        self.nodes.append(node)
        return node

    def contract(self, bil, a, b):
        alg = self.alg
        return self._node(alg.contract(bil, _v(a), _v(b)),
                          (a, lambda g: alg.contract(bil.grad_a(), g, _v(b))),
                          (b, lambda g: alg.contract(bil.grad_b(), _v(a), g)))

    def add(self, a, b):
        return self._node(self.alg.add(_v(a), _v(b)), (a, lambda g: g), (b, lambda g: g))

    def sub(self, a, b):
        alg = self.alg
        return self._node(alg.sub(_v(a), _v(b)), (a, lambda g: g), (b, lambda g: alg.select(np.negative, g)))

    def bias(self, z, b):
        alg = self.alg
        lead = tuple(range(np.ndim(alg.value(_v(z))) - np.ndim(alg.value(_v(b)))))
        return self._node(alg.bias(_v(z), _v(b)), (z, lambda g: g), (b, lambda g: alg.reduce(g, lead)))

    def reduce(self, a, axes):
        raise AssertionError("reduce is only used by backward rules")

    def act(self, name, z):
        alg = self.alg
        return self._node(alg.act(name, _v(z)), (z, lambda g: alg.act_vjp(name, _v(z), g)))

    def act_vjp(self, name, z, g):
        raise AssertionError("act_vjp is only used by backward rules")

    def select(self, fn, *xs, adjoint: Callable | None = None):
        """fn moves elements of xs; `adjoint(g) -> [cotangent of each x]` sends them back."""
        alg = self.alg
        out = alg.select(fn, *[_v(x) for x in xs])
        if adjoint is None:
            return self._node(out)
        return self._node(out, *[(x, (lambda g, i=i: alg.select(lambda *gs: adjoint(*gs)[i], g)))
                                 for i, x in enumerate(xs)])

    def value(self, a):
        return self.alg.value(_v(a))

    def constant(self, a):
        return self.alg.constant(a)

    def zeros(self, shape):
        return self.alg.zeros(shape)

    def backward(self, outputs: list, cotangents: list) -> dict[int, Any]:
        """Cotangents of every node (by id) reached from `outputs`; nodes are visited in reverse creation order,
        which is a topological order since a node is created after its parents."""
        grads: dict[int, Any] = {}
        for out, g in zip(outputs, cotangents):
            if isinstance(out, Node):
                grads[id(out)] = self.alg.add(grads[id(out)], g) if id(out) in grads else g
        for node in reversed(self.nodes):
            g = grads.get(id(node))
            if g is None:
                continue
            for parent, fn in node.parents:
                share = fn(g)
                grads[id(parent)] = self.alg.add(grads[id(parent)], share) if id(parent) in grads else share
        return grads

    def grad(self, grads: dict, node, shape: tuple):
        """The cotangent of `node` (zeros when the outputs do not depend on it)."""
        return grads.get(id(node), self.alg.zeros(shape)) if isinstance(node, Node) else self.alg.zeros(shape)
