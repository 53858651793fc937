"""Recurrent layers and cells: every option of seed 003's RNN signature, masks and initial states.

`sequence_case` and `cell_case` are shared by every recurrent layer: a family module gives them the strategy
of the cell's own parameters (units, activations, use_bias ...) and the number of states the cell carries.
"""
from __future__ import annotations

from hypothesis import strategies as st

from .base import ACTIVATION, OMIT, Case, Record, config, maybe, seed

RATE = st.sampled_from([0.0, 0.25, 0.5])  # dropout rates: no effect at inference, drawn so the keys are exercised


def _options(draw, with_state: bool = True) -> dict:
    """RNN(cell, return_sequences, return_state, go_backwards, stateful, unroll), each sometimes omitted."""
    keys = ("return_sequences", "return_state", "go_backwards", "stateful", "unroll") if with_state else \
        ("return_sequences", "go_backwards", "stateful")
    return {k: maybe(draw, st.booleans()) for k in keys}


def sequence_case(draw, name: str, params: dict, units: int, states: int, *, features=None) -> Case:
    """A case of a layer running a cell over time: input (batch, timesteps, features); sometimes initial
    states ([x, *states], the Keras 2.2.x list call) and sometimes a mask (Case.mask)."""
    batch, steps = draw(st.integers(1, 3)), draw(st.integers(1, 5))
    f = features if features is not None else draw(st.integers(1, 4))
    shape = (batch, steps, f)
    given = draw(st.booleans())
    input_shape = (shape, *[(batch, units)] * states) if given else shape
    return Case(config(name, {**params, **_options(draw)}), input_shape, seed(draw), mask=draw(st.booleans()))


def cell_case(draw, name: str, params: dict, units: int, states: int) -> Case:
    """One step of a cell: [x_t (batch, features), *states (batch, units)]."""
    batch, f = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return Case(config(name, params), ((batch, f), *[(batch, units)] * states), seed(draw))


def simple_params(draw, units: int) -> dict:
    """SimpleRNN / SimpleRNNCell's own parameters (the weight parameters are drawn in weight_params.py)."""
    return {"units": units, "activation": maybe(draw, ACTIVATION), "use_bias": maybe(draw, st.booleans()),
            "dropout": maybe(draw, RATE), "recurrent_dropout": maybe(draw, RATE)}


@st.composite
def simple_rnn_case(draw) -> Case:
    units = draw(st.integers(1, 4))
    return sequence_case(draw, "SimpleRNN", simple_params(draw, units), units, 1)


@st.composite
def simple_rnn_cell_case(draw) -> Case:
    units = draw(st.integers(1, 4))
    return cell_case(draw, "SimpleRNNCell", simple_params(draw, units), units, 1)


RECORDS = (Record("SimpleRNN", simple_rnn_case()), Record("SimpleRNNCell", simple_rnn_cell_case()))


@st.composite
def invalid_simple_rnn(draw):
    """(raw config, input shape, parameter, value) of SimpleRNN (seed 003: units a positive integer, a known
    activation, boolean flags, dropout rates between 0 and 1, an input (batch, timesteps, features)); the cell
    cannot be called on one tensor, so it has no rejection to see here."""
    param, bad = draw(st.sampled_from([("units", 0), ("units", -1), ("activation", "swishy"), ("use_bias", "yes"),
                                       ("return_sequences", "yes"), ("dropout", 1.5), ("recurrent_dropout", -0.5),
                                       ("input_shape", (2, 3))]))
    if param == "input_shape":  # rank 2: no time axis
        return config("SimpleRNN", {"units": 2}), bad, param, bad
    return config("SimpleRNN", {"units": 2, param: bad}), (2, 3, 3), param, bad


INVALID = invalid_simple_rnn()
__all__ = ["RECORDS", "sequence_case", "cell_case", "OMIT"]
