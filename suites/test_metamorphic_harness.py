"""The recording harness of the metamorphic relations (suites/metamorphic.py `Relation`), without a backend: a
judged example is one record (pass, or fail / error with the message), an example a known divergence makes
uninformative is a `discarded` record naming the entry before it is rejected, an assume() leaves no record, and
the oracle's runs are not recorded."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable, UnsatisfiedAssumption

from .divergences import Divergence
from .metamorphic import Backend, Discarded, Relation, discard_reason

TORCH = Backend("torch", "cpu", "float32")
CONV = {"class_name": "Conv1D", "config": {"filters": 2, "kernel_size": 3}}
ENTRY = Divergence(id="torch-conv1d-test-entry", adapter="torch", layers=("Conv2D",), reason="a test entry",
                   outcome="error", error=("RuntimeError",), message="boom")


def _records(rel: Relation, tmp_path: Path) -> list[dict]:
    path = tmp_path / "results.jsonl"
    rel.flush(path)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_every_example_leaves_one_record(tmp_path: Path) -> None:
    rel = Relation("suites/test_x.py::test_relation[torch-cpu-float32]", TORCH)
    x = np.zeros((2, 5, 3))
    with rel.example("conv1d_height_one", CONV, x, seed=1):
        pass
    with pytest.raises(UnsatisfiedAssumption), rel.example("conv1d_height_one", CONV, x, seed=3):
        raise UnsatisfiedAssumption()  # an assume() of the body: not an example, no record
    with pytest.raises(AssertionError), rel.example("conv1d_height_one", CONV, x, seed=4):
        raise AssertionError("lhs[0] = 1.0, but should be 2.0")
    records = _records(rel, tmp_path)
    assert [(r["seed"], r["status"]) for r in records] == [(1, "pass"), (4, "fail")]
    assert all(r["check"] == "metamorphic:conv1d_height_one" and r["layer"] == "Conv1D" for r in records)
    assert all(r["input_shape"] == [2, 5, 3] and r["adapter"] == "torch" for r in records)
    assert records[1]["reason"] == "lhs[0] = 1.0, but should be 2.0"
    assert "pytest" in records[1]["replay"] and "test_relation[torch-cpu-float32]" in records[1]["replay"]


def test_a_discarded_example_is_recorded_then_rejected(tmp_path: Path) -> None:
    """Hypothesis still rejects a discarded example and draws another; each one drawn leaves its record (here
    every example is discarded, so hypothesis finds none it can use)."""
    rel = Relation("t", TORCH)

    @settings(max_examples=3, database=None, derandomize=True, suppress_health_check=[HealthCheck.filter_too_much])
    @given(seed=st.integers(0, 100))
    def relation(seed):
        with rel.example("conv1d_height_one", CONV, np.zeros((2, 5, 3)), seed):
            raise Discarded(ENTRY, "Conv2D")

    with pytest.raises(Unsatisfiable):
        relation()
    records = _records(rel, tmp_path)
    assert records and {(r["status"], r["divergence_id"]) for r in records} == {("discarded", ENTRY.id)}
    assert {r["reason"] for r in records} == {
        f"discarded: {ENTRY.id} makes Conv2D raise on this config, so the relation cannot be checked"}
    assert discard_reason(ENTRY, "Conv2D", "the relation cannot be checked") == records[0]["reason"]


def test_only_the_last_failure_is_kept_across_layers(tmp_path: Path) -> None:
    """Hypothesis shrinks a failure across drawn layers: the earlier failures were steps, not failures."""
    rel = Relation("t", TORCH)
    for layer in ("MaxPooling2D", "AveragePooling1D"):
        with pytest.raises(RuntimeError), rel.example("pooling_constant", {"class_name": layer, "config": {}},
                                                       np.zeros((2, 3, 3))):
            raise RuntimeError(f"{layer} raised")
    records = _records(rel, tmp_path)
    assert [(r["layer"], r["status"], r["reason"]) for r in records] == [
        ("AveragePooling1D", "error", "RuntimeError: AveragePooling1D raised")]


def test_the_oracle_is_not_recorded(tmp_path: Path) -> None:
    rel = Relation("t", Backend("oracle", "cpu", "float64"))
    with rel.example("conv1d_height_one", CONV, np.zeros((2, 5, 3)), seed=1):
        pass
    assert _records(rel, tmp_path) == []
