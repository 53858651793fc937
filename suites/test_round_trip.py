"""The common layer API of seed 003 (suites/layer_api.py) on every Keras adapter, for every layer the oracle
knows: get_config / from_config, layers.serialize / deserialize, get_weights / set_weights, compute_output_shape.
Records go to the report under check "round_trip"; failures print the replay command."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adapters
import oracle

from . import checks, strategies
from .recording import Recorder

# Serialised objects set on the layers that take them, so that their get_config() round trip is exercised too.
# The factors are dyadic: tf-keras (like Keras 2.2.x, K.cast_to_floatx) stores them in float32.
REGULARIZER = {"class_name": "L1L2", "config": {"l1": 0.5, "l2": 0.25}}
CONSTRAINT = {"class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": 0}}
WEIGHT_PARAMS = {"kernel_regularizer": REGULARIZER, "bias_regularizer": REGULARIZER,
                 "activity_regularizer": REGULARIZER, "kernel_constraint": CONSTRAINT, "bias_constraint": CONSTRAINT}
DTYPE = "float32"  # the layer API does not depend on the dtype; one keeps the check cheap
# Rows without a layer object of their own: the reason is recorded in the report instead of a result.
NOT_A_LAYER = {"Input": "Input() is a function returning a symbolic tensor, not a layer with a config; the tensor's "
                        "shape and dtype are checked by suites/test_advanced_activations_backends.py"}


def with_weight_params(case: strategies.Case, keys: list[str]) -> strategies.Case:
    """The case with the chosen regularizer/constraint parameters set (keys the layer does not take are skipped)."""
    spec = oracle.layer_of(case.config).spec
    extra = {k: WEIGHT_PARAMS[k] for k in keys if k in spec}
    return strategies.Case({**case.config, "config": {**case.config["config"], **extra}}, case.input_shape, case.seed)


def pytest_generate_tests(metafunc):
    """(layer, adapter) for every layer the options select and every Keras adapter (those with a layer API)."""
    if "api_target" in metafunc.fixturenames:
        from conftest import _chosen
        layers = [row for row in _chosen(metafunc.config, "--layer", oracle.ROWS) if row in oracle.LAYERS]
        names = [n for n in _chosen(metafunc.config, "--backend", adapters.names())
                 if hasattr(adapters.get(n), "round_trip")]
        ts = [(layer, name) for name in names for layer in layers]
        metafunc.parametrize("api_target", ts, ids=["-".join(t) for t in ts])


def test_common_layer_api(api_target, request):
    from conftest import results_path
    layer, name = api_target
    adapter = adapters.get(name)
    rec = Recorder(request.node.nodeid, layer, name, "cpu", DTYPE, "round_trip")
    why = NOT_A_LAYER.get(layer) or adapter.supports({"class_name": layer, "config": {}}, "cpu", DTYPE)
    if why:
        rec.unsupported(why)
        rec.flush(results_path(request.config))
        pytest.skip(f"{layer} on {name}: {why}")
    failures = []

    # A quarter of the profile's examples: each example builds the real layer four times.
    @settings(max_examples=max(4, settings().max_examples // 4))
    @given(case=strategies.cases(layer), keys=st.lists(st.sampled_from(sorted(WEIGHT_PARAMS)), unique=True))
    def examples(case, keys):
        case = with_weight_params(case, keys)
        outcome = checks.run("round_trip", case, adapter, "cpu", DTYPE)
        rec.add(case, outcome)
        if outcome.status in ("fail", "error"):
            failures.append(f"{outcome.message}\nreplay: {checks.replay_command(case, name, 'cpu', DTYPE, 'round_trip')}")

    rec.run_examples(examples, failures, results_path(request.config))


@pytest.mark.parametrize("name", adapters.with_ability("layer_api"))
def test_keras1_configs_on_the_real_backends(name, request):
    """Every Keras 1 row given to the backend as written (check keras1_native): Keras 2.2.x accepted Keras 1
    arguments through its legacy interface; a backend that rejects them is a known divergence, one that reads them
    otherwise than seed 000 a failure."""
    from conftest import _chosen, results_path
    adapter = adapters.get(name)
    if adapter.installed():
        pytest.skip(adapter.installed())
    rows = [row for row in _chosen(request.config, "--layer", oracle.ROWS) if row in oracle.keras1.ROWS]
    failures = []
    for row in rows:
        rec = Recorder(request.node.nodeid, row, name, "cpu", DTYPE, "keras1_native")

        @settings(max_examples=max(2, settings().max_examples // 10))
        @given(case=strategies.cases(row))
        def examples(case):
            outcome = checks.run("keras1_native", case, adapter, "cpu", DTYPE)
            rec.add(case, outcome)
            if outcome.status in ("fail", "error"):
                failures.append(outcome.message)

        try:  # every row is recorded before the assertion below (run_examples would stop at the first row failing)
            examples()
        finally:
            rec.flush(results_path(request.config))
    assert not failures, "\n".join(failures[:3])
