"""Core layers: Dense, Activation and Flatten (seed 003, "Keras 核心网络层")."""
from __future__ import annotations

import numpy as np

from . import activations
from .params import REQUIRED, boolean, choice, positive_int
from .registry import Layer, register
from .weight_objects import serialized_object

WEIGHT_PARAMS = {
    "kernel_initializer": ("glorot_uniform", serialized_object),
    "bias_initializer": ("zeros", serialized_object),
    "kernel_regularizer": (None, serialized_object),
    "bias_regularizer": (None, serialized_object),
    "activity_regularizer": (None, serialized_object),
    "kernel_constraint": (None, serialized_object),
    "bias_constraint": (None, serialized_object),
}


def dense(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray | None) -> np.ndarray:
    """x @ kernel + bias over the last axis.

    Seed 003 says an input of rank > 2 "is flattened first"; Keras 2.2.x in fact contracts the last axis
    (K.dot -> tensordot) and documents the output shape (batch_size, ..., units), which is what this does."""
    y = x @ kernel
    return y if bias is None else y + bias


def dense_vjp(x, kernel, bias, g):
    """Gradients of `dense` w.r.t. x, kernel and bias given the output cotangent g."""
    lead = tuple(range(x.ndim - 1))
    grads = [np.tensordot(x, g, axes=(lead, lead))]
    if bias is not None:
        grads.append(g.sum(axis=lead))
    return g @ kernel.T, grads


def _dense_forward(cfg, weights, x):
    return activations.apply(cfg["activation"], dense(x, weights[0], weights[1] if cfg["use_bias"] else None))


def _dense_vjp(cfg, weights, x, g):
    bias = weights[1] if cfg["use_bias"] else None
    y = dense(x, weights[0], bias)
    return dense_vjp(x, weights[0], bias, activations.vjp(cfg["activation"], y, g))


def _dense_output_shape(cfg, shape):
    if len(shape) < 2:
        raise ValueError(f"Dense: input_shape={tuple(shape)} is not allowed: expected rank >= 2 (batch, ..., input_dim)")
    return tuple(shape[:-1]) + (cfg["units"],)


def _dense_reductions(cfg, shape):
    batch = int(np.prod(shape[:-1]))
    return {"output": shape[-1] + cfg["use_bias"], "input": cfg["units"], "weight0": batch, "weight1": batch}


register(Layer(
    name="Dense", family="core",
    spec={"units": (REQUIRED, positive_int), "activation": (None, activations.parse),
          "use_bias": (True, boolean), **WEIGHT_PARAMS},
    forward=_dense_forward, vjp=_dense_vjp, output_shape=_dense_output_shape,
    weight_shapes=lambda cfg, shape: [(shape[-1], cfg["units"])] + ([(cfg["units"],)] if cfg["use_bias"] else []),
    split_activation=lambda cfg: ({**cfg, "activation": "linear"}, cfg["activation"]),
    reductions=_dense_reductions,
))


def _activation_output_shape(cfg, shape):
    if cfg["activation"] == "softmax" and len(shape) < 2:
        # Keras 2.2.x activations.softmax raises "Cannot apply softmax to a tensor that is 1D".
        raise ValueError(f"Activation: input_shape={tuple(shape)} is not allowed with activation='softmax': "
                         "expected rank >= 2")
    if len(shape) < 1:
        raise ValueError(f"Activation: input_shape={tuple(shape)} is not allowed: expected rank >= 1")
    return tuple(shape)


register(Layer(
    name="Activation", family="core",
    spec={"activation": (REQUIRED, activations.parse)},
    forward=lambda cfg, weights, x: activations.apply(cfg["activation"], x),
    vjp=lambda cfg, weights, x, g: (activations.vjp(cfg["activation"], x, g), []),
    output_shape=_activation_output_shape,
    weight_shapes=lambda cfg, shape: [],
    split_activation=lambda cfg: (None, cfg["activation"]),
    reductions=lambda cfg, shape: {"output": 0, "input": 0},
))


def flatten(x: np.ndarray, data_format: str) -> np.ndarray:
    """(batch, d1, ..., dk) -> (batch, d1 * ... * dk) in row-major order.

    channels_first inputs are first moved to channels_last (Keras 2.2.x Flatten.call permutes (0, 2, ..., 1)),
    so that a Dense after Flatten sees the same order whichever data_format the model used, an order unlike
    that of torch.flatten on NCHW (docs/traps.md 21)."""
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    return x.reshape(x.shape[0], -1)


def flatten_vjp(x: np.ndarray, g: np.ndarray, data_format: str) -> np.ndarray:
    """The cotangent of `flatten` reshaped (and moved back to channels_first) to the input's layout."""
    if data_format == "channels_first":
        return np.moveaxis(g.reshape((x.shape[0],) + x.shape[2:] + (x.shape[1],)), -1, 1)
    return g.reshape(x.shape)


def _flatten_output_shape(cfg, shape):
    shape = tuple(shape)
    # Keras 2.2.x: InputSpec(min_ndim=3) (tf-keras and Keras 3 take rank 1 and 2 as well), and every non-batch
    # size must be known ("The shape of the input to Flatten is not fully defined").
    if len(shape) < 3:
        raise ValueError(f"Flatten: input_shape={shape} is not allowed: expected rank >= 3")
    if any(n is None or n < 1 for n in shape[1:]):
        raise ValueError(f"Flatten: input_shape={shape} is not allowed: every non-batch size must be known and >= 1")
    return (shape[0], int(np.prod(shape[1:])))


register(Layer(
    name="Flatten", family="core",
    # data_format=None means keras.json's image_data_format: 'channels_last' unless the user changed it.
    spec={"data_format": ("channels_last", choice("channels_last", "channels_first", none_as="channels_last"))},
    forward=lambda cfg, weights, x: flatten(x, cfg["data_format"]),
    vjp=lambda cfg, weights, x, g: (flatten_vjp(x, g, cfg["data_format"]), []),
    output_shape=_flatten_output_shape,
    weight_shapes=lambda cfg, shape: [],
    split_activation=lambda cfg: (cfg, "linear"),  # a permutation of the elements: a linear map, no activation
    reductions=lambda cfg, shape: {"output": 1, "input": 1},
))
