"""The benchmark section: pytest-benchmark JSON (`make bench`) folded into the report.

A benchmark declares what it is measured against in `benchmark.extra_info["peer"]`: the name of another benchmark
of its group, or a list of names (suites/bench/test_bench_conv.py: the oracle against TensorFlow and PyTorch).
The report shows, per declared peer, ratio = median / peer's median (2.0 = twice as slow as the peer). A benchmark
declaring no peer is shown against its group's fastest median instead, marked as such.
"""
from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

BAR_WIDTH = 360  # px of the longest bar of a group's chart


def _peers(bench: dict[str, Any]) -> list[str]:
    peer = (bench.get("extra_info") or {}).get("peer")
    if isinstance(peer, str):
        return [peer]
    return [p for p in peer if isinstance(p, str)] if isinstance(peer, list) else []


def _ratios(bench: dict[str, Any], medians: dict[str, float]) -> list[dict[str, Any]]:
    """[{peer, ratio, declared}] of one benchmark against its declared peers (or its group's fastest)."""
    declared = [p for p in _peers(bench) if p in medians]
    if declared:
        return [{"peer": p, "ratio": bench["median"] / medians[p], "declared": True} for p in declared]
    fastest = min(medians, key=medians.get)
    if fastest == bench["name"]:
        return []
    return [{"peer": fastest, "ratio": bench["median"] / medians[fastest], "declared": False}]


def _bars(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Bar geometry (px) of a group's medians, the longest bar BAR_WIDTH wide."""
    top = max(r["median"] for r in rows) or 1.0
    return [{"name": r["name"], "label": f"{r['median'] * 1e3:.3g} ms", "y": 4 + 22 * i,
             "width": max(round(BAR_WIDTH * r["median"] / top, 1), 1.0)} for i, r in enumerate(rows)]


def summarize_benchmarks(data: dict[str, Any], source: str = "") -> dict[str, Any]:
    """{source, datetime, machine, groups: [{group, rows, bars, height}]} from a pytest-benchmark JSON object."""
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for b in data.get("benchmarks", []):
        stats = b.get("stats") or {}
        if not isinstance(stats.get("median"), (int, float)):
            continue
        extra = b.get("extra_info") or {}
        groups[str(b.get("group") or "(no group)")].append(
            {"name": b["name"], "fullname": b.get("fullname", b["name"]), "median": float(stats["median"]),
             "min": stats.get("min"), "mean": stats.get("mean"), "stddev": stats.get("stddev"),
             "rounds": stats.get("rounds"), "framework": extra.get("framework", ""), "extra_info": extra})
    out = []
    for group, rows in sorted(groups.items()):
        medians = {r["name"]: r["median"] for r in rows}
        for r in rows:
            r["ratios"] = _ratios(r, medians)
        out.append({"group": group, "rows": rows, "bars": _bars(rows), "height": 8 + 22 * len(rows)})
    machine = data.get("machine_info") or {}
    return {"source": source, "datetime": data.get("datetime"), "version": data.get("version"),
            "machine": {k: machine.get(k) for k in ("node", "processor", "python_version", "system", "release")
                        if machine.get(k)},
            "cpu": (machine.get("cpu") or {}).get("brand_raw"), "groups": out}


def load_benchmarks(path: str | Path, warnings: list[str]) -> dict[str, Any] | None:
    """The benchmark section of a pytest-benchmark JSON file, or None (with a warning) when unreadable."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.append(f"benchmarks not shown: cannot read {path}: {exc}")
        return None
    if not isinstance(data, dict) or not isinstance(data.get("benchmarks"), list):
        warnings.append(f"benchmarks not shown: {path} is not a pytest-benchmark JSON file")
        return None
    return summarize_benchmarks(data, str(path))
