"""Invalid configs: the oracle rejects each with a message naming layer, parameter and value, and the Keras
adapters reject it too (a Keras adapter that accepts one is a finding, recorded like any other)."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import adapters
import oracle

from . import divergences
from .recording import Recorder

RANKS = {"Conv1D": 1, "Conv2D": 2, "Conv3D": 3}


@st.composite
def invalid_cases(draw):
    """(raw config, input shape, parameter named in the error, value named in the error)."""
    layer = draw(st.sampled_from(["Conv1D", "Conv2D", "Conv3D", "Dense", "Activation"]))
    if layer == "Dense":
        units = draw(st.integers(-3, 0))
        return {"class_name": "Dense", "config": {"units": units}}, (2, 3), "units", units
    if layer == "Activation":
        name = draw(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12).filter(
            lambda s: s not in oracle.activations.NAMES))
        return {"class_name": "Activation", "config": {"activation": name}}, (2, 3), "activation", name
    rank = RANKS[layer]
    base = {"filters": 2, "kernel_size": 2}
    shape = (1,) + (6,) * rank + (2,)
    kind = draw(st.sampled_from(["padding", "data_format", "causal", "strides_dilation", "filters",
                                 "kernel_size", "too_large", "activation"]))
    if kind == "causal" and rank == 1:
        kind = "padding"
    if kind == "padding":
        bad = draw(st.sampled_from(["full", "SAME", "Valid", "reflect", ""]))
        return {"class_name": layer, "config": {**base, "padding": bad}}, shape, "padding", bad
    if kind == "data_format":
        bad = draw(st.sampled_from(["NHWC", "channels-last", "th", "tf"]))
        return {"class_name": layer, "config": {**base, "data_format": bad}}, shape, "data_format", bad
    if kind == "causal":
        return {"class_name": layer, "config": {**base, "padding": "causal"}}, shape, "padding", "causal"
    if kind == "strides_dilation":
        s, d = draw(st.integers(2, 3)), draw(st.integers(2, 3))
        return ({"class_name": layer, "config": {**base, "strides": s, "dilation_rate": d}}, shape, "strides",
                (s,) * rank)
    if kind == "filters":
        f = draw(st.integers(-2, 0))
        return {"class_name": layer, "config": {**base, "filters": f}}, shape, "filters", f
    if kind == "kernel_size":
        k = draw(st.integers(-2, 0))
        return {"class_name": layer, "config": {**base, "kernel_size": k}}, shape, "kernel_size", k
    if kind == "activation":
        return {"class_name": layer, "config": {**base, "activation": "swishy"}}, shape, "activation", "swishy"
    k = draw(st.integers(7, 9))
    return {"class_name": layer, "config": {**base, "kernel_size": k}}, shape, "kernel_size", (k,) * rank


@given(invalid_cases())
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

    @given(invalid_cases())
    def examples(case):
        config, shape, param, value = case
        if adapter.build_error(config, shape) is not None:
            rec.add_invalid(config, shape, "pass", None)
            return
        known = divergences.match(name, config["class_name"], config["config"], "cpu", "float32", "invalid",
                                  "accepts")
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
