"""The Bidirectional wrapper (seed 003 "wrappers"): `Bidirectional(layer, merge_mode='concat', weights=None)`.

Written as a program over the recurrent algebra (oracle/recurrent.py), generic over every recurrent layer
registered as a program whose spec has `go_backwards` (SimpleRNN, GRU, LSTM, RNN, ConvLSTM2D ...), so its forward,
its VJP through time and its tolerance come from the inner layer's program.

Keras 2.2.x Bidirectional (keras/layers/wrappers.py) followed here:
- the backward copy is the inner layer rebuilt from its config with go_backwards negated; both copies get the
  same input, the same mask and (list call [x, *states]) the first half of the initial states for the forward
  copy, the second half for the backward copy;
- with return_sequences the backward output is reversed in time before merging (docs/traps.md 17); without, the two
  last outputs are merged;
- merge 'concat' (last axis), 'sum', 'ave' ((y + y_rev) / 2), 'mul', None ([y, y_rev]);
- return_state: [merged, *forward states, *backward states]; merge_mode=None: [y, y_rev, *forward states,
  *backward states];
- masked steps: 2.2.x passes the mask to both copies and K.rnn repeats states[0] there (no zeroing: the
  `zero_output_for_mask` forcing is a tf.keras / Keras 2.3+ addition, a known divergence of the backends);
- get_weights(): the forward layer's weights, then the backward layer's.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from . import recurrent
from .nested import nested_layer
from .params import REQUIRED, invalid
from .recurrent import shape_of, stack_time
from .recurrent_layers import program_layer, unpack_inputs
from .registry import LAYERS, programs
from .sequence_ops import PRODUCT

MERGE_MODES = ("concat", "sum", "mul", "ave", None)


def _inner(layer: str, param: str, value: Any) -> dict:
    """A recurrent layer the oracle runs as a program and that has go_backwards (the backward copy needs it).
    Checked at parse time so that recurrent layers registered later (GRU, LSTM ...) join automatically."""
    cfg = nested_layer(what="a recurrent layer")(layer, param, value)
    name = cfg["class_name"]
    if name not in LAYERS or LAYERS[name].program is None or "go_backwards" not in LAYERS[name].spec:
        allowed = [n for n in programs() if "go_backwards" in LAYERS[n].spec]
        raise invalid(layer, param, name, f"expected a recurrent layer: one of {', '.join(allowed)}")
    return cfg


def _merge_mode(layer: str, param: str, value: Any):
    if value not in MERGE_MODES:  # seed 003: ValueError for an invalid merge_mode
        raise invalid(layer, param, value, "expected one of 'sum', 'mul', 'concat', 'ave', None")
    return value


def _no_weights(layer: str, param: str, value: Any):
    """`weights=` holds arrays, which do not belong in a config (as for the Keras 1 `weights` argument): the
    weights are given to the layer separately (set_weights)."""
    if value is not None:
        raise invalid(layer, param, "<arrays>", "expected None: initial weights are not part of a config "
                      "(pass them as the layer's weights)")
    return None


SPEC = {"layer": (REQUIRED, _inner), "merge_mode": ("concat", _merge_mode), "weights": (None, _no_weights)}


def _copies(cfg: dict) -> tuple[str, dict, dict]:
    """(inner class name, forward copy's config, backward copy's config)."""
    inner = cfg["layer"]["config"]
    return cfg["layer"]["class_name"], inner, {**inner, "go_backwards": not inner["go_backwards"]}


def _merge(alg, mode, y, y_rev) -> list:
    if mode is None:
        return [y, y_rev]
    if mode == "concat":
        return [alg.select(lambda a, b: np.concatenate([a, b], axis=-1), y, y_rev,
                           **_adjoint(alg, lambda g: [g[..., :shape_of(alg, y)[-1]],
                                                      g[..., shape_of(alg, y)[-1]:]]))]
    if mode == "mul":
        return [alg.contract(PRODUCT, y, y_rev)]
    s = alg.add(y, y_rev)
    # 'ave' is (y + y_rev) / 2: a product with the constant 0.5, exact in binary floating point
    return [alg.contract(PRODUCT, s, alg.constant(np.full(shape_of(alg, s), 0.5)))] if mode == "ave" else [s]


def _adjoint(alg, fn) -> dict:
    return {"adjoint": fn} if isinstance(alg, recurrent.Tape) else {}


def _reverse_time(alg, y):
    return alg.select(lambda a: a[:, ::-1], y, **_adjoint(alg, lambda g: [g[:, ::-1]]))


def program(alg, cfg, weights, inputs, mask=None, dropout=None) -> list:
    """[merged output(s), *forward states, *backward states (return_state)]."""
    name, fwd, bwd = _copies(cfg)
    x, states = inputs[0], list(inputs[1:])
    half_w, half_s = len(weights) // 2, len(states) // 2
    d_fwd, d_bwd = dropout if dropout is not None else (None, None)
    ys = LAYERS[name].program(alg, fwd, weights[:half_w], [x, *states[:half_s]], mask, d_fwd)
    rs = LAYERS[name].program(alg, bwd, weights[half_w:], [x, *states[half_s:]], mask, d_bwd)
    y_rev = _reverse_time(alg, rs[0]) if fwd["return_sequences"] else rs[0]
    return [*_merge(alg, cfg["merge_mode"], ys[0], y_rev), *ys[1:], *rs[1:]]


def output_shape(cfg: dict, shape):
    name, fwd, _ = _copies(cfg)
    x, given = unpack_inputs("Bidirectional", shape, True)
    if len(given) % 2:
        raise ValueError(f"Bidirectional: input_shape={shape!r} is not allowed: expected [x, *forward initial "
                         "states, *backward initial states] (as many for each direction)")
    inner = LAYERS[name].output_shape(fwd, [x, *given[:len(given) // 2]] if given else x)
    y, states = (inner[0], inner[1:]) if isinstance(inner, list) else (inner, [])
    mode = cfg["merge_mode"]
    merged = [y, y] if mode is None else [y[:-1] + (2 * y[-1],) if mode == "concat" else y]
    out = [*merged, *states, *states]
    return out if len(out) > 1 else out[0]


def weight_shapes(cfg: dict, shape) -> list:
    name, fwd, bwd = _copies(cfg)
    x, _ = unpack_inputs("Bidirectional", shape, True)
    return list(LAYERS[name].weight_shapes(fwd, x)) + list(LAYERS[name].weight_shapes(bwd, x))


def multi_output(cfg: dict) -> bool:
    return cfg["merge_mode"] is None or bool(cfg["layer"]["config"].get("return_state"))


def draw(cfg: dict, rng, shapes: list):
    """The two copies draw their own masks (2.2.x Bidirectional holds two layers, each drawing once per call)."""
    name, fwd, bwd = _copies(cfg)
    inner = LAYERS[name].dropout_draw
    if inner is None:
        return None
    half = (len(shapes) - 1) // 2
    d = (inner(fwd, rng, [shapes[0], *shapes[1:1 + half]]),
         inner(bwd, rng, [shapes[0], *shapes[1 + half:]]))
    return None if all(v is None for v in d) else d


program_layer("Bidirectional", "wrappers", SPEC, program, output_shape, weight_shapes, "optional", multi_output,
               draw=draw)
