"""Locally connected layers LocallyConnected1D, LocallyConnected2D (seed 003 "局部连接层"): a convolution whose
weights are not shared, one kernel per output position. Written once for N-d.

Weight layout (docs/traps.md 10) is tf-keras `implementation=1`, the only layout of Keras 2.2.x: kernel
(out_positions, prod(k) * C, F) with each patch flattened (*k, C) for channels_last and (C, *k) for
channels_first (Keras 2.2.x reshapes the input slice as it lies); output positions in row-major order.
The bias has shape (*out, F). Under channels_first Keras 2.2.x (and tf-keras) add it with `K.bias_add`, which
*reshapes* the (*out, F) array to (F, *out) rather than transposing it; the documentation says nothing about
the bias layout, so the oracle follows Keras 2.2.x here.
"""
from __future__ import annotations

import math

import numpy as np

from . import activations
from .convolution import windows, output_length, split_shape
from .core import WEIGHT_PARAMS
from .params import REQUIRED, boolean, choice, int_tuple, invalid, positive_int
from .registry import Layer, register


def _patches(x, kernel_size, strides, data_format):
    """(B, P, prod(k)*C) patches of x in the kernel's row order, and the spatial output sizes."""
    rank = len(kernel_size)
    first = data_format == "channels_first"
    w = windows(np.moveaxis(x, 1, -1) if first else x, kernel_size, strides, (1,) * rank)  # (B, *out, C, *k)
    out = w.shape[1:rank + 1]
    if not first:
        w = np.moveaxis(w, rank + 1, -1)  # (B, *out, *k, C)
    return w.reshape(w.shape[0], math.prod(out), -1), out


def local(x, kernel, bias, *, kernel_size, strides, data_format):
    """N-d unshared-weight convolution, 'valid' padding. kernel (P, prod(k)*C, F); bias (*out, F) or None."""
    patches, out = _patches(x, kernel_size, strides, data_format)
    y = np.moveaxis(np.moveaxis(patches, 1, 0) @ kernel, 0, 1)  # (P, B, D) @ (P, D, F) -> (B, P, F)
    y = y.reshape((y.shape[0],) + out + (kernel.shape[-1],))
    if data_format == "channels_first":
        y = np.moveaxis(y, -1, 1)
        return y if bias is None else y + bias.reshape((kernel.shape[-1],) + out)  # K.bias_add: a reshape
    return y if bias is None else y + bias


def local_vjp(x, kernel, bias, g, *, kernel_size, strides, data_format):
    """Gradients of `local` w.r.t. x, kernel (and bias) given the output cotangent g."""
    rank, first = len(kernel_size), data_format == "channels_first"
    patches, out = _patches(x, kernel_size, strides, data_format)
    gl = np.moveaxis(g, 1, -1) if first else g
    gp = np.moveaxis(gl.reshape(gl.shape[0], -1, gl.shape[-1]), 1, 0)  # (P, B, F)
    grad_k = np.swapaxes(np.moveaxis(patches, 1, 0), 1, 2) @ gp  # (P, D, B) @ (P, B, F)
    grad_patches = np.moveaxis(gp @ np.swapaxes(kernel, 1, 2), 0, 1)  # (B, P, D)
    xl = np.moveaxis(x, 1, -1) if first else x
    channels = xl.shape[-1]
    if first:  # patch rows (C, *k) -> (B, *out, C, *k)
        gw = grad_patches.reshape((x.shape[0],) + out + (channels,) + tuple(kernel_size))
    else:  # patch rows (*k, C) -> (B, *out, C, *k)
        gw = np.moveaxis(grad_patches.reshape((x.shape[0],) + out + tuple(kernel_size) + (channels,)), -1, rank + 1)
    gx = np.zeros_like(xl)
    for tap in np.ndindex(*kernel_size):  # scatter each tap back to its strided input positions
        index = (slice(None),) + tuple(slice(t, t + s * (o - 1) + 1, s) for t, s, o in zip(tap, strides, out))
        gx[index] += gw[(Ellipsis,) + tap]
    grads = [grad_k]
    if bias is not None:
        grads.append(g.sum(axis=0).reshape(bias.shape))  # the reshape's adjoint is the reshape back
    return (np.moveaxis(gx, -1, 1) if first else gx), grads




def _args(cfg):
    return {k: cfg[k] for k in ("kernel_size", "strides", "data_format")}


def _implementation(layer, param, value):
    """tf-keras's `implementation` (not in the seed, nor in Keras 2.2.0): accepted so that a tf-keras config feeds
    the suite directly, but only 1, the weight layout the documentation's Keras has; 2 and 3 store other
    kernels (a masked dense matrix, a sparse one)."""
    if value != 1 or isinstance(value, bool):
        raise invalid(layer, param, value, "only implementation=1 (the Keras 2.2.x weight layout) is supported")
    return 1


def _make(rank: int):
    name = f"LocallyConnected{rank}D"

    def check(layer, cfg):
        if cfg["padding"] != "valid":
            raise invalid(layer, "padding", cfg["padding"],
                          "only 'valid' is supported (the documentation: 'same' may be supported in the future)")

    def output_shape(cfg, shape):
        if len(shape) != rank + 2:
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: expected rank {rank + 2} "
                             f"({cfg['data_format']})")
        sizes, channels = split_shape(shape, cfg)
        # the kernel has one block per output position, so every spatial size and the channels must be known
        if channels is None or channels < 1 or any(n is None or n < 1 for n in sizes):
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: spatial sizes and channels must "
                             "be known and >= 1")
        for axis, (n, k) in enumerate(zip(sizes, cfg["kernel_size"])):
            if k > n:
                raise ValueError(f"{name}: kernel_size={cfg['kernel_size']} spans {k} but input_shape={tuple(shape)} "
                                 f"has {n} along spatial axis {axis}: not allowed with padding='valid'")
        out = tuple(output_length(n, k, s, 1, "valid") for n, k, s in zip(sizes, cfg["kernel_size"], cfg["strides"]))
        return (shape[0], cfg["filters"]) + out if cfg["data_format"] == "channels_first" else (
            (shape[0],) + out + (cfg["filters"],))

    def out_sizes(cfg, shape):
        o = output_shape(cfg, shape)
        return o[2:] if cfg["data_format"] == "channels_first" else o[1:-1]

    def weight_shapes(cfg, shape):
        out, channels = out_sizes(cfg, shape), split_shape(shape, cfg)[1]
        return [(math.prod(out), math.prod(cfg["kernel_size"]) * channels, cfg["filters"])] + (
            [out + (cfg["filters"],)] if cfg["use_bias"] else [])

    def forward(cfg, w, x):
        return activations.apply(cfg["activation"], local(x, w[0], w[1] if cfg["use_bias"] else None, **_args(cfg)))

    def vjp(cfg, w, x, g):
        bias = w[1] if cfg["use_bias"] else None
        gy = activations.vjp(cfg["activation"], local(x, w[0], bias, **_args(cfg)), g)
        return local_vjp(x, w[0], bias, gy, **_args(cfg))

    def reductions(cfg, shape):
        taps, channels = math.prod(cfg["kernel_size"]), split_shape(shape, cfg)[1]
        # weights are per position, so their gradients sum over the batch only
        return {"output": taps * channels + cfg["use_bias"], "input": taps * cfg["filters"],
                "weight0": shape[0], "weight1": shape[0]}

    # data_format: the seed's signatures list data_format=None ('channels_last' unless keras.json says otherwise);
    # LocallyConnected1D documents only the (batch, steps, input_dim) input, and Keras 2.2.0-2.2.4 ignored the
    # parameter there. The oracle honours it for 1D as for 2D (Keras 2.2.5 and tf-keras do): a documented
    # parameter is not silently dropped, and channels_last, the default, is unchanged.
    return register(Layer(
        name=name, family="locally_connected",
        spec={"filters": (REQUIRED, positive_int), "kernel_size": (REQUIRED, int_tuple(rank)),
              "strides": (1, int_tuple(rank)), "padding": ("valid", choice("valid", "same")),
              "data_format": ("channels_last", choice("channels_last", "channels_first", none_as="channels_last")),
              "activation": (None, activations.parse), "use_bias": (True, boolean), **WEIGHT_PARAMS,
              "implementation": (1, _implementation)},
        check=check, forward=forward, vjp=vjp, output_shape=output_shape, weight_shapes=weight_shapes,
        split_activation=lambda cfg: ({**cfg, "activation": "linear"}, cfg["activation"]), reductions=reductions,
    ))


for _rank in (1, 2):
    _make(_rank)
