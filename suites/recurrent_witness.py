"""Recurrent layer configs with every key explicit (seed 003's signatures and defaults), their documented weight
shapes, and the same layer built and run in tf-keras 2.21 (float64, GradientTape): the second witness that
suites/test_torch_recurrent_vs_tf_keras.py holds the torch adapter's recurrent layers against.

tf-keras departs from Keras 2.2.x in ways this module works around, each said where it happens: CuDNN layers need
a GPU (built as the GRU / LSTM they equal, docs/traps.md 15), RNN(cells=[...]) in float64 wraps the cells in a
float32-policy StackedRNNCells that rounds their inputs to float32 (built explicitly in float64), and a stack
wants its initial states nested per cell.
"""
from __future__ import annotations

import numpy as np
import tensorflow as tf
import tf_keras as tfk

from adapters import keras_cells

STEPS, FEATURES, UNITS = 4, 3, 3
# Weights and biases are drawn in [-W_RANGE, W_RANGE] and inputs in [-1, 1], so every pre-activation stays
# within |y| <= ln 4 (FEATURES * W_RANGE + UNITS * W_RANGE * max|h| + W_RANGE with |h| <= 4 for the unbounded
# activations): every activation of the list has |f'| <= 4 there (exponential's e^y is the largest).
W_RANGE = 0.08
LIPSCHITZ = 4.0


def defaults(kind: str, **over) -> dict:
    """Seed 003's signature of SimpleRNN / GRU / LSTM (and their cells) with every key explicit."""
    cfg = {"units": UNITS, "activation": "tanh", "use_bias": True, "kernel_initializer": "glorot_uniform",
           "recurrent_initializer": "orthogonal", "bias_initializer": "zeros", "kernel_regularizer": None,
           "recurrent_regularizer": None, "bias_regularizer": None, "kernel_constraint": None,
           "recurrent_constraint": None, "bias_constraint": None, "dropout": 0.0, "recurrent_dropout": 0.0}
    if kind in ("GRU", "LSTM"):
        cfg.update(recurrent_activation="hard_sigmoid", implementation=1)
    if kind == "GRU":
        cfg["reset_after"] = False
    if kind == "LSTM":
        cfg["unit_forget_bias"] = True
    return {**cfg, **over}


def layer(kind: str, **over) -> dict:
    seq = {"return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False,
           "unroll": False}
    cell_over = {k: v for k, v in over.items() if k not in seq}
    return {"class_name": kind, "config": {**defaults(kind, **cell_over), "activity_regularizer": None,
                                           **seq, **{k: v for k, v in over.items() if k in seq}}}


def cell(kind: str, **over) -> dict:
    if kind == "MinimalRNNCell":
        return {"class_name": kind, "config": {"units": over.get("units", UNITS)}}
    return {"class_name": kind, "config": defaults(kind[:-4], **over)}


def rnn(cells, **over) -> dict:
    seq = {"return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False,
           "unroll": False}
    return {"class_name": "RNN", "config": {"cell": cells, **seq, **over}}


def cudnn(kind: str, **over) -> dict:
    cfg = {k: v for k, v in defaults(kind[5:]).items() if k in ("units",) or k.endswith(("_initializer",
                                                                                           "_regularizer",
                                                                                           "_constraint"))}
    if kind == "CuDNNLSTM":
        cfg["unit_forget_bias"] = True
    return {"class_name": kind, "config": {**cfg, "activity_regularizer": None, "return_sequences": False,
                                           "return_state": False, "stateful": False, **over}}


def bidirectional(inner: dict, merge_mode) -> dict:
    return {"class_name": "Bidirectional", "config": {"layer": inner, "merge_mode": merge_mode}}


# ---- weights, states and the tf-keras side ----

GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4, "MinimalRNN": 1}


def cell_shapes(kind: str, c: dict, in_dim: int) -> list[tuple]:
    """Documented get_weights() shapes of one cell (kind without the 'Cell' suffix)."""
    u, k = c["units"], GATES[kind]
    out = [(in_dim, k * u), (u, k * u)]
    if kind != "MinimalRNN" and c["use_bias"]:
        out.append((2, k * u) if c.get("reset_after") else (k * u,))
    return out


def specs(config: dict) -> list[tuple[str, dict]]:
    """(cell kind, cell config) of each cell of a SimpleRNN / GRU / LSTM / CuDNN* / RNN layer."""
    name, c = config["class_name"], config["config"]
    if name == "RNN":
        cells = c["cell"] if isinstance(c["cell"], list) else [c["cell"]]
        return [(s["class_name"][:-4], s["config"]) for s in cells]
    if name.endswith("Cell"):
        return [(name[:-4], c)]
    return [(name[5:] if name.startswith("CuDNN") else name, c)]


def shapes(config: dict) -> list[tuple]:
    if config["class_name"] == "Bidirectional":
        return shapes(config["config"]["layer"]) * 2
    if config["class_name"].startswith("CuDNN"):
        kind, c = specs(config)[0]
        k, u = GATES[kind], c["units"]
        return [(FEATURES, k * u), (u, k * u), (2 * k * u,)]
    out, width = [], FEATURES
    for kind, c in specs(config):
        out += cell_shapes(kind, c, width)
        width = c["units"]
    return out


def state_units(config: dict) -> list[int]:
    if config["class_name"] == "Bidirectional":
        return state_units(config["config"]["layer"]) * 2
    return [c["units"] for kind, c in specs(config) for _ in range(2 if kind == "LSTM" else 1)]


# Seed 003's example cell, as the documentation writes it: the one definition the Keras adapters use.
MinimalRNNCell = keras_cells.minimal_rnn_cell(tfk, tfk.backend.dot)


def tf_cell(spec: dict):
    if spec["class_name"] == "MinimalRNNCell":
        return MinimalRNNCell(spec["config"]["units"], dtype="float64")
    return getattr(tfk.layers, spec["class_name"])(**spec["config"], dtype="float64")


def tf_layer(config: dict):
    """The real tf-keras layer; CuDNN layers as the GRU / LSTM they equal (docs/traps.md 15)."""
    name, c = config["class_name"], config["config"]
    if name == "Bidirectional":
        return tfk.layers.Bidirectional(tf_layer(c["layer"]), merge_mode=c["merge_mode"], dtype="float64")
    if name == "RNN":
        # a list of cells passed as such gets a StackedRNNCells of the default float32 policy, which casts the
        # float64 inputs of its cells to float32 (tf-keras 2.21; module docstring): built explicitly in float64
        inner = tfk.layers.StackedRNNCells([tf_cell(s) for s in c["cell"]], dtype="float64") if isinstance(
            c["cell"], list) else tf_cell(c["cell"])
        return tfk.layers.RNN(inner, **{k: v for k, v in c.items() if k != "cell"}, dtype="float64")
    if name.endswith("Cell"):
        return tf_cell(config)
    if name.startswith("CuDNN"):
        extra = {"reset_after": True} if name == "CuDNNGRU" else {}
        return getattr(tfk.layers, name[5:])(
            c["units"], activation="tanh", recurrent_activation="sigmoid", go_backwards=c.get("go_backwards", False),
            return_sequences=c["return_sequences"], return_state=c["return_state"], stateful=c["stateful"],
            dtype="float64", **extra)
    return getattr(tfk.layers, name)(**c, dtype="float64")


def tf_weights(config: dict, ws: list) -> list:
    """CuDNNGRU's (6u,) bias as GRU's (2, 3u); CuDNNLSTM's (8u,) as the sum of its halves."""
    name = config["class_name"]
    if name == "Bidirectional":
        half = len(ws) // 2
        return tf_weights(config["config"]["layer"], ws[:half]) + tf_weights(config["config"]["layer"], ws[half:])
    if name == "CuDNNGRU":
        return [ws[0], ws[1], ws[2].reshape(2, -1)]
    if name == "CuDNNLSTM":
        return [ws[0], ws[1], ws[2].reshape(2, -1).sum(axis=0)]
    return ws


def tf_weight_grads(config: dict, grads: list) -> list:
    """Gradients of the tf-keras weights in the documented layout (inverse of tf_weights)."""
    name = config["class_name"]
    if name == "Bidirectional":
        half = len(grads) // 2
        inner = config["config"]["layer"]
        return tf_weight_grads(inner, grads[:half]) + tf_weight_grads(inner, grads[half:])
    if name == "CuDNNGRU":
        return [grads[0], grads[1], grads[2].reshape(-1)]
    if name == "CuDNNLSTM":
        return [grads[0], grads[1], np.concatenate([grads[2], grads[2]])]
    return grads


def nested_states(config: dict, states: list) -> list:
    """tf-keras wants a stack's initial states nested per cell ([[h0, c0], h1, ...]); the CONTRACT's list is flat."""
    if config["class_name"] != "RNN" or not isinstance(config["config"]["cell"], list):
        return states
    out, pos = [], 0
    for kind, _ in specs(config):
        n = 2 if kind == "LSTM" else 1
        out.append(states[pos:pos + n] if n > 1 else states[pos])
        pos += n
    return out


def tf_run(config: dict, ws: list, inputs: list, mask, cotangents: list):
    """(outputs, gradients of <cotangents, outputs> w.r.t. [*inputs, *weights]) of the real layer."""
    real = tf_layer(config)
    ts = [tf.constant(a) for a in inputs]
    one_step = config["class_name"].endswith("Cell")

    def call():
        if one_step:
            out, new = real(ts[0], ts[1:])
            return [out, *(new if isinstance(new, (list, tuple)) else [new])]
        kwargs = {"mask": tf.constant(mask)} if mask is not None else {}
        if len(ts) > 1:
            kwargs["initial_state"] = nested_states(config, ts[1:])
        return tf.nest.flatten(real(ts[0], **kwargs))  # tf-keras returns a stack's states nested per cell

    call()  # builds the layer
    real.set_weights(tf_weights(config, ws))
    with tf.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        ys = call()
        loss = tf.add_n([tf.reduce_sum(y * g) for y, g in zip(ys, cotangents)])
    grads = [np.asarray(g) for g in tape.gradient(loss, ts + list(real.weights))]
    return [np.asarray(y) for y in ys], grads[:len(ts)] + tf_weight_grads(config, grads[len(ts):])
