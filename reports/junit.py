"""JUnit XML output: one testsuite per adapter/device/dtype, one testcase per (layer, check).

A testcase fails when one of its records fails; it is skipped when none of its examples was judged (all
unsupported or discarded), with their reasons; known divergences and discarded examples of a passing testcase
are listed in its system-out."""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from typing import Iterable

from .aggregate import Column, Record, column, is_failing, metrics_summary, worst_record

_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_OUTCOMES = ("failures", "skipped")


def xml_text(value: object) -> str:
    """str(value) with characters that XML 1.0 cannot carry replaced by '?'."""
    return _XML_BAD.sub("?", str(value))


def describe(record: Record) -> str:
    """Reason (or metrics summary) of a record followed by its replay command."""
    text = str(record.get("reason") or metrics_summary(record) or record["status"])
    return f"{text} | replay: {record['replay']}" if record.get("replay") else text


def _testcase(layer: str, check: str, records: list[Record]) -> tuple[ET.Element, str]:
    """Build one testcase element; return it with its outcome ('failures', 'skipped', 'passed')."""
    case = ET.Element("testcase", classname=xml_text(layer), name=xml_text(check))
    bad = [r for r in records if is_failing(r["status"])]
    if bad:
        worst = worst_record(bad)
        failure = ET.SubElement(case, "failure", message=xml_text(describe(worst)),
                                type=xml_text(worst["status"]))
        failure.text = xml_text("\n".join(
            f"[{r['status']}] {r.get('test_id')}: {describe(r)}" for r in bad))
        return case, "failures"
    # nothing judged: every example unsupported or discarded (a known divergence made it uninformative)
    if all(r["status"] in ("unsupported", "discarded") for r in records):
        reasons = sorted({str(r.get("reason") or r["status"]) for r in records})
        ET.SubElement(case, "skipped", message=xml_text("; ".join(reasons)))
        return case, "skipped"
    notes = [f"{label}: " + "\n".join(sorted({f"{r.get('divergence_id')}: {r.get('reason') or ''}"
                                              for r in records if r["status"] == status}))
             for status, label in (("known-divergence", "known divergence"), ("discarded", "discarded"))
             if any(r["status"] == status for r in records)]
    if notes:
        ET.SubElement(case, "system-out").text = xml_text("\n".join(notes))
    return case, "passed"


def _counts(element: ET.Element, tests: int, outcomes: dict[str, int]) -> None:
    """Set the tests/failures/errors/skipped attributes of a suite element."""
    element.set("tests", str(tests))
    element.set("errors", "0")
    for key in _OUTCOMES:
        element.set(key, str(outcomes.get(key, 0)))


def _suite(col: Column, records: list[Record]) -> tuple[ET.Element, dict[str, int]]:
    """Build the testsuite of one column; return it with its outcome counts."""
    suite = ET.Element("testsuite", name=xml_text("/".join(col)))
    cases: dict[tuple[str, str], list[Record]] = defaultdict(list)
    for record in records:
        cases[(record["layer"], str(record.get("check")))].append(record)
    outcomes: dict[str, int] = defaultdict(int)
    for (layer, check), recs in sorted(cases.items()):
        case, outcome = _testcase(layer, check, recs)
        suite.append(case)
        outcomes[outcome] += 1
    _counts(suite, len(cases), outcomes)
    return suite, outcomes


def build_junit(records: Iterable[Record]) -> ET.ElementTree:
    """The whole <testsuites> tree for the given records."""
    root = ET.Element("testsuites", name="conformance")
    by_column: dict[Column, list[Record]] = defaultdict(list)
    for record in records:
        by_column[column(record)].append(record)
    totals: dict[str, int] = defaultdict(int)
    for col, recs in sorted(by_column.items()):
        suite, outcomes = _suite(col, recs)
        root.append(suite)
        for key, n in outcomes.items():
            totals[key] += n
    _counts(root, sum(totals.values()), totals)
    ET.indent(root)
    return ET.ElementTree(root)
