"""Transposed convolution layers Conv2DTranspose, Conv3DTranspose (seed 003; 001 for the output-size formula).

One N-d implementation. The transposed convolution is the adjoint (input gradient) of a convolution:

    full[b, o*s + t*d, f] += sum_c x[b, o, c] * kernel[t, f, c]     (o: input position, t: kernel tap)

has length L = (n-1)*s + (k-1)*d + 1 per axis. It is computed as the convolution of the textbook construction
(Dumoulin & Visin, "A guide to convolution arithmetic", seed 004's reference): s-1 zeros between the input
elements, (k-1)*d zeros on both sides, the kernel flipped in space with its channel axes swapped.

The layer's output of length N (Keras 2.2.x `deconv_length`, below) is a window of `full`:

    y[j] = full[lo + j]   (0 where lo + j >= L),   lo = 0 for 'valid',  lo = max(L - N, 0) // 2 for 'same':

a 'same' layer crops L - N elements, the smaller half first (docs/traps.md 1). This is TF's conv2d_transpose, the
gradient of a convolution over an input of length N whose 'same' padding is computed on N: that padding totals
(ceil(N/s) - 1)*s + span - N = L - N whenever ceil(N/s) = n. The one documented size where ceil(N/s) = n - 1
('same', an even span, output_padding 0) makes TF raise (tf_keras known divergence
`tf-keras-transpose-same-even-span`); there the rule still crops L - N = 2 * (span // 2) symmetrically, as the
seed's "- 2 * padding" says. With output_padding None 'same' crops max(span - s, 0) and
'valid' nothing; an explicit output_padding p moves the end by p, so for 'same' the crop is not the symmetric
span//2 on both sides that torch reads into "- 2 * padding": k=3, s=2, p=1 crops (0, 1), not (1, 0).
Where N > L (strides larger than the kernel, 'valid') the tail is zeros, plus the bias. The rule was settled
against tf_keras (every 2D combination of k <= 4, s <= 3, d <= 3, p, n <= 3 agreed to the last bit).
"""
from __future__ import annotations

import math

import numpy as np

from . import activations
from .convolution import windows, activated, check_strides_dilation, conv, split_shape
from .core import WEIGHT_PARAMS
from .params import REQUIRED, boolean, choice, int_tuple, invalid, positive_int
from .registry import Layer, register


def output_length(n: int, k: int, s: int, d: int, padding: str, output_padding: int | None) -> int:
    """Keras 2.2.x conv_utils.deconv_length (seed 001 gives the output_padding branch)."""
    span = (k - 1) * d + 1
    if output_padding is None:
        return n * s + max(span - s, 0) if padding == "valid" else n * s
    pad = span // 2 if padding == "same" else 0
    return (n - 1) * s + span - 2 * pad + output_padding


def crop_start(full: int, n_out: int, padding: str) -> int:
    """Index of `full` (length L) where the output (length N) starts (see the module docstring)."""
    return max(full - n_out, 0) // 2 if padding == "same" else 0


def _window(full: np.ndarray, starts, sizes) -> np.ndarray:
    """full[:, lo:lo+N, ...] along every spatial axis, zero-extended where lo + N runs past the end."""
    need = [max(lo + n - length, 0) for lo, n, length in zip(starts, sizes, full.shape[1:-1])]
    full = np.pad(full, [(0, 0)] + [(0, e) for e in need] + [(0, 0)])
    return full[(slice(None),) + tuple(slice(lo, lo + n) for lo, n in zip(starts, sizes))]


def _unwindow(g: np.ndarray, starts, full_sizes) -> np.ndarray:
    """The adjoint of `_window`: g placed at lo.. in zeros of the full size (what runs past the end dropped)."""
    out = np.zeros((g.shape[0], *full_sizes, g.shape[-1]))
    keep = [min(n, length - lo) for lo, n, length in zip(starts, g.shape[1:-1], full_sizes)]
    out[(slice(None),) + tuple(slice(lo, lo + m) for lo, m in zip(starts, keep))] = \
        g[(slice(None),) + tuple(slice(0, m) for m in keep)]
    return out


def _geometry(x_sizes, kernel_size, strides, padding, output_padding, dilation_rate):
    """(output sizes N, window starts lo, full sizes L) per spatial axis."""
    ops = output_padding or (None,) * len(kernel_size)
    out = [output_length(n, k, s, d, padding, p)
           for n, k, s, d, p in zip(x_sizes, kernel_size, strides, dilation_rate, ops)]
    full = [(n - 1) * s + (k - 1) * d + 1 for n, k, s, d in zip(x_sizes, kernel_size, strides, dilation_rate)]
    starts = [crop_start(length, m, padding) for length, m in zip(full, out)]
    return out, starts, full


def conv_transpose(x, kernel, bias, *, strides, padding, output_padding, dilation_rate, data_format):
    """N-d Keras transposed convolution. x: (B, *spatial, C) or (B, C, *spatial); kernel (*k, F, C)."""
    rank = kernel.ndim - 2
    if data_format == "channels_first":
        x = np.moveaxis(x, 1, -1)
    ks, sizes = kernel.shape[:rank], x.shape[1:-1]
    out, starts, _ = _geometry(sizes, ks, strides, padding, output_padding, dilation_rate)
    # zero insertion (stride) and span-1 zeros each side, then a stride-1 'valid' conv with the flipped kernel
    spread = np.zeros((x.shape[0], *[(n - 1) * s + 1 for n, s in zip(sizes, strides)], x.shape[-1]))
    spread[(slice(None),) + tuple(slice(None, None, s) for s in strides)] = x
    edge = [(k - 1) * d for k, d in zip(ks, dilation_rate)]
    spread = np.pad(spread, [(0, 0)] + [(e, e) for e in edge] + [(0, 0)])
    flipped = np.swapaxes(kernel[(slice(None, None, -1),) * rank], rank, rank + 1)  # (*k, C, F)
    full = conv(spread, flipped, None, strides=(1,) * rank, padding="valid", dilation_rate=dilation_rate,
                data_format="channels_last")
    y = _window(full, starts, out)
    if bias is not None:
        y = y + bias
    return np.moveaxis(y, -1, 1) if data_format == "channels_first" else y


def conv_transpose_vjp(x, kernel, bias, g, *, strides, padding, output_padding, dilation_rate, data_format):
    """Gradients of `conv_transpose` w.r.t. x, kernel (and bias) given the output cotangent g.

    With g_full the cotangent placed back into the full length, the input gradient is the plain convolution
    of g_full with the same kernel (the adjoint of the adjoint), and the kernel gradient correlates the windows
    of g_full with x: grad_k[t, f, c] = sum_{b,o} g_full[b, o*s + t*d, f] * x[b, o, c]."""
    rank = kernel.ndim - 2
    if data_format == "channels_first":
        x, g = np.moveaxis(x, 1, -1), np.moveaxis(g, 1, -1)
    ks = kernel.shape[:rank]
    _, starts, full = _geometry(x.shape[1:-1], ks, strides, padding, output_padding, dilation_rate)
    g_full = _unwindow(g, starts, full)
    grad_x = conv(g_full, kernel, None, strides=strides, padding="valid", dilation_rate=dilation_rate,
                  data_format="channels_last")
    outer = list(range(rank + 1))  # batch and input positions
    w = windows(g_full, ks, strides, dilation_rate)  # (B, *n, F, *k)
    grad_k = np.moveaxis(np.tensordot(w, x, axes=(outer, outer)), 0, rank)  # (F, *k, C) -> (*k, F, C)
    grads = [grad_k] + ([g.sum(axis=tuple(outer))] if bias is not None else [])
    return (np.moveaxis(grad_x, -1, 1) if data_format == "channels_first" else grad_x), grads


def _output_padding(rank: int):
    """None (the output size is inferred) or an int / tuple of `rank` non-negative ints."""
    def parse(layer: str, param: str, value):
        if value is None:
            return None
        items = [value] * rank if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(items, (list, tuple)) or len(items) != rank or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in items):
            raise invalid(layer, param, value, f"expected None, a non-negative integer or a tuple of {rank} "
                                               "non-negative integers")
        return tuple(int(v) for v in items)
    return parse


def _params(cfg):
    return {k: cfg[k] for k in ("strides", "padding", "output_padding", "dilation_rate", "data_format")}


_forward, _vjp = activated(conv_transpose, conv_transpose_vjp, _params)


def _make(rank: int):
    name = f"Conv{rank}DTranspose"

    def check(layer, cfg):
        if rank == 3 and any(d != 1 for d in cfg["dilation_rate"]):
            # Seed 003's Conv3DTranspose signature has no dilation_rate (its argument text is a copy of
            # Conv2DTranspose's); Keras 2.2.x passes the keyword on to Conv3D but never applies it and drops it
            # from get_config. Accepting only 1 keeps configs that spell out the default working.
            raise invalid(layer, "dilation_rate", cfg["dilation_rate"], "Conv3DTranspose has no dilation "
                          "(not in its documented signature; Keras 2.2.x ignores it): only 1 is accepted")
        check_strides_dilation(layer, cfg)
        if cfg["output_padding"] is not None and any(p >= s for p, s in zip(cfg["output_padding"], cfg["strides"])):
            raise invalid(layer, "output_padding", cfg["output_padding"],
                          f"each entry must be less than the stride along its axis, strides={cfg['strides']}")

    def output_shape(cfg, shape):
        if len(shape) != rank + 2:
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: expected rank {rank + 2} "
                             f"({cfg['data_format']})")
        sizes, channels = split_shape(shape, cfg)
        if channels is not None and channels < 1 or any(n is not None and n < 1 for n in sizes):
            raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: sizes must be >= 1")
        ops = cfg["output_padding"] or (None,) * rank
        out = []
        for axis, (n, k, s, d, p) in enumerate(zip(sizes, cfg["kernel_size"], cfg["strides"],
                                                   cfg["dilation_rate"], ops)):
            length = None if n is None else output_length(n, k, s, d, cfg["padding"], p)
            if length is not None and length < 1:  # 'same', an even kernel span, output_padding 0, one input
                raise ValueError(f"{name}: kernel_size={cfg['kernel_size']} with padding='same' and output_padding="
                                 f"{cfg['output_padding']} gives output length {length} along spatial axis {axis} "
                                 f"for input_shape={tuple(shape)}: not allowed")
            out.append(length)
        out = tuple(out)
        return (shape[0], cfg["filters"]) + out if cfg["data_format"] == "channels_first" else (
            (shape[0],) + out + (cfg["filters"],))

    def weight_shapes(cfg, shape):
        _, channels = split_shape(shape, cfg)  # the kernel is (*k, filters, in) (docs/traps.md 9)
        return [tuple(cfg["kernel_size"]) + (cfg["filters"], channels)] + (
            [(cfg["filters"],)] if cfg["use_bias"] else [])

    def reductions(cfg, shape):
        sizes, channels = split_shape(shape, cfg)
        out = output_shape(cfg, shape)
        # along an axis at most ceil(k/s) taps land on one output element (all k when s = 1, dilated or not)
        hits = math.prod(-(-k // s) for k, s in zip(cfg["kernel_size"], cfg["strides"]))
        positions = shape[0] * math.prod(sizes)
        return {"output": hits * channels + cfg["use_bias"], "input": math.prod(cfg["kernel_size"]) * cfg["filters"],
                "weight0": positions,
                "weight1": shape[0] * math.prod(out[2:] if cfg["data_format"] == "channels_first" else out[1:-1])}

    # Both document data_format=None: the image_data_format of keras.json, 'channels_last' unless changed.
    return register(Layer(
        name=name, family="convolution",
        spec={"filters": (REQUIRED, positive_int), "kernel_size": (REQUIRED, int_tuple(rank)),
              "strides": (1, int_tuple(rank)), "padding": ("valid", choice("valid", "same")),
              "output_padding": (None, _output_padding(rank)),
              "data_format": ("channels_last", choice("channels_last", "channels_first", none_as="channels_last")),
              "dilation_rate": (1, int_tuple(rank)), "activation": (None, activations.parse),
              "use_bias": (True, boolean), **WEIGHT_PARAMS},
        check=check, forward=_forward, vjp=_vjp, output_shape=output_shape, weight_shapes=weight_shapes,
        split_activation=lambda cfg: ({**cfg, "activation": "linear"}, cfg["activation"]),
        reductions=reductions,
    ))


for _rank in (2, 3):
    _make(_rank)
