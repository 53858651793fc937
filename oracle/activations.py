"""Keras 2.2.x activations by name, in float64, with first and second derivatives.

Every name a Keras 2 layer accepts for `activation=`. The derivatives serve the analytic VJPs and the
tolerance policy (a bound travels through f as |f'(y)| * bound(y) + rounding * |f(y)|). `KINKS` lists where f'
jumps: gradient checks keep inputs away from them.
"""
from __future__ import annotations

import contextlib

import numpy as np

from .params import invalid

# SELU constants as Keras 2.2.x writes them (keras/activations.py).
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function, evaluated without overflow on both tails."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    """Keras 2.2.x softmax: along the last axis; a 1-D tensor is an error there (checked by the caller)."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * np.expm1(np.minimum(x, 0.0)))


def _softsign_d(x):
    return 1.0 / (1.0 + np.abs(x)) ** 2


# name -> (f, f', f''). hard_sigmoid is the Keras 2 definition clip(0.2x + 0.5, 0, 1) (docs/traps.md 14), not
# Keras 3's relu6(x + 3) / 6.
_ELEMENTWISE = {
    "linear": (lambda x: x, np.ones_like, np.zeros_like),
    "relu": (lambda x: np.maximum(x, 0.0), lambda x: (x > 0).astype(np.float64), np.zeros_like),
    "tanh": (np.tanh, lambda x: 1.0 - np.tanh(x) ** 2, lambda x: -2.0 * np.tanh(x) * (1.0 - np.tanh(x) ** 2)),
    "sigmoid": (sigmoid, lambda x: sigmoid(x) * (1.0 - sigmoid(x)),
                lambda x: sigmoid(x) * (1.0 - sigmoid(x)) * (1.0 - 2.0 * sigmoid(x))),
    "hard_sigmoid": (lambda x: np.clip(0.2 * x + 0.5, 0.0, 1.0),
                     lambda x: np.where(np.abs(x) < 2.5, 0.2, 0.0), np.zeros_like),
    "elu": (_elu, lambda x: np.where(x > 0, 1.0, np.exp(np.minimum(x, 0.0))),
            lambda x: np.where(x > 0, 0.0, np.exp(np.minimum(x, 0.0)))),
    "selu": (lambda x: SELU_SCALE * _elu(x, SELU_ALPHA),
             lambda x: SELU_SCALE * np.where(x > 0, 1.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0))),
             lambda x: SELU_SCALE * np.where(x > 0, 0.0, SELU_ALPHA * np.exp(np.minimum(x, 0.0)))),
    "softplus": (lambda x: np.logaddexp(0.0, x), sigmoid, lambda x: sigmoid(x) * (1.0 - sigmoid(x))),
    "softsign": (lambda x: x / (1.0 + np.abs(x)), _softsign_d,
                 lambda x: -2.0 * np.sign(x) / (1.0 + np.abs(x)) ** 3),
    "exponential": (np.exp, np.exp, np.exp),
}

NAMES = tuple(_ELEMENTWISE) + ("softmax",)

# Points where f' is discontinuous (relu'(0) = 0 as TF and torch define it; elu with alpha=1 is C1 at 0).
KINKS = {"relu": (0.0,), "hard_sigmoid": (-2.5, 2.5), "selu": (0.0,)}


def parse(layer: str, param: str, value) -> str:
    """Canonical activation name; None means linear, as the seeds document."""
    if value is None:
        return "linear"
    if value not in NAMES:
        raise invalid(layer, param, value, "expected one of " + ", ".join(repr(n) for n in NAMES))
    return value


def apply(name: str, x: np.ndarray) -> np.ndarray:
    """f(x) for the named activation."""
    if name == "softmax":
        return softmax(x)
    return _ELEMENTWISE[name][0](x)


def vjp(name: str, x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Cotangent of the pre-activation x given the cotangent g of f(x)."""
    if name == "softmax":
        s = softmax(x)
        return s * (g - np.sum(s * g, axis=-1, keepdims=True))
    return _ELEMENTWISE[name][1](x) * g


def derivative(name: str, x: np.ndarray, order: int = 1) -> np.ndarray:
    """f' (order=1) or f'' (order=2) of an elementwise activation."""
    return _ELEMENTWISE[name][order](x)


@contextlib.contextmanager
def redefined(name: str, f, df, d2f):
    """Evaluate with another definition of one elementwise activation (f, f', f'') inside the block: the
    known-divergence entries that model a backend's own activation (Keras 3's hard_sigmoid, docs/traps.md 14) re-run the
    oracle's forward pass, VJP and bounds with it (suites/alternatives/). The documented one is restored on exit."""
    if name not in _ELEMENTWISE:
        raise ValueError(f"activation={name!r} is not allowed: expected one of {', '.join(_ELEMENTWISE)}")
    documented = _ELEMENTWISE[name]
    _ELEMENTWISE[name] = (f, df, d2f)
    try:
        yield
    finally:
        _ELEMENTWISE[name] = documented
