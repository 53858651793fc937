"""Strategies for the depthwise and separable convolutions: DepthwiseConv2D, SeparableConv1D, SeparableConv2D."""
from __future__ import annotations

from hypothesis import strategies as st

from .base import ACTIVATION, OMIT, Case, Record, config, int_or_tuple, layout, maybe, seed, window_sizes

RANKS = {"DepthwiseConv2D": 2, "SeparableConv1D": 1, "SeparableConv2D": 2}


@st.composite
def separable_case(draw, layer: str) -> Case:
    """Even and odd kernels, kernel == input size, stride > kernel, dilation with 'same', depth_multiplier > 1."""
    rank = RANKS[layer]
    padding = draw(st.sampled_from(["valid", "same", OMIT]))
    kernel = int_or_tuple(draw, rank, 1, 4 if rank == 1 else 3)
    dilate = draw(st.booleans())
    strides = OMIT if dilate or draw(st.booleans()) else int_or_tuple(draw, rank, 1, 4)
    dilation = int_or_tuple(draw, rank, 1, 3) if dilate else OMIT
    data_format = draw(st.sampled_from(["channels_last", "channels_first", OMIT] + ([None] if rank > 1 else [])))
    params = {"kernel_size": kernel, "strides": strides, "padding": padding, "data_format": data_format,
              "dilation_rate": dilation, "depth_multiplier": maybe(draw, st.integers(1, 3)),
              "activation": maybe(draw, ACTIVATION), "use_bias": maybe(draw, st.booleans())}
    if layer != "DepthwiseConv2D":
        params = {"filters": draw(st.integers(1, 4)), **params}
    max_size = 7 if rank == 1 else 5
    sizes = window_sizes(draw, kernel, dilation, rank, padding, max_size)
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = layout(batch, channels, sizes, data_format)
    return Case(config(layer, params), shape, seed(draw))


RECORDS = tuple(Record(layer, separable_case(layer)) for layer in RANKS)


@st.composite
def invalid_separable(draw):
    """(raw config, input shape, parameter named in the error, value named in the error)."""
    layer = draw(st.sampled_from(sorted(RANKS)))
    rank = RANKS[layer]
    base = {"kernel_size": 2, **({} if layer == "DepthwiseConv2D" else {"filters": 2})}
    shape = (1,) + (6,) * rank + (2,)
    kind = draw(st.sampled_from(["padding", "causal", "data_format", "strides_dilation", "depth_multiplier",
                                 "kernel_size", "too_large"] + ([] if layer == "DepthwiseConv2D" else ["filters"])))
    if kind == "padding":
        bad = draw(st.sampled_from(["full", "reflect", ""]))
        return {"class_name": layer, "config": {**base, "padding": bad}}, shape, "padding", bad
    if kind == "causal":  # seeds 003/001: "valid" or "same" only, SeparableConv1D included
        return {"class_name": layer, "config": {**base, "padding": "causal"}}, shape, "padding", "causal"
    if kind == "data_format":
        bad = draw(st.sampled_from(["NHWC", "channels-last", "th"]))
        return {"class_name": layer, "config": {**base, "data_format": bad}}, shape, "data_format", bad
    if kind == "strides_dilation":
        s, d = draw(st.integers(2, 3)), draw(st.integers(2, 3))
        return ({"class_name": layer, "config": {**base, "strides": s, "dilation_rate": d}}, shape, "strides",
                (s,) * rank)
    if kind in ("depth_multiplier", "filters", "kernel_size"):
        v = draw(st.integers(-2, 0))
        return {"class_name": layer, "config": {**base, kind: v}}, shape, kind, v
    k = draw(st.integers(8, 9))  # a window longer than the input by 2 or more ('valid')
    return {"class_name": layer, "config": {**base, "kernel_size": k}}, shape, "kernel_size", (k,) * rank


INVALID = invalid_separable()
