"""Oracle self-tests of ConvLSTM2D, written from seed 003's formulas and shape rules, not from the oracle's code:
one step by explicit loops over output positions, a 1x1 ConvLSTM2D on a 1x1 image as an LSTM on the channel
vector, and the documented output shapes. No framework is imported."""
from __future__ import annotations

import math

import numpy as np
import pytest

import oracle

from . import tolerance


def _hard_sigmoid(z):
    return np.clip(0.2 * z + 0.5, 0.0, 1.0)


def _softmax_last(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


ACT = {"tanh": np.tanh, "hard_sigmoid": _hard_sigmoid, "softmax": _softmax_last, "linear": lambda z: z}


def _loop_conv(x, w, stride, dilation, padding):
    """Cross-correlation of x (B, R, C, in) with w (kh, kw, in, out) by loops; 'same' keeps ceil(n / s) outputs
    with the padding split smaller half first (TF's rule)."""
    b, rows, cols, _ = x.shape
    kh, kw, _, out = w.shape
    sizes, pads = [], []
    for n, k, s, d in ((rows, kh, stride[0], dilation[0]), (cols, kw, stride[1], dilation[1])):
        span = (k - 1) * d + 1
        m = math.ceil(n / s) if padding == "same" else (n - span) // s + 1
        total = max((m - 1) * s + span - n, 0) if padding == "same" else 0
        sizes.append(m)
        pads.append(total // 2)
    y = np.zeros((b, sizes[0], sizes[1], out))
    for i in range(sizes[0]):
        for j in range(sizes[1]):
            for a in range(kh):
                for c in range(kw):
                    r, q = i * stride[0] + a * dilation[0] - pads[0], j * stride[1] + c * dilation[1] - pads[1]
                    if 0 <= r < rows and 0 <= q < cols:
                        y[:, i, j, :] += x[:, r, q, :] @ w[a, c]
    return y


def _hand_step(cfg, ws, x, h, c):
    """Seed 003 / Keras 2.2.x: i = ra(x*W_i + b_i + h*U_i), f, o likewise, c' = f c + i a(x*W_c + b_c + h*U_c),
    h' = o a(c'); the recurrent convolution is 'same' with stride 1. Arrays in channels_last here."""
    f = cfg["filters"]
    kernel, recurrent, bias = ws
    zx = _loop_conv(x, kernel, cfg["strides"], cfg["dilation_rate"], cfg["padding"]) + bias
    z = zx + _loop_conv(h, recurrent, (1, 1), (1, 1), "same")
    first = cfg["data_format"] == "channels_first"
    gate = lambda k: np.moveaxis(z[..., k * f:(k + 1) * f], -1, 1) if first else z[..., k * f:(k + 1) * f]  # noqa: E731
    ra, a = ACT[cfg["recurrent_activation"]], ACT[cfg["activation"]]
    c_layout = np.moveaxis(c, -1, 1) if first else c
    c_new = ra(gate(1)) * c_layout + ra(gate(0)) * a(gate(2))
    h_new = ra(gate(3)) * a(c_new)
    return h_new, c_new



def _within(got, want, bound) -> None:
    err = np.abs(got - want)
    assert np.all(err <= bound), f"error {err.max():.3g} beyond the float64 bound (worst ratio {np.max(err / bound):.3g})"

STEP_CONFIGS = [
    {"filters": 2, "kernel_size": (2, 3)},
    {"filters": 3, "kernel_size": 3, "padding": "same", "strides": (2, 1)},
    {"filters": 2, "kernel_size": 2, "padding": "same", "dilation_rate": 2, "data_format": "channels_first"},
    # channels_first softmax: Keras applies it along the last axis of its own layout, the columns
    {"filters": 2, "kernel_size": 2, "data_format": "channels_first", "activation": "softmax",
     "recurrent_activation": "softmax"},
    {"filters": 1, "kernel_size": 1, "strides": 2, "activation": "linear"},
]


@pytest.mark.parametrize("params", STEP_CONFIGS)
def test_one_step_matches_the_documented_formulas(params):
    rng = np.random.default_rng(3)
    config = oracle.normalize({"class_name": "ConvLSTM2D", "config": {**params, "return_state": True}})
    cfg = config["config"]
    first = cfg["data_format"] == "channels_first"
    x = rng.uniform(-1, 1, size=(2, 1, 5, 4, 3))  # (B, T, rows, cols, ch), moved below for channels_first
    state_shape = oracle.output_shape(config, np.moveaxis(x, -1, 2).shape if first else x.shape)[1]
    h0, c0 = rng.uniform(-1, 1, size=state_shape), rng.uniform(-1, 1, size=state_shape)
    xin = np.moveaxis(x, -1, 2) if first else x
    ws = [rng.uniform(-0.7, 0.7, size=s) for s in oracle.weight_shapes(config, [xin.shape, h0.shape, c0.shape])]
    y, h, c = oracle.forward(config, ws, [xin, h0, c0])
    last = (lambda a: np.moveaxis(a, 1, -1)) if first else (lambda a: a)
    want_h, want_c = _hand_step(cfg, ws, x[:, 0], last(h0), last(c0))
    # the hand-written step rounds differently from the oracle's: both within the policy's float64 bound of the layer
    bound = tolerance.forward_bound(config, ws, [xin, h0, c0], "float64")
    _within(h, want_h, bound[1])
    _within(c, want_c, bound[2])
    np.testing.assert_array_equal(y, h)


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("go_backwards", [False, True])
def test_1x1_conv_lstm_on_a_1x1_image_is_an_lstm_on_the_channels(steps, go_backwards):
    """With a 1x1 kernel and a 1x1 input every convolution is a matrix product over channels: the layer is an
    LSTM (hard-sigmoid gates, tanh) on the channel vectors, written here step by step."""
    rng = np.random.default_rng(7)
    f, ch = 3, 2
    config = {"class_name": "ConvLSTM2D", "config": {"filters": f, "kernel_size": 1, "return_sequences": True,
                                                     "go_backwards": go_backwards}}
    x = rng.uniform(-1, 1, size=(2, steps, 1, 1, ch))
    ws = [rng.uniform(-1, 1, size=s) for s in oracle.weight_shapes(config, x.shape)]
    W, U, b = ws[0][0, 0], ws[1][0, 0], ws[2]
    h, c = np.zeros((2, f)), np.zeros((2, f))
    outs = []
    for t in (reversed(range(steps)) if go_backwards else range(steps)):
        z = x[:, t, 0, 0] @ W + h @ U + b
        i, fg, g, o = (z[:, k * f:(k + 1) * f] for k in range(4))
        c = _hard_sigmoid(fg) * c + _hard_sigmoid(i) * np.tanh(g)
        h = _hard_sigmoid(o) * np.tanh(c)
        outs.append(h)
    y = oracle.forward(config, ws, x)
    _within(y[:, :, 0, 0], np.stack(outs, axis=1), tolerance.forward_bound(config, ws, x, "float64")[:, :, 0, 0])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("padding,strides,dilation,rows,cols", [
    ("valid", 1, 1, 5, 4), ("valid", (2, 3), 1, 7, 7), ("same", 2, 1, 5, 4), ("same", 1, 2, 3, 3),
    ("valid", 1, (2, 1), 5, 5)])
def test_output_shape_follows_the_seed(data_format, return_sequences, padding, strides, dilation, rows, cols):
    """Seed 003: (samples, [time,] output_row, output_col, filters) (channels_first: filters before the rows),
    o_row and o_col from the kernel (2, 3) and the padding as for Conv2D."""
    k, s, d = (2, 3), (strides,) * 2 if isinstance(strides, int) else strides, \
        (dilation,) * 2 if isinstance(dilation, int) else dilation
    out = [-(-n // st) if padding == "same" else (n - (kk - 1) * dd - 1) // st + 1
           for n, kk, st, dd in zip((rows, cols), k, s, d)]
    cfg = {"filters": 4, "kernel_size": k, "strides": strides, "padding": padding, "dilation_rate": dilation,
           "data_format": data_format, "return_sequences": return_sequences}
    shape = (2, 3, 1, rows, cols) if data_format == "channels_first" else (2, 3, rows, cols, 1)
    spatial = (4, *out) if data_format == "channels_first" else (*out, 4)
    want = (2, 3, *spatial) if return_sequences else (2, *spatial)
    assert oracle.output_shape({"class_name": "ConvLSTM2D", "config": cfg}, shape) == want
    assert oracle.weight_shapes({"class_name": "ConvLSTM2D", "config": cfg}, shape) == \
        [(2, 3, 1, 16), (2, 3, 4, 16), (16,)]


def test_rejects_what_keras_2_rejects():
    with pytest.raises(ValueError, match=r"ConvLSTM2D: unroll=True is not allowed"):
        oracle.normalize({"class_name": "ConvLSTM2D", "config": {"filters": 1, "kernel_size": 1, "unroll": True}})
    with pytest.raises(ValueError, match=r"ConvLSTM2D: strides=\(2, 2\) with dilation_rate=\(2, 2\)"):
        oracle.normalize({"class_name": "ConvLSTM2D", "config": {"filters": 1, "kernel_size": 1, "strides": 2,
                                                                 "dilation_rate": 2}})
    with pytest.raises(ValueError, match=r"ConvLSTM2D: input_shape=.* expected rank 5"):
        oracle.output_shape({"class_name": "ConvLSTM2D", "config": {"filters": 1, "kernel_size": 1}}, (1, 2, 3, 3))
