"""Merging runs (python -m reports merge), the diff on results.json, and Keras 1 rows in the matrix."""
from __future__ import annotations

import copy
import html
import json
import subprocess
import sys
from pathlib import Path

from reports.build import build
from reports.inputs import load_results

from .test_reports import RECORDS, metrics, rec

ROOT = Path(__file__).resolve().parents[1]
CPU_ENV = {"torch": "2.13.0+cpu", "gpu": "none (no nvidia-smi)"}
GPU_ENV = {"torch": "2.13.0+cu128", "gpu": "NVIDIA H200, 570.1, 143771 MiB"}
GPU_RECORDS = [rec("Conv2D", "torch", "forward", "pass", device="cuda", seed=11, metrics=metrics(0.2)),
               rec("Dense", "torch", "forward", "fail", device="cuda", seed=33, metrics=metrics(4.0))]


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "reports", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120)


def _job(where: Path, records: list[dict], env: dict) -> Path:
    """A run's results.jsonl with its environment.json beside it."""
    where.mkdir(parents=True, exist_ok=True)
    (where / "environment.json").write_text(json.dumps(env))
    path = where / "results.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def test_merge_cpu_and_gpu_runs(tmp_path: Path) -> None:
    cpu = _job(tmp_path / "cpu", RECORDS, CPU_ENV)
    gpu = _job(tmp_path / "gpu", GPU_RECORDS, GPU_ENV)
    out = tmp_path / "merged" / "results.jsonl"
    proc = _run("merge", str(cpu), str(gpu), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "more than one run" not in proc.stderr  # no example is in both
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    assert [{k: v for k, v in r.items() if k != "run"} for r in lines] == RECORDS + GPU_RECORDS
    assert [r["run"] for r in lines] == [str(cpu)] * len(RECORDS) + [str(gpu)] * len(GPU_RECORDS)
    env = json.loads((out.parent / "environment.json").read_text())
    assert env == {"runs": [{"run": str(cpu), "source": str(cpu), "environment": CPU_ENV},
                            {"run": str(gpu), "source": str(gpu), "environment": GPU_ENV}]}
    # the merged file builds the same report as the two inputs, with each run's environment
    loaded = build([out], tmp_path / "report")
    assert [r["run"] for r in loaded.runs] == [str(cpu), str(gpu)]
    page = html.unescape((tmp_path / "report" / "index.html").read_text(encoding="utf-8"))
    assert "2 runs merged" in page and "2.13.0+cu128" in page and "2.13.0+cpu" in page
    direct = build([cpu, gpu], tmp_path / "direct")
    assert direct.records == loaded.records and direct.runs == loaded.runs


def test_merge_of_merged_and_json_inputs(tmp_path: Path) -> None:
    """A results.json (built) and a merged results.jsonl can be merged again; run names survive."""
    cpu = _job(tmp_path / "cpu", RECORDS, CPU_ENV)
    gpu = _job(tmp_path / "gpu", GPU_RECORDS, GPU_ENV)
    build([cpu], tmp_path / "cpu-report")
    first = tmp_path / "m1" / "results.jsonl"
    assert _run("merge", str(tmp_path / "cpu-report" / "results.json"), "-o", str(first)).returncode == 0
    second = tmp_path / "m2" / "results.jsonl"
    assert _run("merge", str(first), str(gpu), "-o", str(second)).returncode == 0
    loaded = load_results([second])
    assert {r["run"] for r in loaded.records} == {str(cpu), str(gpu)}
    assert [r["environment"] for r in loaded.runs] == [CPU_ENV, GPU_ENV]


def test_overlap_keeps_both_and_warns(tmp_path: Path) -> None:
    """The same examples in two inputs (a shard run twice): both kept, counted, and flagged."""
    a = _job(tmp_path / "a", RECORDS, CPU_ENV)
    b = _job(tmp_path / "b", copy.deepcopy(RECORDS[:2]), CPU_ENV)
    out = tmp_path / "m" / "results.jsonl"
    proc = _run("merge", str(a), str(b), "-o", str(out))
    assert proc.returncode == 0
    assert "2 example(s) were recorded by more than one run" in proc.stderr
    assert len(out.read_text().splitlines()) == len(RECORDS) + 2
    loaded = build([out], tmp_path / "r")
    assert any("more than one run" in w for w in loaded.warnings)
    # the same file twice: renamed, so the overlap still shows
    twice = load_results([a, a])
    assert len(twice.runs) == 2 and any("more than one run" in w for w in twice.warnings)


def test_diff_accepts_results_json(tmp_path: Path) -> None:
    """diff OLD NEW reads a built results.json like a results.jsonl; a planted regression is flagged."""
    old = _job(tmp_path / "old", RECORDS, CPU_ENV)
    build([old], tmp_path / "old-report")
    new_records = copy.deepcopy(RECORDS)
    new_records[2].update(status="fail", metrics=metrics(9.0))  # the passing Conv2D gradient regresses
    new = _job(tmp_path / "new", new_records, CPU_ENV)
    build([new], tmp_path / "new-report")
    for a, b in [(tmp_path / "old-report" / "results.json", tmp_path / "new-report" / "results.json"),
                 (tmp_path / "old-report" / "results.json", new), (old, old)]:
        proc = _run("diff", str(a), str(b))
        if b == old:
            assert proc.returncode == 0 and "0 regression" in proc.stdout
        else:
            assert proc.returncode == 1, proc.stdout + proc.stderr
            assert "1 regression" in proc.stdout and "Conv2D torch/cpu/float32 gradient" in proc.stdout


KERAS1_CONFIG = {"class_name": "Convolution2D", "config": {"nb_filter": 2, "nb_row": 3, "nb_col": 3,
                                                           "border_mode": "same", "subsample": [1, 1]}}
CANONICAL = {"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": [3, 3], "padding": "same",
                                                "strides": [1, 1]}}


def test_keras1_rows(tmp_path: Path) -> None:
    """Keras 1 records form their own group after the Keras 2 families, name their Keras 2 class, and a failure
    shows the canonical config next to the written one."""
    keras1 = [rec("Convolution2D", "torch", "forward", "fail", family="keras1", config=KERAS1_CONFIG,
                  canonical=CANONICAL, input_shape=[1, 4, 4, 1], seed=7, metrics=metrics(2.0)),
              rec("Convolution2D", "keras", "forward", "pass", family="keras1", config=KERAS1_CONFIG,
                  canonical=CANONICAL, input_shape=[1, 4, 4, 1], seed=7, metrics=metrics(0.1))]
    keras2 = [rec("Conv2D", "torch", "forward", "pass", family="convolution"),
              rec("MaxPooling2D", "torch", "forward", "pass", family="pooling")]
    build([_job(tmp_path / "run", keras2 + keras1, CPU_ENV)], tmp_path / "out")
    page = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    matrix = page[page.index('<table class="matrix">'):page.index("</table>", page.index('<table class="matrix">'))]
    assert matrix.index(">pooling<") < matrix.index("Keras 1 API (seed 000)") < matrix.index(">Convolution2D")
    row = matrix[matrix.index(">Convolution2D"):]
    assert "&rarr; Keras 2 Conv2D" in row[:row.index("</th>")]
    drill = page[page.index('id="cell-Convolution2D-torch-cpu-float32"'):]
    drill = drill[:drill.index("</details>")]
    text = html.unescape(drill)
    assert json.dumps(KERAS1_CONFIG, indent=2, sort_keys=True) in text
    assert json.dumps(CANONICAL, indent=2, sort_keys=True) in text
    assert "canonical Keras 2 config" in text
    doc = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    cell = next(c for c in doc["cells"] if c["layer"] == "Convolution2D" and c["adapter"] == "torch")
    assert cell["family"] == "keras1" and cell["canonical_classes"] == ["Conv2D"]
