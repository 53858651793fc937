"""The `discarded` status in the reports: an example a suite drew but did not judge, because a known divergence of
the backend makes it uninformative (a metamorphic relation on a config the backend raises on). It is counted on
its own, shown in its own colour with the entry and the reason, never scored, skipped in JUnit, and not a
regression in a diff."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from reports.aggregate import NON_FAILING, STATUSES, aggregate_cells, is_failing, summarize
from reports.build import build
from reports.diff import diff
from reports.validate import record_errors

from .test_reports import RECORDS, MatrixCells, metrics, rec

ENTRY = "keras3-tf-channels-first-cpu"
WHY = f"discarded: {ENTRY} makes Conv2D raise on this config, so the relation cannot be checked"


def discarded(seed: int, layer: str = "Conv1D") -> dict[str, Any]:
    """A keras record of a metamorphic example (about `layer`) discarded because of ENTRY."""
    config = {"class_name": layer, "config": {"filters": 2, "kernel_size": 3, "data_format": "channels_first"}}
    return rec(layer, "keras", "metamorphic:conv1d_height_one", "discarded", config=config, input_shape=[2, 3, 5],
               seed=seed, divergence_id=ENTRY, reason=WHY, family="convolution")


# Conv1D on keras: two examples judged (passing), one discarded; SeparableConv2D on keras: every example discarded
EXTRA = [rec("Conv1D", "keras", "metamorphic:conv1d_height_one", "pass", seed=1, metrics=metrics(0.1),
             family="convolution"),
         rec("Conv1D", "keras", "metamorphic:conv1d_height_one", "pass", seed=2, metrics=metrics(0.2),
             family="convolution"),
         discarded(3), discarded(4, layer="SeparableConv2D")]


def test_discarded_is_a_known_non_failing_status() -> None:
    assert "discarded" in STATUSES and "discarded" in NON_FAILING and not is_failing("discarded")
    assert all(record_errors(r) == [] for r in EXTRA)


def test_discarded_is_counted_on_its_own_and_not_scored() -> None:
    cells = {(c["layer"], c["adapter"]): c for c in aggregate_cells(RECORDS + EXTRA)}
    conv1d = cells[("Conv1D", "keras")]
    assert conv1d["counts"] == {"pass": 2, "discarded": 1} and conv1d["examples"] == 3
    assert conv1d["worst_status"] == "discarded"  # not shown as a pass
    assert cells[("SeparableConv2D", "keras")]["counts"] == {"discarded": 1}
    summary = summarize(RECORDS + EXTRA)
    assert summary["totals"]["discarded"] == 2
    keras = summary["adapters"]["keras"]
    assert keras["discarded"] == 2 and keras["pass"] == 2 and keras["score"] == pytest.approx(1.0)


@pytest.fixture
def built(tmp_path: Path) -> Path:
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in RECORDS + EXTRA), encoding="utf-8")
    build([results], tmp_path / "out")
    return tmp_path / "out"


def test_discarded_is_shown_in_its_own_colour_with_its_entry(built: Path) -> None:
    page = (built / "index.html").read_text(encoding="utf-8")
    parser = MatrixCells()
    parser.feed(page)
    shown = [c for c in parser.cells if "discarded" in c["text"]]
    assert len(shown) == 2 and all(c["class"] == "discard" for c in shown)
    assert any("2 pass" in c["text"] and "1 discarded" in c["text"] for c in shown)
    assert ".discard {" in page and "<th>discarded</th>" in page  # the colour; the totals' and scores' column
    section = page[page.index('id="cell-Conv1D-keras-cpu-float32"'):]
    section = section[:section.index("</details>")]
    assert f"<code>{ENTRY}</code> (1 example(s)): {WHY}" in section
    table = page[page.index("<h2>Discarded examples (1)</h2>"):]
    assert f"<code>{ENTRY}</code>" in table and f"<td>{WHY}</td><td>2</td>" in table
    doc = json.loads((built / "results.json").read_text(encoding="utf-8"))
    assert doc["summary"]["totals"]["discarded"] == 2


def test_junit_skips_what_was_not_judged(built: Path) -> None:
    root = ET.parse(built / "junit.xml").getroot()
    keras = next(s for s in root.findall("testsuite") if s.get("name") == "keras/cpu/float32")
    cases = {c.get("classname"): c for c in keras.findall("testcase")}
    skipped = cases["SeparableConv2D"].find("skipped")
    assert skipped is not None and skipped.get("message") == WHY  # every example discarded: nothing judged
    mixed = cases["Conv1D"]
    assert mixed.find("skipped") is None and mixed.find("failure") is None
    assert f"discarded: {ENTRY}: {WHY}" in mixed.find("system-out").text
    assert (keras.get("tests"), keras.get("failures"), keras.get("skipped")) == ("2", "0", "1")


def test_diff_treats_discarded_like_a_known_divergence() -> None:
    passing, failing = EXTRA[0], {**EXTRA[0], "status": "fail", "metrics": metrics(4.0)}
    gone = {**EXTRA[0], "status": "discarded", "metrics": None, "divergence_id": ENTRY, "reason": WHY}
    assert [c.kind for c in diff([gone], [failing]).changes] == ["regression"]
    assert [c.kind for c in diff([failing], [gone]).changes] == ["fixed"]
    assert [c.kind for c in diff([passing], [gone]).changes] == ["changed"]
    assert diff([gone], [gone]).unchanged == 1
    assert [c.kind for c in diff([], [gone]).changes] == ["added"]  # a new discarded example is no regression
