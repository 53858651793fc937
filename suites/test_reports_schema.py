"""The results schema (reports/schema/results-v2.schema.json): the records of a real small run and the results.json
built from them validate; broken records do not; the compact results.json gives the records back unchanged."""
from __future__ import annotations

import copy
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from reports.build import build
from reports.inputs import load_results
from reports.results_file import compact, document_records, expand
from reports.validate import document_errors, file_errors, record_errors

from .test_reports import RECORDS, rec

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def real_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """results.jsonl of a real conformance run: Dense and MaxPooling2D on torch/cpu, 3 examples per test."""
    out = tmp_path_factory.mktemp("real-run")
    env = {**os.environ, "CONFORMANCE_EXAMPLES": "3"}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "-p", "no:xdist",
                           "--hypothesis-profile=ci", "suites/test_conformance.py", "--layer=Dense,MaxPooling2D",
                           "--backend=torch", "--device=cpu", f"--report-dir={out}"],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out / "results.jsonl"


def test_real_records_validate(real_run: Path) -> None:
    records = load_results([real_run]).records
    assert {r["layer"] for r in records} == {"Dense", "MaxPooling2D"}
    assert {r["check"] for r in records} >= {"shape", "forward", "gradient"}
    assert file_errors(real_run) == []


def test_built_results_json_validates_and_round_trips(real_run: Path, tmp_path: Path) -> None:
    build([real_run], tmp_path)
    doc = json.loads((tmp_path / "results.json").read_text(encoding="utf-8"))
    assert document_errors(doc) == []
    original = load_results([real_run]).records
    assert json.dumps(document_records(doc), sort_keys=True) == json.dumps(original, sort_keys=True)
    # the derivable replay commands are not stored, yet come back
    assert '.venv/bin/python -m suites.replay' not in (tmp_path / "results.json").read_text(encoding="utf-8")
    assert all(r["replay"] and r["replay"].startswith(".venv/bin/python -m suites.replay")
               for r in document_records(doc) if r["config"] is not None and r["check"] != "invalid")
    # compact: smaller than the records it holds, and the gzipped companion is the same document
    assert (tmp_path / "results.json").stat().st_size < real_run.stat().st_size / 2
    gz = json.loads(gzip.decompress((tmp_path / "results.json.gz").read_bytes()))
    assert gz == json.loads(json.dumps(doc))
    assert len(load_results([tmp_path / "results.json.gz"]).records) == len(original)


def test_compact_keeps_heterogeneous_records() -> None:
    """Records of one test with different keys, NaN metrics and a non-derivable replay survive the round trip."""
    records = copy.deepcopy(RECORDS) + [
        rec("Dense", "torch", "forward", "pass", seed=2, replay="custom replay", canonical=None),
        rec("Dense", "torch", "forward", "pass", seed=3, metrics={"max_error_in_bounds": float("nan")})]
    back = expand(compact(records))
    assert json.dumps(sorted(back, key=_key), sort_keys=True) == \
        json.dumps(sorted(records, key=_key), sort_keys=True)


def good() -> dict:
    record = copy.deepcopy(RECORDS[1])
    assert record_errors(record) == []
    return record


@pytest.mark.parametrize("field, value", [
    ("check", "round_trip"), ("check", "training"), ("canonical", None),
    ("canonical", {"class_name": "Conv2D", "config": {"filters": 2}}),
    ("input_shape", [[2, 3], [2, 3]]), ("input_shape", [None, 3]), ("input_shape", [[None, 3], [2, 3]]),
    ("family", "keras1"), ("run", "gpu-job")])
def test_optional_and_extended_fields_accepted(field: str, value: object) -> None:
    assert record_errors(good() | {field: value}) == []


@pytest.mark.parametrize("change", [
    {"status": "flaky"}, {"seed": "eleven"}, {"seed": 1.5}, {"check": ""}, {"check": 3},
    {"input_shape": "2x4"}, {"input_shape": [2, [3]]}, {"metrics": {"max_error_in_bounds": "big"}},
    {"canonical": "Conv2D"}, {"config": {"config": {}}}, {"replay": True}, {"schema": 2}])
def test_wrong_types_and_unknown_status_rejected(change: dict) -> None:
    assert record_errors(good() | change)


@pytest.mark.parametrize("key", ["status", "layer", "adapter", "check", "metrics", "replay", "schema"])
def test_missing_required_key_rejected(key: str) -> None:
    record = good()
    del record[key]
    assert any(f"'{key}' is a required property" in e for e in record_errors(record))


def test_broken_document_rejected(tmp_path: Path) -> None:
    build([_write(tmp_path / "in" / "results.jsonl", RECORDS)], tmp_path / "out")
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert document_errors(doc) == []
    assert document_errors({**doc, "schema": 1})
    assert document_errors({k: v for k, v in doc.items() if k != "runs"})
    broken = copy.deepcopy(doc)
    group = broken["groups"][0]
    group["rows"][0][group["fields"].index("status")] = "flaky"
    assert any("flaky" in e for e in document_errors(broken))


def test_validate_command(real_run: Path, tmp_path: Path) -> None:
    bad = _write(tmp_path / "bad.jsonl", [good() | {"status": "flaky"}])
    ok = subprocess.run([sys.executable, "-m", "reports", "validate", str(real_run)], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
    assert ok.returncode == 0, ok.stdout
    no = subprocess.run([sys.executable, "-m", "reports", "validate", str(bad)], cwd=ROOT,
                        capture_output=True, text=True, timeout=120)
    assert no.returncode == 1 and "flaky" in no.stdout


def _write(path: Path, records: list[dict]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _key(record: dict) -> str:
    return json.dumps(record, sort_keys=True)
