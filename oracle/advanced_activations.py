"""Advanced activation layers: LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, ReLU (seed 003 "高级激活层").

Each is written from the documented formula. Where the backends' own formulas differ from it only at a point
(ReLU at x == threshold, ThresholdedReLU's strict x > theta) the documentation wins and the difference is a
known divergence; `KINKS`-style points come with every registration through `oracle.pointwise`.
"""
from __future__ import annotations

import numpy as np

from . import activations
from .params import REQUIRED, invalid
from .pointwise import Pointwise, SoftmaxAlong, piecewise_linear
from .registry import Layer, register
from .weight_objects import serialized_object


def real(minimum: float | None = None, allow_none: bool = False):
    """A parser of a float parameter (ints accepted, bools not), optionally >= minimum or None."""
    def parse(layer, param, value):
        if value is None and allow_none:
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value):
            raise invalid(layer, param, value, "expected a finite number" + (" or None" if allow_none else ""))
        if minimum is not None and value < minimum:
            raise invalid(layer, param, value, f"expected a number >= {minimum}")
        return float(value)
    return parse


def leaky_relu(alpha: float) -> Pointwise:
    """f(x) = alpha * x for x < 0, x for x >= 0 (seed 003)."""
    return piecewise_linear(f"leaky_relu(alpha={alpha})", lambda x: (
        np.where(x < 0, alpha * x, x), np.where(x < 0, alpha, 1.0), np.abs(np.where(x < 0, alpha * x, x))), (0.0,))


def elu(alpha: float) -> Pointwise:
    """f(x) = alpha * (exp(x) - 1) for x < 0, x for x >= 0 (seed 003). The rounding magnitude is the absolute
    terms |alpha| * (exp(x) + 1) of that formula, as for the elu activation (suites/tolerance.py)."""
    neg = lambda x: np.exp(np.minimum(x, 0.0))  # noqa: E731
    return Pointwise(f"elu(alpha={alpha})",
                     f=lambda x: np.where(x < 0, alpha * np.expm1(np.minimum(x, 0.0)), x),
                     d1=lambda x: np.where(x < 0, alpha * neg(x), 1.0),
                     d2=lambda x: np.where(x < 0, alpha * neg(x), 0.0),
                     rounding=lambda x: np.where(x < 0, abs(alpha) * (neg(x) + 1.0), np.abs(x)),
                     kinks=() if alpha == 1.0 else (0.0,))


def thresholded_relu(theta: float) -> Pointwise:
    """f(x) = x for x > theta, 0 otherwise: strictly greater (seed 003; docs/traps.md 23), so f(theta) = 0."""
    return piecewise_linear(f"thresholded_relu(theta={theta})", lambda x: (
        np.where(x > theta, x, 0.0), (x > theta).astype(np.float64), np.where(x > theta, np.abs(x), 0.0)), (theta,))


def relu(max_value: float | None, negative_slope: float, threshold: float) -> Pointwise:
    """Seed 003's piecewise definition, in its order: max_value for x >= max_value; x for threshold <= x <
    max_value; negative_slope * (x - threshold) otherwise. So f(threshold) = threshold, and where threshold >
    max_value every x >= max_value gives max_value (the first rule). Absolute terms of the last piece:
    |slope| * (|x| + |threshold|) (a backend subtracts the threshold in its own precision)."""
    top = np.inf if max_value is None else max_value

    def pieces(x):
        low = x < threshold
        value = np.where(x >= top, top, np.where(low, negative_slope * (x - threshold), x))
        slope = np.where(x >= top, 0.0, np.where(low, negative_slope, 1.0))
        terms = np.where(x >= top, top, np.where(low, negative_slope * (np.abs(x) + abs(threshold)), np.abs(x)))
        return value, slope, terms
    kinks = (threshold,) + (() if max_value is None else (max_value,))
    return piecewise_linear(f"relu(max_value={max_value}, negative_slope={negative_slope}, "
                            f"threshold={threshold})", pieces, kinks)


def _register_pointwise(name: str, spec: dict, make) -> None:
    """An advanced activation without weights: forward, VJP and tolerance all come from its Pointwise."""
    def output_shape(cfg, shape):
        if len(shape) < 1:
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: expected rank >= 1")
        return tuple(shape)
    register(Layer(
        name=name, family="advanced_activations", spec=spec,
        forward=lambda cfg, weights, x: make(cfg).f(x),
        vjp=lambda cfg, weights, x, g: (make(cfg).vjp(x, g), []),
        output_shape=output_shape, weight_shapes=lambda cfg, shape: [],
        split_activation=lambda cfg: (None, make(cfg)),
        reductions=lambda cfg, shape: {"output": 0, "input": 0},
    ))


# Keras 2.2.x accepted a negative alpha/theta/slope silently; seed 003 documents "float >= 0" and tf-keras /
# Keras 3 reject negatives, so the oracle does too. threshold is documented as any float.
_register_pointwise("LeakyReLU", {"alpha": (0.3, real(0.0))}, lambda cfg: leaky_relu(cfg["alpha"]))
# ELU's alpha is documented without a sign restriction ("负因子的尺度", the scale of the negative part).
_register_pointwise("ELU", {"alpha": (1.0, real())}, lambda cfg: elu(cfg["alpha"]))
_register_pointwise("ThresholdedReLU", {"theta": (1.0, real(0.0))}, lambda cfg: thresholded_relu(cfg["theta"]))
_register_pointwise("ReLU", {"max_value": (None, real(0.0, allow_none=True)), "negative_slope": (0.0, real(0.0)),
                             "threshold": (0.0, real())},
                    lambda cfg: relu(cfg["max_value"], cfg["negative_slope"], cfg["threshold"]))


def softmax_axis(layer, param, value):
    """Seed 003: "axis: 整数" (an integer). tf-keras also takes a list of axes; the documentation does not."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(layer, param, value, "expected an integer")
    return int(value)


def _softmax_output_shape(cfg, shape):
    rank = len(shape)
    if rank < 2:
        # as for Activation('softmax'): Keras 2's softmax raises "Cannot apply softmax to a tensor that is 1D"
        # (tf-keras's backend.softmax does too); a rank-1 input would be a lone batch axis anyway.
        raise ValueError(f"Softmax: input_shape={tuple(shape)} is not allowed: expected rank >= 2")
    if not -rank <= cfg["axis"] < rank:
        raise ValueError(f"Softmax: axis={cfg['axis']} is not allowed for input_shape={tuple(shape)}: "
                         f"expected -{rank} <= axis < {rank}")
    return tuple(shape)


def _softmax_vjp(cfg, weights, x, g):
    s = activations.softmax(x, axis=cfg["axis"])
    return s * (g - np.sum(s * g, axis=cfg["axis"], keepdims=True)), []


register(Layer(
    name="Softmax", family="advanced_activations", spec={"axis": (-1, softmax_axis)},
    forward=lambda cfg, weights, x: activations.softmax(x, axis=cfg["axis"]), vjp=_softmax_vjp,
    output_shape=_softmax_output_shape, weight_shapes=lambda cfg, shape: [],
    split_activation=lambda cfg: (None, SoftmaxAlong(cfg["axis"])),
    reductions=lambda cfg, shape: {"output": 0, "input": 0},
))


def shared_axes(layer, param, value):
    """None, an int or a list/tuple of ints >= 1 (axes of the input, the batch axis being 0); canonical: a
    sorted tuple or None. Keras 2.2.x wraps a single int in a list."""
    if value is None:
        return None
    items = [value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(items, (list, tuple)) or not all(
            isinstance(a, int) and not isinstance(a, bool) and a >= 1 for a in items):
        raise invalid(layer, param, value, "expected None, an integer >= 1 or a list of integers >= 1")
    return tuple(sorted(set(int(a) for a in items)))


def _prelu_alpha_shape(cfg, shape):
    if len(shape) < 2:
        raise ValueError(f"PReLU: input_shape={tuple(shape)} is not allowed: expected rank >= 2")
    axes = cfg["shared_axes"] or ()
    if axes and max(axes) >= len(shape):
        raise ValueError(f"PReLU: shared_axes={cfg['shared_axes']} is not allowed for input_shape="
                         f"{tuple(shape)}: expected axes between 1 and {len(shape) - 1}")
    return tuple(1 if i in axes else n for i, n in enumerate(shape) if i > 0)


def prelu(x: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """f(x) = alpha * x for x < 0, x for x >= 0, alpha broadcast over the batch and the shared axes."""
    return np.where(x < 0, alpha * x, x)


def _prelu_vjp(cfg, weights, x, g):
    alpha = weights[0]
    summed = (0,) + tuple(cfg["shared_axes"] or ())
    grad_alpha = np.sum(np.where(x < 0, x * g, 0.0), axis=summed, keepdims=True)[0]
    return np.where(x < 0, alpha * g, g), [grad_alpha]


def _prelu_reductions(cfg, shape):
    shared = int(np.prod([shape[a] for a in (cfg["shared_axes"] or ())]))
    return {"output": 1, "input": 1, "weight0": shape[0] * shared}


register(Layer(
    name="PReLU", family="advanced_activations",
    spec={"alpha_initializer": ("zeros", serialized_object), "alpha_regularizer": (None, serialized_object),
          "alpha_constraint": (None, serialized_object), "shared_axes": (None, shared_axes)},
    forward=lambda cfg, weights, x: prelu(x, weights[0]), vjp=_prelu_vjp,
    output_shape=lambda cfg, shape: (_prelu_alpha_shape(cfg, shape), tuple(shape))[1],
    weight_shapes=lambda cfg, shape: [_prelu_alpha_shape(cfg, shape)],
    # x or alpha * x picked per element: one rounding of the picked term, so magnitudes at the real input.
    split_activation=lambda cfg: (cfg, "linear"), selects=True,
    reductions=_prelu_reductions, weight_params=lambda cfg: ["alpha"],
))
