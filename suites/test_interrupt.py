"""Nothing is lost: a run interrupted with SIGTERM still writes a valid report marked incomplete, with every
record flushed; a process that dies inside a check leaves that check on disk, as a replayable `crash` record."""
from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

import adapters

ROOT = Path(__file__).resolve().parent.parent


def _lines(path: Path) -> int:
    return len(path.read_text().splitlines()) if path.exists() else 0


def _validate(*files: Path) -> None:
    v = subprocess.run([sys.executable, "-m", "reports", "validate", *map(str, files)], cwd=ROOT,
                       capture_output=True, text=True, timeout=300)
    assert v.returncode == 0, v.stdout[-2000:] + v.stderr[-2000:]


@pytest.mark.skipif(adapters.get("torch").installed() is not None, reason="torch is not installed")
def test_sigterm_during_a_real_run_leaves_a_valid_report_marked_incomplete(tmp_path):
    out = tmp_path / "report"
    env = {**os.environ, "CONFORMANCE_EXAMPLES": "40", "CONFORMANCE_ISOLATE": "1"}
    # the conformance suite on torch: ~1000 tests, minutes; it is interrupted once some tests have recorded
    runner = subprocess.Popen([sys.executable, "-m", "reports", "run", "--out", str(out), "--",
                               "-p", "no:cacheprovider", "--hypothesis-profile=ci", "-q",
                               "suites/test_conformance.py", "--backend", "torch"],
                              cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 240
    while _lines(out / "results.jsonl") < 200 and time.monotonic() < deadline and runner.poll() is None:
        time.sleep(0.5)
    before = _lines(out / "results.jsonl")
    assert runner.poll() is None and before >= 200, f"the run ended or recorded too little ({before} lines)"
    runner.send_signal(signal.SIGTERM)
    log, _ = runner.communicate(timeout=300)
    assert runner.returncode == 128 + signal.SIGTERM, log[-3000:]
    assert json.loads((out / "run-state.json").read_text())["state"] == "interrupted"
    assert not list((out / "inflight").glob("*.json")), "an interrupted check left its in-flight file"
    doc = json.loads((out / "results.json").read_text())
    assert doc["runs"][0]["state"] == "interrupted" and doc["n_records"] >= before
    assert any("incomplete" in w for w in doc["warnings"])
    assert 'id="incomplete"' in (out / "index.html").read_text()
    _validate(out / "results.json", out / "results.jsonl")


def test_a_process_dying_inside_a_check_leaves_a_replayable_crash_record(tmp_path):
    # the hostile adapter in process (no worker): Dense(units=11) aborts the process itself
    env = {**os.environ, "CONFORMANCE_ADAPTERS": "hostile=suites.hostile_adapter", "CONFORMANCE_ISOLATE": "0"}
    script = textwrap.dedent(f"""
        import adapters
        from suites import checks, inflight
        from suites.strategies import Case
        inflight.configure({str(tmp_path)!r})
        inflight.test_id = "suites/test_conformance.py::test_conformance[hostile-Dense]"
        checks.run("forward", Case({{"class_name": "Dense", "config": {{"units": 2}}}}, (2, 3), 1),
                   adapters.get("hostile"), "cpu", "float32")
        checks.run("forward", Case({{"class_name": "Dense", "config": {{"units": 11}}}}, (2, 3), 7),
                   adapters.get("hostile"), "cpu", "float32")
    """)
    died = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=300)
    assert died.returncode == -signal.SIGABRT, died.stderr[-2000:]
    left = list((tmp_path / "inflight").glob("*.json"))
    assert len(left) == 1, "the check that passed must not be left in flight, the one that died must"
    (tmp_path / "results.jsonl").write_text("")
    out = tmp_path / "report"
    build = subprocess.run([sys.executable, "-m", "reports", "build", "--results", str(tmp_path / "results.jsonl"),
                            "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert build.returncode == 0, build.stderr[-2000:]
    doc = json.loads((out / "results.json").read_text())
    [crash] = [r for g in doc["groups"] for r in [dict(zip(g["fields"], row)) | g["common"] for row in g["rows"]]]
    assert crash["status"] == "crash" and crash["seed"] == 7 and crash["adapter"] == "hostile"
    assert crash["config"] == {"class_name": "Dense", "config": {"units": 11}} and "died" in crash["reason"]
    # the replay command reruns that check in a fresh process, which dies the same way
    spec = json.loads(shlex.split(crash["replay"] if isinstance(crash["replay"], str) else
                                  _derived(crash))[-1])
    replay = subprocess.run([sys.executable, "-m", "suites.replay", json.dumps(spec)], cwd=ROOT, env=env,
                            capture_output=True, timeout=300)
    assert replay.returncode == -signal.SIGABRT
    _validate(out / "results.json")


def _derived(record: dict) -> str:
    from reports.results_file import derived_replay
    return derived_replay(record)
