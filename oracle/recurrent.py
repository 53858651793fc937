"""The recurrent engine (seed 003 "recurrent"): a cell stepped over time with masks, go_backwards, initial and
final states; and the registration of a recurrent layer as a *program* over the algebra of sequence_ops.py.

A layer's program `(alg, cfg, weights, inputs, mask, dropout) -> [outputs]` is written once; the oracle runs it
with EXACT (forward), with Tape(EXACT) (the VJP through time) and the tolerance policy runs it with its bounded
algebra (suites/bounded.py). Cells (SimpleRNNCell here, the gated cells and ConvLSTM2D's elsewhere) only write one
step.

Keras 2.2.x semantics followed here (K.rnn of the TensorFlow backend):
- go_backwards processes the timesteps last to first and returns the sequence in that processing order;
- at a masked step the states are carried over unchanged and the output repeats the previous step's output,
  zeros at a leading masked step (docs/traps.md 16). This is K.rnn's unrolled path in 2.2.4 and every path from 2.2.5 on;
  2.2.4's symbolic while-loop alone repeated `states[0]` instead (the initial state at a leading masked step, a
  stacked RNN's first cell state), so unroll=True and unroll=False disagreed there. The seed requires them to
  agree: the oracle follows the unrolled rule, which tf-keras, Keras 3 and Keras 2.2.5 share;
- with no initial state the states start at zeros.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from .registry import LAYERS
from .sequence_ops import EXACT, PRODUCT, Tape, matmul

Program = Callable[..., list]  # a registered Layer's `program` (oracle/registry.py)


@dataclass(frozen=True)
class Cell:
    """One recurrent step.

    state_shapes: (cfg, step input shape (batch, ...)) -> the shape of each state, batch included.
    weight_shapes: (cfg, step input shape) -> shapes in get_weights() order.
    step: (alg, cfg, weights, x_t, states, dropout) -> (output, [new states]); dropout is None at inference, else
          the constant masks the layer's training mode drew (the cell knows their layout).
    draw: (cfg, rng, step input shape, [state shapes]) -> the `dropout` argument of `step` for one sequence (None
          when no mask is active), drawn as Keras 2.2.x does once per call; None = the cell has no dropout."""
    state_shapes: Callable[[dict, tuple], list]
    weight_shapes: Callable[[dict, tuple], list]
    step: Callable
    draw: Callable | None = None


def shape_of(alg, a) -> tuple:
    return np.shape(alg.value(a))


def _take(alg, x, t: int):
    """x[:, t] (the step input); its adjoint puts the cotangent back at timestep t."""
    n = shape_of(alg, x)[1]

    def back(g):
        out = np.zeros((g.shape[0], n) + g.shape[1:])
        out[:, t] = g
        return [out]
    return select_step(alg, lambda a: a[:, t], [x], back)


def select_step(alg, fn, xs, adjoint):
    return alg.select(fn, *xs, adjoint=adjoint) if isinstance(alg, Tape) else alg.select(fn, *xs)


def where_mask(alg, m: np.ndarray, a, b):
    """a where the (batch,) mask is True, else b (a constant decision: no gradient through it)."""
    def keep(u, v):
        mm = m.reshape((-1,) + (1,) * (np.ndim(u) - 1))
        return np.where(mm, u, v)
    return select_step(alg, keep, [a, b], lambda g: [keep(g, 0.0 * g), keep(0.0 * g, g)])


def stack_time(alg, outs: list):
    """The per-step outputs as one (batch, timesteps, ...) sequence."""
    return select_step(alg, lambda *ys: np.stack(ys, axis=1), outs,
                   lambda g: [g[:, t] for t in range(g.shape[1])])


def run(alg, cell: Cell, cfg: dict, weights: list, x, states: list, *, mask=None, go_backwards: bool = False,
        dropout: Any = None) -> tuple[list, list]:
    """Step `cell` over the timesteps of x (batch, timesteps, ...): (the outputs in processing order, the final
    states)."""
    steps = range(shape_of(alg, x)[1])
    outs = []
    for t in (reversed(steps) if go_backwards else steps):
        out, new = cell.step(alg, cfg, weights, _take(alg, x, t), states, dropout)
        if mask is not None:
            prev = outs[-1] if outs else alg.constant(np.zeros(shape_of(alg, out)))
            out = where_mask(alg, mask[:, t], out, prev)
            new = [where_mask(alg, mask[:, t], a, b) for a, b in zip(new, states)]
        outs.append(out)
        states = new
    return outs, states


def sequence_program(cell: Cell, cell_config: Callable[[dict], dict] = lambda cfg: cfg) -> Program:
    """The program of a layer that runs `cell` over time with the RNN options (return_sequences,
    return_state, go_backwards): inputs are [x, *initial states] (zeros when only x is given)."""
    def program(alg, cfg, weights, inputs, mask=None, dropout=None):
        x, given = inputs[0], list(inputs[1:])
        ccfg = cell_config(cfg)
        step_shape = (shape_of(alg, x)[0],) + shape_of(alg, x)[2:]
        states = given or [alg.constant(np.zeros(s)) for s in cell.state_shapes(ccfg, step_shape)]
        outs, final = run(alg, cell, ccfg, weights, x, states, mask=mask, go_backwards=cfg.get("go_backwards", False),
                          dropout=dropout)
        y = stack_time(alg, outs) if cfg["return_sequences"] else outs[-1]
        return [y, *final] if cfg.get("return_state") else [y]
    return program


def cell_program(cell: Cell) -> Program:
    """The program of a cell row: inputs [x_t, *states] -> [output, *new states]."""
    def program(alg, cfg, weights, inputs, mask=None, dropout=None):
        out, new = cell.step(alg, cfg, weights, inputs[0], list(inputs[1:]), dropout)
        return [out, *new]
    return program


# ---- running a program: forward, VJP, stateful calls ----

def _as_list(inputs) -> list:
    return list(inputs) if isinstance(inputs, list) else [inputs]


def trace(alg, name: str, cfg: dict, weights: list, inputs, mask=None, dropout=None):
    """(outputs, input leaves, weight leaves) of the program run in `alg` (leaves are Tape nodes when alg is a
    Tape, else the values themselves)."""
    leaf = alg.leaf if isinstance(alg, Tape) else (lambda a: a)
    xs = [leaf(a) for a in _as_list(inputs)]
    ws = [leaf(w) for w in weights]
    return LAYERS[name].program(alg, cfg, ws, xs, mask, dropout), xs, ws


def program_forward(name: str, cfg: dict, weights: list, inputs, mask=None, dropout=None, multi_output=False):
    """The layer's output(s) in float64: a list when the layer returns several tensors."""
    outs, _, _ = trace(EXACT, name, cfg, weights, inputs, mask, dropout)
    return outs if multi_output else outs[0]


def program_vjp(name: str, cfg: dict, weights: list, inputs, cotangents, mask=None, dropout=None):
    """(gradient of the input, or of each input of a list; [gradient of each weight]) by reverse mode through
    time."""
    tape = Tape(EXACT)
    outs, xs, ws = trace(tape, name, cfg, weights, inputs, mask, dropout)
    gs = [np.asarray(g, dtype=np.float64) for g in _as_list(cotangents)] if isinstance(cotangents, list) \
        else [np.asarray(cotangents, dtype=np.float64)]
    grads = tape.backward(outs, gs)
    gx = [tape.grad(grads, n, np.shape(n.value)) for n in xs]
    gw = [tape.grad(grads, n, np.shape(n.value)) for n in ws]
    return (gx if isinstance(inputs, list) else gx[0]), gw


def scaled_keep(rng: np.random.Generator, shape: tuple, rate: float) -> np.ndarray | None:
    """One Keras 2.2.x dropout mask K.dropout(ones, rate): 1/(1 - rate) where kept (probability 1 - rate), 0 where
    dropped; None when 2.2.x applies none (`if 0 < rate < 1`: rate 0 and rate 1 both leave the input alone)."""
    if not 0.0 < rate < 1.0:
        return None
    return (rng.uniform(size=shape) >= rate).astype(np.float64) / (1.0 - rate)


def gate_masks(cfg: dict, rng: np.random.Generator, x_shape: tuple, h_shape: tuple, gates: int):
    """(input masks, recurrent masks) of a cell with `gates` gate blocks, or None when neither is active.
    Keras 2.2.x _generate_dropout_mask(count=gates) draws `gates` independent masks per sequence; implementation 2
    (GRU, LSTM) multiplies the input (and the state) once by the first of them, i.e. one mask for every gate."""
    one = cfg.get("implementation", 1) == 2
    out = []
    for rate, shape in ((cfg["dropout"], x_shape), (cfg["recurrent_dropout"], h_shape)):
        masks = [scaled_keep(rng, shape, rate) for _ in range(gates)]
        out.append(None if masks[0] is None else ([masks[0]] * gates if one else masks))
    return None if all(m is None for m in out) else tuple(out)


def stateful_run(name: str, cfg: dict, weights: list, batches: list, *, reset: tuple = ()) -> list:
    """A stateful layer called on each batch in turn: the final states of one call are the initial states of
    the next (zeros at the first call and after a reset). Returns each call's output."""
    states: list = []
    outputs = []
    for i, x in enumerate(batches):
        if i in reset:
            states = []
        outs, _, _ = trace(EXACT, name, {**cfg, "return_state": True}, weights, [x, *states])
        outputs.append(outs[0])
        states = outs[1:]
    return outputs


# ---- the simple recurrent cell (SimpleRNN, SimpleRNNCell) ----

def affine(alg, x, kernel, h, recurrent, bias):
    """x . kernel + h . recurrent (+ bias): the pre-activation of every Keras recurrent cell."""
    z = alg.add(alg.contract(matmul(shape_of(alg, x), shape_of(alg, kernel)), x, kernel),
                alg.contract(matmul(shape_of(alg, h), shape_of(alg, recurrent)), h, recurrent))
    return z if bias is None else alg.bias(z, bias)


def dropped(alg, a, mask):
    """a times a constant dropout mask (already scaled by 1/(1 - rate)), or a unchanged at inference."""
    return a if mask is None else alg.contract(PRODUCT, a, alg.constant(mask))


def _simple_step(alg, cfg, weights, x, states, dropout):
    """h = activation(x W + h U + b). Training dropout (Keras 2.2.x SimpleRNNCell): one input mask and one
    recurrent mask, each drawn once per sequence and applied at every timestep."""
    kernel, recurrent = weights[0], weights[1]
    bias = weights[2] if cfg["use_bias"] else None
    x_mask, h_mask = dropout if dropout is not None else (None, None)
    h = states[0]
    z = affine(alg, dropped(alg, x, x_mask), kernel, dropped(alg, h, h_mask), recurrent, bias)
    y = alg.act(cfg["activation"], z)
    return y, [y]


def _simple_draw(cfg, rng, x_shape, state_shapes):
    """SimpleRNNCell: one input mask (K.ones_like(inputs)) and one recurrent mask (K.ones_like(prev_output))."""
    masks = gate_masks(cfg, rng, x_shape, state_shapes[0], 1)
    return None if masks is None else tuple(None if m is None else m[0] for m in masks)


SIMPLE_CELL = Cell(
    state_shapes=lambda cfg, shape: [(shape[0], cfg["units"])],
    weight_shapes=lambda cfg, shape: [(shape[-1], cfg["units"]), (cfg["units"], cfg["units"])] +
    ([(cfg["units"],)] if cfg["use_bias"] else []),
    step=_simple_step, draw=_simple_draw)
