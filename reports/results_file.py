"""The compact results.json document (schema 2, reports/schema/results-v2.schema.json; README "results.json").

results.jsonl repeats the test's fields (layer, adapter, device, dtype, check, test_id ...) and a replay command
that restates the case on every line; a full run is ~24k lines. results.json stores the same records grouped per
test (and run): each group has `common` (the fields equal in all its records), `fields` (the names of the other
fields) and `rows` (one list of those fields' values per record, in order), and a replay command equal to the one
derived from the record's own case is stored as `true`. expand(compact(records))
gives the records back unchanged (tested), so the report, the diff and the reproducer bundles read either file.
The build also writes results.json.gz (the same text gzipped, ~10x smaller: the float metrics dominate); every
command reads a `.gz` input as its decompressed text.
"""
from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable

from .aggregate import Record
from .atomic import write_atomic

SCHEMA = 2          # version of the results.json document
RECORD_SCHEMA = 1   # version of one record (a results.jsonl line), the `schema` field of each record
DERIVED = True      # the stored value of a replay command that derived_replay() rebuilds exactly


def derived_replay(record: Record) -> str | None:
    """The replay command the suite writes for this record's case (suites.checks.replay_command), or None."""
    if not isinstance(record.get("config"), dict) or record.get("seed") is None \
            or not isinstance(record.get("input_shape"), list):
        return None
    from suites.checks import replay_command
    from suites.strategies import Case
    try:
        case = Case.from_spec(record)
        return replay_command(case, *(str(record.get(k)) for k in ("adapter", "device", "dtype", "check")))
    except (TypeError, ValueError):
        return None


def _shrink(record: Record) -> Record:
    """The record with a derivable replay command replaced by DERIVED."""
    replay = record.get("replay")
    if isinstance(replay, str) and replay == derived_replay(record):
        return {**record, "replay": DERIVED}
    return record


def _group_key(record: Record) -> tuple:
    # records of one group have the same keys, so each row lists the values of the same fields
    return (str(record.get("test_id")), str(record.get("run")), tuple(record))


def compact(records: Iterable[Record]) -> list[dict[str, Any]]:
    """Records grouped per (test_id, run) with their shared fields factored out; order kept within a group."""
    groups: dict[tuple, list[Record]] = defaultdict(list)
    for r in records:
        groups[_group_key(r)].append(_shrink(r))
    out = []
    for recs in groups.values():
        first = recs[0]
        # equal in every record of the group; json text compares NaN equal to NaN, unlike ==
        common = {k: v for k, v in first.items()
                  if all(k in r and json.dumps(r[k], sort_keys=True, default=str)
                         == json.dumps(v, sort_keys=True, default=str) for r in recs)}
        fields = [k for k in first if k not in common]
        out.append({"common": common, "fields": fields, "rows": [[r[k] for k in fields] for r in recs]})
    return out


def expand(groups: Iterable[dict[str, Any]]) -> list[Record]:
    """The full records of compact groups (DERIVED replay commands rebuilt)."""
    records = []
    for g in groups:
        for row in g["rows"]:
            r = {**g["common"], **dict(zip(g["fields"], row, strict=True))}
            if r.get("replay") is DERIVED:
                r["replay"] = derived_replay(r)
            records.append(r)
    return records


def document(records: list[Record], *, generated: str, runs: list[dict[str, Any]], malformed: int,
             warnings: list[str], summary: dict[str, Any], cells: list[dict[str, Any]],
             benchmarks: dict[str, Any] | None = None) -> dict[str, Any]:
    """The results.json document (see reports/schema/results-v2.schema.json)."""
    doc = {"schema": SCHEMA, "record_schema": RECORD_SCHEMA, "generated": generated, "runs": runs,
           "malformed_lines": malformed, "warnings": warnings, "n_records": len(records), "summary": summary,
           "cells": cells, "groups": compact(records)}
    if benchmarks is not None:
        doc["benchmarks"] = benchmarks
    return doc


def dumps(doc: dict[str, Any]) -> str:
    """results.json text: no indentation (it roughly doubles the size); one group per line for readable diffs."""
    head = {k: v for k, v in doc.items() if k != "groups"}
    body = ",\n".join(json.dumps(g, separators=(",", ":"), default=str) for g in doc["groups"])
    text = json.dumps(head, separators=(",", ":"), default=str)
    return text[:-1] + ',\n"groups":[\n' + body + "\n]}\n"


def is_document(obj: Any) -> bool:
    """True for a results.json document (schema 2 `groups`, or schema 1's plain `records` list)."""
    return isinstance(obj, dict) and obj.get("schema") in (1, 2) and ("groups" in obj or "records" in obj) \
        and "status" not in obj


def document_records(doc: dict[str, Any]) -> list[Record]:
    """The records of a results.json document of either schema."""
    return expand(doc["groups"]) if "groups" in doc else list(doc["records"])


def read_text(path: Path) -> str:
    """A results file's text; a name ending in .gz is decompressed first."""
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    return data.decode("utf-8", errors="replace")


def write(path: Path, doc: dict[str, Any]) -> None:
    """Write results.json and its gzipped companion results.json.gz."""
    text = dumps(doc).encode("utf-8")
    write_atomic(path, text)
    # mtime=0: the same document gives the same bytes
    write_atomic(path.with_name(path.name + ".gz"), gzip.compress(text, mtime=0))
