"""Strategies for ConvLSTM2D: every documented parameter form (keys omitted so defaults apply, ints and tuples,
strides and dilation, both paddings and data formats), the RNN options, initial states and masks; small sizes
(time 1-3, rows/cols up to 5, channels and filters 1-3) since each step is eight convolutions."""
from __future__ import annotations

from hypothesis import strategies as st

import oracle

from .base import ACTIVATION, OMIT, Case, Record, config, int_or_tuple, layout, maybe, seed, window_sizes
from .recurrent import RATE

# The cell activation is applied to the cell state, which itself sums activations of gates: exponential there is
# exp of an exponential, which overflows to inf (and nan gradients) for ordinary inputs, in the oracle and every
# backend alike; it stays drawn for the gates (recurrent_activation).
CELL_ACTIVATION = ACTIVATION.filter(lambda a: a != "exponential")


@st.composite
def conv_lstm_case(draw) -> Case:
    padding = draw(st.sampled_from(["valid", "same", OMIT]))
    kernel = int_or_tuple(draw, 2, 1, 3)
    dilate = draw(st.booleans())
    strides = OMIT if dilate or draw(st.booleans()) else int_or_tuple(draw, 2, 1, 3)
    dilation = int_or_tuple(draw, 2, 1, 2) if dilate else OMIT
    data_format = draw(st.sampled_from(["channels_last", "channels_first", None, OMIT]))
    params = {"filters": draw(st.integers(1, 3)), "kernel_size": kernel, "strides": strides, "padding": padding,
              "data_format": data_format, "dilation_rate": dilation,
              "activation": maybe(draw, CELL_ACTIVATION), "recurrent_activation": maybe(draw, ACTIVATION),
              "use_bias": maybe(draw, st.booleans()), "unit_forget_bias": maybe(draw, st.booleans()),
              "dropout": maybe(draw, RATE), "recurrent_dropout": maybe(draw, RATE),
              # the RNN options; unroll only ever False (ConvRNN2D rejects unroll=True)
              **{k: maybe(draw, st.booleans()) for k in ("return_sequences", "return_state", "go_backwards",
                                                         "stateful")},
              "unroll": maybe(draw, st.just(False))}
    sizes = window_sizes(draw, kernel, dilation, 2, padding, 5)
    batch, steps, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
    step_shape = layout(batch, channels, sizes, data_format)
    shape = step_shape[:1] + (steps,) + step_shape[1:]
    cfg = config("ConvLSTM2D", params)
    if draw(st.booleans()):  # initial states [x, h0, c0] (the Keras 2.2.x list call)
        states = oracle.output_shape({**cfg, "config": {**cfg["config"], "return_state": True}}, shape)[1:]
        shape = (shape, *states)
    return Case(cfg, shape, seed(draw), mask=draw(st.booleans()))


RECORDS = (Record("ConvLSTM2D", conv_lstm_case()),)


@st.composite
def invalid_conv_lstm(draw):
    """(raw config, input shape, parameter named in the error, value named in the error) of ConvLSTM2D."""
    base = {"filters": 2, "kernel_size": 2}
    shape = (1, 2, 5, 5, 2)
    kind = draw(st.sampled_from(["padding", "strides_dilation", "unroll", "filters", "kernel_size",
                                 "recurrent_activation", "data_format", "too_large"]))
    if kind == "padding":  # 'causal' is Conv1D's only
        bad = draw(st.sampled_from(["causal", "full", "SAME", ""]))
        return {"class_name": "ConvLSTM2D", "config": {**base, "padding": bad}}, shape, "padding", bad
    if kind == "strides_dilation":
        s, d = draw(st.integers(2, 3)), draw(st.integers(2, 3))
        return ({"class_name": "ConvLSTM2D", "config": {**base, "strides": s, "dilation_rate": d}}, shape,
                "strides", (s, s))
    if kind == "unroll":
        return {"class_name": "ConvLSTM2D", "config": {**base, "unroll": True}}, shape, "unroll", True
    if kind == "filters":
        f = draw(st.integers(-2, 0))
        return {"class_name": "ConvLSTM2D", "config": {**base, "filters": f}}, shape, "filters", f
    if kind == "kernel_size":
        k = draw(st.integers(-2, 0))
        return {"class_name": "ConvLSTM2D", "config": {**base, "kernel_size": k}}, shape, "kernel_size", k
    if kind == "recurrent_activation":
        return ({"class_name": "ConvLSTM2D", "config": {**base, "recurrent_activation": "swishy"}}, shape,
                "recurrent_activation", "swishy")
    if kind == "data_format":
        bad = draw(st.sampled_from(["NHWC", "channels-last", "tf"]))
        return {"class_name": "ConvLSTM2D", "config": {**base, "data_format": bad}}, shape, "data_format", bad
    # 'valid' (written out, so a known-divergence entry can name it) with a kernel longer than the input (5)
    k = draw(st.integers(6, 8))
    return ({"class_name": "ConvLSTM2D", "config": {**base, "kernel_size": k, "padding": "valid"}}, shape,
            "kernel_size", (k, k))


INVALID = invalid_conv_lstm()
