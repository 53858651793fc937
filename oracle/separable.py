"""Depthwise and separable convolutions: DepthwiseConv2D, SeparableConv1D, SeparableConv2D (seed 003; seed 001
where 003 is terse).

The depthwise step is written once for N-d, on the padding and window helpers of oracle/convolution.py: the
windows (B, *out, C, *k) become one (C, B*out, taps) matrix per channel and a batched matmul with the kernel
(C, taps, mult) hands the work to BLAS. Output channel c*mult + m carries input channel c, multiplier m
(docs/traps.md 7). The separable layers add a pointwise (1x..x1) convolution, then the bias (docs/traps.md 8).
"""
from __future__ import annotations

import math

import numpy as np

from . import activations
from .convolution import padded, windows, check_strides_dilation, spatial_output, split_shape
from .params import REQUIRED, boolean, choice, int_tuple, positive_int
from .registry import Layer, register
from .weight_objects import serialized_object


def _depthwise_last(x, kernel, *, strides, padding, dilation_rate):
    """channels_last depthwise step without bias: (y (B, *out, C*M), the (C, N, taps) window matrix)."""
    rank = kernel.ndim - 2
    ks, (channels, mult) = kernel.shape[:rank], kernel.shape[rank:]
    xp, _ = padded(x, ks, strides, dilation_rate, padding)
    w = windows(xp, ks, strides, dilation_rate)  # (B, *out, C, *k)
    cols = np.moveaxis(w.reshape(-1, channels, math.prod(ks)), 1, 0)  # (C, N, taps)
    y = cols @ np.moveaxis(kernel.reshape(-1, channels, mult), 1, 0)  # (C, N, M)
    return np.moveaxis(y, 0, 1).reshape(w.shape[:rank + 1] + (channels * mult,)), cols


def _depthwise_last_vjp(x, kernel, cols, gz, *, strides, padding, dilation_rate):
    """Gradients of `_depthwise_last` w.r.t. x and the kernel, given its output cotangent gz (B, *out, C*M)."""
    rank = kernel.ndim - 2
    ks, (channels, mult) = kernel.shape[:rank], kernel.shape[rank:]
    g = gz.reshape(gz.shape[:-1] + (channels, mult))  # (B, *out, C, M)
    gc = np.moveaxis(g.reshape(-1, channels, mult), 1, 0)  # (C, N, M)
    grad_k = np.moveaxis(np.swapaxes(cols, 1, 2) @ gc, 0, 1).reshape(kernel.shape)  # (taps, C, M) -> (*k, C, M)
    xp, p = padded(x, ks, strides, dilation_rate, padding)
    gxp = np.zeros_like(xp)
    for tap in np.ndindex(*ks):  # scatter each tap's contribution back to its strided input positions
        index = (slice(None),) + tuple(slice(t * d, t * d + s * (o - 1) + 1, s) for t, d, s, o in
                                       zip(tap, dilation_rate, strides, g.shape[1:rank + 1])) + (slice(None),)
        gxp[index] += np.einsum("...cm,cm->...c", g, kernel[tap])
    grad_x = gxp[(slice(None),) + tuple(slice(lo, lo + n) for (lo, _), n in zip(p, x.shape[1:-1]))]
    return grad_x, grad_k


def _to_last(a, data_format):
    return np.moveaxis(a, 1, -1) if data_format == "channels_first" else a


def _from_last(a, data_format):
    return np.moveaxis(a, -1, 1) if data_format == "channels_first" else a


def depthwise(x, kernel, bias, *, strides, padding, dilation_rate, data_format):
    """N-d depthwise convolution: kernel (*k, C, M), output channel c*M + m; bias (C*M,) or None."""
    y, _ = _depthwise_last(_to_last(x, data_format), kernel, strides=strides, padding=padding,
                           dilation_rate=dilation_rate)
    return _from_last(y if bias is None else y + bias, data_format)


def separable(x, depthwise_kernel, pointwise_kernel, bias, *, strides, padding, dilation_rate, data_format):
    """Depthwise step (strides, dilation, padding) then the pointwise (1.., C*M, F) step, then the bias."""
    z, _ = _depthwise_last(_to_last(x, data_format), depthwise_kernel, strides=strides, padding=padding,
                           dilation_rate=dilation_rate)
    y = z @ pointwise_kernel.reshape(pointwise_kernel.shape[-2:])
    return _from_last(y if bias is None else y + bias, data_format)


def _geometry(cfg):
    return {k: cfg[k] for k in ("strides", "padding", "dilation_rate")}


def _depthwise_vjp(cfg, weights, x, g):
    bias = weights[1] if cfg["use_bias"] else None
    xl = _to_last(x, cfg["data_format"])
    z, cols = _depthwise_last(xl, weights[0], **_geometry(cfg))
    gz = _to_last(activations.vjp(cfg["activation"], _from_last(z if bias is None else z + bias,
                                                                  cfg["data_format"]), g), cfg["data_format"])
    gx, gk = _depthwise_last_vjp(xl, weights[0], cols, gz, **_geometry(cfg))
    outer = tuple(range(gz.ndim - 1))
    return _from_last(gx, cfg["data_format"]), [gk] + ([gz.sum(axis=outer)] if bias is not None else [])


def _separable_vjp(cfg, weights, x, g):
    dk, pk = weights[0], weights[1]
    bias = weights[2] if cfg["use_bias"] else None
    xl = _to_last(x, cfg["data_format"])
    z, cols = _depthwise_last(xl, dk, **_geometry(cfg))
    p = pk.reshape(pk.shape[-2:])
    y = z @ p if bias is None else z @ p + bias
    gy = _to_last(activations.vjp(cfg["activation"], _from_last(y, cfg["data_format"]), g), cfg["data_format"])
    outer = list(range(gy.ndim - 1))
    grad_p = np.tensordot(z, gy, axes=(outer, outer)).reshape(pk.shape)
    gx, gk = _depthwise_last_vjp(xl, dk, cols, gy @ p.T, **_geometry(cfg))
    return _from_last(gx, cfg["data_format"]), [gk, grad_p] + ([gy.sum(axis=tuple(outer))] if bias is not None else [])




_check = check_strides_dilation


def _output_shape(name, rank, out_channels):
    """output_shape(cfg, shape) of a depthwise/separable layer whose output has out_channels(cfg, in) channels."""
    def output_shape(cfg, shape):
        if len(shape) != rank + 2:
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: expected rank {rank + 2} "
                             f"({cfg['data_format']})")
        sizes, channels = split_shape(shape, cfg)
        if channels is None or channels < 1 or any(n is not None and n < 1 for n in sizes):
            # the weight shapes depend on the channels, so they must be known (Keras raises the same)
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: channels must be known, sizes >= 1")
        out = spatial_output(name, cfg, shape)
        c = out_channels(cfg, channels)
        return (shape[0], c) + tuple(out) if cfg["data_format"] == "channels_first" else (
            (shape[0],) + tuple(out) + (c,))
    return output_shape


def _positions(output_shape, cfg, shape):
    out = output_shape(cfg, shape)
    return shape[0] * math.prod(out[2:] if cfg["data_format"] == "channels_first" else out[1:-1])


def _spec(rank, extra):
    # data_format: SeparableConv1D documents 'channels_last'; the 2D layers document None, i.e. keras.json's
    # image_data_format, 'channels_last' unless the user changed it. 'causal' is not accepted: seeds 003 and 001
    # list only "valid" and "same" for SeparableConv1D (Keras 2.2.x's backend rejects 'causal' there too;
    # tf-keras later added it, see adapters/known_divergences/tf_keras.toml).
    return {"kernel_size": (REQUIRED, int_tuple(rank)), "strides": (1, int_tuple(rank)),
            "padding": ("valid", choice("valid", "same")),
            "data_format": ("channels_last", choice("channels_last", "channels_first", none_as="channels_last")),
            "dilation_rate": (1, int_tuple(rank)), "depth_multiplier": (1, positive_int),
            "activation": (None, activations.parse), "use_bias": (True, boolean),
            "depthwise_initializer": ("glorot_uniform", serialized_object),
            "bias_initializer": ("zeros", serialized_object),
            "depthwise_regularizer": (None, serialized_object), "bias_regularizer": (None, serialized_object),
            "activity_regularizer": (None, serialized_object), "depthwise_constraint": (None, serialized_object),
            "bias_constraint": (None, serialized_object), **extra}


def _split_activation(cfg):
    return {**cfg, "activation": "linear"}, cfg["activation"]


# DepthwiseConv2D: seed 003's signature omits dilation_rate, seed 001 lists dilation_rate=(1, 1) (as Keras 2.3
# and tf-keras have it); the brief follows 001, so it is accepted with that default.
_dw_shape = _output_shape("DepthwiseConv2D", 2, lambda cfg, c: c * cfg["depth_multiplier"])


def _dw_reductions(cfg, shape):
    taps, positions = math.prod(cfg["kernel_size"]), _positions(_dw_shape, cfg, shape)
    # one channel's taps per output; an input element feeds taps * mult outputs
    return {"output": taps + cfg["use_bias"], "input": taps * cfg["depth_multiplier"],
            "weight0": positions, "weight1": positions}


register(Layer(
    name="DepthwiseConv2D", family="separable", spec=_spec(2, {}), check=_check,
    forward=lambda cfg, w, x: activations.apply(cfg["activation"], depthwise(
        x, w[0], w[1] if cfg["use_bias"] else None, **_geometry(cfg), data_format=cfg["data_format"])),
    vjp=_depthwise_vjp, output_shape=_dw_shape,
    weight_shapes=lambda cfg, shape: [tuple(cfg["kernel_size"]) + (split_shape(shape, cfg)[1], cfg["depth_multiplier"])]
    + ([(split_shape(shape, cfg)[1] * cfg["depth_multiplier"],)] if cfg["use_bias"] else []),
    split_activation=_split_activation, reductions=_dw_reductions,
))


def _make_separable(rank: int):
    name = f"SeparableConv{rank}D"
    output_shape = _output_shape(name, rank, lambda cfg, c: cfg["filters"])

    def forward(cfg, w, x):
        return activations.apply(cfg["activation"], separable(
            x, w[0], w[1], w[2] if cfg["use_bias"] else None, **_geometry(cfg), data_format=cfg["data_format"]))

    def weight_shapes(cfg, shape):
        channels, mult = split_shape(shape, cfg)[1], cfg["depth_multiplier"]
        return [tuple(cfg["kernel_size"]) + (channels, mult), (1,) * rank + (channels * mult, cfg["filters"])] + (
            [(cfg["filters"],)] if cfg["use_bias"] else [])

    def reductions(cfg, shape):
        taps, mult = math.prod(cfg["kernel_size"]), cfg["depth_multiplier"]
        channels, positions = split_shape(shape, cfg)[1], _positions(output_shape, cfg, shape)
        # Two nested sums: taps in the depthwise step, then C*M in the pointwise step; a product of the two
        # steps' roundings (1 + gamma_a)(1 + gamma_b) <= 1 + gamma_(a+b), so the lengths add.
        return {"output": taps + channels * mult + cfg["use_bias"], "input": cfg["filters"] + taps * mult,
                "weight0": positions + cfg["filters"], "weight1": positions + taps, "weight2": positions}

    return register(Layer(
        name=name, family="separable",
        spec={"filters": (REQUIRED, positive_int), **_spec(rank, {
            "pointwise_initializer": ("glorot_uniform", serialized_object),
            "pointwise_regularizer": (None, serialized_object), "pointwise_constraint": (None, serialized_object)})},
        check=_check, forward=forward, vjp=_separable_vjp, output_shape=output_shape, weight_shapes=weight_shapes,
        split_activation=_split_activation, reductions=reductions,
    ))


for _rank in (1, 2):
    _make_separable(_rank)
