"""The oracle's training-mode recurrent dropout (no framework): its samples pass the same statistical probes as
the backends' (suites/recurrent_dropout.py), a sample that breaks each documented property is caught, and the
gate-by-gate training step with all-ones masks is the inference step (the rewrite changes no maths)."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import oracle
from oracle import recurrent

from . import recurrent_dropout, strategies, tolerance


class OracleSide:
    """The oracle called like an adapter (what dropout_check needs)."""
    name = "oracle"

    @staticmethod
    def forward(config, weights, x, *, device, dtype, training, seed):
        return oracle.forward(config, weights, x, training=training, seed=seed)


@pytest.mark.parametrize("layer", sorted(r.layer for r in strategies.FAMILIES["recurrent_training"].RECORDS))
def test_oracle_samples_pass_the_probes(layer):
    @given(case=strategies.record(layer).training)
    def examples(case):
        ok, cs, _ = recurrent_dropout.dropout_check(case, OracleSide, "cpu", "float64")
        assert ok, [c for c in cs if not c.ok]
    examples()


class PerStep(OracleSide):
    """A faulty side that draws a fresh input mask at every timestep (what a broken backend might do)."""
    @staticmethod
    def forward(config, weights, x, *, device, dtype, training, seed):
        if isinstance(x, list):
            return oracle.forward(config, weights, x, training=training, seed=seed)
        steps = [oracle.forward(config, weights, x[:, t:t + 1], training=training, seed=seed + t)
                 for t in range(x.shape[1])]
        return np.concatenate(steps, axis=1)


def test_a_mask_redrawn_per_timestep_is_caught():
    case = strategies.Case({"class_name": "SimpleRNN", "config": {
        "units": 3, "activation": "linear", "dropout": 0.5, "return_sequences": True}}, (40, 3, 3), 7)
    ok, cs, _ = recurrent_dropout.dropout_check(case, PerStep, "cpu", "float64")
    assert not ok and not next(c for c in cs if c.name == "shared_mask").ok


def test_unscaled_kept_units_are_caught():
    class Unscaled(OracleSide):
        @staticmethod
        def forward(config, weights, x, *, device, dtype, training, seed):
            return np.asarray(oracle.forward(config, weights, x, training=True, seed=seed)) * 0.5
    case = strategies.Case({"class_name": "SimpleRNN", "config": {
        "units": 3, "activation": "linear", "dropout": 0.5, "return_sequences": True}}, (40, 3, 3), 7)
    ok, cs, _ = recurrent_dropout.dropout_check(case, Unscaled, "cpu", "float64")
    assert not next(c for c in cs if c.name == "kept_scaling").ok


@pytest.mark.parametrize("config", [
    {"class_name": "GRU", "config": {"units": 3, "reset_after": False, "implementation": 1}},
    {"class_name": "GRU", "config": {"units": 3, "reset_after": True, "implementation": 2}},
    {"class_name": "LSTM", "config": {"units": 3}},
    {"class_name": "ConvLSTM2D", "config": {"filters": 2, "kernel_size": (2, 2), "padding": "same",
                                            "data_format": "channels_first"}}])
def test_all_ones_masks_give_the_inference_step(config):
    rng = np.random.default_rng(3)
    shape = (4, 3, 2, 3, 3) if config["class_name"] == "ConvLSTM2D" else (4, 3, 2)
    x = rng.uniform(-1, 1, shape)
    c = oracle.normalize(config, shape)
    ws = [rng.uniform(-0.5, 0.5, s) for s in oracle.weight_shapes(config, shape)]
    step = (shape[0],) + shape[2:]
    k = 3 if c["class_name"] == "GRU" else 4
    state = oracle.output_shape({**config, "config": {**config["config"], "return_state": True}}, shape)[1]
    ones = ([np.ones(step)] * k, [np.ones(state)] * k)
    y = recurrent.program_forward(c["class_name"], c["config"], ws, x, dropout=ones)
    expected = oracle.forward(config, ws, x)
    assert oracle.LAYERS[c["class_name"]].train is not None
    assert np.all(np.abs(y - expected) <= tolerance.sum_bound(8, "float64", np.abs(expected) + 1.0))
