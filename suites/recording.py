"""Result records (DESIGN.md) and their results.jsonl file.

A hypothesis test runs many examples and, when one fails, shrinks it and replays the smallest one last. The
recorder keeps every distinct passing example and only the last failing one, so shrinking steps are not
counted as failures.
"""
from __future__ import annotations

import fcntl
import json
import time
from pathlib import Path

import pytest

import oracle

from .checks import Outcome, replay_command
from .strategies import Case

SCHEMA = 1


def family(layer: str) -> str | None:
    """The oracle family of a row (the report groups its rows by it): 'keras1' for the Keras 1 names of seed 000;
    None for a name the oracle lacks."""
    if layer in oracle.keras1.ROWS:
        return "keras1"
    registered = oracle.LAYERS.get(layer)
    return registered.family if registered else None


class Recorder:
    """Collects the records of one pytest test and appends them to results.jsonl at teardown."""

    def __init__(self, test_id: str, layer: str, adapter: str, device: str, dtype: str, check: str):
        self.base = {"schema": SCHEMA, "layer": layer, "family": family(layer), "adapter": adapter,
                     "device": device, "dtype": dtype, "check": check, "test_id": test_id}
        self.kept: dict[str, dict] = {}
        self.last_failure: dict | None = None

    def _record(self, case: Case | None, status: str, **fields) -> dict:
        # A Keras 1 row also records the Keras 2 config it ran as (the report shows both).
        canonical = oracle.normalize(case.config) if case and self.base["family"] == "keras1" else None
        return {**self.base, "config": case.config if case else None, "canonical": canonical,
                "input_shape": list(case.input_shape) if case else None, "seed": case.seed if case else None,
                **({"mask": True} if case and case.mask else {}),
                "status": status, "reason": None, "metrics": None, "reference": None, "replay": None,
                "divergence_id": None, "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"), **fields}

    def add(self, case: Case, outcome: Outcome) -> None:
        rec = self._record(case, outcome.status, reason=outcome.reason or (outcome.message or None),
                           metrics=outcome.metrics, reference=outcome.reference,
                           divergence_id=outcome.divergence_id,
                           **({"observed": outcome.details["observed"]} if outcome.details.get("observed") else {}),
                           replay=replay_command(case, self.base["adapter"], self.base["device"],
                                                 self.base["dtype"], self.base["check"]))
        if outcome.status in ("fail", "error"):
            self.last_failure = rec
        else:
            self.kept[case.to_json()] = rec

    def add_invalid(self, config: dict, input_shape: tuple, status: str, reason: str | None,
                    divergence_id: str | None = None, observed: str | None = None) -> None:
        """One invalid-config example: `pass` when the backend rejected it as the documentation implies;
        `observed`: what the backend did (the exception type and text it raised), when it raised."""
        rec = {**self._record(None, status, reason=reason, divergence_id=divergence_id),
               "layer": config["class_name"], "family": family(config["class_name"]), "config": config,
               "input_shape": list(input_shape), **({"observed": observed} if observed is not None else {})}
        self.kept[repr((config, input_shape))] = rec

    def skip_if_unsupported(self, adapter) -> None:
        """Record the adapter's reason and skip the test when it cannot run this row on this device and dtype
        (a Keras 1 row asks for the Keras 2 class it runs as)."""
        b = self.base
        why = adapter.supports({"class_name": oracle.row_target(b["layer"]), "config": {}}, b["device"], b["dtype"])
        if why:
            self.unsupported(why)
            pytest.skip(f"{b['layer']} on {adapter.name}/{b['device']}/{b['dtype']}: {why}")

    def unsupported(self, reason: str) -> None:
        self.kept["unsupported"] = self._record(None, "unsupported", reason=reason)

    def discard(self, case: Case | None, divergence_id: str, reason: str) -> None:
        """One example drawn but not judged, because the known divergence `divergence_id` makes it uninformative
        (status `discarded`; `reason` says why): the suite may then reject it, but it is not dropped silently."""
        # kept like a passing example (a shrinking step that discards the same case again is one record); without
        # a case, one record per entry and reason
        key = case.to_json() if case else repr(("discarded", divergence_id, reason))
        self.kept[key] = self._record(case, "discarded", reason=reason, divergence_id=divergence_id)

    def crash(self, message: str) -> None:
        """The test died outside a check (e.g. the framework failed to import)."""
        self.last_failure = self._record(None, "crash", reason=message)

    def records(self) -> list[dict]:
        return list(self.kept.values()) + ([self.last_failure] if self.last_failure else [])

    def flush(self, path: Path | None) -> None:
        append(path, self.records())

    def run_examples(self, examples, failures: list[str], path: Path | None) -> None:
        """Run a hypothesis test body that records every example and collects failure messages (so one failure
        does not stop the others being recorded); flush the records whatever happens, then fail with the first
        three messages."""
        try:
            examples()
        finally:
            self.flush(path)
        assert not failures, "\n".join(failures[:3])


def append(path: Path | None, records: list[dict]) -> None:
    """Append records as JSON lines; a lock keeps parallel workers' lines whole. No path: record nothing."""
    if not records or path is None:
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(r, default=str) + "\n" for r in records)
    with open(path, "a") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        f.write(text)
        fcntl.flock(f, fcntl.LOCK_UN)
