"""A second witness for the torch adapter's recurrent layers: the same canonical configs (every key explicit, the
documented weights) through the torch adapter -- both its torch.nn module path and its cell loop
(adapters/torch_backend/recurrent.USE_NN_MODULES) -- and through tf-keras's real layers, in float64; outputs and
gradients must agree within the bound below. The generic conformance suite compares both with the oracle.

Where tf-keras 2.21 itself departs from Keras 2.2.x the case says how it is kept out of the comparison:
Bidirectional with return_sequences outputs zeros at masked steps in tf-keras (2.2.x repeats the previous output,
docs/traps.md 16), so those positions carry a zero cotangent and are not compared; CuDNN layers need a GPU in tf-keras,
so they are compared with the GRU / LSTM they equal (docs/traps.md 15); see suites/recurrent_witness.py for the rest.
"""
from __future__ import annotations

import numpy as np
import pytest

from adapters.torch_backend import recurrent as torch_recurrent
from oracle import activations as oracle_activations
from suites import tolerance

pytest.importorskip("tf_keras")
tf = pytest.importorskip("tensorflow")
torch_adapter = pytest.importorskip("adapters.torch_backend")
pytest.importorskip("torch")
ADAPTER = torch_adapter.ADAPTER

from suites.recurrent_witness import (  # noqa: E402  (after the importorskips)
    FEATURES, LIPSCHITZ, STEPS, UNITS, W_RANGE, bidirectional, cell, cudnn, layer, rnn, shapes, specs, state_units,
    tf_layer, tf_run, tf_weights)

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
    cells = len(specs(config["config"]["layer"] if config["class_name"] == "Bidirectional" else config))
    scale = max([np.log(4.0)] + [float(np.max(np.abs(a))) for a in reference if a.size])
    growth = 1.0 + LIPSCHITZ * 4 * UNITS * W_RANGE
    terms = STEPS * cells * (FEATURES + 4 * UNITS + 1)
    return float(tolerance.sum_bound(terms, "float64", np.asarray(scale))) * growth ** STEPS


def _draw(config: dict, initial_states: bool, seed: int):
    rng = np.random.default_rng(seed)
    ws = [rng.uniform(-W_RANGE, W_RANGE, s) for s in shapes(config)]
    steps = 1 if config["class_name"].endswith("Cell") else STEPS
    x = rng.uniform(-1.0, 1.0, (BATCH, steps, FEATURES))
    if config["class_name"].endswith("Cell"):
        x = x[:, 0]
    states = [rng.uniform(-1.0, 1.0, (BATCH, u)) for u in state_units(config)] if initial_states else []
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
    expected, expected_grads = tf_run(config, ws, inputs, m, cot)
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

SIG = {"recurrent_activation": "sigmoid"}  # with tanh: the torch.nn module path (adapters/torch_backend/recurrent.py)
CASES = {
    "SimpleRNN": (layer("SimpleRNN"), {}),
    "SimpleRNN-relu-sequences-backwards-nobias": (
        layer("SimpleRNN", activation="relu", use_bias=False, return_sequences=True, go_backwards=True), {}),
    "SimpleRNN-state-mask-unroll": (layer("SimpleRNN", return_state=True, unroll=True),
                                    {"initial_states": True, "mask": True}),
    "GRU-hard_sigmoid-sequences-state": (layer("GRU", return_sequences=True, return_state=True), {}),
    "GRU-reset_after-sigmoid-state-initial": (layer("GRU", reset_after=True, return_state=True, **SIG),
                                              {"initial_states": True}),
    "GRU-reset_after-hard_sigmoid-backwards": (layer("GRU", reset_after=True, go_backwards=True), {}),
    "GRU-implementation2-unroll-mask": (layer("GRU", implementation=2, unroll=True, return_sequences=True),
                                        {"mask": True}),
    "GRU-reset_after-nobias-sequences": (layer("GRU", reset_after=True, use_bias=False, return_sequences=True,
                                                **SIG), {}),
    "GRU-reset_after-mask-initial": (layer("GRU", reset_after=True, return_sequences=True, **SIG),
                                     {"mask": True, "initial_states": True}),
    "LSTM": (layer("LSTM"), {}),
    "LSTM-sigmoid-state-initial-backwards": (layer("LSTM", return_state=True, go_backwards=True, **SIG),
                                             {"initial_states": True}),
    "LSTM-sigmoid-mask-sequences-state": (layer("LSTM", return_sequences=True, return_state=True, **SIG),
                                          {"mask": True, "initial_states": True}),
    "LSTM-sigmoid-nobias-implementation2": (layer("LSTM", use_bias=False, implementation=2, **SIG), {}),
    "LSTM-hard_sigmoid-mask-backwards": (layer("LSTM", go_backwards=True, return_sequences=True),
                                         {"mask": True}),
    "CuDNNGRU-sequences-state-initial": (cudnn("CuDNNGRU", return_sequences=True, return_state=True),
                                         {"initial_states": True}),
    "CuDNNLSTM-state": (cudnn("CuDNNLSTM", return_state=True), {"initial_states": True}),
    "RNN-MinimalRNNCell": (rnn(cell("MinimalRNNCell")), {}),
    "RNN-MinimalRNNCell-stack-sequences": (rnn([cell("MinimalRNNCell"), cell("MinimalRNNCell", units=5)],
                                                return_sequences=True), {"mask": True}),
    "RNN-LSTMCell-sigmoid": (rnn(cell("LSTMCell", **SIG), return_state=True), {"initial_states": True}),
    # A stack's states are one flat list in Keras 2.2.x's reverse cell order on torch (as in the oracle) and per cell
    # in cell order on tf-keras (recorded: tf-keras-stacked-cells-*), so stacks are compared here without states;
    # the conformance suite checks torch's stacked states against the oracle.
    "RNN-stack-LSTM-GRU-SimpleRNN-mask": (
        rnn([cell("LSTMCell", **SIG), cell("GRUCell", reset_after=True), cell("SimpleRNNCell")],
             return_sequences=True, go_backwards=True), {"mask": True}),
    "SimpleRNNCell": (cell("SimpleRNNCell"), {"initial_states": True}),
    "GRUCell": (cell("GRUCell"), {"initial_states": True}),
    "GRUCell-reset_after": (cell("GRUCell", reset_after=True, **SIG), {"initial_states": True}),
    "LSTMCell": (cell("LSTMCell"), {"initial_states": True}),
    "MinimalRNNCell": (cell("MinimalRNNCell"), {"initial_states": True}),
    **{f"Bidirectional-{mode}-LSTM-sequences-mask": (
        bidirectional(layer("LSTM", return_sequences=True, **SIG), mode), {"mask": True})
       for mode in ("concat", "sum", "mul", "ave", None)},
    "Bidirectional-None-GRU-state-initial": (bidirectional(layer("GRU", return_state=True), None),
                                             {"initial_states": True}),
    "Bidirectional-concat-SimpleRNN-backwards-state-mask": (
        bidirectional(layer("SimpleRNN", go_backwards=True, return_state=True), "concat"), {"mask": True}),
    "Bidirectional-sum-CuDNNGRU-sequences": (bidirectional(cudnn("CuDNNGRU", return_sequences=True), "sum"), {}),
    "Bidirectional-ave-RNN-stack": (bidirectional(rnn([cell("GRUCell"), cell("MinimalRNNCell")]), "ave"), {}),
}


@pytest.mark.parametrize("case", sorted(CASES, key=str))
def test_layer_agrees_with_tf_keras(case):
    config, options = CASES[case]
    _check(config, **options)


@pytest.mark.parametrize("name", oracle_activations.NAMES)
@pytest.mark.parametrize("kind", ["SimpleRNN-activation", "LSTM-recurrent_activation", "GRU-activation"])
def test_every_activation_agrees_with_tf_keras(kind, name):
    class_name, key = kind.split("-")
    _check(layer(class_name, return_sequences=True, **{key: name}))


STATEFUL = {
    "LSTM-sigmoid": layer("LSTM", stateful=True, return_sequences=True, **SIG),
    "GRU-hard_sigmoid-state": layer("GRU", stateful=True, return_state=True),
    "RNN-stack": rnn([cell("LSTMCell"), cell("SimpleRNNCell")], stateful=True),
    "Bidirectional-SimpleRNN": bidirectional(layer("SimpleRNN", stateful=True, return_sequences=True), "concat"),
    "CuDNNLSTM": cudnn("CuDNNLSTM", stateful=True),
}


@pytest.mark.parametrize("case", sorted(STATEFUL))
def test_stateful_run_agrees_with_tf_keras(case):
    """One stateful layer called on 4 batches, reset_states() before the third: the states carried between calls
    and the reset are the tf-keras layer's (the bound grows over the steps of every call since the last reset)."""
    config = STATEFUL[case]
    ws, _, rng = _draw(config, False, 1)
    batches = [rng.uniform(-1.0, 1.0, (BATCH, STEPS, FEATURES)) for _ in range(4)]
    actual = ADAPTER.stateful_run(config, ws, batches, reset=(2,))
    real = tf_layer(config)
    real(tf.constant(batches[0]))
    real.reset_states()
    real.set_weights(tf_weights(config, ws))
    for i, (batch, got) in enumerate(zip(batches, actual)):
        if i == 2:
            real.reset_states()
        expected = [np.asarray(t) for t in tf.nest.flatten(real(tf.constant(batch)))]
        got = got if isinstance(got, list) else [got]
        since = i - 2 if i >= 2 else i  # earlier calls whose states this call carries on
        bound = _bound(expected, config) * (1.0 + LIPSCHITZ * 4 * UNITS * W_RANGE) ** (since * STEPS)
        for a, e in zip(got, expected):
            assert a.shape == e.shape and float(np.max(np.abs(a - e))) <= bound, f"call {i} of {case}"
