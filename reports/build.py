"""Build index.html, results.json(.gz) and junit.xml from results files (results.jsonl or results.json)."""
from __future__ import annotations

import io
import json
import math
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable

import jinja2

from .aggregate import (STATUSES, Column, Loaded, aggregate_cells, cell_id, column,
                        divergences, failures, is_failing, parse_lines, score, summarize)
from .atomic import write_atomic
from .bench import load_benchmarks
from .coverage import coverage
from .inputs import load_results
from .junit import build_junit
from .repro import bundle_name, reproducible, write_bundles
from .results_file import document, write as write_results

__all__ = ["aggregate_cells", "build", "build_junit", "divergences", "failures",
           "load_results", "matrix", "parse_lines", "render_html", "score", "summarize"]

TEMPLATES = Path(__file__).parent / "templates"
# a discarded example has its own colour: it was not judged, so it must not look like a pass (nor like a skip)
_CSS = {"pass": "ok", "unsupported": "skip", "known-divergence": "warn", "discarded": "discard"}
# Matrix group headings; a family not listed is shown by its registry name. Keras 1 names (records with family
# "keras1", written by the Keras 1 API tests of seed 000) are their own group, after every Keras 2 family.
KERAS1 = "keras1"
FAMILY_LABELS = {KERAS1: "Keras 1 API (seed 000)"}


def matrix(cells: list[dict[str, Any]]) -> tuple[list[Column], list[dict[str, Any]]]:
    """Sorted columns and one row per layer with a cell (or None) per column; rows are grouped by layer family
    (records without a family, e.g. older results files, come last under 'other')."""
    columns = sorted({(c["adapter"], c["device"], c["dtype"]) for c in cells})
    lookup = {(c["layer"], c["adapter"], c["device"], c["dtype"]): c for c in cells}
    families: dict[str, str] = {}
    for c in cells:
        if c.get("family"):
            families.setdefault(c["layer"], c["family"])
    layers = sorted({c["layer"] for c in cells},
                    key=lambda name: (name not in families, families.get(name) == KERAS1, families.get(name, ""), name))
    rows = []
    for layer in layers:
        row_cells = [lookup.get((layer, *col)) for col in columns]
        family = families.get(layer, "other")
        rows.append({"layer": layer, "family": family, "family_label": FAMILY_LABELS.get(family, family),
                     "cells": row_cells,
                     "translates_to": sorted({k for c in row_cells if c for k in c.get("canonical_classes", [])})})
    return columns, rows


def fmt_ratio(value: float | None) -> str:
    """Format an error/bound ratio like '0.031×' ('–' when unknown)."""
    if value is None:
        return "–"
    return ("inf" if math.isinf(value) else f"{value:.3g}") + "×"


def fmt_number(value: Any) -> str:
    """Format a metric value compactly; non-numbers are shown as-is."""
    if isinstance(value, float):
        return f"{value:.6g}"
    return "–" if value is None else str(value)


def status_class(status: str) -> str:
    """CSS class colouring a status (failing statuses are 'bad')."""
    return _CSS.get(status, "bad" if is_failing(status) else "")


def _environment() -> jinja2.Environment:
    """Jinja2 environment with autoescape and the report's filters."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True,
                             lstrip_blocks=True)
    env.filters.update(ratio=fmt_ratio, num=fmt_number, status_class=status_class,
                       pretty=lambda v: json.dumps(v, indent=2, sort_keys=True, default=str),
                       compact=lambda v: json.dumps(v, default=str))
    return env


def render_html(context: dict[str, Any]) -> str:
    """Render templates/index.html.j2 with the given context."""
    return _environment().get_template("index.html.j2").render(**context)


def drill_down(records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per cell id: its failing records, its known divergences and its discarded examples (id, reason, count)."""
    out: dict[str, dict[str, Any]] = {}
    empty = lambda: {"failures": [], "divergences": [], "discarded": []}  # noqa: E731
    for r in failures(records):
        out.setdefault(cell_id(r["layer"], column(r)), empty())["failures"].append(r)
    for key, status in (("divergences", "known-divergence"), ("discarded", "discarded")):
        for d in divergences(records, status):
            for (layer, col), n in d["cells"].items():
                out.setdefault(cell_id(layer, col), empty())[key].append({**d, "count": n})
    return out


def _context(loaded: Loaded, cells: list[dict[str, Any]], summary: dict[str, Any],
             generated: str) -> dict[str, Any]:
    """Everything the HTML template needs."""
    columns, rows = matrix(cells)
    return {"generated": generated, "summary": summary, "statuses": STATUSES,
            "environment": loaded.environment, "runs": loaded.runs, "env_keys": _env_keys(loaded.runs),
            "malformed": loaded.malformed, "benchmarks": None,
            "incomplete": [r for r in loaded.runs if r.get("state", "complete") != "complete"],
            "warnings": loaded.warnings, "n_records": len(loaded.records),
            "columns": columns, "rows": rows, "failures": failures(loaded.records),
            "divergences": divergences(loaded.records), "discarded": divergences(loaded.records, "discarded"),
            "column": column,
            "drill": drill_down(loaded.records), "bundle": lambda r: None,
            "coverage": coverage(loaded.records)}


def _env_keys(runs: list[dict[str, Any]]) -> list[tuple[str, bool]]:
    """Every environment key of the runs, with whether the runs disagree on it (highlighted in the report)."""
    keys = sorted({k for run in runs for k in run["environment"]})
    return [(k, len({run["environment"].get(k) for run in runs}) > 1) for k in keys]


def _bundles(loaded: Loaded, out: Path) -> dict[str, str]:
    """Reproducer bundles of the failing records under out/repro (see reports/repro.py)."""
    shutil.rmtree(out / "repro", ignore_errors=True)
    bad = failures(loaded.records)
    if not bad:
        return {}
    try:
        return write_bundles(bad, out / "repro")
    except Exception as exc:  # an unknown layer or adapter in an old results file: the report still builds
        loaded.warnings.append(f"reproducer bundles not written: {type(exc).__name__}: {exc}")
        return {}


def build(results: Iterable[str | Path], out: str | Path, benchmarks: str | Path | None = None) -> Loaded:
    """Read results files (results.jsonl or results.json) and write index.html, results.json, junit.xml and repro/
    bundles into out; with a pytest-benchmark JSON file, the report gets a benchmark section."""
    loaded = load_results(results)
    bench = load_benchmarks(benchmarks, loaded.warnings) if benchmarks else None
    cells = aggregate_cells(loaded.records)
    summary = summarize(loaded.records)
    generated = datetime.now(timezone.utc).isoformat(timespec="seconds")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    bundles = _bundles(loaded, out)
    context = _context(loaded, cells, summary, generated)
    context["bundle"] = lambda r: bundles.get(bundle_name(r)) if reproducible(r) else None
    context["benchmarks"] = bench
    write_atomic(out / "index.html", render_html(context))
    doc = document(loaded.records, generated=generated, runs=loaded.runs, malformed=loaded.malformed,
                   warnings=loaded.warnings, summary=summary, cells=cells, benchmarks=bench)
    write_results(out / "results.json", doc)
    junit = io.BytesIO()
    build_junit(loaded.records).write(junit, encoding="utf-8", xml_declaration=True)
    write_atomic(out / "junit.xml", junit.getvalue())
    return loaded


def main_build(results: list[str], out: str, benchmarks: str | None = None) -> int:
    """CLI entry for 'build': write the reports, print warnings; always returns 0."""
    loaded = build(results, out, benchmarks)
    for warning in loaded.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    print(f"reports: {len(loaded.records)} record(s) -> {out}/index.html, "
          f"results.json(.gz), junit.xml")
    return 0
