"""Strategies for ActivityRegularization: l1 and l2 omitted (defaults 0.0), zero, or positive, on inputs of
rank 1 to 4 (the layer accepts any input)."""
from __future__ import annotations

from hypothesis import strategies as st

from .base import Case, Record, config, maybe, seed

FACTOR = st.one_of(st.just(0.0), st.just(0), st.floats(1e-4, 2.0), st.sampled_from([0.01, 1]))


@st.composite
def activity_regularization_case(draw) -> Case:
    params = {"l1": maybe(draw, FACTOR), "l2": maybe(draw, FACTOR)}
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
    return Case(config("ActivityRegularization", params), shape, seed(draw))


RECORDS = (Record("ActivityRegularization", activity_regularization_case()),)


@st.composite
def invalid_activity(draw):
    """A factor that is not a finite real number."""
    param = draw(st.sampled_from(["l1", "l2"]))
    bad = draw(st.sampled_from(["0.01", None, float("nan"), float("inf"), [0.01], True]))
    return {"class_name": "ActivityRegularization", "config": {param: bad}}, (2, 3), param, bad


INVALID = invalid_activity()
