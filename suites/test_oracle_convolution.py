"""Oracle self-tests for Conv1D/2D/3D: the seed examples, the padding rules, hand-computed outputs and
equivalences between configurations. Integer-valued inputs keep every convolution exact in float64, so most
comparisons are bit for bit. No framework is imported."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oracle
from oracle.convolution import same_pads

from . import strategies

SEED = st.integers(0, 2 ** 32 - 1)


def conv_cfg(rank, filters, kernel_size, **kw):
    return {"class_name": f"Conv{rank}D", "config": {"filters": filters, "kernel_size": kernel_size, **kw}}


def ints(rng, shape):
    """Small integers as float64: products and sums of a few hundred of them are exact."""
    return rng.integers(-3, 4, shape).astype(np.float64)


def ref_pads(n, k, s, d, padding):
    """(before, after) as docs/traps.md 1-2 state them, written here independently of the oracle."""
    span = (k - 1) * d + 1
    if padding == "valid":
        return 0, 0
    if padding == "causal":
        return span - 1, 0
    total = max((-(-n // s) - 1) * s + span - n, 0)
    return total // 2, total - total // 2


def loop_conv(x, kernel, bias, strides, dilation, padding):
    """Plain-loop channels_last cross-correlation: y[b, o, f] = sum_{tap, c} x[b, o*s + tap*d - lo, c] k[tap, c, f]."""
    rank, sizes = kernel.ndim - 2, x.shape[1:-1]
    p = [ref_pads(n, k, s, d, padding) for n, k, s, d in zip(sizes, kernel.shape, strides, dilation)]
    outs = [(n + lo + hi - (k - 1) * d - 1) // s + 1
            for n, (lo, hi), k, s, d in zip(sizes, p, kernel.shape, strides, dilation)]
    batch, filters = x.shape[0], kernel.shape[-1]
    y = np.zeros((batch, *outs, filters))
    for b, o, f in itertools.product(range(batch), itertools.product(*map(range, outs)), range(filters)):
        acc = 0.0 if bias is None else float(bias[f])
        for tap in itertools.product(*map(range, kernel.shape[:rank])):
            i = tuple(oi * s + t * d - lo for oi, s, t, d, (lo, _) in zip(o, strides, tap, dilation, p))
            if all(0 <= ii < n for ii, n in zip(i, sizes)):
                acc += sum(float(x[(b, *i, c)]) * float(kernel[(*tap, c, f)]) for c in range(x.shape[-1]))
        y[(b, *o, f)] = acc
    return y


def last_to_first(a):
    """channels_last -> channels_first."""
    return np.moveaxis(a, -1, 1)


def example(case, shape=None, **overrides):
    """(config, integer input, integer weights) for a drawn case: its canonical config with `overrides`, on
    `shape` (default: the case's input shape)."""
    config = {"class_name": case.layer, "config": {**oracle.normalize(case.config)["config"], **overrides}}
    shape = tuple(case.input_shape) if shape is None else tuple(shape)
    rng = np.random.default_rng(case.seed)
    return config, ints(rng, shape), [ints(rng, s) for s in oracle.weight_shapes(config, shape)]


def test_seed_000_conv1d_example_in_keras2_terms():
    """Seed 000: Convolution1D(64, 3, border_mode='same') on (10, 32) -> (None, 10, 64); then 32 filters -> 32."""
    first = conv_cfg(1, 64, 3, padding="same")
    assert oracle.output_shape(first, (None, 10, 32)) == (None, 10, 64)
    assert oracle.weight_shapes(first, (None, 10, 32)) == [(3, 32, 64), (64,)]
    assert oracle.output_shape(conv_cfg(1, 32, 3, padding="same"), (None, 10, 64)) == (None, 10, 32)


def test_seed_002_conv2d_channels_first_example():
    """Seed 002: Conv2D(64, (3, 3), padding='same') on (3, 32, 32), channels_first -> (None, 64, 32, 32)."""
    cfg = conv_cfg(2, 64, (3, 3), padding="same", data_format="channels_first")
    assert oracle.output_shape(cfg, (None, 3, 32, 32)) == (None, 64, 32, 32)
    ws = [np.zeros(s) for s in oracle.weight_shapes(cfg, (1, 3, 32, 32))]
    assert oracle.forward(cfg, ws, np.zeros((1, 3, 32, 32))).shape == (1, 64, 32, 32)


@pytest.mark.parametrize("n, k, s, d, expected", [
    (5, 4, 1, 1, (1, 2)), (6, 3, 2, 1, (0, 1)), (5, 3, 2, 1, (1, 1)), (4, 3, 1, 2, (2, 2)),
    (7, 1, 3, 1, (0, 0)), (2, 5, 1, 1, (2, 2)), (4, 2, 2, 1, (0, 0)), (3, 2, 2, 1, (0, 1)), (1, 3, 1, 1, (1, 1))])
def test_same_padding_hand_cases(n, k, s, d, expected):
    """max((ceil(n/s)-1)*s + (k-1)*d + 1 - n, 0), the smaller half first (worked out by hand)."""
    assert same_pads(n, k, s, d) == expected == ref_pads(n, k, s, d, "same")


@given(n=st.integers(1, 30), k=st.integers(1, 6), s=st.integers(1, 6), d=st.integers(1, 4))
def test_same_padding_gives_ceil_n_over_s_windows(n, k, s, d):
    """The 'same' pads are the least that yield ceil(n/s) windows, split with the extra element last."""
    lo, hi = same_pads(n, k, s, d)
    span = (k - 1) * d + 1
    assert 0 <= hi - lo <= 1
    assert (n + lo + hi - span) // s + 1 == math.ceil(n / s)
    assert lo + hi == 0 or (n + lo + hi - 1 - span) // s + 1 < math.ceil(n / s)


def test_hand_computed_conv1d():
    """Conv1D by hand: 2 channels, 2 filters, valid; 'same' with k=3 and k=4 (extra pad on the right); dilation;
    causal. Numbers worked out on paper, then checked against the plain loops too."""
    x = np.array([[[1, 2], [3, 4], [5, 6], [7, 8]]], dtype=np.float64)
    kernel = np.array([[[1, 0], [0, 1]], [[1, 3], [2, 1]]], dtype=np.float64)  # (tap, c, f)
    bias = np.array([0.0, 10.0])
    cases = [(x, kernel, bias, {}, [[12, 25], [20, 35], [28, 45]])]
    seq = np.array([[[1], [2], [3], [4]]], dtype=np.float64)
    taps = lambda *v: np.array(v, dtype=np.float64).reshape(-1, 1, 1)  # noqa: E731
    cases += [(seq, taps(1, 10, 100), None, {"padding": "same"}, [[210], [321], [432], [43]]),
              (seq, taps(1, 10, 100, 1000), None, {"padding": "same"}, [[3210], [4321], [432], [43]]),
              (np.arange(1.0, 6.0).reshape(1, 5, 1), taps(1, 10), None, {"dilation_rate": 2}, [[31], [42], [53]]),
              (np.arange(1.0, 6.0).reshape(1, 5, 1), taps(1, 10), None, {"dilation_rate": 2, "padding": "causal"},
               [[10], [20], [31], [42], [53]])]
    for xx, k, b, kw, expected in cases:
        cfg = conv_cfg(1, k.shape[-1], k.shape[0], use_bias=b is not None, **kw)
        got = oracle.forward(cfg, [k] + ([b] if b is not None else []), xx)
        c = oracle.normalize(cfg)["config"]
        np.testing.assert_array_equal(got, [expected])
        np.testing.assert_array_equal(loop_conv(xx, k, b, c["strides"], c["dilation_rate"], c["padding"]), [expected])


def test_hand_computed_conv2d():
    """Conv2D by hand on 1..9 with a 2x2 kernel [[1, 10], [100, 1000]]: no flip (cross-correlation);
    strides 2 with 'same' pads (0, 1) on each axis."""
    x = np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    k = np.array([[1, 10], [100, 1000]], dtype=np.float64).reshape(2, 2, 1, 1)
    for kw, expected in [({}, [[5421, 6532], [8754, 9865]]),
                         ({"strides": 2, "padding": "same"}, [[5421, 603], [87, 9]])]:
        cfg = conv_cfg(2, 1, 2, use_bias=False, **kw)
        c = oracle.normalize(cfg)["config"]
        want = np.array(expected, dtype=np.float64).reshape(1, 2, 2, 1)
        np.testing.assert_array_equal(oracle.forward(cfg, [k], x), want)
        np.testing.assert_array_equal(loop_conv(x, k, None, c["strides"], c["dilation_rate"], c["padding"]), want)


@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_conv_equals_plain_loops(rank, data):
    """Any drawn config (strides, dilation, same/valid/causal, either data_format) equals the plain loops."""
    config, x, ws = example(data.draw(strategies.conv_case(rank)), activation="linear")
    y, c = oracle.forward(config, ws, x), config["config"]
    first = c["data_format"] == "channels_first"
    ref = loop_conv(np.moveaxis(x, 1, -1) if first else x, ws[0], ws[1] if c["use_bias"] else None,
                    c["strides"], c["dilation_rate"], c["padding"])
    np.testing.assert_array_equal(y, last_to_first(ref) if first else ref)


@given(k=st.integers(1, 4), d=st.integers(1, 3), s=st.integers(1, 3), n=st.integers(1, 9), data=st.data())
def test_causal_output_ignores_the_future(k, d, s, n, data):
    """Causal = d*(k-1) zeros on the left: output j (time j*s) sees x[:j*s+1] only, x[j*s] through the last tap."""
    d = 1 if s > 1 else d
    t = data.draw(st.integers(0, n - 1))
    x, channels, kernel = ints(np.random.default_rng(data.draw(SEED)), (2, n, 3)), 3, np.ones((k, 3, 2))
    cfg = conv_cfg(1, 2, k, padding="causal", strides=s, dilation_rate=d, use_bias=False)
    y = oracle.forward(cfg, [kernel], x)
    z = oracle.forward(cfg, [kernel], x + (np.arange(n) >= t)[None, :, None])  # +1 on x[t], x[t+1], ...
    assert y.shape == (2, math.ceil(n / s), 2)
    seen = [j for j in range(y.shape[1]) if j * s < t]
    np.testing.assert_array_equal(z[:, seen], y[:, seen])
    if t % s == 0:  # output t/s sees x[t] through the last tap only
        np.testing.assert_array_equal(z[:, t // s] - y[:, t // s], channels)


@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_one_hot_kernel_shifts_the_input(rank, data):
    """kernel[tap, c, c] = 1 (else 0), valid: the output is the input shifted by tap*d (then strided)."""
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    d = tuple(data.draw(st.integers(1, 2)) for _ in range(rank))
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(rank)) if d == (1,) * rank else (1,) * rank
    tap = tuple(data.draw(st.integers(0, ki - 1)) for ki in k)
    sizes = tuple(data.draw(st.integers((ki - 1) * di + 1, 8)) for ki, di in zip(k, d))
    x = np.random.default_rng(data.draw(SEED)).standard_normal((2, *sizes, 3))
    kernel = np.zeros(k + (3, 3))
    kernel[tap] = np.eye(3)
    y = oracle.forward(conv_cfg(rank, 3, k, strides=s, dilation_rate=d, use_bias=False), [kernel], x)
    index = tuple(slice(t * di, t * di + (n - (ki - 1) * di - 1) + 1, si)
                  for t, di, n, ki, si in zip(tap, d, sizes, k, s))
    np.testing.assert_array_equal(y, x[(slice(None), *index)])


@given(case=strategies.conv_case(1))
def test_conv1d_equals_conv2d_of_height_1(case):
    """Seed 000's tip: Conv1D is Conv2D on a height-1 image (kernel (1, k)); causal is Conv2D 'valid' on a
    left-padded input. Exact with integer inputs, activations included."""
    config, x, ws = example(case)
    y, c = oracle.forward(config, ws, x), config["config"]
    first = c["data_format"] == "channels_first"
    (k,), (d,) = c["kernel_size"], c["dilation_rate"]
    x2 = x[:, :, None, :] if first else x[:, None, :, :]
    if c["padding"] == "causal":  # left-pad the time axis (last for channels_first, third for channels_last)
        x2 = np.pad(x2, [(0, 0), (0, 0)] + ([(0, 0), ((k - 1) * d, 0)] if first else [((k - 1) * d, 0), (0, 0)]))
    c2 = {**c, "kernel_size": (1, k), "strides": (1,) + c["strides"], "dilation_rate": (1, d),
          "padding": "valid" if c["padding"] == "causal" else c["padding"]}
    y2 = oracle.forward({"class_name": "Conv2D", "config": c2}, [ws[0][None]] + ws[1:], x2)
    np.testing.assert_array_equal(y, y2[:, :, 0] if first else y2[:, 0])


@given(case=strategies.conv_case(1))
def test_conv1d_equals_conv2d_over_the_whole_feature_axis(case):
    """Seed 000's tip literally: Conv1D(F, k) on (T, C) equals Conv2D(F, (k, C)) on the (T, C, 1) image ('valid')."""
    c = oracle.normalize(case.config)["config"]
    span = (c["kernel_size"][0] - 1) * c["dilation_rate"][0] + 1
    shape = (case.input_shape[0], max(span, case.input_shape[1]), 3)  # 'valid' needs the window to fit
    config, x, ws = example(case, shape, data_format="channels_last", padding="valid")
    y, c = oracle.forward(config, ws, x), config["config"]
    c2 = {**c, "kernel_size": (c["kernel_size"][0], shape[-1]), "strides": c["strides"] + (1,),
          "dilation_rate": c["dilation_rate"] + (1,)}
    y2 = oracle.forward({"class_name": "Conv2D", "config": c2}, [ws[0][:, :, None]] + ws[1:], x[..., None])
    np.testing.assert_array_equal(y, y2[:, :, 0])


@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_channels_first_equals_channels_last_up_to_transposes(rank, data):
    """The same layer on the same data: channels_first output = channels_last output with channels moved to 1.

    Not for softmax: Keras 2 applies it to the output's last axis, the channels only under channels_last."""
    case = data.draw(strategies.conv_case(rank))
    shape = case.input_shape if oracle.normalize(case.config)["config"]["data_format"] == "channels_last" else (
        case.input_shape[0], *case.input_shape[2:], case.input_shape[1])
    config, x, ws = example(case, shape, data_format="channels_last")
    c = {**config["config"], "activation": config["config"]["activation"].replace("softmax", "linear")}
    y = oracle.forward({**config, "config": c}, ws, x)
    first = oracle.forward({**config, "config": {**c, "data_format": "channels_first"}}, ws, last_to_first(x))
    np.testing.assert_array_equal(first, last_to_first(y))


@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_strided_output_is_the_unit_stride_output_subsampled(rank, data):
    """'valid' (and causal) padding does not depend on strides, so strides s = stride-1 output [::s]."""
    case = data.draw(strategies.conv_case(rank))
    s = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    padding = data.draw(st.sampled_from(["valid"] + (["causal"] if rank == 1 else [])))
    kernel = oracle.normalize(case.config)["config"]["kernel_size"]
    sizes = tuple(max(n, k) for n, k in zip(data.draw(st.tuples(*[st.integers(1, 7)] * rank)), kernel))
    config, x, ws = example(case, (2, *sizes, 3), data_format="channels_last", dilation_rate=(1,) * rank,
                            padding=padding, strides=(1,) * rank)
    one = oracle.forward(config, ws, x)
    strided = oracle.forward({**config, "config": {**config["config"], "strides": s}}, ws, x)
    np.testing.assert_array_equal(strided, one[(slice(None), *(slice(None, None, si) for si in s))])


@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_output_shape_matches_forward(rank, data):
    """output_shape(config, shape) is the shape forward() returns; None batch/spatial entries stay None."""
    case = data.draw(strategies.conv_case(rank))
    x, ws, _ = strategies.arrays(case, "float64")
    expected = oracle.output_shape(case.config, case.input_shape)
    assert oracle.forward(case.config, ws, x).shape == expected
    first = oracle.normalize(case.config)["config"]["data_format"] == "channels_first"
    unknown = (None, case.input_shape[1], *[None] * rank) if first else (None, *[None] * rank, case.input_shape[-1])
    assert oracle.output_shape(case.config, unknown) == tuple(
        e if i in ((1,) if first else (rank + 1,)) else None for i, e in enumerate(expected))
