"""Training-mode cases of the recurrent layers (the 'dropout' check, suites/recurrent_dropout.py).

The check builds probe weights from the config, so these cases only draw what the probes allow: units equal to
the features (identity blocks), linear or tanh activation (f(0) = 0: a dropped unit reads 0), a linear or
saturating recurrent_activation, return_sequences, ConvLSTM2D with 1x1 kernels and filters = channels. Every
rate form (0 and 1 leave the input undropped in Keras 2.2.x), both implementations, reset_after, both data
formats. Batches are large enough for the binomial tests to have power (a few hundred mask units)."""
from __future__ import annotations

from hypothesis import strategies as st

from .base import OMIT, Case, Record, config, maybe, seed

RATES = st.sampled_from([0.1, 0.3, 0.5, 0.8, 0.0, 1.0, 0])
ACT = st.sampled_from(["linear", "tanh"])
RECURRENT_ACT = st.sampled_from(["linear", "hard_sigmoid", "sigmoid"])
LAYERS = ("SimpleRNN", "GRU", "LSTM", "SimpleRNNCell", "GRUCell", "LSTMCell", "RNN", "ConvLSTM2D", "Bidirectional")


def _cell_params(draw, kind: str, units: int) -> dict:
    """The parameters of a SimpleRNN / GRU / LSTM cell that the probes allow; optional keys sometimes omitted."""
    params = {"units": units, "activation": draw(ACT), "dropout": draw(RATES), "recurrent_dropout": draw(RATES)}
    if kind == "SimpleRNN":
        params["use_bias"] = maybe(draw, st.booleans())
        return {k: v for k, v in params.items() if v is not OMIT}
    # gated probes need the gate biases (an open reset / input / output gate)
    params.update(recurrent_activation=draw(RECURRENT_ACT), use_bias=maybe(draw, st.just(True)),
                  implementation=maybe(draw, st.sampled_from([1, 2])))
    if kind == "GRU":
        params["reset_after"] = maybe(draw, st.booleans())
    return {k: v for k, v in params.items() if v is not OMIT}


@st.composite
def probe_case(draw, layer: str) -> Case:
    batch, steps, units = draw(st.integers(24, 48)), draw(st.integers(2, 4)), draw(st.integers(2, 4))
    if layer.endswith("Cell"):
        kind = layer[:-4]
        states = 2 if kind == "LSTM" else 1
        return Case(config(layer, _cell_params(draw, kind, units)), ((batch, units),) * (1 + states), seed(draw))
    shape = (batch, steps, units)
    if layer in ("SimpleRNN", "GRU", "LSTM"):
        params = {**_cell_params(draw, layer, units), "return_sequences": True}
    elif layer == "RNN":
        kind = draw(st.sampled_from(["SimpleRNN", "GRU", "LSTM"]))
        cell = {"class_name": kind + "Cell", "config": _cell_params(draw, kind, units)}
        # a one-cell list only for one-state cells: a stacked LSTMCell's flat initial state [h, c] is a known
        # initial-state divergence of tf-keras and Keras 3 (stacked_cells_initial_state), not a dropout matter
        params = {"cell": draw(st.sampled_from([cell] if kind == "LSTM" else [cell, [cell]])),
                  "return_sequences": True}
    elif layer == "Bidirectional":
        kind = draw(st.sampled_from(["SimpleRNN", "GRU", "LSTM"]))
        inner = {"class_name": kind, "config": {**_cell_params(draw, kind, units), "return_sequences": True}}
        params = {"layer": inner, "merge_mode": None}
    else:  # ConvLSTM2D
        rows, cols, first = draw(st.integers(1, 3)), draw(st.integers(1, 3)), draw(st.booleans())
        batch = draw(st.integers(8, 16))
        shape = (batch, steps, units, rows, cols) if first else (batch, steps, rows, cols, units)
        params = {"filters": units, "kernel_size": (1, 1), "padding": maybe(draw, st.sampled_from(["valid", "same"])),
                  "data_format": "channels_first" if first else maybe(draw, st.just("channels_last")),
                  "activation": draw(ACT), "recurrent_activation": draw(RECURRENT_ACT),
                  "use_bias": maybe(draw, st.just(True)), "dropout": draw(RATES),
                  "recurrent_dropout": draw(RATES), "return_sequences": True}
    return Case(config(layer, {k: v for k, v in params.items() if v is not OMIT}), shape, seed(draw))


# training cases only: the inference-mode cases live in recurrent.py, gated.py, conv_recurrent.py, wrappers.py
RECORDS = tuple(Record(name, training=probe_case(name)) for name in LAYERS)
