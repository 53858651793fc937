"""Registration of recurrent layers and cells (seed 003 "recurrent"): the parameters they share, their shapes,
and SimpleRNN / SimpleRNNCell. The gated cells (GRU, LSTM) and ConvLSTM2D register through the same helpers."""
from __future__ import annotations

from typing import Callable

import numpy as np

from . import activations, recurrent
from .noise import rate
from .params import REQUIRED, boolean, positive_int
from .recurrent import Cell
from .registry import Layer, register
from .weight_objects import serialized_object

# The weight parameters of every Keras 2.2.x recurrent cell (kernel, recurrent_kernel, bias).
CELL_WEIGHT_PARAMS = {
    "kernel_initializer": ("glorot_uniform", serialized_object),
    "recurrent_initializer": ("orthogonal", serialized_object),
    "bias_initializer": ("zeros", serialized_object),
    "kernel_regularizer": (None, serialized_object),
    "recurrent_regularizer": (None, serialized_object),
    "bias_regularizer": (None, serialized_object),
    "kernel_constraint": (None, serialized_object),
    "recurrent_constraint": (None, serialized_object),
    "bias_constraint": (None, serialized_object),
    "dropout": (0.0, rate),
    "recurrent_dropout": (0.0, rate),
}
# The options of the RNN base class (seed 003: RNN(cell, return_sequences, return_state, go_backwards, stateful,
# unroll)); unroll and stateful do not change one call's maths (stateful: see recurrent.stateful_run).
SEQUENCE_OPTIONS = {
    "return_sequences": (False, boolean),
    "return_state": (False, boolean),
    "go_backwards": (False, boolean),
    "stateful": (False, boolean),
    "unroll": (False, boolean),
}


def unpack_inputs(name: str, inputs, multi: bool):
    """(x shape, [initial state shapes]) of a shape or a list of shapes [x, *states]."""
    if isinstance(inputs, list):
        if not multi:
            raise ValueError(f"{name}: input_shape={inputs!r} is not allowed: expected one input shape")
        return tuple(inputs[0]), [tuple(s) for s in inputs[1:]]
    return tuple(inputs), []


def sequence_output_shape(name: str, cell: Cell, cell_config: Callable[[dict], dict]):
    """output_shape of a layer running `cell` over time: (batch, timesteps, ...) -> the last output or the
    sequence, plus the final states with return_state; given initial states must have the states' shapes."""
    def output_shape(cfg, shape):
        x, given = unpack_inputs(name, shape, True)
        if len(x) < 3:
            raise ValueError(f"{name}: input_shape={x} is not allowed: expected (batch, timesteps, ...) of rank >= 3")
        ccfg = cell_config(cfg)
        states = [tuple(s) for s in cell.state_shapes(ccfg, (x[0],) + x[2:])]
        if given and [tuple(g[1:]) for g in given] != [s[1:] for s in states]:
            raise ValueError(f"{name}: initial state shapes {given} are not allowed: expected {states} "
                             "(one per state, batch first)")
        y = (x[0], x[1]) + states[0][1:] if cfg["return_sequences"] else states[0]
        return [y, *states] if cfg.get("return_state") else y
    return output_shape


def _leaf_state_shape(name: str, cell: Cell):
    def output_shape(cfg, shape):
        x, states = unpack_inputs(name, shape, True)
        expected = [tuple(s) for s in cell.state_shapes(cfg, x)]
        if len(x) < 2 or [tuple(s[1:]) for s in states] != [s[1:] for s in expected]:
            raise ValueError(f"{name}: input_shape={shape!r} is not allowed: expected [x_t (batch, features), "
                             f"*states {expected}]")
        return [expected[0], *expected]
    return output_shape


def _shapes(x) -> list:
    return [np.shape(a) for a in (x if isinstance(x, list) else [x])]


def training_mode(name: str, draw: Callable, multi_output) -> dict:
    """Layer fields of a recurrent layer whose training mode drops units: `train` draws the layer's dropout masks
    once for the call (`draw(cfg, rng, [input shapes])`, also the layer's `dropout_draw` for the wrappers) and
    runs the program with them; one sample of the distribution, so conformance is statistical (stochastic=True)."""
    def train(cfg, ws, x, rng, mask=None):
        dropout = draw(cfg, rng, _shapes(x))
        return recurrent.program_forward(name, cfg, ws, x, mask, dropout, multi_output(cfg)), ws
    return {"train": train, "stochastic": True, "dropout_draw": draw}


def _sequence_draw(cell: Cell, cell_config: Callable[[dict], dict]):
    def draw(cfg, rng, shapes):
        ccfg, x = cell_config(cfg), shapes[0]
        step = (x[0],) + tuple(x[2:])
        return cell.draw(ccfg, rng, step, [tuple(s) for s in cell.state_shapes(ccfg, step)])
    return draw


def _cell_draw(cell: Cell):
    return lambda cfg, rng, shapes: cell.draw(cfg, rng, tuple(shapes[0]), [tuple(s) for s in shapes[1:]])


def program_layer(name: str, family: str, spec: dict, program, output_shape, weight_shapes, multi_input,
                   multi_output, uses_mask: bool = True, draw: Callable | None = None, **extra) -> Layer:
    if draw is not None:
        extra = {**extra, **training_mode(name, draw, multi_output)}
    return register(Layer(
        name=name, family=family, spec=spec,
        forward=lambda cfg, ws, x, mask=None: recurrent.program_forward(name, cfg, ws, x, mask,
                                                                        multi_output=multi_output(cfg)),
        vjp=lambda cfg, ws, x, g, mask=None: recurrent.program_vjp(name, cfg, ws, x, g, mask),
        output_shape=output_shape, weight_shapes=weight_shapes,
        # the tolerance of a program runs the program itself in the bounded algebra (suites/bounded.py)
        error_model="program", program=program,
        split_activation=lambda cfg: (None, "linear"),
        reductions=lambda cfg, shape: {"output": 0},
        multi_input=multi_input, multi_output=multi_output, uses_mask=uses_mask, **extra))


def register_sequence_layer(name: str, cell: Cell, spec: dict, *, family: str = "recurrent",
                            cell_config: Callable[[dict], dict] = lambda cfg: cfg, weight_params=None,
                            options: dict = SEQUENCE_OPTIONS, **extra) -> Layer:
    """A layer running `cell` over time (SimpleRNN, GRU, LSTM, RNN(cell), ...): list input [x, *initial states]
    allowed, a list output [y, *final states] with return_state. `options`: the RNN options the layer documents
    (CuDNNGRU / CuDNNLSTM lack go_backwards and unroll)."""
    def weight_shapes(cfg, shape):
        x, _ = unpack_inputs(name, shape, True)
        return cell.weight_shapes(cell_config(cfg), (x[0],) + tuple(x[2:]))
    return program_layer(name, family, {**spec, **options},
                          recurrent.sequence_program(cell, cell_config),
                          sequence_output_shape(name, cell, cell_config), weight_shapes, "optional",
                          lambda cfg: bool(cfg.get("return_state")), weight_params=weight_params,
                          draw=None if cell.draw is None else _sequence_draw(cell, cell_config), **extra)


def register_cell(name: str, cell: Cell, spec: dict, *, family: str = "recurrent", weight_params=None,
                  **extra) -> Layer:
    """A cell as its own row: one step, [x_t, *states] -> [output, *new states]."""
    return program_layer(name, family, spec, recurrent.cell_program(cell), _leaf_state_shape(name, cell),
                          lambda cfg, shape: cell.weight_shapes(cfg, tuple(shape[0])), True, lambda cfg: True,
                          weight_params=weight_params, draw=None if cell.draw is None else _cell_draw(cell),
                          **extra)


SIMPLE_SPEC = {"units": (REQUIRED, positive_int), "activation": ("tanh", activations.parse),
               "use_bias": (True, boolean), **CELL_WEIGHT_PARAMS}

register_cell("SimpleRNNCell", recurrent.SIMPLE_CELL, SIMPLE_SPEC)
register_sequence_layer("SimpleRNN", recurrent.SIMPLE_CELL,
                        {**SIMPLE_SPEC, "activity_regularizer": (None, serialized_object)})
