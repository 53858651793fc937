"""Gated recurrent layers (seed 003 "recurrent"): GRU, LSTM, their cells, RNN(cell or [cells]) with the seed's
MinimalRNNCell, CuDNNGRU and CuDNNLSTM. Each cell writes one step over the algebra of sequence_ops.py; the engine
(recurrent.py) runs it over time, differentiates it and bounds it.

Keras 2.2.x facts followed here (keras/layers/recurrent.py at 2.2.4):
- gate blocks in the kernel, recurrent kernel and bias columns: z, r, h (GRU) and i, f, c, o (LSTM);
- GRU: z = ra(x Wz + bz + h Uz), r = ra(x Wr + br + h Ur); reset_after=False: hh = act(x Wh + bh + (r*h) Uh);
  reset_after=True (bias (2, 3u): row 0 input, row 1 recurrent): hh = act(x Wh + bh_in + r*(h Uh + bh_rec));
  h' = z*h + (1-z)*hh;
- LSTM: i, f, o = ra(.), c' = f*c + i*act(x Wc + h Uc + bc), h' = o*act(c'); states [h, c];
- implementation 1 and 2 compute the same maths (2 batches the gate products; 1 uses one dropout mask per gate
  in training mode, 2 one mask for all gates -- what a dropout helper must follow); 2.2.x accepts 0 as a
  deprecated alias of 1 (it warns), so 0, 1, 2 are accepted;
- StackedRNNCells keeps its states as a flat list in REVERSE cell order ([h2, c2, h1, c1] for two LSTM cells) so
  that states[0] is the output; initial_state and return_state use that order (tf-keras changed it: a known
  divergence);
- CuDNNGRU is GRU(reset_after=True) with sigmoid / tanh and bias (6u,) = input half, recurrent half (docs/traps.md 15);
  CuDNNLSTM likewise with bias (8u,), both halves added.
"""
from __future__ import annotations

import numpy as np

from . import activations
from .nested import nested_layers
from .params import REQUIRED, boolean, invalid, positive_int
from .recurrent import SIMPLE_CELL, Cell, select_step, dropped, gate_masks, shape_of
from .recurrent_layers import CELL_WEIGHT_PARAMS, SEQUENCE_OPTIONS, register_cell, register_sequence_layer
from .sequence_ops import PRODUCT, matmul
from .weight_objects import serialized_object


def implementation(layer: str, param: str, value) -> int:
    """Keras 2.2.x implementation mode: 1 or 2 (0: the deprecated alias of 1)."""
    if isinstance(value, bool) or value not in (0, 1, 2):
        raise invalid(layer, param, value, "expected 1 or 2 (0 is the deprecated alias of 1)")
    return int(value)


# ---- algebra helpers: blocks of the gate columns, products ----

def block(alg, a, width: int, i: int):
    """Block i (width columns) of the last axis of a; its adjoint puts the cotangent back there."""
    def back(g):
        out = np.zeros(g.shape[:-1] + (shape_of(alg, a)[-1],))
        out[..., i * width:(i + 1) * width] = g
        return [out]
    return select_step(alg, lambda v: v[..., i * width:(i + 1) * width], [a], back)


def row(alg, a, i: int):
    """Row i of a (2, n) weight (GRU reset_after's bias)."""
    def back(g):
        out = np.zeros((2,) + g.shape)
        out[i] = g
        return [out]
    return select_step(alg, lambda v: v[i], [a], back)


def dot(alg, a, w):
    return alg.contract(matmul(shape_of(alg, a), shape_of(alg, w)), a, w)


def mul(alg, a, b):
    return alg.contract(PRODUCT, a, b)


def _biased(alg, z, b):
    return z if b is None else alg.bias(z, b)


# ---- GRU ----

def gru_step(alg, cfg, weights, x, states, dropout, *, biases=None):
    """One Keras 2.2.x GRU step; `biases` (input bias, recurrent bias) overrides the config's bias layout."""
    u, h = cfg["units"], states[0]
    kernel, recurrent = weights[0], weights[1]
    if dropout is not None:
        return _gru_dropped(alg, cfg, weights, x, h, dropout)
    if biases is not None:
        b_in, b_rec = biases
    elif not cfg["use_bias"]:
        b_in = b_rec = None
    elif cfg["reset_after"]:
        b_in, b_rec = row(alg, weights[2], 0), row(alg, weights[2], 1)
    else:
        b_in, b_rec = weights[2], None
    xw = _biased(alg, dot(alg, x, kernel), b_in)
    ra, act = cfg["recurrent_activation"], cfg["activation"]
    if cfg["reset_after"] or biases is not None:
        hu = _biased(alg, dot(alg, h, recurrent), b_rec)
        z = alg.act(ra, alg.add(block(alg, xw, u, 0), block(alg, hu, u, 0)))
        r = alg.act(ra, alg.add(block(alg, xw, u, 1), block(alg, hu, u, 1)))
        hh = alg.act(act, alg.add(block(alg, xw, u, 2), mul(alg, r, block(alg, hu, u, 2))))
    else:
        z = alg.act(ra, alg.add(block(alg, xw, u, 0), dot(alg, h, block(alg, recurrent, u, 0))))
        r = alg.act(ra, alg.add(block(alg, xw, u, 1), dot(alg, h, block(alg, recurrent, u, 1))))
        hh = alg.act(act, alg.add(block(alg, xw, u, 2), dot(alg, mul(alg, r, h), block(alg, recurrent, u, 2))))
    out = alg.add(mul(alg, z, h), mul(alg, alg.sub(1.0, z), hh))
    return out, [out]


def _gate_inputs(alg, a, masks, k: int) -> list:
    """a as each of the k gates sees it: times that gate's dropout mask (a itself when no mask is active)."""
    return [a] * k if masks is None else [dropped(alg, a, m) for m in masks]


def _gru_dropped(alg, cfg, weights, x, h, dropout):
    """A GRU step in training mode, gate by gate as Keras 2.2.x GRUCell (implementation 1) writes it: gate k reads
    x * dp_mask[k] and h * rec_dp_mask[k]. Implementation 2 has one mask for every gate (recurrent.gate_masks) and
    multiplies h_tm1 itself by it (`h_tm1 *= rec_dp_mask[0]`), so the final mix z * h_tm1 reads the dropped state
    there, and the undropped one in implementation 1."""
    u, kernel, recurrent = cfg["units"], weights[0], weights[1]
    xs, hs = _gate_inputs(alg, x, dropout[0], 3), _gate_inputs(alg, h, dropout[1], 3)
    bias = weights[2] if cfg["use_bias"] else None
    b_in = None if bias is None else (row(alg, bias, 0) if cfg["reset_after"] else bias)
    b_rec = row(alg, bias, 1) if bias is not None and cfg["reset_after"] else None
    ra, act = cfg["recurrent_activation"], cfg["activation"]

    def part(a, w, b, k):
        return _biased(alg, dot(alg, a, block(alg, w, u, k)), None if b is None else block(alg, b, u, k))
    xw = [part(xs[k], kernel, b_in, k) for k in range(3)]
    if cfg["reset_after"]:
        hu = [part(hs[k], recurrent, b_rec, k) for k in range(3)]
        rh = mul(alg, alg.act(ra, alg.add(xw[1], hu[1])), hu[2])
    else:
        hu = [part(hs[k], recurrent, None, k) for k in range(2)]
        rh = dot(alg, mul(alg, alg.act(ra, alg.add(xw[1], hu[1])), hs[2]), block(alg, recurrent, u, 2))
    z = alg.act(ra, alg.add(xw[0], hu[0]))
    hh = alg.act(act, alg.add(xw[2], rh))
    mixed = hs[0] if cfg["implementation"] == 2 else h
    out = alg.add(mul(alg, z, mixed), mul(alg, alg.sub(1.0, z), hh))
    return out, [out]


def _gated_draw(gates: int):
    return lambda cfg, rng, x_shape, state_shapes: gate_masks(cfg, rng, x_shape, state_shapes[0], gates)


def _gru_weights(cfg, shape):
    u = cfg["units"]
    bias = [(2, 3 * u) if cfg["reset_after"] else (3 * u,)] if cfg["use_bias"] else []
    return [(shape[-1], 3 * u), (u, 3 * u)] + bias


GRU_CELL = Cell(state_shapes=lambda cfg, shape: [(shape[0], cfg["units"])], weight_shapes=_gru_weights,
                step=gru_step, draw=_gated_draw(3))


# ---- LSTM ----

def lstm_step(alg, cfg, weights, x, states, dropout, *, biases=None):
    """One Keras 2.2.x LSTM step; `biases` (input bias, recurrent bias) replaces the single bias (CuDNNLSTM)."""
    u, (h, c) = cfg["units"], states
    if dropout is not None:
        # training mode, gate by gate (2.2.x LSTMCell): gate k reads x * dp_mask[k] and h * rec_dp_mask[k]
        xs, hs = _gate_inputs(alg, x, dropout[0], 4), _gate_inputs(alg, h, dropout[1], 4)
        zs = [alg.add(dot(alg, xs[k], block(alg, weights[0], u, k)), dot(alg, hs[k], block(alg, weights[1], u, k)))
              for k in range(4)]
        if cfg["use_bias"]:
            zs = [alg.bias(zk, block(alg, weights[2], u, k)) for k, zk in enumerate(zs)]
        pre = lambda k: zs[k]  # noqa: E731
    else:
        z = alg.add(dot(alg, x, weights[0]), dot(alg, h, weights[1]))
        if biases is not None:
            z = alg.bias(alg.bias(z, biases[0]), biases[1])
        elif cfg["use_bias"]:
            z = alg.bias(z, weights[2])
        pre = lambda k: block(alg, z, u, k)  # noqa: E731
    ra, act = cfg["recurrent_activation"], cfg["activation"]
    i, f = alg.act(ra, pre(0)), alg.act(ra, pre(1))
    o = alg.act(ra, pre(3))
    c2 = alg.add(mul(alg, f, c), mul(alg, i, alg.act(act, pre(2))))
    h2 = mul(alg, o, alg.act(act, c2))
    return h2, [h2, c2]


def _lstm_weights(cfg, shape):
    u = cfg["units"]
    return [(shape[-1], 4 * u), (u, 4 * u)] + ([(4 * u,)] if cfg["use_bias"] else [])


LSTM_CELL = Cell(state_shapes=lambda cfg, shape: [(shape[0], cfg["units"])] * 2, weight_shapes=_lstm_weights,
                 step=lstm_step, draw=_gated_draw(4))


# ---- MinimalRNNCell (seed 003's example cell: output = x . kernel + h . recurrent_kernel) ----

def _minimal_step(alg, cfg, weights, x, states, dropout):
    out = alg.add(dot(alg, x, weights[0]), dot(alg, states[0], weights[1]))
    return out, [out]


MINIMAL_CELL = Cell(state_shapes=lambda cfg, shape: [(shape[0], cfg["units"])],
                    weight_shapes=lambda cfg, shape: [(shape[-1], cfg["units"]), (cfg["units"], cfg["units"])],
                    step=_minimal_step)

CELLS = {"SimpleRNNCell": SIMPLE_CELL, "GRUCell": GRU_CELL, "LSTMCell": LSTM_CELL, "MinimalRNNCell": MINIMAL_CELL}


# ---- RNN(cell or [cells]): the cells stepped one after another within a timestep ----

def _cells(cfg) -> list:
    cell = cfg["cell"]
    return [(CELLS[c["class_name"]], c["config"]) for c in (cell if isinstance(cell, list) else [cell])]


def _stack_shapes(cfg, shape):
    """Per cell: (its step input shape, its state shapes); cell i + 1 reads cell i's output (batch, units)."""
    out = []
    for cell, c in _cells(cfg):
        states = cell.state_shapes(c, shape)
        out.append((shape, states))
        shape = tuple(states[0])
    return out


def _stack_states(cfg, shape):
    # 2.2.x StackedRNNCells.state_size: the cells' states in reverse cell order (states[0] is the output)
    return [s for _, states in reversed(_stack_shapes(cfg, shape)) for s in states]


def _stack_weights(cfg, shape):
    return [w for (cell, c), (s, _) in zip(_cells(cfg), _stack_shapes(cfg, shape)) for w in cell.weight_shapes(c, s)]


def _stack_step(alg, cfg, weights, x, states, dropout):
    cells, layout = _cells(cfg), _stack_shapes(cfg, shape_of(alg, x))
    per_cell, rest = [], list(states)
    for _, cell_states in reversed(layout):  # unflatten the reverse-ordered states
        per_cell.append(rest[:len(cell_states)])
        rest = rest[len(cell_states):]
    per_cell.reverse()
    new, ws = [], list(weights)
    drops = dropout if dropout is not None else [None] * len(cells)
    for (cell, c), (shape, _), st, d in zip(cells, layout, per_cell, drops):
        n = len(cell.weight_shapes(c, shape))
        x, s = cell.step(alg, c, ws[:n], x, st, d)
        ws = ws[n:]
        new.append(s)
    return x, [s for cell_states in reversed(new) for s in cell_states]


def _stack_draw(cfg, rng, x_shape, state_shapes):
    """Each cell of the stack draws its own masks (on its own step input and state), in cell order."""
    drops = [None if cell.draw is None else cell.draw(c, rng, shape, [tuple(s) for s in states])
             for (cell, c), (shape, states) in zip(_cells(cfg), _stack_shapes(cfg, x_shape))]
    return None if all(d is None for d in drops) else drops


STACKED_CELL = Cell(state_shapes=_stack_states, weight_shapes=_stack_weights, step=_stack_step, draw=_stack_draw)


# ---- CuDNNGRU / CuDNNLSTM: the halves of the bias added separately ----

def _cudnn_gru_step(alg, cfg, weights, x, states, dropout):
    width = 3 * cfg["units"]
    b = weights[2]
    return gru_step(alg, cfg, weights, x, states, dropout, biases=(block(alg, b, width, 0), block(alg, b, width, 1)))


def _cudnn_lstm_step(alg, cfg, weights, x, states, dropout):
    width = 4 * cfg["units"]
    b = weights[2]
    return lstm_step(alg, cfg, weights, x, states, dropout, biases=(block(alg, b, width, 0), block(alg, b, width, 1)))


def _cudnn_config(cfg):
    # the cuDNN kernels fix the activations (docs/traps.md 15) and always have a bias
    return {**cfg, "activation": "tanh", "recurrent_activation": "sigmoid", "reset_after": True, "use_bias": True}


CUDNN_GRU_CELL = Cell(state_shapes=GRU_CELL.state_shapes,
                      weight_shapes=lambda cfg, shape: [(shape[-1], 3 * cfg["units"]), (cfg["units"], 3 * cfg["units"]),
                                                        (6 * cfg["units"],)],
                      step=_cudnn_gru_step)
CUDNN_LSTM_CELL = Cell(state_shapes=LSTM_CELL.state_shapes,
                       weight_shapes=lambda cfg, shape: [(shape[-1], 4 * cfg["units"]), (cfg["units"], 4 * cfg["units"]),
                                                         (8 * cfg["units"],)],
                       step=_cudnn_lstm_step)


# ---- registrations ----

GATED_SPEC = {"units": (REQUIRED, positive_int), "activation": ("tanh", activations.parse),
              "recurrent_activation": ("hard_sigmoid", activations.parse), "use_bias": (True, boolean),
              **CELL_WEIGHT_PARAMS, "implementation": (1, implementation)}
GRU_SPEC = {**GATED_SPEC, "reset_after": (False, boolean)}
LSTM_SPEC = {**GATED_SPEC, "unit_forget_bias": (True, boolean)}
ACTIVITY = {"activity_regularizer": (None, serialized_object)}
CUDNN_SPEC = {k: v for k, v in CELL_WEIGHT_PARAMS.items() if "dropout" not in k}
CUDNN_OPTIONS = {k: SEQUENCE_OPTIONS[k] for k in ("return_sequences", "return_state", "stateful")}
CELL_CLASSES = tuple(CELLS)

register_cell("GRUCell", GRU_CELL, GRU_SPEC)
register_cell("LSTMCell", LSTM_CELL, LSTM_SPEC)
register_cell("MinimalRNNCell", MINIMAL_CELL, {"units": (REQUIRED, positive_int)})
register_sequence_layer("GRU", GRU_CELL, {**GRU_SPEC, **ACTIVITY})
register_sequence_layer("LSTM", LSTM_CELL, {**LSTM_SPEC, **ACTIVITY})
register_sequence_layer("RNN", STACKED_CELL,
                        {"cell": (REQUIRED, nested_layers(*CELL_CLASSES, what="a recurrent cell"))},
                        weight_params=lambda cfg: [])
# Keras 2.2.x _CuDNNRNN sets supports_masking = False: no mask is passed to them.
register_sequence_layer("CuDNNGRU", CUDNN_GRU_CELL, {"units": (REQUIRED, positive_int), **CUDNN_SPEC, **ACTIVITY},
                        cell_config=_cudnn_config, options=CUDNN_OPTIONS, uses_mask=False)
register_sequence_layer("CuDNNLSTM", CUDNN_LSTM_CELL,
                        {"units": (REQUIRED, positive_int), **CUDNN_SPEC, "unit_forget_bias": (True, boolean),
                         **ACTIVITY}, cell_config=_cudnn_config, options=CUDNN_OPTIONS, uses_mask=False)
