"""ConvLSTM2D (seed 003 "ConvLSTM2D"): an LSTM whose input and recurrent transforms are convolutions.

Written as one cell step over the algebra of sequence_ops.py and run by oracle/recurrent.py's engine, so masks,
go_backwards, initial states, the VJP through time (the Tape) and the tolerance (suites/bounded.py) come from the
engine. Keras 2.2.x ConvLSTM2DCell (keras/layers/convolutional_recurrent.py), whose facts are followed here:
- gates i, f, c, o in blocks of `filters` along the last kernel axis; kernel (kh, kw, in, 4f), recurrent kernel
  (kh, kw, f, 4f), bias (4f,);
- x_k = conv(x, kernel_k, strides, padding, dilation_rate) + bias_k (input_conv), h_k = conv(h, recurrent_k,
  strides 1, padding 'same', no dilation) (recurrent_conv); i = ra(x_i + h_i), f = ra(x_f + h_f),
  c = f * c_prev + i * a(x_c + h_c), o = ra(x_o + h_o), h = o * a(c); output h, states [h, c];
- the states have the input convolution's output shape (batch, rows', cols', filters) (channels_first:
  (batch, filters, rows', cols')), zeros unless initial states are given.
Choices where the seed is silent:
- return_state: not in seed 003's signature, but 2.2.x ConvLSTM2D forwards **kwargs to ConvRNN2D(return_state=...),
  which returns [output, h, c]: accepted, as the other recurrent layers (SEQUENCE_OPTIONS) do.
- unroll: ConvRNN2D(unroll=True) raises ("Unrolling isn't possible with convolutional RNNs"): rejected here.
- dropout / recurrent_dropout: 2.2.x draws four input masks and four recurrent masks (one per gate), each once per
  sequence; the step takes them as `dropout = ([4 input masks], [4 recurrent masks])`.
"""
from __future__ import annotations

import math

import numpy as np

from . import activations
from .convolution import check_strides_dilation, conv, conv_vjp, spatial_output, split_shape
from .params import REQUIRED, boolean, choice, int_tuple, invalid, positive_int
from .recurrent import Cell, select_step, dropped, gate_masks, shape_of
from .recurrent_layers import CELL_WEIGHT_PARAMS, register_sequence_layer
from .sequence_ops import PRODUCT, Bilinear
from .weight_objects import serialized_object

GATES = 4  # i, f, c, o


def conv_bilinear(x_shape: tuple, k_shape: tuple, *, strides, padding, dilation_rate, data_format) -> Bilinear:
    """The convolution x (B, *spatial, C) (or channels_first) * kernel (*k, C, F) as a Bilinear: its adjoints are
    oracle/convolution.py's input and kernel gradients; n = prod(k)*C products per output element, prod(k)*F per
    input-gradient element (at most: fewer at the borders), batch*output positions per kernel-gradient element."""
    geo = {"strides": strides, "padding": padding, "dilation_rate": dilation_rate, "data_format": data_format}
    rank = len(k_shape) - 2
    taps = math.prod(k_shape[:rank])
    zeros_x, zeros_k = np.zeros(x_shape), np.zeros(k_shape)
    out = conv(zeros_x, zeros_k, None, **geo).shape
    positions = math.prod(out[2:] if data_format == "channels_first" else out[1:-1]) * x_shape[0]
    return Bilinear(f=lambda a, k: conv(a, k, None, **geo),
                    adj_a=lambda g, k: conv_vjp(zeros_x, k, None, g, **geo)[0],
                    adj_b=lambda a, g: conv_vjp(a, zeros_k, None, g, **geo)[1][0],
                    n=taps * k_shape[-2], n_a=taps * k_shape[-1], n_b=positions)


def _block(alg, w, k: int, f: int):
    """Gate k's block [..., k*f:(k+1)*f] of a weight; its adjoint puts the cotangent back into that block."""
    full = shape_of(alg, w)

    def back(g):
        out = np.zeros(full)
        out[..., k * f:(k + 1) * f] = g
        return [out]
    return select_step(alg, lambda a: a[..., k * f:(k + 1) * f], [w], back)


def _channels(alg, a, source: int, target: int):
    """a with its channel axis moved from `source` to `target` (a pure move: its adjoint moves it back)."""
    return select_step(alg, lambda u: np.moveaxis(u, source, target), [a], lambda g: [np.moveaxis(g, target, source)])


def _geometry(cfg) -> tuple[dict, dict]:
    """(input_conv's geometry, recurrent_conv's: stride 1, 'same', no dilation), both on channels_last arrays."""
    rank = len(cfg["kernel_size"])
    given = {k: cfg[k] for k in ("strides", "padding", "dilation_rate")}
    return {**given, "data_format": "channels_last"}, {"strides": (1,) * rank, "padding": "same",
                                                        "dilation_rate": (1,) * rank, "data_format": "channels_last"}


def _step(alg, cfg, weights, x, states, dropout):
    """One ConvLSTM2D step (Keras 2.2.x ConvLSTM2DCell.call), gate by gate."""
    f, act, ract = cfg["filters"], cfg["activation"], cfg["recurrent_activation"]
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if cfg["use_bias"] else None
    h, c = states
    x_masks, h_masks = ([None] * GATES if ms is None else ms for ms in (dropout or (None, None)))
    geo_x, geo_h = _geometry(cfg)
    # channels_first: the convolutions work on channels_last views (so the bias adds along the last axis) and
    # their sums move back, so the activations see the layer's own layout as in Keras (softmax takes the last
    # axis, which is then cols); pure moves, exact in every algebra.
    first = cfg["data_format"] == "channels_first"
    if first:
        x, h = _channels(alg, x, 1, -1), _channels(alg, h, 1, -1)
        x_masks, h_masks = ([m if m is None else np.moveaxis(m, 1, -1) for m in ms] for ms in (x_masks, h_masks))
    pre = []
    for k in range(GATES):
        xk, hk = dropped(alg, x, x_masks[k]), dropped(alg, h, h_masks[k])
        wk, uk = _block(alg, kernel, k, f), _block(alg, recurrent, k, f)
        zx = alg.contract(conv_bilinear(shape_of(alg, xk), shape_of(alg, wk), **geo_x), xk, wk)
        if bias is not None:
            zx = alg.bias(zx, _block(alg, bias, k, f))
        zh = alg.contract(conv_bilinear(shape_of(alg, hk), shape_of(alg, uk), **geo_h), hk, uk)
        z = alg.add(zx, zh)
        pre.append(_channels(alg, z, -1, 1) if first else z)
    i, fg, o = alg.act(ract, pre[0]), alg.act(ract, pre[1]), alg.act(ract, pre[3])
    c_new = alg.add(alg.contract(PRODUCT, fg, c), alg.contract(PRODUCT, i, alg.act(act, pre[2])))
    h_new = alg.contract(PRODUCT, o, alg.act(act, c_new))
    return h_new, [h_new, c_new]


def _check_step_input(cfg, shape: tuple) -> tuple:
    """(spatial output sizes, channels) of a step input (batch, rows, cols, ch) (channels_first: (batch, ch, rows,
    cols)); rejects another rank, empty sizes and a 'valid' kernel that does not fit."""
    rank = len(cfg["kernel_size"])
    full = (shape[0], None) + tuple(shape[1:])
    if len(shape) != rank + 2:
        raise ValueError(f"ConvLSTM2D: input_shape={full} is not allowed: expected rank {rank + 3} (batch, time, "
                         + ("channels, rows, cols)" if cfg["data_format"] == "channels_first" else "rows, cols, channels)"))
    sizes, channels = split_shape(shape, cfg)
    if channels < 1 or any(n < 1 for n in sizes):
        raise ValueError(f"ConvLSTM2D: input_shape={full} is not allowed: sizes must be >= 1")
    return spatial_output("ConvLSTM2D", cfg, shape), channels


def _state_shapes(cfg, shape: tuple) -> list:
    out, _ = _check_step_input(cfg, shape)
    f = cfg["filters"]
    s = (shape[0], f) + out if cfg["data_format"] == "channels_first" else (shape[0],) + out + (f,)
    return [s, s]


def _weight_shapes(cfg, shape: tuple) -> list:
    _, channels = _check_step_input(cfg, shape)
    k, f = tuple(cfg["kernel_size"]), cfg["filters"]
    return [k + (channels, GATES * f), k + (f, GATES * f)] + ([(GATES * f,)] if cfg["use_bias"] else [])


def _draw(cfg, rng, x_shape, state_shapes):
    """2.2.x ConvLSTM2DCell: four masks on the step input (ones_like(inputs)) and four on the state h (one per gate,
    element-wise, in the layer's data_format), each drawn once per call; no `implementation` here."""
    return gate_masks({**cfg, "implementation": 1}, rng, x_shape, state_shapes[0], GATES)


CONV_LSTM_CELL = Cell(state_shapes=_state_shapes, weight_shapes=_weight_shapes, step=_step, draw=_draw)


def _check(layer: str, cfg) -> None:
    check_strides_dilation(layer, cfg)
    if cfg["unroll"]:
        raise invalid(layer, "unroll", True, "convolutional recurrent layers cannot be unrolled (Keras 2.2.x ConvRNN2D)")


# data_format=None means keras.json's image_data_format, 'channels_last' unless the user changed it (as Conv2D).
register_sequence_layer("ConvLSTM2D", CONV_LSTM_CELL, {
    "filters": (REQUIRED, positive_int), "kernel_size": (REQUIRED, int_tuple(2)), "strides": (1, int_tuple(2)),
    "padding": ("valid", choice("valid", "same")),
    "data_format": ("channels_last", choice("channels_last", "channels_first", none_as="channels_last")),
    "dilation_rate": (1, int_tuple(2)), "activation": ("tanh", activations.parse),
    "recurrent_activation": ("hard_sigmoid", activations.parse), "use_bias": (True, boolean),
    "unit_forget_bias": (True, boolean), "activity_regularizer": (None, serialized_object), **CELL_WEIGHT_PARAMS},
    family="convolutional_recurrent", check=_check)
