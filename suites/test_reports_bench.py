"""The benchmark section: a real `pytest --benchmark-json` run of a tiny benchmark file is folded into the report
(inline-SVG bar chart of medians, table, ratios against the declared peer)."""
from __future__ import annotations

import html
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from reports.bench import summarize_benchmarks
from reports.build import build

from .test_reports import RECORDS

# Two benchmarks in one group: `slow` declares `fast` as its peer; a third, alone in its group, declares nothing.
TINY = textwrap.dedent('''
    import time

    def test_fast(benchmark):
        benchmark.group = "tiny"
        benchmark.extra_info["framework"] = "fast-fw"
        benchmark.pedantic(time.sleep, args=(0.001,), rounds=3, iterations=1)

    def test_slow(benchmark):
        benchmark.group = "tiny"
        benchmark.extra_info.update(framework="slow-fw", peer="test_fast")
        benchmark.pedantic(time.sleep, args=(0.004,), rounds=3, iterations=1)

    def test_alone(benchmark):
        benchmark.pedantic(sum, args=([1, 2, 3],), rounds=3, iterations=1)
''')


@pytest.fixture(scope="module")
def bench_json(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The JSON file pytest-benchmark writes for TINY (run outside the project, so its conftest is not loaded)."""
    where = tmp_path_factory.mktemp("bench")
    (where / "test_tiny.py").write_text(TINY)
    out = where / "benchmark.json"
    # Without the xdist worker's variables: pytest-benchmark disables itself in what it takes for an xdist run.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT_TEST"))}
    proc = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "test_tiny.py",
                           "--benchmark-only", f"--benchmark-json={out}"], cwd=where, capture_output=True,
                          text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return out


def test_summary_ratios_against_declared_peer(bench_json: Path) -> None:
    data = json.loads(bench_json.read_text())
    medians = {b["name"]: b["stats"]["median"] for b in data["benchmarks"]}
    summary = summarize_benchmarks(data, str(bench_json))
    groups = {g["group"]: g for g in summary["groups"]}
    assert set(groups) == {"tiny", "(no group)"}
    rows = {r["name"]: r for r in groups["tiny"]["rows"]}
    assert rows["test_slow"]["ratios"] == [{"peer": "test_fast", "declared": True,
                                            "ratio": pytest.approx(medians["test_slow"] / medians["test_fast"])}]
    assert rows["test_slow"]["ratios"][0]["ratio"] > 1.5  # it sleeps four times as long
    assert rows["test_fast"]["ratios"] == []  # undeclared and the group's fastest: nothing to compare with
    bars = {b["name"]: b["width"] for b in groups["tiny"]["bars"]}
    assert bars["test_slow"] == 360 and bars["test_fast"] < bars["test_slow"]


def test_report_has_benchmark_section(bench_json: Path, tmp_path: Path) -> None:
    results = tmp_path / "run" / "results.jsonl"
    results.parent.mkdir()
    results.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    proc = subprocess.run([sys.executable, "-m", "reports", "build", "--results", str(results), "--out",
                           str(tmp_path / "out"), "--benchmarks", str(bench_json)],
                          cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    section = page[page.index('<h2 id="benchmarks">'):page.index("<h2>Known divergences")]
    assert section.count('<svg class="bench"') == 2
    assert len(re.findall(r"<rect [^>]*><title>test_(fast|slow|alone): [0-9.]+ ms</title>", section)) == 3
    assert re.search(r"[0-9.]+&times; test_fast</td>", section)
    assert "slow-fw" in html.unescape(section)
    assert "http" not in section.replace("http://www.w3.org", "")  # inline SVG only, nothing fetched
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert {g["group"] for g in doc["benchmarks"]["groups"]} == {"tiny", "(no group)"}


def test_unreadable_benchmarks_warn(tmp_path: Path) -> None:
    bad = tmp_path / "benchmark.json"
    bad.write_text("{}")
    loaded = build([], tmp_path / "out", benchmarks=bad)
    assert any("not a pytest-benchmark JSON" in w for w in loaded.warnings)
    assert '<h2 id="benchmarks">' not in (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
