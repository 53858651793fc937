"""TimeDistributed (seed 003 "wrappers"): one layer applied to every timestep of an input of rank >= 3.

The wrapped layer runs through the oracle's public functions on the batch x time axes merged into one batch
axis, (batch, timesteps, *rest) -> (batch * timesteps, *rest), and its result is split back to (batch, timesteps,
*inner output[1:]). Keras 2.2.x does exactly this when the batch size is unknown and steps K.rnn over the
timesteps otherwise; for a layer that acts on each sample alone (every layer at inference) both are the same.
Any layer the oracle registers can be wrapped, recurrent ones included, except multi-input or multi-output
layers (2.2.x wraps one tensor in, one tensor out).

Weights are the wrapped layer's, in its order. Masks: the incoming (batch, timesteps) mask passes through
unchanged, which is what 2.2.x's compute_mask returns for a wrapped layer that computes no mask of its own;
wrapping a mask-producing layer (Masking, Embedding(mask_zero=True)) is not modelled here.
"""
from __future__ import annotations

import numpy as np

from .api import forward, output_shape, vjp, weight_shapes
from .nested import nested_layer
from .params import REQUIRED, invalid
from .registry import LAYERS, Layer, register
from .weight_parameters import weight_params

NAME = "TimeDistributed"


def _inner(cfg: dict) -> tuple[Layer, dict]:
    """(registration, canonical inner config) of the wrapped layer."""
    return LAYERS[cfg["layer"]["class_name"]], cfg["layer"]


def _check(name: str, cfg: dict) -> None:
    layer, inner = _inner(cfg)
    if layer.multi_input is True or layer.multi_output(inner["config"]):
        raise invalid(name, "layer", inner["class_name"], "expected a layer with one input and one output")


def merged_shape(shape: tuple) -> tuple:
    """The inner layer's input shape: batch and timesteps merged (None when either is unknown)."""
    if len(shape) < 3:
        raise ValueError(f"{NAME}: input_shape={tuple(shape)} is not allowed: expected rank >= 3 "
                         "(batch, timesteps, ...)")
    b, t = shape[0], shape[1]
    return (None if b is None or t is None else b * t,) + tuple(shape[2:])


def _output_shape(cfg, shape):
    inner = output_shape(cfg["layer"], merged_shape(tuple(shape)))
    return (shape[0], shape[1]) + tuple(inner[1:])


def _weight_shapes(cfg, shape):
    return weight_shapes(cfg["layer"], merged_shape(tuple(shape)))


def _split(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """(batch * timesteps, ...) back to (batch, timesteps, ...)."""
    return y.reshape(x.shape[:2] + y.shape[1:])


def time_distributed(cfg: dict, weights: list, x: np.ndarray) -> np.ndarray:
    """The wrapped layer on every timestep of x."""
    return _split(x, np.asarray(forward(cfg["layer"], weights, x.reshape(merged_shape(x.shape)))))


def time_distributed_vjp(cfg: dict, weights: list, x: np.ndarray, g: np.ndarray):
    """The wrapped layer's VJP on the merged axis, the input gradient split back to x's shape."""
    merged = merged_shape(x.shape)
    gx, gws = vjp(cfg["layer"], weights, x.reshape(merged), g.reshape(merged[:1] + g.shape[2:]))
    return np.asarray(gx).reshape(x.shape), list(gws)


def _split_activation(cfg):
    """The wrapped layer's (linear part, activation), the linear part wrapped again."""
    layer, inner = _inner(cfg)
    linear, act = layer.split_activation(inner["config"])
    return (None if linear is None else {"layer": {"class_name": inner["class_name"], "config": linear}}), act


def _reductions(cfg, shape):
    layer, inner = _inner(cfg)
    return layer.reductions(inner["config"], merged_shape(tuple(shape)))


def _inner_weight_params(cfg):
    return weight_params(cfg["layer"])


register(Layer(
    name=NAME, family="wrappers",
    spec={"layer": (REQUIRED, nested_layer(what="a layer"))},
    check=_check,
    forward=time_distributed, vjp=time_distributed_vjp,
    output_shape=_output_shape, weight_shapes=_weight_shapes,
    split_activation=_split_activation, reductions=_reductions,
    weight_params=lambda cfg: _inner_weight_params(cfg),
    index_input=lambda cfg: _inner(cfg)[0].index_input(cfg["layer"]["config"]),
    state=lambda cfg: _inner(cfg)[0].state(cfg["layer"]["config"]),
    error_model="wrapped",
))
