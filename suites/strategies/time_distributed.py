"""Strategies for TimeDistributed: a wrapped layer's own conformance case with a time axis inserted after the
batch axis, (batch, *rest) -> (batch, timesteps, *rest), so every parameter form of the wrapped layer is drawn
again under the wrapper; the seed's examples (Dense(8) on (10, 16), Conv2D(64, (3, 3)) scaled down)."""
from __future__ import annotations

from typing import Mapping

import numpy as np
from hypothesis import strategies as st

from .base import Case, Record, config, seed

# Wrapped layers: the seed's Dense and Conv2D, and others of one input and one output (a window, a reduction,
# a reshape, elementwise maps, an index input).
INNER = ("Dense", "Conv2D", "Conv1D", "MaxPooling2D", "AveragePooling1D", "GlobalAveragePooling1D", "Flatten",
         "Activation", "LeakyReLU", "Reshape", "Embedding")


@st.composite
def seed_example(draw) -> Case:
    """TimeDistributed(Dense(8)) on (batch, 10, 16) and TimeDistributed(Conv2D(f, (3, 3))) on (batch, t, h, w, c),
    sizes scaled down from the seed's (10, 299, 299, 3)."""
    if draw(st.booleans()):
        return Case(config("TimeDistributed", {"layer": config("Dense", {"units": 8})}), (2, 10, 16), seed(draw))
    conv = config("Conv2D", {"filters": draw(st.integers(1, 4)), "kernel_size": (3, 3)})
    shape = (draw(st.integers(1, 2)), draw(st.integers(1, 3)), draw(st.integers(3, 5)), draw(st.integers(3, 5)),
             draw(st.integers(1, 3)))
    return Case(config("TimeDistributed", {"layer": conv}), shape, seed(draw))


@st.composite
def wrapped_case(draw, catalog: Mapping[str, Record]) -> Case:
    """A drawn case of one wrapped layer, timesteps 1 to 3 inserted after its batch axis."""
    inner = draw(catalog[draw(st.sampled_from(INNER))].cases)
    shape = (inner.input_shape[0], draw(st.integers(1, 3)), *inner.input_shape[1:])
    return Case(config("TimeDistributed", {"layer": inner.config}), shape, inner.seed)


def time_distributed_inputs(catalog: Mapping[str, Record]):
    """(rng, shape, raw config) -> the wrapped layer's own input distribution (distinct values for max pooling,
    indices for Embedding) on the batch x time merged shape, split back."""
    def inputs(rng: np.random.Generator, shape: tuple, raw: dict) -> np.ndarray:
        inner = raw["config"]["layer"]
        merged = (shape[0] * shape[1],) + tuple(shape[2:])
        return catalog[inner["class_name"]].draw_input(rng, merged, inner).reshape(shape)
    return inputs


def records(catalog: Mapping[str, Record]) -> tuple[Record, ...]:
    """TimeDistributed's record: its cases wrap the cases of the INNER layers' records."""
    cases = st.one_of(seed_example(), wrapped_case(catalog), wrapped_case(catalog), wrapped_case(catalog))
    return (Record("TimeDistributed", cases, config_inputs=time_distributed_inputs(catalog)),)


@st.composite
def invalid_time_distributed(draw):
    """(raw config, input shape, parameter, value): a layer that is not a config, a merge layer (a list of
    inputs), or an input of rank < 3 (2.2.x: InputSpec(min_ndim=3))."""
    kind = draw(st.sampled_from(["not_a_config", "merge", "rank"]))
    if kind == "not_a_config":
        bad = draw(st.sampled_from(["Dense", None, 3]))
        return config("TimeDistributed", {"layer": bad}), (2, 3, 4), "layer", bad
    if kind == "merge":
        name = draw(st.sampled_from(["Add", "Concatenate"]))
        return config("TimeDistributed", {"layer": config(name, {})}), (2, 3, 4), "layer", name
    shape = draw(st.sampled_from([(2, 3), (4,)]))
    return config("TimeDistributed", {"layer": config("Dense", {"units": 2})}), shape, "input_shape", shape


INVALID = invalid_time_distributed()
