"""Reading results: results.jsonl files (with their sibling environment.json) and results.json documents.

Every input is one or more *runs* (a CPU job, a GPU job, a shard ...). Each record is tagged with the `run` it came
from (unless it already carries one, as the records of a merged file do), and each run keeps its own environment,
so a report of several runs shows every run's environment. Overlap: the same example (layer, adapter, device,
dtype, check, config, input shape, seed) recorded by two different runs keeps both records; the loader adds a
warning naming the runs, cell counts count both, and the diff uses the most severe of them.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from .aggregate import Loaded, Record, parse_lines, result_key
from .results_file import document_records, is_document, read_text

# run-state.json's states other than `complete` (written by conftest.py), as the report explains them
INCOMPLETE = {"interrupted": "interrupted: Ctrl-C or SIGTERM", "running": "it never finished: its process was killed"}


def _environment_file(path: Path, warnings: list[str]) -> list[dict[str, Any]]:
    """The runs an environment.json describes: a flat object is one run; {"runs": [...]} is a merged file's."""
    if not path.is_file():
        return []
    try:
        env = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.append(f"ignoring unreadable {path}: {exc}")
        return []
    if isinstance(env, dict) and isinstance(env.get("runs"), list):
        return [r for r in env["runs"] if isinstance(r, dict) and "run" in r]
    if not isinstance(env, dict):
        warnings.append(f"ignoring {path}: not a JSON object")
        return []
    return [{"environment": {str(k): str(v) for k, v in env.items()}}]


def _read(path: Path, loaded: Loaded) -> tuple[list[Record], list[dict[str, Any]]]:
    """Records and runs of one input file."""
    text = read_text(path)
    try:
        whole = json.loads(text)
    except ValueError:
        whole = None
    if is_document(whole):
        loaded.malformed += int(whole.get("malformed_lines") or 0)
        runs = whole.get("runs") or ([{"environment": whole["environment"]}] if whole.get("environment") else [])
        return document_records(whole), list(runs)
    records, malformed = parse_lines(text.split("\n"))
    loaded.malformed += malformed
    runs = _environment_file(path.parent / "environment.json", loaded.warnings)
    state = _run_state(path.parent / "run-state.json")
    if state and len(runs) <= 1:
        runs = [{**(runs[0] if runs else {"environment": {}}), "state": state}]
    return records + _left_behind(path.parent), runs


def _run_state(path: Path) -> str | None:
    """'complete', 'interrupted' or 'running' (the run was killed before it finished) from run-state.json."""
    try:
        return str(json.loads(path.read_text(encoding="utf-8"))["state"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _left_behind(results_dir: Path) -> list[Record]:
    """A `crash` record for each in-flight file a run left (suites/inflight.py): the check its process was
    running when it died, with the command that replays it in a fresh process."""
    from .results_file import RECORD_SCHEMA, derived_replay
    out = []
    for f in sorted((results_dir / "inflight").glob("*.json")):
        try:
            spec = json.loads(f.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        rec = {"schema": RECORD_SCHEMA, "layer": spec.get("layer") or (spec.get("config") or {}).get("class_name"), "family": None,
               "adapter": spec.get("adapter"), "device": spec.get("device"), "dtype": spec.get("dtype"),
               "check": spec.get("check"), "test_id": spec.get("test_id"), "config": spec.get("config"),
               "canonical": None, "input_shape": spec.get("input_shape"), "seed": spec.get("seed"),
               **({"mask": True} if spec.get("mask") else {}), "status": "crash",
               "reason": f"the test process (pid {spec.get('pid')}) died during this check; no other record "
                         "was written for it", "metrics": None, "reference": None, "divergence_id": None,
               "time": str(spec.get("time"))}
        rec["replay"] = spec.get("replay") or derived_replay(rec)
        out.append(rec)
    return out


def _name(wanted: str, taken: set[str]) -> str:
    name, n = wanted, 1
    while name in taken:
        n += 1
        name = f"{wanted}#{n}"
    return name


def _overlaps(records: list[Record]) -> str | None:
    """A warning when some example was recorded by more than one run."""
    runs: dict[tuple, set[str]] = defaultdict(set)
    for r in records:
        runs[result_key(r)].add(str(r.get("run")))
    shared = [sorted(v) for v in runs.values() if len(v) > 1]
    if not shared:
        return None
    pairs = sorted({" + ".join(v) for v in shared})
    return (f"{len(shared)} example(s) were recorded by more than one run ({'; '.join(pairs[:5])}"
            f"{' ...' if len(pairs) > 5 else ''}): every record is kept and counted; the diff uses the most severe")


def load_results(paths: Iterable[str | Path]) -> Loaded:
    """Read results files in order; missing/empty files and overlapping runs become warnings."""
    loaded = Loaded()
    taken: set[str] = set()
    for path in map(Path, paths):
        if not path.is_file():
            loaded.warnings.append(f"results file not found: {path}")
            continue
        records, runs = _read(path, loaded)
        if not records:
            loaded.warnings.append(f"results file is empty: {path}")
            continue
        default = _name(str(path), taken)
        taken.add(default)
        for r in records:
            r.setdefault("run", default)
        described = {str(run.get("run", default)): run for run in runs}
        # a run name an earlier input already used (the same file given twice) is renamed, so overlaps show
        renamed: dict[str, str] = {}
        for name in sorted({str(r["run"]) for r in records}, key=lambda n: (n != default, n)):
            renamed[name] = name if name == default else _name(name, taken)
            taken.add(renamed[name])
        for r in records:
            r["run"] = renamed[str(r["run"])]
        for old, name in renamed.items():
            run = described.get(old, {})
            loaded.runs.append({"run": name, "source": str(run.get("source", path)),
                                "environment": dict(run.get("environment") or {}),
                                **({"state": str(run["state"])} if run.get("state") else {})})
        loaded.records.extend(records)
    if loaded.runs:
        loaded.environment = loaded.runs[0]["environment"]
    if loaded.malformed:
        loaded.warnings.append(f"skipped {loaded.malformed} malformed line(s)")
    overlap = _overlaps(loaded.records)
    if overlap:
        loaded.warnings.append(overlap)
    for run in loaded.runs:
        if run.get("state", "complete") != "complete":
            loaded.warnings.append(f"run {run['run']} is incomplete ({INCOMPLETE.get(run['state'], run['state'])}): "
                                   "its report holds only what it recorded before it stopped")
    if not loaded.records:
        loaded.warnings.append("no results: the report is empty")
    return loaded
