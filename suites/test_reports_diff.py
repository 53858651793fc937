"""Tests for the run diff (python -m reports diff OLD NEW): a regression planted in a copy of a results file is
flagged with a non-zero exit, and fixed cases, status changes and numeric drift are listed."""
from __future__ import annotations

import copy
import json
import subprocess
import sys
from pathlib import Path

from reports.diff import DRIFT_FACTOR, diff

from .test_reports import RECORDS, metrics, rec

ROOT = Path(__file__).resolve().parents[1]

# A run with no failures: the reference.
OLD = [rec("Dense", "torch", "forward", "pass", seed=s, metrics=metrics(0.02 * s)) for s in range(1, 6)] + [
    rec("Conv2D", "keras", "forward", "fail", seed=9, metrics=metrics(7.0)),
    rec("Conv2D", "keras", "gradient", "pass", seed=9, metrics=metrics(0.1))]


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", "diff", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def _planted() -> list[dict]:
    new = copy.deepcopy(OLD)
    new[0].update(status="fail", metrics=metrics(3.0), replay="python -m suites.replay '{}'")  # regression
    new[1]["metrics"] = metrics(0.04 * DRIFT_FACTOR * 1.5)  # 0.04 -> 0.6: drift beyond the factor
    new[5].update(status="pass", metrics=metrics(0.3))  # the failing Conv2D example is fixed
    new[6].update(status="known-divergence", divergence_id="x")  # a status change that is no regression
    return new


def test_identical_runs_exit_zero(tmp_path: Path) -> None:
    old = _write(tmp_path / "old.jsonl", OLD)
    out = _run(str(old), str(old))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "0 regression, 0 fixed, 0 changed, 0 drift" in out.stdout
    assert f"{len(OLD)} unchanged" in out.stdout


def test_planted_regression_is_flagged(tmp_path: Path) -> None:
    old, new = _write(tmp_path / "old.jsonl", OLD), _write(tmp_path / "new.jsonl", _planted())
    page = tmp_path / "diff.html"
    out = _run(str(old), str(new), "--html", str(page))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 regression, 1 fixed, 1 changed, 1 drift" in out.stdout
    regression = next(line for line in out.stdout.splitlines() if line.startswith("regression"))
    assert "Dense torch/cpu/float32 forward: pass 0.02x -> fail 3x" in regression
    assert "replay: python -m suites.replay" in out.stdout
    body = page.read_text()
    assert body.count('<tr class="regression">') == 1 and body.count('<tr class="drift">') == 1
    assert "http" not in body.replace("http-equiv", "")  # self-contained: no external resources


def test_drift_fails_only_when_asked(tmp_path: Path) -> None:
    new = copy.deepcopy(OLD)
    new[2]["metrics"] = metrics(0.06 * DRIFT_FACTOR * 2)  # upward drift, still a pass
    old, new_path = _write(tmp_path / "old.jsonl", OLD), _write(tmp_path / "new.jsonl", new)
    assert _run(str(old), str(new_path)).returncode == 0
    assert _run(str(old), str(new_path), "--fail-on-drift").returncode == 1
    # below DRIFT_FLOOR both values are rounding noise: a 100x move there is not drift
    quiet = copy.deepcopy(OLD)
    quiet[0]["metrics"], base = metrics(1e-4), copy.deepcopy(OLD)
    base[0]["metrics"] = metrics(1e-6)
    assert not diff(base, quiet).of("drift")


def test_new_failing_example_is_a_regression_and_added_passes_are_not() -> None:
    extra_fail = rec("Dense", "torch", "forward", "error", seed=99, reason="RuntimeError")
    extra_pass = rec("Dense", "torch", "forward", "pass", seed=98)
    d = diff(OLD, OLD + [extra_fail, extra_pass])
    assert [c.key[-1] for c in d.of("regression")] == ["99"]
    assert len(d.of("added")) == 1 and not d.of("removed")
    assert len(diff(OLD + [extra_pass], OLD).of("removed")) == 1


def test_unreadable_input_exits_two(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    out = _run(str(empty), str(_write(tmp_path / "new.jsonl", RECORDS)))
    assert out.returncode == 2 and "no records" in out.stderr
