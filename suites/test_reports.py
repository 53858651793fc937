"""Tests for the report builder (python -m reports build)."""
from __future__ import annotations

import html
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from reports.build import (aggregate_cells, build, fmt_ratio, load_results, parse_lines,
                           summarize)

ROOT = Path(__file__).resolve().parents[1]
CONV_REPLAY = "python -m pytest 'suites/test_layers.py::test_conv2d[torch]' --seed=11"
DENSE_REPLAY = "python -m pytest 'suites/test_layers.py::test_dense[torch]' --seed=33"
SCRIPT = "<script>alert('pwned')</script>"


def rec(layer: str, adapter: str, check: str, status: str, **extra: Any) -> dict[str, Any]:
    """A results.jsonl record with sensible defaults."""
    base: dict[str, Any] = {
        "schema": 1, "layer": layer,
        "config": {"class_name": layer, "config": {"units": 3}},
        "input_shape": [2, 4], "seed": 1, "adapter": adapter, "device": "cpu",
        "dtype": "float32", "check": check, "status": status, "reason": None,
        "metrics": None, "reference": None, "replay": None,
        "test_id": f"suites/test_layers.py::test_{layer.lower()}[{adapter}]",
        "divergence_id": None, "time": "2024-01-01T00:00:00+00:00"}
    return base | extra


def metrics(ratio: float) -> dict[str, Any]:
    """Metrics whose max_error_in_bounds is ratio."""
    return {"max_abs_error": ratio * 1e-5, "max_error_in_bounds": ratio,
            "worst_output": "output", "worst_index": [1, 2], "actual": 0.5,
            "expected": 0.5 + ratio * 1e-5, "bound": 1e-5}


CONV_CONFIG = {"class_name": "Conv2D", "config": {"filters": 4, "padding": "same"}}
CONV = {"config": CONV_CONFIG, "input_shape": [2, 5, 5, 3]}
RECORDS = [
    rec("Conv2D", "torch", "shape", "pass", **CONV, seed=11),
    rec("Conv2D", "torch", "forward", "fail", **CONV, seed=11, metrics=metrics(3.5),
        replay=CONV_REPLAY),
    rec("Conv2D", "torch", "gradient", "pass", **CONV, seed=22,
        metrics=metrics(0.031), reference="analytic"),
    rec("Conv2D", "tf_keras", "forward", "pass", **CONV, seed=11,
        metrics=metrics(0.5)),
    rec("Conv2D", "tf_keras", "gradient", "known-divergence", **CONV, seed=11,
        divergence_id="tf-conv-grad", reason="TF rounds differently",
        observed="input_grad[0, 1] = 0.5, but should be 0.25"),
    rec("Dense", "torch", "forward", "error", seed=33, reason=f"RuntimeError {SCRIPT}",
        replay=DENSE_REPLAY),
    rec("Dense", "tf_keras", "forward", "unsupported", config=None, input_shape=None,
        seed=None, reason="float64 kernels missing"),
    rec("Dense", "tf_keras", "shape", "unsupported", config=None, input_shape=None,
        seed=None, reason="float64 kernels missing"),
]
MALFORMED = ["{not json", "[1, 2, 3]"]


def write_lines(path: Path, lines: list[str]) -> Path:
    """Write raw lines (plus a trailing blank line) to path, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n\n", encoding="utf-8")
    return path


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """A results.jsonl with RECORDS, two malformed lines and an environment.json."""
    (tmp_path / "environment.json").write_text(json.dumps({"torch": "9.9.9-test"}))
    lines = [json.dumps(r) for r in RECORDS]
    lines.insert(3, MALFORMED[0])
    return write_lines(tmp_path / "results.jsonl", lines + [MALFORMED[1]])


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run python -m reports with args from the repository root."""
    return subprocess.run([sys.executable, "-m", "reports", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)


@pytest.fixture
def built(results: Path, tmp_path: Path) -> Path:
    """Output directory of the CLI run on the fixture results."""
    out = tmp_path / "out"
    proc = run_cli("build", "--results", str(results), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "2 malformed" in proc.stderr
    return out


def cell_map(cells: list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    """Cells keyed by (layer, adapter) (all fixture records are cpu/float32)."""
    assert {(c["device"], c["dtype"]) for c in cells} == {("cpu", "float32")}
    return {(c["layer"], c["adapter"]): c for c in cells}


class MatrixCells(HTMLParser):
    """Collect (class, title, text) of every <td> in the table with class 'matrix'."""

    def __init__(self) -> None:
        super().__init__()
        self.in_matrix = False
        self.cells: list[dict[str, str]] = []
        self.current: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.in_matrix = a.get("class") == "matrix"
        elif tag == "td" and self.in_matrix:
            self.current = {"class": a.get("class", ""), "title": a.get("title", ""), "text": ""}
            self.cells.append(self.current)

    def handle_endtag(self, tag: str) -> None:
        if tag == "td":
            self.current = None
        elif tag == "table":
            self.in_matrix = False

    def handle_data(self, data: str) -> None:
        if self.current is not None:
            self.current["text"] += data


def test_parse_lines_counts_malformed_and_ignores_blank() -> None:
    records, bad = parse_lines(["", json.dumps(RECORDS[0]), "{oops", "  ", '{"layer": 1}'])
    assert bad == 2
    assert records == [RECORDS[0]]


def test_cells_counts_examples_and_worst_error() -> None:
    cells = cell_map(aggregate_cells(RECORDS))
    assert list(cells) == [("Conv2D", "tf_keras"), ("Conv2D", "torch"),
                           ("Dense", "tf_keras"), ("Dense", "torch")]
    conv_torch = cells[("Conv2D", "torch")]
    assert conv_torch["counts"] == {"pass": 2, "fail": 1}
    assert conv_torch["examples"] == 2  # seeds 11 (shape+forward) and 22
    assert conv_torch["worst_error_in_bounds"] == pytest.approx(3.5)
    assert conv_torch["worst_status"] == "fail"
    conv_tf = cells[("Conv2D", "tf_keras")]
    assert conv_tf["counts"] == {"pass": 1, "known-divergence": 1}
    assert conv_tf["worst_error_in_bounds"] == pytest.approx(0.5)
    assert conv_tf["worst_status"] == "known-divergence"
    dense_tf = cells[("Dense", "tf_keras")]
    assert dense_tf["counts"] == {"unsupported": 2}
    assert dense_tf["examples"] == 1
    assert dense_tf["worst_error_in_bounds"] is None
    assert cells[("Dense", "torch")]["counts"] == {"error": 1}


def test_summary_totals_and_scores() -> None:
    summary = summarize(RECORDS)
    assert summary["totals"] == {"pass": 3, "fail": 1, "error": 1, "crash": 0, "timeout": 0,
                                 "unsupported": 2, "known-divergence": 1, "discarded": 0}
    torch, tf = summary["adapters"]["torch"], summary["adapters"]["tf_keras"]
    assert torch["score"] == pytest.approx(2 / 4)  # pass / (pass + fail + error)
    assert tf["score"] == pytest.approx(1.0)  # known-divergence not in denominator
    assert tf["known-divergence"] == 1
    assert summarize([RECORDS[6]])["adapters"]["tf_keras"]["score"] is None


def test_ratio_format() -> None:
    assert fmt_ratio(0.031) == "0.031×"
    assert fmt_ratio(float("inf")) == "inf×"
    assert fmt_ratio(None) == "–"


def without_run(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Records without the `run` tag the loader adds."""
    return [{k: v for k, v in r.items() if k != "run"} for r in records]


def test_results_json(built: Path, results: Path) -> None:
    from reports.results_file import document_records
    doc = json.loads((built / "results.json").read_text(encoding="utf-8"))
    assert doc["schema"] == 2 and doc["record_schema"] == 1
    assert doc["runs"] == [{"run": str(results), "source": str(results), "environment": {"torch": "9.9.9-test"}}]
    assert without_run(document_records(doc)) == RECORDS
    assert {r["run"] for r in document_records(doc)} == {str(results)}
    assert doc["malformed_lines"] == 2
    assert doc["summary"]["adapters"]["torch"]["score"] == pytest.approx(0.5)
    cells = cell_map(doc["cells"])
    assert cells[("Conv2D", "torch")]["counts"] == {"pass": 2, "fail": 1}
    assert cells[("Conv2D", "torch")]["worst_error_in_bounds"] == pytest.approx(3.5)
    assert cells[("Dense", "tf_keras")]["counts"] == {"unsupported": 2}


def test_index_html_content(built: Path) -> None:
    page = (built / "index.html").read_text(encoding="utf-8")
    text = html.unescape(page)
    assert CONV_REPLAY in text and DENSE_REPLAY in text
    assert json.dumps(CONV_CONFIG, indent=2, sort_keys=True) in text
    assert "9.9.9-test" in page
    assert re.search(r"2 malformed line", page)
    assert "<h2>Failures (2)</h2>" in page
    assert "tf-conv-grad" in page and "TF rounds differently" in page
    assert "input_grad[0, 1] = 0.5, but should be 0.25" in text  # what the backend really did, beside the entry
    assert "3.5×" in page and "50.0%" in page and "100.0%" in page


def test_index_html_is_escaped_and_offline(built: Path) -> None:
    page = (built / "index.html").read_text(encoding="utf-8")
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(" in page
    # the template's one inline script (opening a drill-down); the injected one in a reason is escaped
    assert page.count("<script") == 1 and "alert(" not in page.split("<script>")[1].split("</script>")[0]
    assert "http://" not in page and "https://" not in page
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:[a-z]+:)?//""", page, re.I)
    assert "<style>" in page


def test_matrix_cells_colour_and_title(built: Path) -> None:
    parser = MatrixCells()
    parser.feed((built / "index.html").read_text(encoding="utf-8"))
    # rows Conv2D, Dense x columns tf_keras/cpu/float32, torch/cpu/float32
    conv_tf, conv_torch, dense_tf, dense_torch = parser.cells
    assert conv_tf["class"] == "warn" and "1 known-divergence" in conv_tf["text"]
    assert conv_torch["class"] == "bad"
    assert "2 pass" in conv_torch["text"] and "1 fail" in conv_torch["text"]
    assert "0 " not in conv_torch["text"]  # zeros omitted
    assert "2 example" in conv_torch["text"] and "worst 3.5×" in conv_torch["text"]
    assert dense_tf["class"] == "skip" and dense_tf["title"] == "float64 kernels missing"
    assert dense_torch["class"] == "bad" and "1 error" in dense_torch["text"]


def test_junit(built: Path) -> None:
    root = ET.parse(built / "junit.xml").getroot()
    assert root.tag == "testsuites"
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("8", "2", "2")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert set(suites) == {"tf_keras/cpu/float32", "torch/cpu/float32"}
    tf, torch = suites["tf_keras/cpu/float32"], suites["torch/cpu/float32"]
    assert (tf.get("tests"), tf.get("failures"), tf.get("skipped")) == ("4", "0", "2")
    assert (torch.get("tests"), torch.get("failures"), torch.get("skipped")) == ("4", "2", "0")
    cases = {(c.get("classname"), c.get("name")): c for c in torch.findall("testcase")}
    conv_fwd = cases[("Conv2D", "forward")].find("failure")
    assert conv_fwd is not None
    assert "error/bound=3.5" in conv_fwd.get("message") and CONV_REPLAY in conv_fwd.get("message")
    dense = cases[("Dense", "forward")].find("failure")
    assert dense is not None and SCRIPT in dense.get("message")
    assert cases[("Conv2D", "shape")].find("failure") is None
    tf_cases = {(c.get("classname"), c.get("name")): c for c in tf.findall("testcase")}
    assert tf_cases[("Dense", "shape")].find("skipped").get("message") == "float64 kernels missing"
    diverged = tf_cases[("Conv2D", "gradient")]
    assert diverged.find("failure") is None and diverged.find("skipped") is None
    assert "tf-conv-grad" in diverged.find("system-out").text


def test_merge_two_files(results: Path, tmp_path: Path) -> None:
    extra = [rec("Dense", "torch", "gradient", "crash", seed=44, reason="segfault"),
             rec("LSTM", "torch", "forward", "pass", metrics=metrics(0.2)),
             rec("Dense", "tf_keras", "shape", "pass", seed=55)]
    second = write_lines(tmp_path / "more" / "results.jsonl", [json.dumps(r) for r in extra])
    loaded = build([results, second], tmp_path / "merged")
    assert without_run(loaded.records) == RECORDS + extra and loaded.malformed == 2
    assert [r["run"] for r in loaded.records] == [str(results)] * len(RECORDS) + [str(second)] * len(extra)
    doc = json.loads((tmp_path / "merged" / "results.json").read_text(encoding="utf-8"))
    cells = cell_map(doc["cells"])
    assert cells[("Dense", "torch")]["counts"] == {"error": 1, "crash": 1}
    assert cells[("Dense", "torch")]["examples"] == 2
    assert cells[("LSTM", "torch")]["counts"] == {"pass": 1}
    assert doc["summary"]["totals"]["crash"] == 1
    assert doc["summary"]["adapters"]["torch"]["score"] == pytest.approx(3 / 6)
    root = ET.parse(tmp_path / "merged" / "junit.xml").getroot()
    assert (root.get("tests"), root.get("failures"), root.get("skipped")) == ("10", "3", "1")
    assert cells[("Dense", "tf_keras")]["counts"] == {"pass": 1, "unsupported": 2}
    assert cells[("Dense", "tf_keras")]["worst_status"] == "unsupported"


@pytest.mark.parametrize("kind", ["empty", "missing"])
def test_no_results(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "results.jsonl"
    if kind == "empty":
        path.write_text("", encoding="utf-8")
    out = tmp_path / "out"
    proc = run_cli("build", "--results", str(path), "--out", str(out))
    assert proc.returncode == 0
    assert "warning" in proc.stderr and str(path) in proc.stderr
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "No results." in page and 'id="no-results"' in page
    doc = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert doc["groups"] == [] and doc["n_records"] == 0 and doc["cells"] == []
    assert doc["summary"]["adapters"] == {}
    assert set(doc["summary"]["totals"].values()) == {0}
    root = ET.parse(out / "junit.xml").getroot()
    assert root.get("tests") == "0" and root.findall("testsuite") == []


def test_load_results_reports_missing_file(tmp_path: Path) -> None:
    loaded = load_results([tmp_path / "nope.jsonl"])
    assert loaded.records == [] and loaded.malformed == 0
    assert any("not found" in w for w in loaded.warnings)


def test_matrix_rows_are_grouped_by_family() -> None:
    """Rows sort by family, then layer; a layer whose records carry no family goes last under 'other'."""
    from reports.build import matrix
    records = [rec("Dense", "torch", "forward", "pass", family="core"),
               rec("MaxPooling2D", "torch", "forward", "pass", family="pooling"),
               rec("Conv2D", "torch", "forward", "pass", family="convolution"),
               rec("Activation", "torch", "forward", "pass", family="core"),
               rec("Legacy", "torch", "forward", "pass")]
    _, rows = matrix(aggregate_cells(records))
    assert [(r["family"], r["layer"]) for r in rows] == [
        ("convolution", "Conv2D"), ("core", "Activation"), ("core", "Dense"), ("pooling", "MaxPooling2D"),
        ("other", "Legacy")]
    page = build_html_rows(records)
    assert page.index(">convolution<") < page.index(">Conv2D<") < page.index(">core<") < page.index(">Dense<")


def build_html_rows(records: list[dict[str, Any]]) -> str:
    """The matrix table of the HTML page rendered for these records."""
    from reports.build import render_html, _context
    from reports.aggregate import Loaded
    loaded = Loaded(records=records)
    cells = aggregate_cells(records)
    html_text = render_html(_context(loaded, cells, summarize(records), "now"))
    return html_text[html_text.index('<table class="matrix">'):]


def test_drill_down_per_cell(built: Path) -> None:
    """Every cell links to its drill-down; a failing cell's section holds its case, replay and histogram."""
    page = (built / "index.html").read_text(encoding="utf-8")
    cell = "cell-Conv2D-torch-cpu-float32"
    assert f'href="#{cell}"' in page
    section = page[page.index(f'<details class="drill" id="{cell}">'):]
    section = section[:section.index("</details>")]
    assert CONV_REPLAY in html.unescape(section) and "3.5" in section
    # histogram: the forward fail (3.5x) is one bin beyond the bound; the gradient pass (0.031x) one below it
    assert re.search(r'class="over"><title>[^<]*: 1</title>', section)
    assert re.search(r'class="under"><title>[^<]*: 1</title>', section)
    tf = page[page.index('id="cell-Conv2D-tf_keras-cpu-float32"'):]
    assert "tf-conv-grad" in tf[:tf.index("</details>")]


def test_histogram_bins() -> None:
    from reports.aggregate import histogram
    bins = histogram([0.0, 0.0, 5e-5, 0.02, 0.99, 1.0, 1.5, 250.0])
    counts = {b["label"]: b["count"] for b in bins}
    assert counts["0"] == 2 and counts["<1e-04"] == 1 and counts[">=1e+02"] == 1
    assert sum(b["count"] for b in bins) == 8
    assert sum(b["count"] for b in bins if b["over"]) == 3  # 1.0, 1.5 and 250 are at or beyond the bound


def test_coverage_lists_exercised_values_and_defaults() -> None:
    """Values come from the canonical config; a key left out counts as its default exercised."""
    from reports.coverage import coverage
    conv = {"class_name": "Conv1D", "config": {"filters": 2, "kernel_size": 3}}
    strided = {"class_name": "Conv1D", "config": {"filters": 2, "kernel_size": [3], "strides": 2,
                                                  "padding": "same"}}
    records = [rec("Conv1D", "torch", "forward", "pass", config=conv, input_shape=[1, 5, 2], seed=1),
               rec("Conv1D", "torch", "gradient", "pass", config=conv, input_shape=[1, 5, 2], seed=1),
               rec("Conv1D", "keras", "forward", "pass", config=strided, input_shape=[1, 5, 2], seed=2)]
    [c] = coverage(records)
    assert c["layer"] == "Conv1D" and c["examples"] == 2 and c["ranks"] == [(3, 2)]
    params = {p["name"]: p for p in c["params"]}
    assert dict(params["strides"]["seen"]) == {"[1]": 1, "[2]": 1} and params["strides"]["defaulted"] == 1
    assert dict(params["padding"]["seen"]) == {"valid": 1, "same": 1}
    assert dict(params["kernel_size"]["seen"]) == {"[3]": 2} and params["kernel_size"]["defaulted"] == 0
    assert params["data_format"]["defaulted"] == 2
