"""Merge several runs into one: `python -m reports merge A B ... -o OUT/results.jsonl`.

Inputs are results.jsonl files (each with its sibling environment.json) or results.json documents, read by
reports/inputs.py. The output is one results.jsonl holding every record, in input order, each tagged with the
`run` it came from, and beside it an environment.json of the form {"runs": [{run, source, environment}]}, so a
report built from the merged file shows each run's environment (a CPU job and a GPU job differ). Overlap (the
same example recorded by two runs): both records are kept, and merge prints the loader's warning (exit 0).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

from .atomic import write_atomic
from .inputs import load_results


def merge(inputs: list[str | Path], out: str | Path) -> list[str]:
    """Write the merged results.jsonl and its environment.json; return the loader's warnings."""
    loaded = load_results(inputs)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(out, "".join(json.dumps(r, default=str) + "\n" for r in loaded.records))
    env = {"runs": loaded.runs}
    write_atomic(out.parent / "environment.json", json.dumps(env, indent=1))
    return loaded.warnings


def main_merge(inputs: list[str], out: str) -> int:
    """CLI entry for 'merge': 0 when something was merged, 2 when no input held a record."""
    warnings = merge(inputs, out)
    for warning in warnings:
        print(f"warning: {warning}", file=sys.stderr)
    n = sum(1 for _ in open(out, encoding="utf-8"))
    print(f"merge: {n} record(s) from {len(inputs)} input(s) -> {out} (+ environment.json)")
    return 0 if n else 2
