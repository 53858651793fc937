"""Generic weight-parameter suite: every layer that documents initializers, regularizers or constraints (found
from the oracle's specs, so new layers are covered automatically) x adapter x device x dtype x check
('initializer', 'regularizer', 'constraint'), recorded like the conformance checks."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adapters
import oracle

from . import checks, strategies
from .strategies import weight_params

LAYERS = weight_params.layers_with_weight_params()
# Each example of the initializer check pools up to 64 initialisations and every example builds real layers;
# 8 examples per (layer, adapter, dtype, check) keep the suite's cost near the conformance suite's.
EXAMPLES = min(settings().max_examples, 8)


def _check_of(check: str, layer: str) -> bool:
    """ActivityRegularization has no weights: only its loss is checked."""
    return check == "regularizer" or layer != "ActivityRegularization"


@pytest.mark.parametrize("check", ["initializer", "regularizer", "constraint"])
def test_weight_params(target, check, recorder):
    layer, name, device, dtype = target
    if layer not in LAYERS or not _check_of(check, layer):
        pytest.skip(f"{layer} has no {check} parameter")
    adapter = adapters.get(name)
    recorder.skip_if_unsupported(adapter)
    if adapter.lacks("weight_params"):
        pytest.skip(adapter.lacks("weight_params"))

    @settings(max_examples=EXAMPLES)
    @given(case=strategies.record(layer).weight_params)
    def examples(case):
        outcome = checks.run(check, case, adapter, device, dtype)
        recorder.add(case, outcome)
        if outcome.status in ("fail", "error"):
            raise AssertionError(f"{outcome.message}\nreplay: {checks.replay_command(case, name, device, dtype, check)}")

    examples()


@pytest.mark.parametrize("layer", [name for name in LAYERS if name != "ActivityRegularization"])
@settings(max_examples=5)
@given(data=st.data())
def test_every_weighted_layer_maps_its_weight_params(layer, data):
    """weight_params names one prefix per weight, and each prefix has an initializer parameter (drawn cases, so
    the derandomized profile replays them; `.example()` would not)."""
    case = data.draw(strategies.cases(layer))
    shapes = oracle.weight_shapes(case.config, case.input_shape)
    prefixes = oracle.weight_params(case.config)
    assert len(prefixes) == len(shapes), f"{layer}: {prefixes} for {len(shapes)} weights"
    assert all(f"{p}_initializer" in oracle.LAYERS[layer].spec for p in prefixes), (layer, prefixes)


# Keras 2.2.x names (keras/initializers.py, regularizers.py, constraints.py aliases) that Keras 3's get() no longer
# resolves. The adapters pass canonical class names, so conformance runs are unaffected; a saved Keras 2 config that
# names one of these does not load in Keras 3. Pinned here so a Keras 3 that restores them shows up.
KERAS3_DROPPED_NAMES = {"initializers": ["constant"], "regularizers": ["l1_l2"],
                        "constraints": ["maxnorm", "nonneg", "unitnorm"]}




@pytest.mark.parametrize("kind", sorted(KERAS3_DROPPED_NAMES))
def test_keras2_names_dropped_by_the_backends(kind):
    """Finding: Keras 3 rejects these documented Keras 2.2.x names (get('constant') raises KeyError('value'): 2.2.x's
    Constant had value=0 by default); tf-keras (the Keras 2 API) still resolves them."""
    for name in ("keras", "tf_keras"):
        if adapters.get(name).installed():
            pytest.skip(adapters.get(name).installed())
    import keras
    import tf_keras
    for key in KERAS3_DROPPED_NAMES[kind]:
        with pytest.raises((ValueError, KeyError)):  # unknown name / Constant without its value
            getattr(keras, kind).get(key)
        assert getattr(tf_keras, kind).get(key) is not None, f"tf-keras no longer resolves {kind} {key!r}"
