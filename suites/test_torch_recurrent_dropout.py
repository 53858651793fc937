"""Training-mode dropout of the torch adapter's recurrent layers, Keras 2.2.x semantics: one K.dropout(ones, rate)
mask per sequence (kept units scaled by 1/(1 - rate), dropped ones 0), drawn at the call and shared by every
timestep; the recurrent mask likewise on the state. Chosen weights make the mask visible in the output: a linear
SimpleRNN with an identity kernel, no bias, and a zero (or identity) recurrent kernel. The draws are seeded, so
the checks are deterministic; the kept count's binomial test has the false-alarm rate suites/stochastic.py
states (1e-6)."""
from __future__ import annotations

import numpy as np
import pytest

from suites import stochastic, tolerance
from suites.recurrent_witness import FEATURES, layer

torch_adapter = pytest.importorskip("adapters.torch_backend")
ADAPTER = torch_adapter.ADAPTER
RATE, BATCH, STEPS = 0.3, 64, 3
# The output is one product x * mask (the dot product with the identity kernel adds exact zeros): rounding of
# 1 - rate, 1/(1 - rate) and two products, as in suites/stochastic.py.
STEPS_ROUNDED = stochastic.SCALING_STEPS


def _simple(**over):
    return layer("SimpleRNN", units=FEATURES, activation="linear", use_bias=False, return_sequences=True, **over)


def _run(config, x, recurrent, seed):
    ws = [np.eye(FEATURES), recurrent]
    return ADAPTER._forward(config, ws, x, device="cpu", dtype="float64", training=True, seed=seed)


def _scaled_mask(y, x):
    """The kept/dropped pattern of y = x * mask: kept units equal x / (1 - rate) within the policy's bound."""
    kept = y != 0
    bound = tolerance.sum_bound(STEPS_ROUNDED, "float64", np.abs(x) / (1 - RATE))
    assert np.all(np.abs(y[kept] - (x / (1 - RATE))[kept]) <= bound[kept]), "kept units are not x / (1 - rate)"
    return kept


def test_input_dropout_mask_is_shared_across_timesteps():
    x1 = np.random.default_rng(0).uniform(0.5, 1.5, (BATCH, 1, FEATURES))
    x = np.repeat(x1, STEPS, axis=1)
    y = _run(_simple(dropout=RATE), x, np.zeros((FEATURES, FEATURES)), seed=11)
    kept = _scaled_mask(y, x)
    assert np.array_equal(kept, np.repeat(kept[:, :1], STEPS, axis=1)), "the input mask changes across timesteps"
    result = stochastic.binomial("kept", int(kept[:, 0].sum()), kept[:, 0].size, 1 - RATE)
    assert result.ok, result


def test_recurrent_dropout_mask_is_shared_across_timesteps():
    """x only at step 0, identity recurrent kernel: h_t = h_0 * m ** t, with the one recurrent mask m."""
    x = np.zeros((BATCH, STEPS, FEATURES))
    x[:, 0] = np.random.default_rng(1).uniform(0.5, 1.5, (BATCH, FEATURES))
    y = _run(_simple(recurrent_dropout=RATE), x, np.eye(FEATURES), seed=12)
    assert np.array_equal(y[:, 0], x[:, 0]), "step 0 has no previous state to drop"
    kept = _scaled_mask(y[:, 1], x[:, 0])
    expected = np.where(kept, y[:, 1] / (1 - RATE), 0.0)
    bound = tolerance.sum_bound(2 * STEPS_ROUNDED, "float64", np.abs(expected))
    assert np.all(np.abs(y[:, 2] - expected) <= bound), "step 2 does not reuse step 1's recurrent mask"
    result = stochastic.binomial("kept", int(kept.sum()), kept.size, 1 - RATE)
    assert result.ok, result


def test_seeded_training_calls_repeat_and_inference_ignores_dropout():
    x = np.random.default_rng(2).uniform(-1, 1, (4, STEPS, FEATURES))
    config = layer("GRU", dropout=RATE, recurrent_dropout=RATE, return_sequences=True)
    rng = np.random.default_rng(3)
    ws = [rng.uniform(-0.5, 0.5, s) for s in ((FEATURES, 9), (3, 9), (9,))]
    run = lambda **kw: ADAPTER._forward(config, ws, x, device="cpu", dtype="float64", **kw)
    assert np.array_equal(run(training=True, seed=5), run(training=True, seed=5))
    assert not np.array_equal(run(training=True, seed=5), run(training=True, seed=6))
    plain = layer("GRU", return_sequences=True)
    assert np.array_equal(run(training=False, seed=None),
                          ADAPTER._forward(plain, ws, x, device="cpu", dtype="float64", training=False, seed=None))
