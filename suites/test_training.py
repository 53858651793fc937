"""Training mode, parametrised over (layer, adapter, device, dtype) x check for every layer whose training mode
differs from inference: statistical checks of the noise layers' samples, exact checks of BatchNormalization's
batch-statistics output, gradients and moving statistics. Records go to results.jsonl like the generic suite's.
"""
from __future__ import annotations

import pytest
from hypothesis import given

import adapters

from . import checks, strategies, training


@pytest.mark.parametrize("check", ["training", "seed", "moving_mean", "moving_variance", "dropout"])
def test_training(target, check, recorder):
    layer, name, device, dtype = target
    if check not in training.checks_of(layer):
        pytest.skip(f"{layer} has no {check!r} check (its training mode is its inference mode or it has no state)")
    adapter = adapters.get(name)
    recorder.skip_if_unsupported(adapter)

    @given(case=strategies.record(layer).training)
    def examples(case):
        outcome = checks.run(check, case, adapter, device, dtype)
        recorder.add(case, outcome)
        if outcome.status in ("fail", "error"):
            raise AssertionError(f"{outcome.message}\nreplay: "
                                 f"{checks.replay_command(case, name, device, dtype, check)}")

    examples()


def test_every_training_layer_has_a_training_strategy():
    import oracle
    assert {n for n, l in oracle.LAYERS.items() if l.train is not None} == set(strategies.training_layers())
