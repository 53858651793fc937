"""Loading and aggregation of results.jsonl records (no rendering here)."""
from __future__ import annotations

import json
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable

Record = dict[str, Any]
Column = tuple[str, str, str]

# discarded: an example a suite drew but did not judge, because a known divergence of the backend makes it
# uninformative (the record names the entry); it neither passes nor fails.
# timeout: the backend call outlasted its limit and its worker process was killed (adapters/workers.py); crash: the
# worker died (a signal, out of memory) or the test died outside a check.
STATUSES = ("pass", "fail", "error", "crash", "timeout", "unsupported", "known-divergence", "discarded")
NON_FAILING = frozenset({"pass", "unsupported", "known-divergence", "discarded"})
# Among the non-failing statuses a cell shows its least informative one: a discarded example was drawn but not
# judged (below unsupported, where nothing ran, and a known divergence, where a difference was observed).
_SEVERITY = {"pass": 1, "discarded": 2, "unsupported": 3, "known-divergence": 4, "fail": 5, "error": 6, "timeout": 7, "crash": 8}


@dataclass
class Loaded:
    """Records read from one or more results files, plus what went wrong."""

    records: list[Record] = field(default_factory=list)
    malformed: int = 0
    warnings: list[str] = field(default_factory=list)
    environment: dict[str, str] = field(default_factory=dict)  # the first run's (kept for older callers)
    runs: list[dict[str, Any]] = field(default_factory=list)   # [{run, source, environment}] in input order


def is_failing(status: str) -> bool:
    """True for fail/error/crash/timeout and for any status this tool does not know."""
    return status not in NON_FAILING


def severity(status: str) -> int:
    """Rank of a status, higher is worse; unknown statuses rank like 'error'."""
    return _SEVERITY.get(status, _SEVERITY["error"])


def parse_lines(lines: Iterable[str]) -> tuple[list[Record], int]:
    """Parse JSON lines; return (records, number of malformed non-blank lines)."""
    records: list[Record] = []
    malformed = 0
    for line in lines:
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except ValueError:
            malformed += 1
            continue
        if isinstance(obj, dict) and isinstance(obj.get("status"), str) \
                and isinstance(obj.get("layer"), str):
            records.append(obj)
        else:
            malformed += 1
    return records, malformed


def column(record: Record) -> Column:
    """The matrix column of a record: (adapter, device, dtype)."""
    adapter, device, dtype = (str(record.get(k) or "?") for k in ("adapter", "device", "dtype"))
    return adapter, device, dtype


def example_key(record: Record) -> tuple[Any, ...]:
    """Identity of the example a record checked (per-test records use test_id)."""
    if record.get("config") is None:
        return ("test", record.get("test_id"))
    return (json.dumps(record["config"], sort_keys=True, default=str),
            json.dumps(record.get("input_shape")), record.get("seed"))


def result_key(record: Record) -> tuple:
    """Identity of one check of one example in one column: (layer, adapter, device, dtype, check, example)."""
    return (record["layer"], *column(record), str(record.get("check")), *map(str, example_key(record)))


def error_in_bounds(record: Record) -> float | None:
    """metrics.max_error_in_bounds as a float (NaN counts as +inf), or None."""
    metrics = record.get("metrics")
    value = metrics.get("max_error_in_bounds") if isinstance(metrics, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return math.inf if math.isnan(value) else float(value)


def count_statuses(records: Iterable[Record]) -> dict[str, int]:
    """Status -> count, known statuses first in canonical order, zeros omitted."""
    counts = Counter(r["status"] for r in records)
    order = [s for s in STATUSES if counts[s]] + sorted(set(counts) - set(STATUSES))
    return {s: counts[s] for s in order}


def worst_record(records: list[Record]) -> Record:
    """The most severe record, ties broken by the larger error/bound."""
    return max(records, key=lambda r: (severity(r["status"]), error_in_bounds(r) or -1.0))


# error/bound histogram: an exact-zero bin, half-decade bins from 1e-4 to 1e2, and the two open ends.
HISTOGRAM_EDGES = tuple(10.0 ** (e / 2) for e in range(-8, 5))


def histogram(values: Iterable[float]) -> list[dict[str, Any]]:
    """Counts of error/bound values per bin; `over` marks the bins from the bound (1) up."""
    values = list(values)
    labels = ["0", f"<{HISTOGRAM_EDGES[0]:.0e}"] + [
        f"{lo:.2g}-{hi:.2g}" for lo, hi in zip(HISTOGRAM_EDGES, HISTOGRAM_EDGES[1:])] + [f">={HISTOGRAM_EDGES[-1]:.0e}"]
    counts = [0] * len(labels)
    for v in values:
        if v == 0:
            counts[0] += 1
        else:
            counts[1 + sum(v >= e for e in HISTOGRAM_EDGES)] += 1
    lows = [0.0, 0.0] + list(HISTOGRAM_EDGES)
    # axis ticks: the whole decades only (half-decade labels overlap at the chart's bar width)
    ticks = ["0", "<1e-4"] + [f"1e{round(math.log10(lo))}" if float(math.log10(lo)).is_integer() else ""
                              for lo in HISTOGRAM_EDGES[:-1]] + [f">1e{round(math.log10(HISTOGRAM_EDGES[-1]))}"]
    return [{"label": lab, "count": n, "over": lo >= 1.0, "tick": tick}
            for lab, n, lo, tick in zip(labels, counts, lows, ticks)]


def cell_id(layer: str, col: Column) -> str:
    """The HTML id of a cell's drill-down section."""
    return "cell-" + "-".join((layer,) + tuple(col)).replace(" ", "_")


def _cell(layer: str, col: Column, records: list[Record]) -> dict[str, Any]:
    """Aggregate the records of one (layer, adapter, device, dtype) cell."""
    errors = [e for e in map(error_in_bounds, records) if e is not None]
    reasons = {str(r.get("reason")) for r in records
               if r["status"] == "unsupported" and r.get("reason")}
    return {"id": cell_id(layer, col), "histogram": histogram(errors),
            "layer": layer, "family": next((str(r["family"]) for r in records if r.get("family")), None),
            "adapter": col[0], "device": col[1], "dtype": col[2],
            "counts": count_statuses(records),
            "examples": len({example_key(r) for r in records}),
            "worst_error_in_bounds": max(errors) if errors else None,
            "worst_status": worst_record(records)["status"],
            "unsupported_reasons": sorted(reasons),
            # Keras 1 records carry the Keras 2 config they translate to; the matrix row names its class
            "canonical_classes": sorted({str(r["canonical"].get("class_name")) for r in records
                                         if isinstance(r.get("canonical"), dict)})}


def aggregate_cells(records: Iterable[Record]) -> list[dict[str, Any]]:
    """One cell per (layer, adapter, device, dtype), sorted by layer then column."""
    groups: dict[tuple[str, Column], list[Record]] = defaultdict(list)
    for record in records:
        groups[(record["layer"], column(record))].append(record)
    return [_cell(layer, col, recs) for (layer, col), recs in sorted(groups.items())]


def score(counts: dict[str, int]) -> float | None:
    """pass / (pass + fail + error + crash + timeout); None when nothing was scored."""
    scored = sum(n for s, n in counts.items() if s == "pass" or is_failing(s))
    return counts.get("pass", 0) / scored if scored else None


def summarize(records: list[Record]) -> dict[str, Any]:
    """Totals per status and per-adapter counts with their score."""
    totals = {s: 0 for s in STATUSES} | count_statuses(records)
    adapters: dict[str, Any] = {}
    for adapter in sorted({column(r)[0] for r in records}):
        counts = {s: 0 for s in STATUSES} | count_statuses(
            r for r in records if column(r)[0] == adapter)
        adapters[adapter] = counts | {"score": score(counts)}
    return {"totals": totals, "adapters": adapters}


def divergences(records: Iterable[Record], status: str = "known-divergence") -> list[dict[str, Any]]:
    """Distinct (adapter, divergence_id, reason) of the records of `status` (known divergences, or the examples
    discarded because of one), with counts (in all and per cell)."""
    groups: dict[tuple[str, str, str], Counter] = defaultdict(Counter)
    observed: dict[tuple[str, str, str], str] = {}
    for r in records:
        if r["status"] == status:
            key = (column(r)[0], str(r.get("divergence_id")), str(r.get("reason") or ""))
            groups[key][(r["layer"], column(r))] += 1
            if r.get("observed"):  # one example of what the backend really did, shown beside the entry's reason
                observed.setdefault(key, str(r["observed"]))
    return [{"adapter": a, "divergence_id": d, "reason": why, "count": sum(cells.values()), "cells": dict(cells),
             "observed": observed.get((a, d, why), "")} for (a, d, why), cells in sorted(groups.items())]


def failures(records: Iterable[Record]) -> list[Record]:
    """Failing records (fail/error/crash/timeout), sorted by layer, column and check."""
    bad = [r for r in records if is_failing(r["status"])]
    return sorted(bad, key=lambda r: (r["layer"], column(r), str(r.get("check"))))


def metrics_summary(record: Record) -> str:
    """One-line summary of a record's metrics, or '' when it has none."""
    m = record.get("metrics")
    if not isinstance(m, dict):
        return ""
    return (f"{m.get('worst_output')}{m.get('worst_index')}: actual={m.get('actual')} "
            f"expected={m.get('expected')} bound={m.get('bound')} "
            f"error/bound={m.get('max_error_in_bounds')}")
