"""Validation against reports/schema/results-v2.schema.json: `python -m reports validate FILE ...`.

A results.json document validates against the schema's top level and each of its expanded records against
`#/$defs/record`; a results.jsonl file validates line by line against `#/$defs/record`.
"""
from __future__ import annotations

import json
import sys
from functools import cache
from pathlib import Path
from typing import Any

SCHEMA_FILE = Path(__file__).parent / "schema" / "results-v2.schema.json"


@cache
def _validators() -> tuple[Any, Any]:
    """(document validator, record validator); jsonschema is imported only when validating."""
    import jsonschema
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    cls = jsonschema.Draft202012Validator
    cls.check_schema(schema)
    record = {"$schema": schema["$schema"], "$ref": "#/$defs/record", "$defs": schema["$defs"]}
    return cls(schema), cls(record)


def _messages(validator: Any, obj: Any, where: str) -> list[str]:
    return [f"{where}: {'/'.join(map(str, e.absolute_path)) or '(top)'}: {e.message}"
            for e in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path)))]


def record_errors(record: Any, where: str = "record") -> list[str]:
    """Why a record does not conform to the record schema ([] when it does)."""
    return _messages(_validators()[1], record, where)


def document_errors(doc: Any, where: str = "results.json") -> list[str]:
    """Why a results.json document (and each record it holds, expanded) does not conform ([] when it does)."""
    from .results_file import expand
    errors = _messages(_validators()[0], doc, where)
    if not errors:
        for i, r in enumerate(expand(doc["groups"])):
            errors += record_errors(r, f"{where}: record {i}")
    return errors


def file_errors(path: str | Path) -> list[str]:
    """Schema errors of a results.json or results.jsonl file (a line that is not JSON is an error too)."""
    from .results_file import read_text
    path = Path(path)
    text = read_text(path)
    try:
        doc = json.loads(text)
        if isinstance(doc, dict) and "groups" in doc:
            return document_errors(doc, str(path))
    except ValueError:
        pass
    errors = []
    for n, line in enumerate(text.split("\n"), 1):
        if line.strip():
            try:
                errors += record_errors(json.loads(line), f"{path}:{n}")
            except ValueError as exc:
                errors.append(f"{path}:{n}: not JSON: {exc}")
    return errors


def main_validate(paths: list[str]) -> int:
    """CLI entry for 'validate': print every error; exit 1 when there is one."""
    errors = [e for p in paths for e in file_errors(p)]
    for e in errors[:200]:
        print(e)
    print(f"validate: {len(errors)} error(s) in {len(paths)} file(s)", file=sys.stderr)
    return 1 if errors else 0
