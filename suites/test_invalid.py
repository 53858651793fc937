"""Invalid configs: the oracle rejects each with a message naming layer, parameter and value, and the Keras
adapters reject it too (a Keras adapter that accepts one is a finding, recorded like any other)."""
from __future__ import annotations

import pytest
from hypothesis import given

import adapters
import oracle

from . import divergences
from .recording import Recorder
from .strategies import invalid_cases


@given(invalid_cases)
def test_oracle_rejects_with_a_precise_message(case):
    config, shape, param, value = case
    with pytest.raises(ValueError) as err:
        oracle.normalize(config, shape)
    message = str(err.value)
    for part in (config["class_name"], param, repr(value)):
        assert part in message, f"{part!r} missing from the error {message!r} for {config}"


@pytest.mark.parametrize("name", ["tf_keras", "keras"])
def test_keras_adapters_reject_too(name, request):
    from conftest import results_path
    adapter = adapters.get(name)
    if adapter.installed():
        pytest.skip(adapter.installed())
    rec = Recorder(request.node.nodeid, "(invalid configs)", name, "cpu", "float32", "invalid")
    failures = []

    @given(invalid_cases)
    def examples(case):
        config, shape, param, value = case
        if adapter.build_error(config, shape) is not None:
            rec.add_invalid(config, shape, "pass", None)
            return
        known = divergences.match(name, config["class_name"], config["config"], "cpu", "float32", "invalid",
                                  "accepts", shape)
        status = "known-divergence" if known else "fail"
        rec.add_invalid(config, shape, status, known.reason if known else f"{name} accepted {param}={value!r}",
                        divergence_id=known.id if known else None)
        if status == "fail":
            failures.append(f"{config} on input {shape}")

    try:
        examples()
    finally:
        rec.flush(results_path(request.config))
    assert not failures, f"{name} accepted invalid configs: {failures[:5]}"
