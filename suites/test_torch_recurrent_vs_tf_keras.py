"""A second witness for the torch adapter's recurrent layers: the same canonical configs (every key explicit, the
documented weights) through the torch adapter -- both its torch.nn module path and its cell loop
(adapters/torch_recurrent.USE_NN_MODULES) -- and through tf-keras's real layers, in float64; outputs and
gradients must agree within the bound below. The generic conformance suite compares both with the oracle.

Where tf-keras 2.21 itself departs from Keras 2.2.x the case says how it is kept out of the comparison:
Bidirectional with return_sequences outputs zeros at masked steps in tf-keras (2.2.x repeats the previous output,
TRAPS.md 16), so those positions carry a zero cotangent and are not compared; CuDNN layers need a GPU in tf-keras,
so they are compared with the GRU / LSTM they equal (TRAPS.md 15); RNN(cells=[...]) in float64 wraps the cells in a
StackedRNNCells of the float32 policy, whose call rounds the inputs to float32 (a tf-keras finding), so the test
builds the StackedRNNCells itself in float64 (the same layer as 2.2.x's RNN([...])).
"""
from __future__ import annotations

import numpy as np
import pytest

from adapters import torch_recurrent
from oracle import activations as oracle_activations
from suites import tolerance

tfk = pytest.importorskip("tf_keras")
tf = pytest.importorskip("tensorflow")
torch_adapter = pytest.importorskip("adapters.torch_adapter")
pytest.importorskip("torch")
ADAPTER = torch_adapter.ADAPTER

BATCH, STEPS, FEATURES, UNITS = 2, 4, 3, 3
# Weights and biases are drawn in [-W_RANGE, W_RANGE] and inputs in [-1, 1], so every pre-activation stays
# within |y| <= ln 4 (FEATURES * W_RANGE + UNITS * W_RANGE * max|h| + W_RANGE with |h| <= 4 for the unbounded
# activations): every activation of the list has |f'| <= 4 there (exponential's e^y is the largest).
W_RANGE = 0.08
LIPSCHITZ = 4.0


def _defaults(kind: str, **over) -> dict:
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


def _layer(kind: str, **over) -> dict:
    seq = {"return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False,
           "unroll": False}
    cell_over = {k: v for k, v in over.items() if k not in seq}
    return {"class_name": kind, "config": {**_defaults(kind, **cell_over), "activity_regularizer": None,
                                           **seq, **{k: v for k, v in over.items() if k in seq}}}


def _cell(kind: str, **over) -> dict:
    if kind == "MinimalRNNCell":
        return {"class_name": kind, "config": {"units": over.get("units", UNITS)}}
    return {"class_name": kind, "config": _defaults(kind[:-4], **over)}


def _rnn(cells, **over) -> dict:
    seq = {"return_sequences": False, "return_state": False, "go_backwards": False, "stateful": False,
           "unroll": False}
    return {"class_name": "RNN", "config": {"cell": cells, **seq, **over}}


def _cudnn(kind: str, **over) -> dict:
    cfg = {k: v for k, v in _defaults(kind[5:]).items() if k in ("units",) or k.endswith(("_initializer",
                                                                                           "_regularizer",
                                                                                           "_constraint"))}
    if kind == "CuDNNLSTM":
        cfg["unit_forget_bias"] = True
    return {"class_name": kind, "config": {**cfg, "activity_regularizer": None, "return_sequences": False,
                                           "return_state": False, "stateful": False, **over}}


def _bidirectional(inner: dict, merge_mode) -> dict:
    return {"class_name": "Bidirectional", "config": {"layer": inner, "merge_mode": merge_mode}}


# ---- weights, states and the tf-keras side ----

_GATES = {"SimpleRNN": 1, "GRU": 3, "LSTM": 4, "MinimalRNN": 1}


def _cell_shapes(kind: str, c: dict, in_dim: int) -> list[tuple]:
    """Documented get_weights() shapes of one cell (kind without the 'Cell' suffix)."""
    u, k = c["units"], _GATES[kind]
    shapes = [(in_dim, k * u), (u, k * u)]
    if kind != "MinimalRNN" and c["use_bias"]:
        shapes.append((2, k * u) if c.get("reset_after") else (k * u,))
    return shapes


def _specs(config: dict) -> list[tuple[str, dict]]:
    """(cell kind, cell config) of each cell of a SimpleRNN / GRU / LSTM / CuDNN* / RNN layer."""
    name, c = config["class_name"], config["config"]
    if name == "RNN":
        cells = c["cell"] if isinstance(c["cell"], list) else [c["cell"]]
        return [(s["class_name"][:-4], s["config"]) for s in cells]
    if name.endswith("Cell"):
        return [(name[:-4], c)]
    return [(name[5:] if name.startswith("CuDNN") else name, c)]


def _shapes(config: dict) -> list[tuple]:
    if config["class_name"] == "Bidirectional":
        return _shapes(config["config"]["layer"]) * 2
    if config["class_name"].startswith("CuDNN"):
        kind, c = _specs(config)[0]
        k, u = _GATES[kind], c["units"]
        return [(FEATURES, k * u), (u, k * u), (2 * k * u,)]
    shapes, width = [], FEATURES
    for kind, c in _specs(config):
        shapes += _cell_shapes(kind, c, width)
        width = c["units"]
    return shapes


def _state_units(config: dict) -> list[int]:
    if config["class_name"] == "Bidirectional":
        return _state_units(config["config"]["layer"]) * 2
    return [c["units"] for kind, c in _specs(config) for _ in range(2 if kind == "LSTM" else 1)]


class MinimalRNNCell(tfk.layers.Layer):
    """Seed 003's example cell, as the documentation writes it."""

    def __init__(self, units, **kwargs):
        self.units = units
        self.state_size = units
        super().__init__(**kwargs)

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")
        self.built = True

    def call(self, inputs, states):
        output = tfk.backend.dot(inputs, self.kernel) + tfk.backend.dot(states[0], self.recurrent_kernel)
        return output, [output]


def _tf_cell(spec: dict):
    if spec["class_name"] == "MinimalRNNCell":
        return MinimalRNNCell(spec["config"]["units"], dtype="float64")
    return getattr(tfk.layers, spec["class_name"])(**spec["config"], dtype="float64")


def _tf_layer(config: dict):
    """The real tf-keras layer; CuDNN layers as the GRU / LSTM they equal (TRAPS.md 15)."""
    name, c = config["class_name"], config["config"]
    if name == "Bidirectional":
        return tfk.layers.Bidirectional(_tf_layer(c["layer"]), merge_mode=c["merge_mode"], dtype="float64")
    if name == "RNN":
        # a list of cells passed as such gets a StackedRNNCells of the default float32 policy, which casts the
        # float64 inputs of its cells to float32 (tf-keras 2.21; module docstring): built explicitly in float64
        cell = tfk.layers.StackedRNNCells([_tf_cell(s) for s in c["cell"]], dtype="float64") if isinstance(
            c["cell"], list) else _tf_cell(c["cell"])
        return tfk.layers.RNN(cell, **{k: v for k, v in c.items() if k != "cell"}, dtype="float64")
    if name.endswith("Cell"):
        return _tf_cell(config)
    if name.startswith("CuDNN"):
        extra = {"reset_after": True} if name == "CuDNNGRU" else {}
        return getattr(tfk.layers, name[5:])(
            c["units"], activation="tanh", recurrent_activation="sigmoid", go_backwards=c.get("go_backwards", False),
            return_sequences=c["return_sequences"], return_state=c["return_state"], stateful=c["stateful"],
            dtype="float64", **extra)
    return getattr(tfk.layers, name)(**c, dtype="float64")


def _tf_weights(config: dict, ws: list) -> list:
    """CuDNNGRU's (6u,) bias as GRU's (2, 3u); CuDNNLSTM's (8u,) as the sum of its halves."""
    name = config["class_name"]
    if name == "Bidirectional":
        half = len(ws) // 2
        return _tf_weights(config["config"]["layer"], ws[:half]) + _tf_weights(config["config"]["layer"], ws[half:])
    if name == "CuDNNGRU":
        return [ws[0], ws[1], ws[2].reshape(2, -1)]
    if name == "CuDNNLSTM":
        return [ws[0], ws[1], ws[2].reshape(2, -1).sum(axis=0)]
    return ws


def _tf_weight_grads(config: dict, grads: list) -> list:
    """Gradients of the tf-keras weights in the documented layout (inverse of _tf_weights)."""
    name = config["class_name"]
    if name == "Bidirectional":
        half = len(grads) // 2
        inner = config["config"]["layer"]
        return _tf_weight_grads(inner, grads[:half]) + _tf_weight_grads(inner, grads[half:])
    if name == "CuDNNGRU":
        return [grads[0], grads[1], grads[2].reshape(-1)]
    if name == "CuDNNLSTM":
        return [grads[0], grads[1], np.concatenate([grads[2], grads[2]])]
    return grads


def _nested_states(config: dict, states: list) -> list:
    """tf-keras wants a stack's initial states nested per cell ([[h0, c0], h1, ...]); the CONTRACT's list is flat."""
    if config["class_name"] != "RNN" or not isinstance(config["config"]["cell"], list):
        return states
    out, pos = [], 0
    for kind, _ in _specs(config):
        n = 2 if kind == "LSTM" else 1
        out.append(states[pos:pos + n] if n > 1 else states[pos])
        pos += n
    return out


def _tf_run(config: dict, ws: list, inputs: list, mask, cotangents: list):
    """(outputs, gradients of <cotangents, outputs> w.r.t. [*inputs, *weights]) of the real layer."""
    layer = _tf_layer(config)
    ts = [tf.constant(a) for a in inputs]
    cell = config["class_name"].endswith("Cell")

    def call():
        if cell:
            out, new = layer(ts[0], ts[1:])
            return [out, *(new if isinstance(new, (list, tuple)) else [new])]
        kwargs = {"mask": tf.constant(mask)} if mask is not None else {}
        if len(ts) > 1:
            kwargs["initial_state"] = _nested_states(config, ts[1:])
        return tf.nest.flatten(layer(ts[0], **kwargs))  # tf-keras returns a stack's states nested per cell

    call()  # builds the layer
    layer.set_weights(_tf_weights(config, ws))
    with tf.GradientTape() as tape:
        for t in ts:
            tape.watch(t)
        ys = call()
        loss = tf.add_n([tf.reduce_sum(y * g) for y, g in zip(ys, cotangents)])
    grads = [np.asarray(g) for g in tape.gradient(loss, ts + list(layer.weights))]
    return [np.asarray(y) for y in ys], grads[:len(ts)] + _tf_weight_grads(config, grads[len(ts):])


# ---- the comparison ----

# Mask rows: leading, inner and trailing masked steps, and a fully masked row.
MASK = np.array([[False, True, True, False], [True, False, True, True], [False, False, False, False]])
BATCH = len(MASK)


def _bound(reference: list, config: dict) -> float:
    """First-order float64 error bound of a recurrent computation (forward or backward through time).

    Each step rounds dot products of at most FEATURES + 4 * UNITS + 1 terms per cell (input, gates, bias), a
    sum_bound relative to the absolute terms, which the draws keep below max(ln 4, |reference|). An error e in
    the state reaches the next step through the recurrent matmul (at most 4 gates x UNITS x W_RANGE) and an
    activation (|f'| <= LIPSCHITZ), so it grows at most by GROWTH = 1 + LIPSCHITZ * 4 * UNITS * W_RANGE per step;
    over STEPS steps the errors sum to at most the one-step bound times GROWTH ** STEPS. The two sides (torch,
    tf-keras) each carry such an error, which sum_bound's factor 2 already counts. A wrong mapping (a swapped
    gate, a missing bias, a wrong mask rule) is off by O(W_RANGE * |reference|), about 1e10 times this bound."""
    cells = len(_specs(config["config"]["layer"] if config["class_name"] == "Bidirectional" else config))
    scale = max([np.log(4.0)] + [float(np.max(np.abs(a))) for a in reference if a.size])
    growth = 1.0 + LIPSCHITZ * 4 * UNITS * W_RANGE
    terms = STEPS * cells * (FEATURES + 4 * UNITS + 1)
    return float(tolerance.sum_bound(terms, "float64", np.asarray(scale))) * growth ** STEPS


def _draw(config: dict, initial_states: bool, seed: int):
    rng = np.random.default_rng(seed)
    ws = [rng.uniform(-W_RANGE, W_RANGE, s) for s in _shapes(config)]
    steps = 1 if config["class_name"].endswith("Cell") else STEPS
    x = rng.uniform(-1.0, 1.0, (BATCH, steps, FEATURES))
    if config["class_name"].endswith("Cell"):
        x = x[:, 0]
    states = [rng.uniform(-1.0, 1.0, (BATCH, u)) for u in _state_units(config)] if initial_states else []
    return ws, [x, *states], rng


def _torch_run(config, ws, inputs, mask, cotangents=None):
    """The adapter's output(s), and with cotangents its input and weight gradients. The adapter's own _forward /
    _vjp take the mask keyword whatever adapters/base.py passes on; the arrays are float64 already."""
    x = inputs if len(inputs) > 1 else inputs[0]
    kw = {"device": "cpu", "dtype": "float64", "mask": mask}
    y = ADAPTER._forward(config, ws, x, training=False, seed=None, **kw)
    if cotangents is None:
        return y
    gx, gw = ADAPTER._vjp(config, ws, x, cotangents if isinstance(y, list) else cotangents[0], **kw)
    return y, (gx if isinstance(gx, list) else [gx]) + list(gw)


def _check(config: dict, *, initial_states=False, mask=False, seed=0):
    """torch (module path and loop) against tf-keras: outputs and every input / weight gradient."""
    ws, inputs, rng = _draw(config, initial_states, seed)
    m = MASK if mask else None
    first = _torch_run(config, ws, inputs, m)
    outs = first if isinstance(first, list) else [first]
    cot = [rng.uniform(-1.0, 1.0, o.shape) for o in outs]
    inner = config["config"].get("layer", {}).get("config", {})
    if mask and config["class_name"] == "Bidirectional" and inner.get("return_sequences"):
        # tf-keras zeroes these outputs, 2.2.x repeats the previous one (module docstring): not compared
        cot = [g * MASK[..., None] if g.ndim == 3 else g for g in cot]
    expected, expected_grads = _tf_run(config, ws, inputs, m, cot)
    if mask and config["class_name"] == "Bidirectional" and inner.get("return_sequences"):
        expected = [e * MASK[..., None] if e.ndim == 3 else e for e in expected]
    for modules in (True, False):
        torch_recurrent.USE_NN_MODULES = modules
        try:
            y, grads = _torch_run(config, ws, inputs, m, cot)
        finally:
            torch_recurrent.USE_NN_MODULES = True
        ys = y if isinstance(y, list) else [y]
        if mask and config["class_name"] == "Bidirectional" and inner.get("return_sequences"):
            ys = [a * MASK[..., None] if a.ndim == 3 else a for a in ys]
        path = "torch.nn modules where they fit" if modules else "cell loop"
        assert [a.shape for a in ys] == [e.shape for e in expected], f"{path}: output shapes [{config}]"
        for what, actual, ref in (("output", ys, expected), ("gradient", grads, expected_grads)):
            bound = _bound(ref, config)
            for i, (a, e) in enumerate(zip(actual, ref)):
                err = float(np.max(np.abs(a - e))) if a.size else 0.0
                assert err <= bound, f"{path}: {what} {i} differs by {err:.3g} > bound {bound:.3g} [{config}]"


# ---- the cases ----

SIG = {"recurrent_activation": "sigmoid"}  # with tanh: the torch.nn module path (adapters/torch_recurrent.py)
CASES = {
    "SimpleRNN": (_layer("SimpleRNN"), {}),
    "SimpleRNN-relu-sequences-backwards-nobias": (
        _layer("SimpleRNN", activation="relu", use_bias=False, return_sequences=True, go_backwards=True), {}),
    "SimpleRNN-state-mask-unroll": (_layer("SimpleRNN", return_state=True, unroll=True),
                                    {"initial_states": True, "mask": True}),
    "GRU-hard_sigmoid-sequences-state": (_layer("GRU", return_sequences=True, return_state=True), {}),
    "GRU-reset_after-sigmoid-state-initial": (_layer("GRU", reset_after=True, return_state=True, **SIG),
                                              {"initial_states": True}),
    "GRU-reset_after-hard_sigmoid-backwards": (_layer("GRU", reset_after=True, go_backwards=True), {}),
    "GRU-implementation2-unroll-mask": (_layer("GRU", implementation=2, unroll=True, return_sequences=True),
                                        {"mask": True}),
    "GRU-reset_after-nobias-sequences": (_layer("GRU", reset_after=True, use_bias=False, return_sequences=True,
                                                **SIG), {}),
    "GRU-reset_after-mask-initial": (_layer("GRU", reset_after=True, return_sequences=True, **SIG),
                                     {"mask": True, "initial_states": True}),
    "LSTM": (_layer("LSTM"), {}),
    "LSTM-sigmoid-state-initial-backwards": (_layer("LSTM", return_state=True, go_backwards=True, **SIG),
                                             {"initial_states": True}),
    "LSTM-sigmoid-mask-sequences-state": (_layer("LSTM", return_sequences=True, return_state=True, **SIG),
                                          {"mask": True, "initial_states": True}),
    "LSTM-sigmoid-nobias-implementation2": (_layer("LSTM", use_bias=False, implementation=2, **SIG), {}),
    "LSTM-hard_sigmoid-mask-backwards": (_layer("LSTM", go_backwards=True, return_sequences=True),
                                         {"mask": True}),
    "CuDNNGRU-sequences-state-initial": (_cudnn("CuDNNGRU", return_sequences=True, return_state=True),
                                         {"initial_states": True}),
    "CuDNNLSTM-state": (_cudnn("CuDNNLSTM", return_state=True), {"initial_states": True}),
    "RNN-MinimalRNNCell": (_rnn(_cell("MinimalRNNCell")), {}),
    "RNN-MinimalRNNCell-stack-sequences": (_rnn([_cell("MinimalRNNCell"), _cell("MinimalRNNCell", units=5)],
                                                return_sequences=True), {"mask": True}),
    "RNN-LSTMCell-sigmoid": (_rnn(_cell("LSTMCell", **SIG), return_state=True), {"initial_states": True}),
    "RNN-stack-LSTM-GRU-SimpleRNN-state-mask": (
        _rnn([_cell("LSTMCell", **SIG), _cell("GRUCell", reset_after=True), _cell("SimpleRNNCell")],
             return_state=True, return_sequences=True, go_backwards=True), {"initial_states": True, "mask": True}),
    "SimpleRNNCell": (_cell("SimpleRNNCell"), {"initial_states": True}),
    "GRUCell": (_cell("GRUCell"), {"initial_states": True}),
    "GRUCell-reset_after": (_cell("GRUCell", reset_after=True, **SIG), {"initial_states": True}),
    "LSTMCell": (_cell("LSTMCell"), {"initial_states": True}),
    "MinimalRNNCell": (_cell("MinimalRNNCell"), {"initial_states": True}),
    **{f"Bidirectional-{mode}-LSTM-sequences-mask": (
        _bidirectional(_layer("LSTM", return_sequences=True, **SIG), mode), {"mask": True})
       for mode in ("concat", "sum", "mul", "ave", None)},
    "Bidirectional-None-GRU-state-initial": (_bidirectional(_layer("GRU", return_state=True), None),
                                             {"initial_states": True}),
    "Bidirectional-concat-SimpleRNN-backwards-state-mask": (
        _bidirectional(_layer("SimpleRNN", go_backwards=True, return_state=True), "concat"), {"mask": True}),
    "Bidirectional-sum-CuDNNGRU-sequences": (_bidirectional(_cudnn("CuDNNGRU", return_sequences=True), "sum"), {}),
    "Bidirectional-ave-RNN-stack": (_bidirectional(_rnn([_cell("GRUCell"), _cell("MinimalRNNCell")]), "ave"),
                                    {"initial_states": True}),
}


@pytest.mark.parametrize("case", sorted(CASES, key=str))
def test_layer_agrees_with_tf_keras(case):
    config, options = CASES[case]
    _check(config, **options)


@pytest.mark.parametrize("name", oracle_activations.NAMES)
@pytest.mark.parametrize("kind", ["SimpleRNN-activation", "LSTM-recurrent_activation", "GRU-activation"])
def test_every_activation_agrees_with_tf_keras(kind, name):
    layer, key = kind.split("-")
    _check(_layer(layer, return_sequences=True, **{key: name}))
