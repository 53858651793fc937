"""The 'dropout' check: training-mode dropout / recurrent_dropout of the recurrent layers, statistically
(DESIGN.md "Stochastic layers"), with probe weights that make the masks observable.

Keras 2.2.x (recurrent.py `_generate_dropout_mask` and each cell's call) draws K.dropout(ones, rate) masks once
per call and applies them at every timestep: kept units are scaled by 1/(1 - rate), dropped ones are 0, and
`if 0 < rate < 1` leaves rate 0 and rate 1 undropped. The probes (weights built here from the case's config):
- input path: the candidate gate reads x (kernel block = I, every other block 0) and the other gates sit at
  exactly 0 or 1 (bias 0/1 for a linear recurrent_activation, -800/+800 for a saturating one) so that
  y_t = f(x_t * m) with f the activation (LSTM / ConvLSTM2D: applied twice, c then h), m the candidate's input
  mask: the zero pattern is m's, the kept values f(x / (1 - rate)), the SAME pattern at every timestep;
- recurrent path: x = 0, an initial state h0 and the candidate's recurrent block = I: y_t = f(y_{t-1} * m),
  y_{-1} = h0, with the one recurrent mask m of the call.
Checks (suites/stochastic.py): kept values exact within the policy's bound, the mask shared across timesteps,
the kept count inside the exact binomial interval, disjoint neighbour pairs independent. FALSE_ALARM (1e-6) per
statistical test, at most 6 per example; the inputs and the backend calls are seeded by the case, so a run is
deterministic.
"""
from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

import oracle
from oracle import activations

from . import stochastic, tolerance
from .compare import Comparison, compare
from .strategies import Case

SATURATE = 800.0  # sigmoid(+-800) and hard_sigmoid(+-800) are exactly 1 / 0 in float32 and float64
GATES = {"SimpleRNNCell": 1, "GRUCell": 3, "LSTMCell": 4, "ConvLSTM2D": 4}
CELLS = ("SimpleRNNCell", "GRUCell", "LSTMCell")


def cell_of(config: dict) -> tuple[str, dict]:
    """(cell kind, the config holding its parameters) of a canonical recurrent config."""
    name, cfg = config["class_name"], config["config"]
    if name == "Bidirectional":
        return cell_of(cfg["layer"])
    if name == "RNN":
        cell = cfg["cell"][0] if isinstance(cfg["cell"], list) else cfg["cell"]
        return cell["class_name"], cell["config"]
    if name in ("SimpleRNN", "GRU", "LSTM"):
        return name + "Cell", cfg
    return name, cfg


def _gate(ra: str, on: bool) -> float:
    if ra == "linear":
        return 1.0 if on else 0.0
    return SATURATE if on else -SATURATE


def probe_weights(kind: str, c: dict, path: str) -> list[np.ndarray]:
    """Weights of one cell (units = features) that expose the candidate gate's `path` ('input' or 'recurrent')."""
    n = c["filters"] if kind == "ConvLSTM2D" else c["units"]
    k, ra = GATES[kind], c.get("recurrent_activation", "linear")
    cand = 0 if kind == "SimpleRNNCell" else 2
    blocks = lambda on: np.concatenate([np.eye(n) * (on and g == cand) for g in range(k)], axis=1)  # noqa: E731
    kernel, recurrent = blocks(path == "input"), blocks(path == "recurrent")
    # gate biases: GRU z off, r on; LSTM i on, f off, o on; the candidate 0
    on = {"SimpleRNNCell": [None], "GRUCell": [False, True, None], "LSTMCell": [True, False, None, True],
          "ConvLSTM2D": [True, False, None, True]}[kind]
    bias = np.concatenate([np.full(n, 0.0 if o is None else _gate(ra, o)) for o in on])
    if kind == "ConvLSTM2D":
        kernel, recurrent = kernel[None, None], recurrent[None, None]
    ws = [kernel, recurrent]
    if c["use_bias"]:
        ws.append(np.stack([bias, np.zeros_like(bias)]) if c.get("reset_after") else bias)
    return ws


def _chain(kind: str, c: dict, v: np.ndarray, b: np.ndarray, dtype: str):
    """(f(v), its bound) given |v_backend - v| <= b: the activation once, twice for LSTM / ConvLSTM2D."""
    for _ in range(2 if kind in ("LSTMCell", "ConvLSTM2D") else 1):
        b = tolerance.activation_bound(c["activation"], v, b, dtype)
        v = activations.apply(c["activation"], v)
    return v, b


def _drop(v: np.ndarray, kept: np.ndarray, p: float, b: np.ndarray, dtype: str):
    """v * mask (kept: 1/(1 - p), dropped: 0) and its bound, rounding of the scaling as in stochastic.py."""
    s = 1.0 / (1.0 - p) if 0.0 < p < 1.0 else 1.0
    w = v * kept * s
    return w, b * kept * s + tolerance.sum_bound(stochastic.SCALING_STEPS, dtype, np.abs(w))


def _active(p: float) -> bool:
    return 0.0 < p < 1.0


def _sequence_checks(name: str, y: np.ndarray, x: np.ndarray, kind: str, c: dict, p: float, dtype: str):
    """Input path: y = f(x * m), m one (batch, 1, ...) mask per call (time axis 1)."""
    kept = (y != 0).astype(np.float64) if _active(p) else np.ones_like(x)
    expected, bound = _chain(kind, c, *_drop(x, kept, p, np.zeros_like(x), dtype), dtype)
    out = [compare(f"{name}kept_scaling" if _active(p) else f"{name}output", y, expected, bound)]
    if _active(p):
        out += [replace(r, name=f"{name}{r.name}") for r in stochastic.mask_checks(kept, (x.shape[0], 1) + x.shape[2:], p)]
    return out


def _recurrent_checks(y: np.ndarray, h0: np.ndarray, kind: str, c: dict, p: float, dtype: str):
    """Recurrent path: y_t = f(y_{t-1} * m), y_{-1} = h0, one mask m for the whole call."""
    kept = (y[:, 0] != 0).astype(np.float64) if _active(p) else np.ones_like(h0)
    v, b, expected, bounds = h0, np.zeros_like(h0), [], []
    for _ in range(y.shape[1]):
        v, b = _chain(kind, c, *_drop(v, kept, p, b, dtype), dtype)
        expected.append(v)
        bounds.append(b)
    out = [compare("recurrent_chain", y, np.stack(expected, 1), np.stack(bounds, 1))]
    if _active(p):
        changed = int(np.sum((y != 0) != kept[:, None].astype(bool)))
        out.append(Comparison("recurrent_shared_mask", changed == 0, float(changed), math.inf if changed else 0.0,
                              actual=changed, expected=0, bound=0.0))
        out += [r for r in stochastic.mask_checks(kept, kept.shape, p) if r.name != "shared_mask"]
    return out


def _inputs(case: Case, dtype: str, config: dict):
    """(x of the sequence or step, [initial states]) in [0.5, 1.5] (never 0, so kept units stay nonzero), drawn
    in the backend dtype from the case seed."""
    rng = np.random.default_rng(case.seed)
    shape = tuple(case.input_shape[0] if case.multi_input else case.input_shape)
    draw = lambda s: rng.uniform(0.5, 1.5, s).astype(dtype).astype(np.float64)  # noqa: E731
    x = draw(shape)
    step = shape if config["class_name"] in CELLS else (shape[0],) + shape[2:]
    kind, c = cell_of(config)
    n_states = 2 if kind in ("LSTMCell", "ConvLSTM2D") else 1
    if kind == "ConvLSTM2D":
        return x, [draw(step) for _ in range(n_states)]  # 1x1 kernels, filters = channels: states like a step
    return x, [draw((step[0], c["units"])) for _ in range(n_states)]


def dropout_check(case: Case, adapter, device: str, dtype: str):
    """The 'dropout' check of one probe case on one adapter: (ok, comparisons, 'statistical')."""
    config = oracle.normalize(case.config)
    kind, c = cell_of(config)
    x, states = _inputs(case, dtype, config)
    is_cell = config["class_name"] in CELLS
    seq = (lambda a: a[:, None]) if is_cell else (lambda a: a)  # noqa: E731  a cell is one timestep
    one = probe_weights(kind, c, "input")
    ws = one * 2 if config["class_name"] == "Bidirectional" else one
    zeros = [np.zeros_like(s) for s in states]
    run = lambda inputs, w: adapter.forward(config, w, inputs, device=device, dtype=dtype, training=True,  # noqa
                                            seed=case.seed)
    y = run([x, *zeros] if is_cell else x, ws)
    ys = [np.asarray(a, dtype=np.float64) for a in (y if isinstance(y, list) else [y])]
    cs = []
    if config["class_name"] == "Bidirectional":  # merge_mode=None: [forward, backward], each its own masks
        for name, a in zip(("forward_", "backward_"), ys[:2]):
            cs += _sequence_checks(name, a, x, kind, c, c["dropout"], dtype)
        return all(r.ok for r in cs), cs, "statistical"
    cs += _sequence_checks("", seq(ys[0]), seq(x), kind, c, c["dropout"], dtype)
    r = run([np.zeros_like(x), *states], probe_weights(kind, c, "recurrent"))
    r = np.asarray(r[0] if isinstance(r, list) else r, dtype=np.float64)
    cs += _recurrent_checks(seq(r), states[0], kind, c, c["recurrent_dropout"], dtype)
    return all(r.ok for r in cs), cs, "statistical"
