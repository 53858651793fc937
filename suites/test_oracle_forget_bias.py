"""unit_forget_bias=True (LSTM, LSTMCell, ConvLSTM2D, CuDNNLSTM): the bias initializer's facts are ones on the
forget block and the bias_initializer's, drawn per part, elsewhere (Keras 2.2.x LSTMCell.build)."""
from __future__ import annotations

import math

import numpy as np
import pytest

import oracle
from oracle import initializers
from suites import weight_checks

# (layer, input shape, units key, the forget block's slice for 2 units, the bias length)
ROWS = [("LSTM", (2, 3, 4), "units", slice(2, 4), 8), ("LSTMCell", [(2, 4), (2, 2), (2, 2)], "units", slice(2, 4), 8),
        ("ConvLSTM2D", (1, 2, 4, 4, 3), "filters", slice(2, 4), 8), ("CuDNNLSTM", (2, 3, 4), "units", slice(10, 12), 16)]


def _config(layer, key, init, forget=True):
    extra = {"kernel_size": 3} if layer == "ConvLSTM2D" else {}
    return {"class_name": layer, "config": {key: 2, **extra, "bias_initializer": init, "unit_forget_bias": forget}}


@pytest.mark.parametrize("layer, shape, key, forget, n", ROWS)
def test_forget_block_is_ones_and_the_rest_the_bias_initializer(layer, shape, key, forget, n):
    facts = oracle.initializer_facts(_config(layer, key, {"class_name": "Constant", "config": {"value": 0.5}}), shape)
    bias = facts[-1]
    assert bias.kind == "blocks" and bias.shape == (n,)
    values = np.concatenate([p.values for _, _, p in bias.parts])
    expected = np.full(n, 0.5)
    expected[forget] = 1.0
    np.testing.assert_array_equal(values, expected)


@pytest.mark.parametrize("layer, shape, key, forget, n", ROWS)
def test_without_unit_forget_bias_the_bias_is_one_draw(layer, shape, key, forget, n):
    bias = oracle.initializer_facts(_config(layer, key, "zeros", forget=False), shape)[-1]
    assert bias.kind == "exact" and not bias.values.any()


def test_variance_scaling_parts_have_their_own_fans():
    """2.2.x calls bias_initializer((u,)) and ((2u,)): a 1-D part's fans are sqrt of its own length."""
    init = {"class_name": "VarianceScaling", "config": {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"}}
    bias = oracle.initializer_facts(_config("LSTM", "units", init), (2, 3, 4))[-1]
    (_, _, first), (_, _, ones), (_, _, rest) = bias.parts
    assert first.high == pytest.approx(math.sqrt(3.0 / max(1.0, math.sqrt(2))))
    assert rest.high == pytest.approx(math.sqrt(3.0 / max(1.0, math.sqrt(4))))
    assert ones.kind == "exact"


def test_statistical_check_tells_the_forget_block_apart():
    """Samples from the oracle's own facts pass; samples with a zero forget block (unit_forget_bias ignored) fail."""
    facts = oracle.initializer_facts(_config("LSTM", "units", "glorot_uniform"), (2, 3, 16))[-1]
    rng = np.random.default_rng(0)
    good = np.stack([initializers.sample(facts, rng) for _ in range(256)])
    assert all(c.ok for c in weight_checks.compare_facts("bias", facts, good, "float32"))
    bad = good.copy()
    bad[:, 2:4] = 0.0
    assert not all(c.ok for c in weight_checks.compare_facts("bias", facts, bad, "float32"))
