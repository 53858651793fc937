"""Oracle self-tests for Conv2DTranspose/Conv3DTranspose: the documented output sizes, hand-computed outputs
(the Keras crop against torch's reading of docs/traps.md 9), a plain-loop reference, the adjoint of Conv, and
equivalences between configurations. Integer-valued inputs keep every sum exact in float64. No framework."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

import oracle

from . import strategies
from .test_oracle_convolution import example, ints, last_to_first

SEED = st.integers(0, 2 ** 32 - 1)


def tconv(rank, filters, kernel_size, **kw):
    return {"class_name": f"Conv{rank}DTranspose", "config": {"filters": filters, "kernel_size": kernel_size, **kw}}


def ref_length(n, k, s, d, padding, p):
    """Seed 001's formula with output_padding, Keras 2.2.x deconv_length without; written here independently."""
    span = (k - 1) * d + 1
    if p is None:
        return n * s + max(span - s, 0) if padding == "valid" else n * s
    return (n - 1) * s + span - 2 * (span // 2 if padding == "same" else 0) + p


def loop_conv_transpose(x, kernel, bias, strides, dilation, padding, output_padding):
    """Plain loops, channels_last: scatter x[o] * kernel[t] to o*s + t*d, then keep N elements from (L - N) // 2
    ('same') or 0 ('valid'), zeros past the end, bias everywhere."""
    rank, sizes = kernel.ndim - 2, x.shape[1:-1]
    ops = output_padding or (None,) * rank
    full_sizes = [(n - 1) * s + (k - 1) * d + 1 for n, k, s, d in zip(sizes, kernel.shape, strides, dilation)]
    outs = [ref_length(n, k, s, d, padding, p) for n, k, s, d, p in zip(sizes, kernel.shape, strides, dilation, ops)]
    full = np.zeros((x.shape[0], *full_sizes, kernel.shape[rank]))
    for b, o, tap in itertools.product(range(x.shape[0]), itertools.product(*map(range, sizes)),
                                       itertools.product(*map(range, kernel.shape[:rank]))):
        at = tuple(oi * s + t * d for oi, s, t, d in zip(o, strides, tap, dilation))
        full[(b, *at)] += kernel[tap] @ x[(b, *o)]  # kernel[tap]: (filters, in)
    starts = [(length - m) // 2 if padding == "same" and length > m else 0 for length, m in zip(full_sizes, outs)]
    y = np.zeros((x.shape[0], *outs, kernel.shape[rank]))
    for j in itertools.product(*map(range, outs)):
        i = tuple(lo + jj for lo, jj in zip(starts, j))
        if all(ii < length for ii, length in zip(i, full_sizes)):
            y[(slice(None), *j)] = full[(slice(None), *i)]
    return y if bias is None else y + bias


@pytest.mark.parametrize("n, k, s, d, padding, p, expected", [
    (2, 3, 2, 1, "valid", None, 5), (2, 3, 2, 1, "same", None, 4), (2, 3, 2, 1, "same", 1, 4),
    (2, 3, 2, 1, "valid", 1, 6), (2, 4, 2, 1, "same", 1, 3), (2, 4, 2, 1, "same", 0, 2),
    (2, 1, 3, 1, "valid", None, 6), (3, 2, 1, 2, "valid", None, 5), (3, 2, 1, 2, "same", None, 3),
    (3, 2, 1, 3, "same", 0, 2), (4, 5, 1, 1, "same", 0, 4)])
def test_output_length_hand_cases(n, k, s, d, padding, p, expected):
    """Output lengths worked out by hand from the seed formulas; the oracle's shape follows them on both axes."""
    assert ref_length(n, k, s, d, padding, p) == expected
    cfg = tconv(2, 1, (1, k), strides=(1, s), dilation_rate=(1, d), padding=padding,
                output_padding=None if p is None else (0, p))
    assert oracle.output_shape(cfg, (None, 1, n, 3)) == (None, 1, expected, 1)


def _row(cfg, x, taps, bias=None):
    """Conv2DTranspose on a 1 x len(x) single-channel row with kernel (1, len(taps)): the output row."""
    kernel = np.array(taps, dtype=np.float64).reshape(1, -1, 1, 1)
    ws = [kernel] + ([np.array([bias], dtype=np.float64)] if bias is not None else [])
    xx = np.array(x, dtype=np.float64).reshape(1, 1, -1, 1)
    y = oracle.forward({**cfg, "config": {**cfg["config"], "use_bias": bias is not None}}, ws, xx)
    return y[0, 0, :, 0].tolist()


@pytest.mark.parametrize("taps, kw, bias, expected", [
    # x = [1, 2], taps [1, 10, 100], stride 2: full = [1, 10, 102, 20, 200]
    ([1, 10, 100], {"strides": (1, 2)}, None, [1, 10, 102, 20, 200]),
    ([1, 10, 100], {"strides": (1, 2), "padding": "same"}, None, [1, 10, 102, 20]),
    ([1, 10, 100], {"strides": (1, 2), "padding": "same", "output_padding": (0, 1)}, None, [1, 10, 102, 20]),
    ([1, 10, 100], {"strides": (1, 2), "output_padding": (0, 1)}, None, [1, 10, 102, 20, 200, 0]),
    # taps [1, 10, 100, 1000]: full = [1, 10, 102, 1020, 200, 2000]; torch's padding=2, output_padding=1 would
    # start at 2 ([102, 1020, 200]); Keras crops L - N = 3 as (1, 2) (docs/traps.md 9)
    ([1, 10, 100, 1000], {"strides": (1, 2), "padding": "same"}, None, [10, 102, 1020, 200]),
    ([1, 10, 100, 1000], {"strides": (1, 2), "padding": "same", "output_padding": (0, 1)}, None, [10, 102, 1020]),
    ([1, 10, 100, 1000], {"strides": (1, 2), "padding": "same", "output_padding": 0}, None, [102, 1020]),
    # stride 3 > kernel 1: zeros between and after, the bias everywhere
    ([5], {"strides": (1, 3)}, 1.0, [6, 1, 1, 11, 1, 1]),
    ([5], {"strides": (1, 3), "padding": "same"}, None, [5, 0, 0, 10, 0, 0]),
])
def test_hand_computed_rows(taps, kw, bias, expected):
    """Rows worked out on paper from the scatter definition and the crop rule of oracle/conv_transpose.py."""
    assert _row(tconv(2, 1, (1, len(taps)), **kw), [1, 2], taps, bias) == expected


def test_hand_computed_dilation_and_channels():
    """Dilation 2 on [1, 2, 3] with taps [1, 10]: full [1, 2, 13, 20, 30], 'same' keeps [2, 13, 20]. Two input
    channels and two filters: kernel[t, f, c] multiplies channel c into filter f (layout (*k, out, in))."""
    cfg = tconv(2, 1, (1, 2), dilation_rate=(1, 2))
    assert _row(cfg, [1, 2, 3], [1, 10]) == [1, 2, 13, 20, 30]
    assert _row({**cfg, "config": {**cfg["config"], "padding": "same"}}, [1, 2, 3], [1, 10]) == [2, 13, 20]
    kernel = np.array([[1.0, 10.0], [100.0, 1000.0]]).reshape(1, 1, 2, 2)  # (1, 1, filters, in)
    x = np.array([3.0, 4.0]).reshape(1, 1, 1, 2)
    y = oracle.forward(tconv(2, 2, 1, use_bias=False), [kernel], x)
    assert y.ravel().tolist() == [3 + 40, 300 + 4000]
    assert oracle.weight_shapes(tconv(3, 5, (1, 2, 3)), (None, 4, 4, 4, 7)) == [(1, 2, 3, 5, 7), (5,)]


@pytest.mark.parametrize("rank", [2, 3])
@given(data=st.data())
def test_equals_plain_loops(rank, data):
    """Any drawn config (strides, dilation, output_padding, same/valid, either data_format) equals the loops."""
    config, x, ws = example(data.draw(strategies.cases(f"Conv{rank}DTranspose")), activation="linear")
    y, c = oracle.forward(config, ws, x), config["config"]
    first = c["data_format"] == "channels_first"
    ref = loop_conv_transpose(np.moveaxis(x, 1, -1) if first else x, ws[0], ws[1] if c["use_bias"] else None,
                              c["strides"], c["dilation_rate"], c["padding"], c["output_padding"])
    np.testing.assert_array_equal(y, last_to_first(ref) if first else ref)


@pytest.mark.parametrize("rank", [2, 3])
@given(data=st.data())
def test_adjoint_of_conv(rank, data):
    """<Conv(x), y> == <x, ConvTranspose(y)> with the same kernel array ((*k, C, F) is (*k, filters, in) for the
    transpose with filters=C), 'same' padding computed on x's size and output_padding chosen to give x's shape.
    Exact with integers."""
    s = tuple(data.draw(st.integers(1, 3)) for _ in range(rank))
    d = tuple(data.draw(st.integers(1, 2)) for _ in range(rank)) if s == (1,) * rank and rank == 2 else (1,) * rank
    k = tuple(data.draw(st.integers(1, 4)) for _ in range(rank))
    padding = data.draw(st.sampled_from(["valid", "same"]))
    spans = [(ki - 1) * di + 1 for ki, di in zip(k, d)]
    sizes = tuple(data.draw(st.integers(span if padding == "valid" else 1, span + 4)) for span in spans)
    conv = {"class_name": f"Conv{rank}D", "config": {"filters": 2, "kernel_size": k, "strides": s, "padding": padding,
                                                     "dilation_rate": d, "use_bias": False}}
    rng = np.random.default_rng(data.draw(SEED))
    x, kernel = ints(rng, (2, *sizes, 3)), ints(rng, (*k, 3, 2))
    y_shape = oracle.output_shape(conv, x.shape)
    y = ints(rng, y_shape)
    op = tuple(n - ref_length(m, ki, si, di, padding, 0) for n, m, ki, si, di in zip(sizes, y_shape[1:-1], k, s, d))
    if any(p >= si for p, si in zip(op, s)):  # 'same', even span, n = m*s: only output_padding None reaches n
        assume(all(n == m * si for n, m, si in zip(sizes, y_shape[1:-1], s)))  # ... on every axis
        op = None
    transpose = tconv(rank, 3, k, strides=s, padding=padding, dilation_rate=d, output_padding=op, use_bias=False)
    back = oracle.forward(transpose, [kernel], y)
    assert back.shape == x.shape
    assert np.vdot(oracle.forward(conv, [kernel], x), y) == np.vdot(x, back)


@pytest.mark.parametrize("rank", [2, 3])
@given(data=st.data())
def test_channels_first_equals_channels_last_up_to_transposes(rank, data):
    """The same layer on the same data: channels_first output = channels_last output with channels moved to 1."""
    case = data.draw(strategies.cases(f"Conv{rank}DTranspose"))
    first = oracle.normalize(case.config)["config"]["data_format"] == "channels_first"
    shape = (case.input_shape[0], *case.input_shape[2:], case.input_shape[1]) if first else case.input_shape
    config, x, ws = example(case, shape, data_format="channels_last", activation="linear")
    y = oracle.forward(config, ws, x)
    cf = oracle.forward({**config, "config": {**config["config"], "data_format": "channels_first"}}, ws,
                        last_to_first(x))
    np.testing.assert_array_equal(cf, last_to_first(y))


@given(case=strategies.cases("Conv2DTranspose"))
def test_conv3d_transpose_of_depth_one_is_conv2d_transpose(case):
    """Conv3DTranspose with a depth-1 kernel, stride 1 and output_padding 0 on a depth-1 input is
    Conv2DTranspose on the (H, W) image (dilation 1: Conv3DTranspose has none)."""
    assume(oracle.normalize(case.config)["config"]["dilation_rate"] == (1, 1))
    config, x, ws = example(case, activation="linear")
    c = config["config"]
    y = oracle.forward(config, ws, x)
    op = None if c["output_padding"] is None else (0,) + c["output_padding"]
    c3 = {**c, "kernel_size": (1,) + c["kernel_size"], "strides": (1,) + c["strides"], "dilation_rate": (1, 1, 1),
          "output_padding": op}
    first = c["data_format"] == "channels_first"
    y3 = oracle.forward({"class_name": "Conv3DTranspose", "config": c3}, [ws[0][None]] + ws[1:],
                        x[:, :, None] if first else x[:, None])
    np.testing.assert_array_equal(y3[:, :, 0] if first else y3[:, 0], y)


@pytest.mark.parametrize("rank", [2, 3])
@given(data=st.data())
def test_output_shape_matches_forward(rank, data):
    """output_shape(config, shape) is the shape forward() returns; None batch/spatial entries stay None."""
    case = data.draw(strategies.cases(f"Conv{rank}DTranspose"))
    x, ws, _ = strategies.arrays(case, "float64")
    expected = oracle.output_shape(case.config, case.input_shape)
    assert oracle.forward(case.config, ws, x).shape == expected
    first = oracle.normalize(case.config)["config"]["data_format"] == "channels_first"
    unknown = (None, case.input_shape[1], *[None] * rank) if first else (None, *[None] * rank, case.input_shape[-1])
    assert oracle.output_shape(case.config, unknown) == tuple(
        e if i == (1 if first else rank + 1) else None for i, e in enumerate(expected))


@pytest.mark.parametrize("config, input_shape, pieces", [
    (tconv(2, 2, 3, strides=2, output_padding=2), None, ["Conv2DTranspose", "output_padding=(2, 2)", "strides=(2, 2)"]),
    (tconv(3, 2, 3, output_padding=1), None, ["Conv3DTranspose", "output_padding=(1, 1, 1)", "strides=(1, 1, 1)"]),
    (tconv(2, 2, 3, strides=(2, 3), output_padding=(1, 3)), None, ["Conv2DTranspose", "output_padding=(1, 3)"]),
    (tconv(2, 2, 3, output_padding=-1), None, ["Conv2DTranspose", "output_padding=-1", "non-negative"]),
    (tconv(3, 2, 3, strides=2, output_padding=(1, 1)), None, ["Conv3DTranspose", "output_padding=(1, 1)"]),
    (tconv(3, 2, 3, dilation_rate=2), None, ["Conv3DTranspose", "dilation_rate=(2, 2, 2)", "only 1"]),
    (tconv(2, 2, 3, strides=2, dilation_rate=2), None, ["Conv2DTranspose", "strides=(2, 2)", "dilation_rate=(2, 2)"]),
    (tconv(2, 2, 3, padding="causal"), None, ["Conv2DTranspose", "padding", "'causal'"]),
    (tconv(2, 2, 2, padding="same", output_padding=0), (None, 1, 3, 2), ["Conv2DTranspose", "kernel_size=(2, 2)",
                                                                          "output length 0", "(None, 1, 3, 2)"]),
])
def test_invalid_config_names_layer_parameter_and_value(config, input_shape, pieces):
    """Invalid transposed-conv configs raise a ValueError naming layer, parameter and value."""
    with pytest.raises(ValueError) as err:
        oracle.normalize(config, input_shape)
    assert all(p in str(err.value) for p in pieces), (str(err.value), pieces)


def test_conv3d_transpose_accepts_the_default_dilation():
    """dilation_rate=1 spelled out (as Keras 3 serializes it) is accepted and changes nothing."""
    assert oracle.normalize(tconv(3, 2, 3, dilation_rate=(1, 1, 1)))["config"]["dilation_rate"] == (1, 1, 1)
