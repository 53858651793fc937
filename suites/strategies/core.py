"""Strategies for the core layers: Dense, Activation and Flatten."""
from __future__ import annotations

from hypothesis import strategies as st

from oracle import activations

from .base import ACTIVATION, OMIT, Case, Record, config, maybe, seed


@st.composite
def dense_case(draw) -> Case:
    """Dense on inputs of rank 2 to 4 (the kernel acts on the last axis)."""
    params = {"units": draw(st.integers(1, 6)), "activation": maybe(draw, ACTIVATION),
              "use_bias": maybe(draw, st.booleans())}
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
    return Case(config("Dense", params), shape, seed(draw))


@st.composite
def activation_case(draw) -> Case:
    """Activation by every Keras 2 name on inputs of rank 2 to 4."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
    return Case(config("Activation", {"activation": draw(ACTIVATION)}), shape, seed(draw))


@st.composite
def flatten_case(draw) -> Case:
    """Flatten on inputs of rank 3 to 5 in both data formats (channels_first reorders, docs/traps.md 21)."""
    data_format = draw(st.sampled_from(["channels_last", "channels_first", None, OMIT]))
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=3, max_size=5)))
    return Case(config("Flatten", {"data_format": data_format}), shape, seed(draw))


RECORDS = (Record("Dense", dense_case()), Record("Activation", activation_case()), Record("Flatten", flatten_case()))


@st.composite
def invalid_core(draw):
    """(raw config, input shape, parameter named in the error, value named in the error) of Dense/Activation."""
    layer = draw(st.sampled_from(["Dense", "Activation"]))
    if layer == "Dense":
        units = draw(st.integers(-3, 0))
        return {"class_name": "Dense", "config": {"units": units}}, (2, 3), "units", units
    name = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
        lambda s: s not in activations.NAMES))
    return {"class_name": "Activation", "config": {"activation": name}}, (2, 3), "activation", name


@st.composite
def invalid_flatten(draw):
    """Flatten with an undocumented data_format, or on an input of rank < 3 (Keras 2.2.x: min_ndim=3)."""
    if draw(st.booleans()):
        bad = draw(st.sampled_from(["NCHW", "channels-last", "th", "tf"]))
        return {"class_name": "Flatten", "config": {"data_format": bad}}, (2, 3, 4), "data_format", bad
    shape = draw(st.sampled_from([(2,), (2, 3)]))
    data_format = draw(st.sampled_from(["channels_last", "channels_first"]))
    return {"class_name": "Flatten", "config": {"data_format": data_format}}, shape, "input_shape", shape


INVALID = st.one_of(invalid_core(), invalid_flatten())
