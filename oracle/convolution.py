"""Convolution layers Conv1D, Conv2D, Conv3D (seed 003 "Convolutional layer"; 001/004 where 003 is terse).

One N-d implementation: inputs are moved to channels_last, padded explicitly, viewed as windows with
`sliding_window_view` (no copy), and contracted with the kernel by `tensordot`, which lays the windows out as
an im2col matrix and hands the product to BLAS.
"""
from __future__ import annotations

import math

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from . import activations
from .core import WEIGHT_PARAMS
from .params import REQUIRED, boolean, choice, int_tuple, invalid, positive_int
from .registry import Layer, register


def same_pads(size: int, k: int, s: int, d: int) -> tuple[int, int]:
    """Keras/TF 'same' padding: total max((ceil(n/s)-1)*s + (k-1)*d + 1 - n, 0), the smaller half first."""
    total = max((math.ceil(size / s) - 1) * s + (k - 1) * d + 1 - size, 0)
    return total // 2, total - total // 2


def pads(sizes, kernel_size, strides, dilation_rate, padding) -> list[tuple[int, int]]:
    """Explicit (before, after) padding per spatial axis for 'valid', 'same' and 'causal'."""
    if padding == "valid":
        return [(0, 0)] * len(sizes)
    if padding == "causal":  # dilation*(k-1) on the left only (docs/traps.md 2)
        return [((k - 1) * d, 0) for k, d in zip(kernel_size, dilation_rate)]
    return [same_pads(n, k, s, d) for n, k, s, d in zip(sizes, kernel_size, strides, dilation_rate)]


def output_length(size: int, k: int, s: int, d: int, padding: str) -> int:
    """Keras 2.2.x conv_output_length."""
    if padding in ("same", "causal"):
        return -(-size // s)
    return (size - (k - 1) * d - 1) // s + 1


def windows(xp, kernel_size, strides, dilation_rate):
    """(B, *out, C, *k) strided view of the padded channels_last input xp."""
    rank = len(kernel_size)
    span = [(k - 1) * d + 1 for k, d in zip(kernel_size, dilation_rate)]
    w = sliding_window_view(xp, span, axis=tuple(range(1, rank + 1)))
    index = ((slice(None),) + tuple(slice(None, None, s) for s in strides) + (slice(None),)
             + tuple(slice(None, None, d) for d in dilation_rate))
    return w[index]


def padded(x, kernel_size, strides, dilation_rate, padding):
    p = pads(x.shape[1:-1], kernel_size, strides, dilation_rate, padding)
    return np.pad(x, [(0, 0)] + p + [(0, 0)]), p


def conv(x, kernel, bias, *, strides, padding, dilation_rate, data_format):
    """N-d Keras convolution (cross-correlation). x: (B, *spatial, C) or (B, C, *spatial); kernel (*k, C, F)."""
    rank = kernel.ndim - 2
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    xp, _ = padded(x, kernel.shape[:rank], strides, dilation_rate, padding)
    w = windows(xp, kernel.shape[:rank], strides, dilation_rate)
    # window axes: rank+1 is the channel, rank+2.. the kernel taps; kernel axes: taps then channel.
    y = np.tensordot(w, kernel, axes=(list(range(rank + 2, 2 * rank + 2)) + [rank + 1], list(range(rank + 1))))
    if bias is not None:
        y += bias
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def conv_vjp(x, kernel, bias, g, *, strides, padding, dilation_rate, data_format):
    """Gradients of `conv` w.r.t. x, kernel (and bias) given the output cotangent g."""
    rank = kernel.ndim - 2
    ks = kernel.shape[:rank]
    if data_format == "channels_first":
        x, g = np.moveaxis(x, 1, -1), np.moveaxis(g, 1, -1)
    xp, p = padded(x, ks, strides, dilation_rate, padding)
    w = windows(xp, ks, strides, dilation_rate)
    outer = list(range(rank + 1))  # batch and output positions
    grad_k = np.moveaxis(np.tensordot(w, g, axes=(outer, outer)), 0, rank)  # (C, *k, F) -> (*k, C, F)
    # The input gradient scatters g @ kernel[tap].T back to every tap's strided positions: a loop over the
    # prod(k) taps, each a BLAS product over the whole batch.
    gxp = np.zeros_like(xp)
    for tap in np.ndindex(*ks):
        index = (slice(None),) + tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in
                                       zip(tap, dilation_rate, strides, g.shape[1:-1])) + (slice(None),)
        gxp[index] += g @ kernel[tap].T
    grad_x = gxp[(slice(None),) + tuple(slice(lo, lo + n) for (lo, _), n in zip(p, x.shape[1:-1]))]
    grads = [grad_k] + ([g.sum(axis=tuple(outer))] if bias is not None else [])
    return (np.moveaxis(grad_x, -1, 1) if data_format == "channels_first" else grad_x), grads


def _geometry(cfg):
    return {k: cfg[k] for k in ("strides", "padding", "dilation_rate", "data_format")}


def activated(linear, linear_vjp, params):
    """(forward, vjp) registrations of a layer that is `linear(x, kernel, bias, **params(cfg))` (the bias only with
    use_bias) followed by cfg['activation']: the convolutions and the transposed convolutions."""
    def forward(cfg, weights, x):
        y = linear(x, weights[0], weights[1] if cfg["use_bias"] else None, **params(cfg))
        return activations.apply(cfg["activation"], y)

    def vjp(cfg, weights, x, g):
        bias = weights[1] if cfg["use_bias"] else None
        y = linear(x, weights[0], bias, **params(cfg))
        return linear_vjp(x, weights[0], bias, activations.vjp(cfg["activation"], y, g), **params(cfg))
    return forward, vjp


_forward, _vjp = activated(conv, conv_vjp, _geometry)


def split_shape(shape, cfg) -> tuple[tuple, int | None]:
    """(spatial sizes, channels) of an input shape in the layer's data_format."""
    shape = tuple(shape)
    return (shape[2:], shape[1]) if cfg["data_format"] == "channels_first" else (shape[1:-1], shape[-1])


def check_strides_dilation(layer: str, cfg) -> None:
    """Keras rejects strides > 1 together with dilation_rate > 1 (docs/traps.md 5)."""
    if any(s > 1 for s in cfg["strides"]) and any(d > 1 for d in cfg["dilation_rate"]):
        raise ValueError(f"{layer}: strides={cfg['strides']} with dilation_rate={cfg['dilation_rate']} is not "
                         "allowed: one of them must be 1")


def spatial_output(name: str, cfg, shape) -> tuple:
    """Output sizes of a sliding-window layer along each spatial axis (None stays None); rejects a 'valid'
    window that does not fit, naming the kernel, the dilation and the input."""
    out = []
    sizes, _ = split_shape(shape, cfg)
    for axis, (n, k, s, d) in enumerate(zip(sizes, cfg["kernel_size"], cfg["strides"], cfg["dilation_rate"])):
        if n is not None and cfg["padding"] == "valid" and (k - 1) * d + 1 > n:
            raise ValueError(f"{name}: kernel_size={cfg['kernel_size']} with dilation_rate={cfg['dilation_rate']} "
                             f"spans {(k - 1) * d + 1} but input_shape={tuple(shape)} has {n} along spatial "
                             f"axis {axis}: not allowed with padding='valid'")
        out.append(None if n is None else output_length(n, k, s, d, cfg["padding"]))
    return tuple(out)


def _make(rank: int):
    name = f"Conv{rank}D"

    def check(layer, cfg):
        if cfg["padding"] == "causal" and rank != 1:
            raise invalid(layer, "padding", "causal", "'causal' padding is only allowed for Conv1D")
        check_strides_dilation(layer, cfg)

    def output_shape(cfg, shape):
        if len(shape) != rank + 2:
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: expected rank {rank + 2} "
                             f"({cfg['data_format']})")
        sizes, channels = split_shape(shape, cfg)
        if channels is not None and channels < 1 or any(n is not None and n < 1 for n in sizes):
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: sizes must be >= 1")
        out = spatial_output(name, cfg, shape)
        return (shape[0], cfg["filters"]) + out if cfg["data_format"] == "channels_first" else (
            (shape[0],) + out + (cfg["filters"],))

    def weight_shapes(cfg, shape):
        _, channels = split_shape(shape, cfg)
        return [tuple(cfg["kernel_size"]) + (channels, cfg["filters"])] + (
            [(cfg["filters"],)] if cfg["use_bias"] else [])

    def reductions(cfg, shape):
        (sizes, channels), taps = split_shape(shape, cfg), math.prod(cfg["kernel_size"])
        out = output_shape(cfg, shape)
        positions = shape[0] * math.prod(out[2:] if cfg["data_format"] == "channels_first" else out[1:-1])
        # an input element feeds at most taps * filters products (fewer at the borders)
        return {"output": taps * channels + cfg["use_bias"], "input": taps * cfg["filters"],
                "weight0": positions, "weight1": positions}

    # Conv1D documents data_format='channels_last' as its default; Conv2D/3D document None, meaning the
    # image_data_format of keras.json, which is 'channels_last' unless the user changed it.
    return register(Layer(
        name=name, family="convolution",
        spec={"filters": (REQUIRED, positive_int), "kernel_size": (REQUIRED, int_tuple(rank)),
              "strides": (1, int_tuple(rank)), "padding": ("valid", choice("valid", "same", "causal")),
              "data_format": ("channels_last", choice("channels_last", "channels_first", none_as="channels_last")),
              "dilation_rate": (1, int_tuple(rank)), "activation": (None, activations.parse),
              "use_bias": (True, boolean), **WEIGHT_PARAMS},
        check=check, forward=_forward, vjp=_vjp, output_shape=output_shape, weight_shapes=weight_shapes,
        split_activation=lambda cfg: ({**cfg, "activation": "linear"}, cfg["activation"]),
        reductions=reductions,
    ))


for _rank in (1, 2, 3):
    _make(_rank)
