"""Bidirectional (seed 003 "wrappers"): every merge_mode (omitted = 'concat', and None's list output), wrapped
around every recurrent layer the oracle runs as a program with go_backwards (SimpleRNN now; GRU, LSTM, RNN,
ConvLSTM2D join when they register). The inner layer's case comes from its own strategy, so its every option
(return_sequences, return_state, go_backwards, masks, initial states ...) is covered here too; its initial
states, when drawn, are given for both directions ([x, *forward states, *backward states])."""
from __future__ import annotations

from typing import Mapping

from hypothesis import strategies as st

import oracle
from oracle.registry import programs

from .base import OMIT, Case, Record, config

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def inner_layers() -> list[str]:
    """The recurrent layers Bidirectional can wrap (programs whose spec has go_backwards)."""
    return [n for n in programs() if "go_backwards" in oracle.LAYERS[n].spec]


@st.composite
def bidirectional_case(draw, catalog: Mapping[str, Record], inner: str | None = None, merge_mode=OMIT) -> Case:
    """Bidirectional(inner case's layer, merge_mode) on the inner case's input (its states doubled)."""
    name = inner or draw(st.sampled_from([n for n in inner_layers() if n in catalog and catalog[n].cases is not None]))
    # exponential compounds over time (exp of exp ...) and overflows to inf within a few steps at O(1) weights;
    # the inner layer's own row covers it, Bidirectional rows keep finite outputs
    case = draw(catalog[name].cases.filter(lambda c: c.config["config"].get("activation") != "exponential"))
    if case.multi_input and isinstance(case.config["config"].get("cell"), list):
        # tf-keras and Keras 3 take a stack's initial states nested per cell, not as 2.2.x's flat list: a finding
        # the RNN row records (stacked-cells-*-initial-state entries); here the wrapped stack starts from zeros
        case = Case(case.config, case.input_shape[0], case.seed, mask=case.mask)
    mode = draw(st.sampled_from((OMIT,) + MERGE_MODES)) if merge_mode is OMIT else merge_mode
    shape = (case.input_shape[0], *case.input_shape[1:], *case.input_shape[1:]) if case.multi_input \
        else case.input_shape
    params = {"layer": case.config, "merge_mode": mode}
    return Case(config("Bidirectional", params), shape, case.seed, mask=case.mask)


@st.composite
def invalid_wrappers(draw):
    """(raw config, input shape, parameter named in the error, value named in the error)."""
    inner = {"class_name": "SimpleRNN", "config": {"units": 2}}
    bad = draw(st.sampled_from(["max", "Concat", "average", 1]))
    return config("Bidirectional", {"layer": inner, "merge_mode": bad}), (2, 3, 4), "merge_mode", bad


def records(catalog: Mapping[str, Record]) -> tuple[Record, ...]:
    """Bidirectional's record: its cases wrap the cases of the recurrent layers' records."""
    return (Record("Bidirectional", bidirectional_case(catalog)),)
INVALID = invalid_wrappers()
