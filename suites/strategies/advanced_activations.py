"""Strategies for the advanced activations: LeakyReLU, PReLU, ELU, ThresholdedReLU, Softmax, ReLU.

Parameter values come from small grids of numbers exact in float32 (0.25, 0.5 ...), plus the documented
defaults (0.3 is not exact in float32: a backend that rounds the slope to float32 shows it in float64). Exact
thresholds let the boundary test put inputs exactly on them. Inputs are uniform on [-2, 2), which hits a kink
with probability 0; gradient checks still drop the rare example within the bound of one (kink_distance).
"""
from __future__ import annotations

from hypothesis import strategies as st

from .base import OMIT, Case, Record, config, maybe, seed

SLOPES = st.sampled_from([0.0, 0.25, 0.3, 0.5, 1.0, 2.0])
THETAS = st.sampled_from([0.0, 0.25, 0.5, 1.0, 1.5])
THRESHOLDS = st.sampled_from([0.0, 0.25, 0.5, 1.0, -0.5, -1.0])
MAX_VALUES = st.sampled_from([None, 0.0, 0.5, 1.0, 1.5, 6.0])


def _shape(draw, lo=1, hi=4):
    return tuple(draw(st.lists(st.integers(1, 4), min_size=lo + 1, max_size=hi)))


def _simple(name, params):
    @st.composite
    def case(draw) -> Case:
        return Case(config(name, {k: maybe(draw, v) for k, v in params.items()}), _shape(draw), seed(draw))
    return case()


@st.composite
def relu_case(draw) -> Case:
    """Every combination of max_value (None, 0, 6: Keras's relu6 path), negative_slope and threshold (negative,
    zero, positive, above max_value), each key sometimes omitted; ints too (Keras takes 6 for 6.0)."""
    params = {"max_value": maybe(draw, MAX_VALUES | st.just(6)), "negative_slope": maybe(draw, SLOPES),
              "threshold": maybe(draw, THRESHOLDS | st.just(1))}
    return Case(config("ReLU", params), _shape(draw), seed(draw))


@st.composite
def softmax_case(draw) -> Case:
    """Any axis of a rank 2-4 input, negative or not (0 is the batch axis), or omitted (-1)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    axis = maybe(draw, st.integers(-len(shape), len(shape) - 1))
    return Case(config("Softmax", {"axis": axis}), shape, seed(draw))


@st.composite
def prelu_case(draw) -> Case:
    """shared_axes None / omitted / an int / a list of axes (a subset of 1..rank-1) on rank 2-4 inputs; the
    alpha initializer and friends, which do not change the forward maths, sometimes given by name."""
    shape = _shape(draw, 1, 4)
    axes = draw(st.lists(st.integers(1, len(shape) - 1), max_size=len(shape) - 1, unique=True))
    shared = draw(st.sampled_from([OMIT, None, axes] + ([axes[0]] if axes else [])))
    params = {"shared_axes": shared, "alpha_initializer": maybe(draw, st.sampled_from(["zeros", "ones"])),
              "alpha_regularizer": maybe(draw, st.just(None)), "alpha_constraint": maybe(draw, st.just(None))}
    return Case(config("PReLU", params), shape, seed(draw))


RECORDS = (
    Record("LeakyReLU", _simple("LeakyReLU", {"alpha": SLOPES})),
    Record("ELU", _simple("ELU", {"alpha": st.sampled_from([0.0, 0.5, 1.0, 1.5, 2])})),
    Record("ThresholdedReLU", _simple("ThresholdedReLU", {"theta": THETAS | st.just(1)})),
    Record("ReLU", relu_case()), Record("Softmax", softmax_case()), Record("PReLU", prelu_case()),
)


@st.composite
def invalid_advanced(draw):
    """(raw config, input shape, parameter and value the error names) of an advanced activation."""
    kind = draw(st.sampled_from(["leaky", "theta", "max_value", "slope", "axis_list", "axis_range", "shared"]))
    bad = -draw(st.sampled_from([0.5, 1.0, 2.0]))
    if kind == "leaky":
        return config("LeakyReLU", {"alpha": bad}), (2, 3), "alpha", bad
    if kind == "theta":
        return config("ThresholdedReLU", {"theta": bad}), (2, 3), "theta", bad
    if kind in ("max_value", "slope"):
        param = "max_value" if kind == "max_value" else "negative_slope"
        return config("ReLU", {param: bad}), (2, 3), param, bad
    if kind == "axis_list":  # seed 003: axis is one integer (tf-keras also takes a list)
        return config("Softmax", {"axis": [1, 2]}), (2, 3, 4), "axis", [1, 2]
    if kind == "axis_range":
        axis = draw(st.sampled_from([3, 4, -4]))
        return config("Softmax", {"axis": axis}), (2, 3, 4), "axis", axis
    axis = draw(st.sampled_from([3, 5]))
    return config("PReLU", {"shared_axes": [1, axis]}), (2, 3, 4), "shared_axes", (1, axis)


INVALID = invalid_advanced()
