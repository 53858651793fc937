"""Strategies for LocallyConnected1D / LocallyConnected2D ('valid' padding only)."""
from __future__ import annotations

from hypothesis import strategies as st

from .base import ACTIVATION, OMIT, Case, Record, config, expand, int_or_tuple, layout, maybe, seed

RANKS = {"LocallyConnected1D": 1, "LocallyConnected2D": 2}


@st.composite
def local_case(draw, layer: str) -> Case:
    """kernel == input size (one position), stride > kernel, both data formats, padding and implementation given
    or left to their defaults."""
    rank = RANKS[layer]
    kernel = int_or_tuple(draw, rank, 1, 3)
    strides = OMIT if draw(st.booleans()) else int_or_tuple(draw, rank, 1, 4)  # stride > kernel too
    data_format = draw(st.sampled_from(["channels_last", "channels_first", OMIT, None]))
    params = {"filters": draw(st.integers(1, 4)), "kernel_size": kernel, "strides": strides,
              "padding": draw(st.sampled_from(["valid", OMIT])), "data_format": data_format,
              "activation": maybe(draw, ACTIVATION), "use_bias": maybe(draw, st.booleans()),
              "implementation": draw(st.sampled_from([1, OMIT]))}
    max_size = 7 if rank == 1 else 5
    sizes = [draw(st.integers(k, max(k, max_size))) for k in expand(kernel, rank, 1)]
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 3))
    shape = layout(batch, channels, sizes, data_format)
    return Case(config(layer, params), shape, seed(draw))


RECORDS = tuple(Record(layer, local_case(layer)) for layer in RANKS)


@st.composite
def invalid_local(draw):
    """(raw config, input shape, parameter named in the error, value named in the error)."""
    layer = draw(st.sampled_from(sorted(RANKS)))
    rank = RANKS[layer]
    base = {"filters": 2, "kernel_size": 2}
    shape = (1,) + (5,) * rank + (2,)
    kind = draw(st.sampled_from(["same", "padding", "data_format", "filters", "kernel_size", "too_large"]))
    if kind == "same":  # documented: only 'valid' ("'same' may be supported in the future")
        return {"class_name": layer, "config": {**base, "padding": "same"}}, shape, "padding", "same"
    if kind == "padding":
        bad = draw(st.sampled_from(["full", "causal", ""]))
        return {"class_name": layer, "config": {**base, "padding": bad}}, shape, "padding", bad
    if kind == "data_format":
        bad = draw(st.sampled_from(["NHWC", "channels-first", "tf"]))
        return {"class_name": layer, "config": {**base, "data_format": bad}}, shape, "data_format", bad
    if kind in ("filters", "kernel_size"):
        v = draw(st.integers(-2, 0))
        return {"class_name": layer, "config": {**base, kind: v}}, shape, kind, v
    k = draw(st.integers(6, 7))
    return {"class_name": layer, "config": {**base, "kernel_size": k}}, shape, "kernel_size", (k,) * rank


INVALID = invalid_local()
