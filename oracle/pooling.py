"""Pooling layers: MaxPooling1D/2D/3D, AveragePooling1D/2D/3D and their Global* forms (seed 003 "Pooling").

One N-d implementation of the windowed poolings, reusing the 'same' padding and the strided window view of
oracle/convolution.py (a pooling is a convolution window with dilation 1 and no kernel), and one of the global
poolings. Semantics where the seed is silent follow Keras 2.2.x on its TensorFlow backend:
- strides=None means strides = pool_size (the seed says so); the canonical config resolves it (`resolve`), as
  Keras 2.2.x's __init__ does before get_config() reports it, so the two spellings have one canonical form.
- 'same' pads max pooling with -inf and average pooling divides by the number of *real* elements of the
  window (TF's SAME AvgPool excludes the padding; docs/traps.md 3-4). A 'same' window always holds one real element.
- Ties (the gradient of max where a window's largest value occurs more than once), documented nowhere: the
  windowed max sends each window's whole cotangent to the *first* maximum in the window's row-major order,
  which is what TF's MaxPoolGrad does for 1D/2D (Keras 2.2.x's K.pool2d) and torch does for 1D/2D/3D; the
  global max splits the cotangent evenly among the tied maxima, which is the gradient of tf.reduce_max
  (Keras 2.2.x's K.max) and of torch.amax. suites/test_pooling_ties.py pins both on every backend.
"""
from __future__ import annotations

import math

import numpy as np

from .convolution import windows, output_length, pads
from .params import choice, int_tuple
from .registry import Layer, register


def _strides(cfg) -> tuple[int, ...]:
    return cfg["pool_size"] if cfg["strides"] is None else cfg["strides"]


def _to_last(x, data_format):
    return np.moveaxis(x, 1, -1) if data_format == "channels_first" else x


def _from_last(y, data_format):
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def _pooled_windows(x, pool_size, strides, padding, fill):
    """(windows (B, *out, C, *k) of the channels_last x padded with `fill`, pads, real-element count (*out, 1))."""
    rank = len(pool_size)
    p = pads(x.shape[1:-1], pool_size, strides, (1,) * rank, padding)
    xp = np.pad(x, [(0, 0)] + p + [(0, 0)], constant_values=fill)
    ones = np.pad(np.ones((1,) + x.shape[1:-1] + (1,)), [(0, 0)] + p + [(0, 0)])
    taps = tuple(range(rank + 2, 2 * rank + 2))
    count = windows(ones, pool_size, strides, (1,) * rank).sum(axis=taps)[0]
    return windows(xp, pool_size, strides, (1,) * rank), p, count


def pool(x: np.ndarray, *, mode: str, pool_size, strides, padding: str, data_format: str) -> np.ndarray:
    """N-d Keras max ('max') or average ('avg') pooling of x: (B, *spatial, C) or (B, C, *spatial)."""
    rank = len(pool_size)
    x = _to_last(x, data_format)
    w, _, count = _pooled_windows(x, pool_size, strides, padding, -np.inf if mode == "max" else 0.0)
    taps = tuple(range(rank + 2, 2 * rank + 2))
    y = w.max(axis=taps) if mode == "max" else w.sum(axis=taps) / count
    return _from_last(y, data_format)


def pool_vjp(x: np.ndarray, g: np.ndarray, *, mode: str, pool_size, strides, padding: str,
             data_format: str) -> np.ndarray:
    """Gradient of `pool` w.r.t. x given the output cotangent g (max: to the first maximum of each window)."""
    rank = len(pool_size)
    x, g = _to_last(x, data_format), _to_last(g, data_format)
    w, p, count = _pooled_windows(x, pool_size, strides, padding, -np.inf if mode == "max" else 0.0)
    if mode == "max":  # np.argmax returns the first maximum in the row-major order of the flattened window
        first = np.argmax(w.reshape(w.shape[:rank + 2] + (-1,)), axis=-1)
    else:
        share = g / count
    gxp = np.zeros(x.shape[:1] + tuple(n + lo + hi for n, (lo, hi) in zip(x.shape[1:-1], p)) + x.shape[-1:])
    # A loop over the window taps; each tap's strided slice meets every output position once.
    for t, tap in enumerate(np.ndindex(*pool_size)):
        index = (slice(None),) + tuple(slice(i, i + s * (o - 1) + 1, s) for i, s, o in
                                       zip(tap, strides, g.shape[1:-1])) + (slice(None),)
        gxp[index] += np.where(first == t, g, 0.0) if mode == "max" else share
    grad = gxp[(slice(None),) + tuple(slice(lo, lo + n) for (lo, _), n in zip(p, x.shape[1:-1]))]
    return _from_last(grad, data_format)


def global_pool(x: np.ndarray, *, mode: str, data_format: str) -> np.ndarray:
    """Max or mean over every spatial axis: (B, C)."""
    x = _to_last(x, data_format)
    axes = tuple(range(1, x.ndim - 1))
    return x.max(axis=axes) if mode == "max" else x.mean(axis=axes)


def global_pool_vjp(x: np.ndarray, g: np.ndarray, *, mode: str, data_format: str) -> np.ndarray:
    """Gradient of `global_pool`; the max splits g evenly among tied maxima (tf.reduce_max, torch.amax)."""
    x = _to_last(x, data_format)
    axes = tuple(range(1, x.ndim - 1))
    expand = g.reshape((g.shape[0],) + (1,) * len(axes) + (g.shape[-1],))
    if mode == "max":
        hit = x == x.max(axis=axes, keepdims=True)
        grad = hit * expand / hit.sum(axis=axes, keepdims=True)
    else:
        grad = np.broadcast_to(expand / math.prod(x.shape[1:-1]), x.shape).copy()
    return _from_last(grad, data_format)


def _optional_tuple(rank):
    """strides: None (= pool_size) or an int / tuple of `rank` positive ints."""
    parse = int_tuple(rank)
    return lambda layer, param, value: None if value is None else parse(layer, param, value)


def _check_input(name, rank, shape, data_format):
    """(spatial sizes, channels) of a valid input shape for a rank-`rank` pooling layer."""
    shape = tuple(shape)
    if len(shape) != rank + 2:
        raise ValueError(f"{name}: input_shape={shape} is not allowed: expected rank {rank + 2} ({data_format})")
    sizes, channels = (shape[2:], shape[1]) if data_format == "channels_first" else (shape[1:-1], shape[-1])
    if any(n is not None and n < 1 for n in sizes + (channels,)):
        raise ValueError(f"{name}: input_shape={shape} is not allowed: sizes must be >= 1")
    return sizes, channels


# The seed documents data_format='channels_last' for the 1D layers and None (keras.json's image_data_format,
# 'channels_last' unless changed) for 2D/3D; None is accepted for both, as Keras 2.2.x's normalize_data_format
# does. GlobalAveragePooling1D's signature in seed 003 shows no parameter but its input shapes name data_format:
# Keras 2.2.4 gives it data_format='channels_last' like GlobalMaxPooling1D, which is what is implemented.
def _data_format(rank):
    return ("channels_last" if rank == 1 else None,
            choice("channels_last", "channels_first", none_as="channels_last"))


def _make_windowed(rank: int, mode: str):
    name = f"{'Max' if mode == 'max' else 'Average'}Pooling{rank}D"

    def output_shape(cfg, shape):
        sizes, channels = _check_input(name, rank, shape, cfg["data_format"])
        out = []
        for axis, (n, k, s) in enumerate(zip(sizes, cfg["pool_size"], _strides(cfg))):
            if n is not None and cfg["padding"] == "valid" and k > n:
                # Keras 2.2.x's conv_output_length gives a length <= 0 here, which TF 1 rejects.
                raise ValueError(f"{name}: pool_size={cfg['pool_size']} is larger than input_shape={tuple(shape)} "
                                 f"along spatial axis {axis}: not allowed with padding='valid'")
            out.append(None if n is None else output_length(n, k, s, 1, cfg["padding"]))
        return (shape[0], channels, *out) if cfg["data_format"] == "channels_first" else (shape[0], *out, channels)

    def geometry(cfg):
        return {"mode": mode, "pool_size": cfg["pool_size"], "strides": _strides(cfg), "padding": cfg["padding"],
                "data_format": cfg["data_format"]}

    def reductions(cfg, shape):
        # An input element sits in up to prod(ceil(k/s)) windows; the gradient sums their cotangents. A max
        # selects one element (no sum); an average sums k terms and divides once.
        covering = math.prod(-(-k // s) for k, s in zip(cfg["pool_size"], _strides(cfg)))
        if mode == "max":
            return {"output": 1, "input": covering}
        return {"output": math.prod(cfg["pool_size"]) + 1, "input": covering + 1}

    return register(Layer(
        name=name, family="pooling",
        spec={"pool_size": ((2,) * rank if rank > 1 else 2, int_tuple(rank)),
              "strides": (None, _optional_tuple(rank)), "padding": ("valid", choice("valid", "same")),
              "data_format": _data_format(rank)},
        resolve=lambda cfg: {**cfg, "strides": _strides(cfg)},
        forward=lambda cfg, weights, x: pool(x, **geometry(cfg)),
        vjp=lambda cfg, weights, x, g: (pool_vjp(x, g, **geometry(cfg)), []),
        output_shape=output_shape, weight_shapes=lambda cfg, shape: [],
        split_activation=lambda cfg: (cfg, "linear"), reductions=reductions, selects=mode == "max",
    ))


def _make_global(rank: int, mode: str):
    name = f"Global{'Max' if mode == 'max' else 'Average'}Pooling{rank}D"

    def output_shape(cfg, shape):
        _, channels = _check_input(name, rank, shape, cfg["data_format"])
        return (shape[0], channels)

    def reductions(cfg, shape):
        sizes, _ = _check_input(name, rank, shape, cfg["data_format"])
        if mode == "max":
            return {"output": 1, "input": 1}
        return {"output": math.prod(sizes) + 1, "input": 2}  # a sum and a division; g / n: one division

    return register(Layer(
        name=name, family="pooling", spec={"data_format": _data_format(rank)},
        forward=lambda cfg, weights, x: global_pool(x, mode=mode, data_format=cfg["data_format"]),
        vjp=lambda cfg, weights, x, g: (global_pool_vjp(x, g, mode=mode, data_format=cfg["data_format"]), []),
        output_shape=output_shape, weight_shapes=lambda cfg, shape: [],
        split_activation=lambda cfg: (cfg, "linear"), reductions=reductions, selects=mode == "max",
    ))


for _rank in (1, 2, 3):
    for _mode in ("max", "avg"):
        _make_windowed(_rank, _mode)
        _make_global(_rank, _mode)
