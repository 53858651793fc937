"""The backend contract (adapters/base.py): what an adapter declares is what it has, and a new backend is one
module. The minimal adapter of suites/contract_adapter.py (the oracle rounded to the dtype, four layers, no
optional ability) is registered through CONFORMANCE_ADAPTERS alone and run through every generic suite in a
child pytest: it must get records from each suite that applies to it, all passing, and none from the suites whose
ability it lacks."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import adapters
from adapters.base import ABILITIES, Adapter

ROOT = Path(__file__).resolve().parent.parent
LAYERS = ("Dense", "Conv1D", "MaxPooling1D", "Flatten")
# The generic suites (the Makefile's RECORDING_SUITES): parametrised over the registered adapters, none names one.
GENERIC = ("test_conformance.py", "test_round_trip.py", "test_training.py", "test_weight_params.py",
           "test_invalid.py", "test_mask_consumption.py", "test_metamorphic_convolution.py",
           "test_metamorphic_pooling.py", "test_metamorphic_reshaping.py")


@pytest.mark.parametrize("name", adapters.names())
def test_declared_abilities_have_their_methods(name):
    adapter = adapters.get(name)
    assert set(adapter.abilities) <= set(ABILITIES), f"{name}: unknown abilities {set(adapter.abilities) - set(ABILITIES)}"
    for ability in adapter.abilities:
        for method in ABILITIES[ability][1]:  # defined by the adapter's own classes, not a default of Adapter
            own = getattr(type(getattr(adapter, "_local", adapter)), method, None)
            assert callable(own) and own is not getattr(Adapter, method, None), \
                f"{name} declares {ability!r} but does not define {method}()"


def test_an_undeclared_ability_is_a_clear_skip_reason():
    adapter = adapters.get("torch")
    assert adapter.lacks("stateful") is None
    assert "invalid_configs" in adapter.lacks("invalid_configs") and "torch" in adapter.lacks("invalid_configs")
    with pytest.raises(ValueError, match="ability='flying' is not allowed"):
        adapter.lacks("flying")
    assert "torch" not in adapters.with_ability("invalid_configs")
    with pytest.raises(NotImplementedError, match="does not declare the 'invalid_configs' ability"):
        adapter.build_error({"class_name": "Dense", "config": {"units": 0}}, (2, 3))


def test_extra_adapters_are_validated():
    with pytest.raises(ValueError, match="expected name=package.module"):
        adapters._extra("reference")
    with pytest.raises(ValueError, match="built-in adapter"):
        adapters._extra("torch=suites.contract_adapter")
    assert adapters._extra(" reference = suites.contract_adapter ,") == {"reference": "suites.contract_adapter"}


@pytest.fixture(scope="module")
def minimal_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess, list[dict]]:
    out = tmp_path_factory.mktemp("contract")
    env = {**os.environ, adapters.EXTRA_VARIABLE: "reference=suites.contract_adapter", "CONFORMANCE_EXAMPLES": "3"}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "-rs",
           "--hypothesis-profile=ci", "--backend=reference", f"--layer={','.join(LAYERS)}", f"--report-dir={out}",
           *[f"suites/{f}" for f in GENERIC]]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    path = out / "results.jsonl"
    records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()] if path.exists() else []
    return run, records


def test_a_minimal_adapter_joins_every_generic_suite(minimal_run):
    run, records = minimal_run
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    ours = [r for r in records if r["adapter"] == "reference"]
    assert {r["adapter"] for r in records} == {"reference"}, "--backend=reference ran another adapter"
    checks = {r["check"] for r in ours if r["status"] == "pass"}
    assert {"shape", "forward", "gradient"} <= checks, checks
    assert any(c.startswith("metamorphic:") for c in checks), checks
    for layer in LAYERS:
        assert {r["check"] for r in ours if r["layer"] == layer and r["status"] == "pass"} >= {"forward", "gradient"}, layer
    assert not [r for r in ours if r["status"] in ("fail", "error")], [r for r in ours if r["status"] in ("fail", "error")][:3]
    # the suites whose ability it lacks did not run it at all; the weight-parameter suite skips with the reason
    assert not {r["check"] for r in ours} & {"invalid", "round_trip", "keras1_native", "mask_chain"}
    assert "does not declare the 'weight_params' ability" in run.stdout
