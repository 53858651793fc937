"""Gated recurrent layers: GRU, LSTM, their cells, RNN over one or stacked cells (MinimalRNNCell included),
CuDNNGRU, CuDNNLSTM. Every documented parameter is sometimes omitted (the Keras 2.2.x defaults hard_sigmoid,
reset_after=False, implementation=1, unit_forget_bias=True then apply) and otherwise drawn in each of its forms;
the weight parameters are drawn by weight_params.py from these cases."""
from __future__ import annotations

from hypothesis import strategies as st

import oracle
from oracle.gated import STACKED_CELL

from .base import ACTIVATION, Case, Record, config, maybe, seed
from .recurrent import RATE, cell_case, sequence_case, simple_params

IMPLEMENTATION = st.sampled_from([1, 2])
# Every activation name but exponential: through a gate or the cell state exp(exp(...)) compounds over the
# timesteps and overflows float32 (inf / nan on both sides, no bound to compare); Dense and SimpleRNN cover it.
GATE_ACTIVATION = ACTIVATION.filter(lambda name: name != "exponential")
UNITS = st.integers(1, 4)


def gated_params(draw, units: int, name: str) -> dict:
    """The own parameters of GRU / LSTM and their cells."""
    params = {"units": units, "activation": maybe(draw, GATE_ACTIVATION),
              "recurrent_activation": maybe(draw, GATE_ACTIVATION), "use_bias": maybe(draw, st.booleans()),
              "dropout": maybe(draw, RATE), "recurrent_dropout": maybe(draw, RATE),
              "implementation": maybe(draw, IMPLEMENTATION)}
    if name.startswith("GRU"):
        params["reset_after"] = maybe(draw, st.booleans())
    else:
        params["unit_forget_bias"] = maybe(draw, st.booleans())
    return params


def _sequence(name: str, states: int):
    @st.composite
    def case(draw) -> Case:
        units = draw(UNITS)
        return sequence_case(draw, name, gated_params(draw, units, name), units, states)
    return case()


def _cell(name: str, states: int):
    @st.composite
    def case(draw) -> Case:
        units = draw(UNITS)
        return cell_case(draw, name, gated_params(draw, units, name), units, states)
    return case()


@st.composite
def minimal_cell_case(draw) -> Case:
    units = draw(UNITS)
    return cell_case(draw, "MinimalRNNCell", {"units": units}, units, 1)


@st.composite
def nested_cell(draw) -> dict:
    """A cell config for RNN(cell=...): any of the four cell classes with its parameters."""
    name = draw(st.sampled_from(["SimpleRNNCell", "GRUCell", "LSTMCell", "MinimalRNNCell"]))
    units = draw(UNITS)
    params = {"units": units} if name == "MinimalRNNCell" else \
        simple_params(draw, units) if name == "SimpleRNNCell" else gated_params(draw, units, name)
    return config(name, params)


@st.composite
def rnn_case(draw) -> Case:
    """RNN(cell) or RNN([cells]) (one to three stacked); initial states in 2.2.x's reverse cell order."""
    cells = draw(st.lists(nested_cell(), min_size=1, max_size=3))
    cell = cells[0] if len(cells) == 1 and draw(st.booleans()) else cells
    batch, steps, f = draw(st.integers(1, 3)), draw(st.integers(1, 4)), draw(st.integers(1, 4))
    options = {k: maybe(draw, st.booleans())
               for k in ("return_sequences", "return_state", "go_backwards", "stateful", "unroll")}
    raw = config("RNN", {"cell": cell, **options})
    shape = (batch, steps, f)
    if draw(st.booleans()):
        states = STACKED_CELL.state_shapes(oracle.normalize(raw)["config"], (batch, f))
        shape = (shape, *[tuple(s) for s in states])
    return Case(raw, shape, seed(draw), mask=draw(st.booleans()))


def _cudnn(name: str, states: int):
    """CuDNNGRU / CuDNNLSTM: no activations, dropout, go_backwards, unroll or masking (seed 003 signatures)."""
    @st.composite
    def case(draw) -> Case:
        units = draw(UNITS)
        batch, steps, f = draw(st.integers(1, 3)), draw(st.integers(1, 5)), draw(st.integers(1, 4))
        params = {"units": units, **{k: maybe(draw, st.booleans())
                                     for k in ("return_sequences", "return_state", "stateful")}}
        if name == "CuDNNLSTM":
            params["unit_forget_bias"] = maybe(draw, st.booleans())
        shape = (batch, steps, f)
        given = draw(st.booleans())
        return Case(config(name, params), (shape, *[(batch, units)] * states) if given else shape, seed(draw))
    return case()


RECORDS = (Record("GRU", _sequence("GRU", 1)), Record("LSTM", _sequence("LSTM", 2)),
           Record("GRUCell", _cell("GRUCell", 1)), Record("LSTMCell", _cell("LSTMCell", 2)),
           Record("MinimalRNNCell", minimal_cell_case()), Record("RNN", rnn_case()),
           Record("CuDNNGRU", _cudnn("CuDNNGRU", 1)), Record("CuDNNLSTM", _cudnn("CuDNNLSTM", 2)))


@st.composite
def invalid_gated(draw):
    """Invalid values of the gated layers' own parameters: (raw config, input shape, parameter, value)."""
    name = draw(st.sampled_from(["GRU", "LSTM"]))  # the cells cannot be called on one tensor: no rejection to see
    param, bad = draw(st.sampled_from([("implementation", 3), ("implementation", "1"), ("implementation", True),
                                       ("recurrent_activation", "hard_swish_x"), ("units", 0),
                                       ("reset_after" if name == "GRU" else "unit_forget_bias", "yes")]))
    shape = (2, 3, 3)
    return {"class_name": name, "config": {"units": 2, param: bad}}, shape, param, bad


INVALID = invalid_gated()
