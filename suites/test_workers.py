"""The process model (adapters/workers.py): a backend that aborts, segfaults, hangs or exhausts memory costs one
`crash` / `timeout` record, the cases after it still run, the report shows them; an exception raised in a worker
is judged as if raised in place; a real adapter gives the same outcomes in a worker as in process."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

import adapters
from adapters.workers import IsolatedAdapter, describe_exception, rebuild_exception

from . import checks, divergences
from .recording import Recorder
from .strategies import Case
from .test_invalid import documented, judged

ROOT = Path(__file__).resolve().parent.parent


def _dense(units: int, seed: int = 0) -> Case:
    return Case({"class_name": "Dense", "config": {"units": units}}, (2, 3), seed)


@pytest.fixture(scope="module")
def hostile():
    adapter = IsolatedAdapter("hostile", "suites.hostile_adapter", timeout_s=4, memory_mb=400)
    yield adapter
    adapter.close()


def test_planted_crashes_and_hangs_become_records_and_the_run_goes_on(hostile, tmp_path):
    # units: 11 aborts, 12 segfaults, 13 hangs, 14 allocates until killed; the others pass
    plan = [(2, "pass"), (11, "crash"), (3, "pass"), (12, "crash"), (2, "pass"), (13, "timeout"), (4, "pass"),
            (14, "crash"), (5, "pass")]
    results = tmp_path / "results.jsonl"
    got = []
    for i, (units, _) in enumerate(plan):
        rec = Recorder(f"test_workers[{i}]", "Dense", "hostile", "cpu", "float32", "forward")
        outcome = checks.run("forward", _dense(units, i), hostile, "cpu", "float32")
        rec.add(_dense(units, i), outcome)
        rec.flush(results)
        got.append(outcome)
    assert [o.status for o in got] == [s for _, s in plan], [(o.status, o.message[:120]) for o in got]
    assert "SIGABRT" in got[1].reason and "SIGSEGV" in got[3].reason
    assert "4 s limit" in got[5].reason and "MiB limit" in got[7].reason
    assert hostile.restarts == 4 and hostile.peak_rss_mb > 0
    records = [json.loads(line) for line in results.read_text().splitlines()]
    assert [r["status"] for r in records] == [s for _, s in plan]
    out = tmp_path / "report"
    build = subprocess.run([sys.executable, "-m", "reports", "build", "--results", str(results), "--out", str(out)],
                           cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    summary = json.loads((out / "results.json").read_text())["summary"]["totals"]
    assert summary["crash"] == 3 and summary["timeout"] == 1 and summary["pass"] == 5, summary
    assert "SIGSEGV" in (out / "index.html").read_text()


def test_an_exception_from_a_worker_is_judged_as_in_place():
    class InvalidArgumentError(ValueError):  # as tf.errors.InvalidArgumentError is an OpError, not a ValueError
        pass
    InvalidArgumentError.__module__ = "tensorflow.python.framework.errors_impl"
    try:
        try:
            raise KeyError("kernel_size")
        except KeyError:
            raise TypeError("Error when deserializing class 'Conv2D' using config={...}")
    except TypeError as exc:
        wrapped = rebuild_exception(describe_exception(exc))
    assert isinstance(wrapped, TypeError) and str(wrapped).startswith("Error when deserializing class")
    inner = judged(wrapped)  # the constructor's own exception, unwrapped as the invalid-config suite does
    assert type(inner).__name__ == "KeyError" and str(inner) == "'kernel_size'" and not documented(inner)
    op = rebuild_exception(describe_exception(InvalidArgumentError("Incompatible shapes: [2,2] vs. [2,3]")))
    assert documented(op) and isinstance(op, ValueError)
    entry = divergences.Divergence(id="test-entry", adapter="test", layers=("Dense",), reason="a test entry",
                                   checks=("forward",), error=("InvalidArgumentError",), message="Incompatible")
    assert entry.explains_error(op) is None


@pytest.mark.parametrize("name", adapters.names())
def test_a_real_adapter_gives_the_same_outcomes_in_a_worker(name):
    local = adapters.get(name)
    local = getattr(local, "_local", local)  # the in-process adapter, whether or not this run isolates
    if local.installed():
        pytest.skip(local.installed())
    isolated = IsolatedAdapter(name, adapters.MODULES[name])
    try:
        cases = [_dense(3, 1), Case({"class_name": "Conv1D", "config": {"filters": 2, "kernel_size": 2}}, (2, 5, 3), 2),
                 Case({"class_name": "Embedding", "config": {"input_dim": 4, "output_dim": 2}}, (2, 3), 3)]
        for case in cases:
            for check in ("forward", "gradient"):
                a, b = (checks.run(check, case, x, "cpu", "float32") for x in (local, isolated))
                assert (a.status, a.divergence_id) == (b.status, b.divergence_id), (case, check, a, b)
                assert a.metrics == b.metrics, (case, check)  # deterministic on CPU: the same numbers
        if not local.lacks("invalid_configs"):  # the rejection is returned, its __context__ judged (test_invalid)
            bad = {"class_name": "UpSampling2D", "config": {"interpolation": "cubic"}}
            a, b = (judged(x.build_error(bad, (1, 4, 4, 2))) for x in (local, isolated))
            assert (type(a).__name__, str(a), documented(a)) == (type(b).__name__, str(b), documented(b))
        if not local.lacks("layer_api"):  # a round trip's answer holds framework containers (Keras 3 TrackedList)
            case = Case({"class_name": "AlphaDropout", "config": {"rate": 0.1, "noise_shape": [1, 1]}}, (1, 1), 0)
            a, b = (checks.run("round_trip", case, x, "cpu", "float32") for x in (local, isolated))
            assert (a.status, a.divergence_id) == (b.status, b.divergence_id), (a, b)
        assert isolated.supports({"class_name": "Dense", "config": {"units": 1}}, "cuda", "float32") == \
            local.supports({"class_name": "Dense", "config": {"units": 1}}, "cuda", "float32")
        assert isolated.restarts == 0
    finally:
        isolated.close()
