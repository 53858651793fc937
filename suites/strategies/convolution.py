"""Strategies for the convolution family."""
from __future__ import annotations

from hypothesis import strategies as st

from .base import ACTIVATION, OMIT, Case, Record, config, int_or_tuple, layout, maybe, seed, window_sizes


@st.composite
def conv_case(draw, rank: int) -> Case:
    """Conv{rank}D: even and odd kernels, kernel == input size, stride > kernel, dilation with same/causal."""
    paddings = ["valid", "same"] + (["causal"] if rank == 1 else [])
    padding = draw(st.sampled_from(paddings + [OMIT]))
    kernel = int_or_tuple(draw, rank, 1, 4 if rank < 3 else 3)
    dilate = draw(st.booleans())
    strides = OMIT if dilate or draw(st.booleans()) else int_or_tuple(draw, rank, 1, 5)  # stride > kernel too
    dilation = int_or_tuple(draw, rank, 1, 3) if dilate else OMIT
    data_format = draw(st.sampled_from(["channels_last", "channels_first", OMIT] + ([None] if rank > 1 else [])))
    params = {"filters": draw(st.integers(1, 4)), "kernel_size": kernel, "strides": strides, "padding": padding,
              "data_format": data_format, "dilation_rate": dilation,
              "activation": maybe(draw, ACTIVATION), "use_bias": maybe(draw, st.booleans())}
    max_size = 7 if rank < 3 else 5
    sizes = window_sizes(draw, kernel, dilation, rank, padding, max_size)
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    shape = layout(batch, channels, sizes, data_format)
    return Case(config(f"Conv{rank}D", params), shape, seed(draw))


RECORDS = (Record("Conv1D", conv_case(1)), Record("Conv2D", conv_case(2)), Record("Conv3D", conv_case(3)))


RANKS = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3}


@st.composite
def invalid_conv(draw):
    """(raw config, input shape, parameter named in the error, value named in the error) of a Conv layer."""
    layer = draw(st.sampled_from(sorted(RANKS)))
    rank = RANKS[layer]
    base = {"filters": 2, "kernel_size": 2}
    shape = (1,) + (6,) * rank + (2,)
    kind = draw(st.sampled_from(["padding", "data_format", "causal", "strides_dilation", "filters",
                                 "kernel_size", "too_large", "activation"]))
    if kind == "causal" and rank == 1:
        kind = "padding"
    if kind == "padding":
        bad = draw(st.sampled_from(["full", "SAME", "Valid", "reflect", ""]))
        return {"class_name": layer, "config": {**base, "padding": bad}}, shape, "padding", bad
    if kind == "data_format":
        bad = draw(st.sampled_from(["NHWC", "channels-last", "th", "tf"]))
        return {"class_name": layer, "config": {**base, "data_format": bad}}, shape, "data_format", bad
    if kind == "causal":
        return {"class_name": layer, "config": {**base, "padding": "causal"}}, shape, "padding", "causal"
    if kind == "strides_dilation":
        s, d = draw(st.integers(2, 3)), draw(st.integers(2, 3))
        return ({"class_name": layer, "config": {**base, "strides": s, "dilation_rate": d}}, shape, "strides",
                (s,) * rank)
    if kind == "filters":
        f = draw(st.integers(-2, 0))
        return {"class_name": layer, "config": {**base, "filters": f}}, shape, "filters", f
    if kind == "kernel_size":
        k = draw(st.integers(-2, 0))
        return {"class_name": layer, "config": {**base, "kernel_size": k}}, shape, "kernel_size", k
    if kind == "activation":
        return {"class_name": layer, "config": {**base, "activation": "swishy"}}, shape, "activation", "swishy"
    # 'valid' (written out, so a known-divergence entry can name it) with a kernel longer than the input (6)
    k = draw(st.integers(7, 9))
    return {"class_name": layer, "config": {**base, "kernel_size": k, "padding": "valid"}}, shape, "kernel_size", \
        (k,) * rank


INVALID = invalid_conv()
