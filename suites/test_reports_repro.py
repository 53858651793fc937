"""Reproducer bundles: a failing record becomes a directory whose repro.py (NumPy + the one backend) exits 1
while the disagreement exists and 0 once the backend agrees."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import adapters
import oracle
from reports.build import build
from reports.repro import write_bundle

from .test_reports import rec

# A real disagreement (adapters/known_divergences/keras.toml, keras3-hard-sigmoid): Keras 3's hard_sigmoid.
HARD_SIGMOID = rec("Activation", "keras", "forward", "fail", dtype="float64", seed=0, input_shape=[2, 3],
                   config={"class_name": "Activation", "config": {"activation": "hard_sigmoid"}})
# A record marked failing whose case in fact agrees (e.g. fixed upstream since it was recorded).
DENSE = rec("Dense", "torch", "gradient", "fail", dtype="float32", seed=5, input_shape=[2, 3],
            config={"class_name": "Dense", "config": {"units": 2, "activation": "tanh"}})


# Multi-input records: Add on torch agrees; Keras 3's Add of (2, 2) and (2, 1) adds the second input along the
# features (adapters/known_divergences/keras.toml, keras3-add-broadcast-operand-as-bias).
ADD_TORCH = rec("Add", "torch", "gradient", "fail", dtype="float32", seed=3, input_shape=[[2, 3], [2, 1], [2, 3]],
                config={"class_name": "Add", "config": {}})
ADD_KERAS = rec("Add", "keras", "gradient", "fail", dtype="float64", seed=0, input_shape=[[2, 2], [2, 1]],
                config={"class_name": "Add", "config": {}})


def _repro(bundle: Path) -> subprocess.CompletedProcess:
    # run from elsewhere, with nothing of the project on the path: the bundle must stand alone
    return subprocess.run([sys.executable, str(bundle / "repro.py")], cwd=bundle.parent, capture_output=True,
                          text=True, timeout=300, env={"PATH": "/usr/bin:/bin", "PYTHONNOUSERSITE": "1"})


def _need(name: str) -> None:
    if adapters.get(name).installed():
        pytest.skip(adapters.get(name).installed())


def test_bundle_contents(tmp_path: Path) -> None:
    where = write_bundle(DENSE, tmp_path)
    spec = json.loads((where / "config.json").read_text())
    assert spec["config"] == oracle.normalize(DENSE["config"]) and spec["check"] == "gradient"
    data = np.load(where / "arrays.npz")
    assert data["input"].shape == (2, 3) and data["weight0"].shape == (3, 2) and data["weight1"].shape == (2,)
    assert data["input"].dtype == np.float64 and np.all(data["input"] == data["input"].astype(np.float32))
    assert {"expected_input_grad", "bound_input_grad", "expected_weight_grad0", "bound_weight_grad1"} <= set(data)
    assert sorted(p.name for p in (where / "adapters").iterdir()) == ["__init__.py", "base.py", "torch_backend"]
    assert {p.name for p in (where / "adapters" / "torch_backend").iterdir()} == \
        {p.name for p in (Path(adapters.__file__).parent / "torch_backend").glob("*.py")}
    assert "import oracle" not in (where / "repro.py").read_text()


def test_repro_exits_zero_when_the_backend_agrees(tmp_path: Path) -> None:
    _need("torch")
    out = _repro(write_bundle(DENSE, tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "agrees within the bound" in out.stdout and "input_grad[" in out.stdout


def test_repro_exits_one_while_the_disagreement_exists(tmp_path: Path) -> None:
    _need("keras")
    out = _repro(write_bundle(HARD_SIGMOID, tmp_path))
    assert out.returncode == 1, out.stdout + out.stderr
    assert "DISAGREES" in out.stdout and "x bound" in out.stdout


def test_report_links_a_bundle_per_failure(tmp_path: Path) -> None:
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(r) + "\n" for r in (HARD_SIGMOID, DENSE)))
    build([results], tmp_path / "out")
    bundles = sorted(p.name for p in (tmp_path / "out" / "repro").iterdir())
    assert bundles == ["Activation-keras-cpu-float64-forward-0", "Dense-torch-cpu-float32-gradient-5"]
    page = (tmp_path / "out" / "index.html").read_text()
    assert 'href="repro/Activation-keras-cpu-float64-forward-0/repro.py"' in page


def test_multi_input_bundle_stores_x0_x1_and_each_input_gradient(tmp_path: Path) -> None:
    where = write_bundle(ADD_TORCH, tmp_path)
    spec = json.loads((where / "config.json").read_text())
    data = np.load(where / "arrays.npz")
    assert spec["n_inputs"] == 3 and "input" not in data
    assert [data[f"x{i}"].shape for i in range(3)] == [(2, 3), (2, 1), (2, 3)]
    assert [c[0] for c in spec["compared"]] == ["input_grad[0]", "input_grad[1]", "input_grad[2]"]
    assert data["expected_input_grad1"].shape == (2, 1)


def test_multi_input_repro_agrees_on_torch_and_disagrees_on_keras3(tmp_path: Path) -> None:
    _need("torch")
    out = _repro(write_bundle(ADD_TORCH, tmp_path))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "input_grad[2][" in out.stdout and "[(2, 3), (2, 1), (2, 3)]" in out.stdout
    _need("keras")
    out = _repro(write_bundle(ADD_KERAS, tmp_path))
    assert out.returncode == 1 and "DISAGREES" in out.stdout, out.stdout + out.stderr
