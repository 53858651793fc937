"""Same seed and profile, same results: two runs of the conformance suite (derandomized ci profile) write the
same records, field for field, apart from when they were written."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import adapters

ROOT = Path(__file__).resolve().parent.parent
TIMING = ("time",)  # the only fields allowed to differ between two runs


def _run(out: Path, backend: str) -> list[dict]:
    env = {**os.environ, "CONFORMANCE_EXAMPLES": "3"}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q", "--hypothesis-profile=ci",
           f"--backend={backend}", "--layer=Dense,Conv1D,MaxPooling2D,SimpleRNN", f"--report-dir={out}",
           "suites/test_conformance.py", "suites/test_metamorphic_pooling.py"]
    run = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-2000:]
    return [{k: v for k, v in json.loads(line).items() if k not in TIMING}
            for line in (out / "results.jsonl").read_text().splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["torch", "tf_keras"])  # one adapter per framework: torch, TensorFlow
def test_two_runs_write_identical_results(tmp_path, name):
    if adapters.get(name).installed():
        pytest.skip(adapters.get(name).installed())
    first, second = _run(tmp_path / "a", name), _run(tmp_path / "b", name)
    assert len(first) > 50 and {r["status"] for r in first} >= {"pass"}
    differing = [(a, b) for a, b in zip(first, second) if a != b]
    assert len(first) == len(second) and not differing, differing[:2]
    # every record of an example names it by a stable id: the same (test, config, shape, seed) in both runs
    ids = [(r["test_id"], json.dumps(r["config"], sort_keys=True), str(r["input_shape"]), r["seed"]) for r in first]
    assert ids == [(r["test_id"], json.dumps(r["config"], sort_keys=True), str(r["input_shape"]), r["seed"])
                   for r in second]
