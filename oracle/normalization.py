"""BatchNormalization (seed 003 "标准化层"; Keras 2.2.x keras/layers/normalization.py where the seed is silent).

Weights in get_weights() order: gamma (if scale), beta (if center), moving_mean, moving_variance, each of the
size of the `axis` dimension. Statistics are taken over every other axis (the batch included).
- Inference: gamma * (x - moving_mean) / sqrt(moving_variance + epsilon) + beta.
- Training: the same with the batch mean and the biased batch variance (Keras 2.2.x
  K.normalize_batch_in_training -> tf.nn.moments), and the moving statistics move by Keras's momentum
  convention moving = momentum * moving + (1 - momentum) * batch (docs/traps.md 19; torch's momentum means 1 - this).
  The variance fed to the moving average is, as Keras 2.2.x writes it, the biased variance times
  n / (n - (1 + epsilon)) with n the number of elements per channel ("sample variance - unbiased estimator"),
  neither the biased variance (tf-keras non-fused, Keras 3) nor Bessel's n / (n - 1) (torch).
  Keras 2.2.x's TensorFlow backend ran the average through assign_moving_average(zero_debias=True), whose
  hidden step counter and biased accumulator get_weights() does not expose; its Theano and CNTK backends, the
  tf-keras docstring and docs/traps.md 19 use the plain average above, which the oracle follows.
Without scale (center) the layer has no gamma (beta): it multiplies by 1 (adds 0).
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .params import boolean, invalid
from .registry import Layer, register
from .weight_objects import serialized_object


def integer(layer: str, param: str, value: Any) -> int:
    """An int (the axis; checked against the input rank in output_shape)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(layer, param, value, "expected an integer")
    return int(value)


def real(layer: str, param: str, value: Any) -> float:
    """A finite number (Keras 2.2.x checks momentum and epsilon no further)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise invalid(layer, param, value, "expected a finite number")
    return float(value)


SPEC = {
    "axis": (-1, integer), "momentum": (0.99, real), "epsilon": (1e-3, real),
    "center": (True, boolean), "scale": (True, boolean),
    **{f"{w}_initializer": (d, serialized_object) for w, d in (
        ("beta", "zeros"), ("gamma", "ones"), ("moving_mean", "zeros"), ("moving_variance", "ones"))},
    **{f"{w}_{kind}": (None, serialized_object) for kind in ("regularizer", "constraint") for w in ("beta", "gamma")},
}


def _axes(cfg: dict, ndim: int) -> tuple[int, tuple[int, ...]]:
    """(the normalised axis, the reduction axes)."""
    axis = cfg["axis"] % ndim
    return axis, tuple(i for i in range(ndim) if i != axis)


def unpack_weights(cfg: dict, weights: list, ndim: int):
    """(gamma, beta, moving_mean, moving_variance) reshaped to broadcast against the input (gamma 1, beta 0 when
    absent), and the reduction axes."""
    axis, red = _axes(cfg, ndim)
    shape = [1] * ndim
    shape[axis] = -1
    ws = [w.reshape(shape) for w in weights]
    gamma = ws.pop(0) if cfg["scale"] else np.ones(1)
    beta = ws.pop(0) if cfg["center"] else np.zeros(1)
    return gamma, beta, ws[0], ws[1], red


def _pack(cfg: dict, ggamma, gbeta, gmean, gvar) -> list:
    """Gradients in get_weights() order, flattened back to (C,)."""
    grads = ([ggamma] if cfg["scale"] else []) + ([gbeta] if cfg["center"] else []) + [gmean, gvar]
    return [g.reshape(-1) for g in grads]


def batch_norm(x, mean, var, gamma, beta, epsilon):
    """gamma * (x - mean) / sqrt(var + epsilon) + beta (all broadcast against x)."""
    return gamma * (x - mean) / np.sqrt(var + epsilon) + beta


def _forward(cfg, weights, x):
    gamma, beta, mean, var, _ = unpack_weights(cfg, weights, x.ndim)
    return batch_norm(x, mean, var, gamma, beta, cfg["epsilon"])


def _vjp(cfg, weights, x, g):
    gamma, beta, mean, var, red = unpack_weights(cfg, weights, x.ndim)
    r = 1.0 / np.sqrt(var + cfg["epsilon"])
    d = x - mean
    return g * gamma * r, _pack(cfg, np.sum(g * d * r, axis=red), np.sum(g, axis=red),
                                -np.sum(g * gamma * r, axis=red), -0.5 * np.sum(g * gamma * d * r ** 3, axis=red))


def _abs_forward(cfg, aw, ax):
    """The absolute terms: |gamma| (|x| + |mean|) / sqrt(var + eps) + |beta| (x - mean would cancel at |x|)."""
    gamma, beta, mean, var, _ = unpack_weights(cfg, aw, ax.ndim)
    return gamma * (ax + mean) / np.sqrt(var + cfg["epsilon"]) + beta


def _abs_vjp(cfg, aw, ax, ag):
    gamma, beta, mean, var, red = unpack_weights(cfg, aw, ax.ndim)
    r = 1.0 / np.sqrt(var + cfg["epsilon"])
    s = ax + mean
    return ag * gamma * r, _pack(cfg, np.sum(ag * s * r, axis=red), np.sum(ag, axis=red),
                                 np.sum(ag * gamma * r, axis=red), 0.5 * np.sum(ag * gamma * s * r ** 3, axis=red))


def batch_moments(x: np.ndarray, red: tuple) -> tuple[np.ndarray, np.ndarray]:
    """Batch mean and biased batch variance over the reduction axes (keepdims)."""
    mean = x.mean(axis=red, keepdims=True)
    return mean, ((x - mean) ** 2).mean(axis=red, keepdims=True)


def _train(cfg, weights, x, rng):
    gamma, beta, moving_mean, moving_var, red = unpack_weights(cfg, weights, x.ndim)
    mean, var = batch_moments(x, red)
    y = batch_norm(x, mean, var, gamma, beta, cfg["epsilon"])
    n = x.size // mean.size
    m = cfg["momentum"]
    fed = var * n / (n - (1.0 + cfg["epsilon"]))  # Keras 2.2.x, see the module docstring
    new = [m * moving_mean + (1.0 - m) * mean, m * moving_var + (1.0 - m) * fed]
    return y, list(weights[:-2]) + [w.reshape(-1) for w in new]


def _train_vjp(cfg, weights, x, g):
    """The batch-statistics gradient: r/n * (n g' - sum g' - xhat * sum(g' xhat)), g' = gamma g."""
    gamma, beta, _, _, red = unpack_weights(cfg, weights, x.ndim)
    mean, var = batch_moments(x, red)
    r = 1.0 / np.sqrt(var + cfg["epsilon"])
    xhat = (x - mean) * r
    n = x.size // mean.size
    gh = g * gamma
    gx = r / n * (n * gh - gh.sum(axis=red, keepdims=True) - xhat * (gh * xhat).sum(axis=red, keepdims=True))
    zeros = np.zeros(mean.size)  # the output does not depend on the moving statistics in training mode
    return gx, _pack(cfg, np.sum(g * xhat, axis=red), np.sum(g, axis=red), zeros, zeros)


def _output_shape(cfg, shape):
    shape = tuple(shape)
    if not -len(shape) <= cfg["axis"] < len(shape):
        raise invalid("BatchNormalization", "axis", cfg["axis"], f"expected an axis of the rank-{len(shape)} input "
                      f"{shape}, between {-len(shape)} and {len(shape) - 1}")
    # Keras 2.2.x build(): "Axis ... of input tensor should have a defined dimension"
    if shape[cfg["axis"]] is None:
        raise invalid("BatchNormalization", "axis", cfg["axis"], f"the axis of input {shape} must have a known size")
    return shape


def _weight_shapes(cfg, shape):
    c = (shape[cfg["axis"]],)
    return [c] * (cfg["scale"] + cfg["center"] + 2)


def _reductions(cfg, shape):
    """Rounding steps per output element: 8 for (x - mean), var + eps, the square root (a few ulps in float32
    rsqrt), the division, gamma and beta, with room for a backend that folds gamma into the scale first.
    Each weight gradient sums the n elements of its channel (a few products each)."""
    n = int(np.prod(shape)) // shape[cfg["axis"]]
    grads = ([n + 3] if cfg["scale"] else []) + ([n] if cfg["center"] else []) + [n + 2, n + 4]
    return {"output": 8, "input": 4, **{f"weight{i}": k for i, k in enumerate(grads)}}


register(Layer(
    name="BatchNormalization", family="normalization", spec=SPEC,
    forward=_forward, vjp=_vjp, output_shape=_output_shape, weight_shapes=_weight_shapes,
    split_activation=lambda cfg: (cfg, "linear"), reductions=_reductions,
    abs_forward=_abs_forward, abs_vjp=_abs_vjp, train=_train, train_vjp=_train_vjp,
    state=lambda cfg: (cfg["scale"] + cfg["center"], cfg["scale"] + cfg["center"] + 1),
    # get_weights() order: gamma (scale), beta (center), moving_mean, moving_variance
    weight_params=lambda cfg: ["gamma"] * cfg["scale"] + ["beta"] * cfg["center"] + ["moving_mean", "moving_variance"],
    error_model="batch_statistics",
))
