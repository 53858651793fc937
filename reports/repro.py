"""Reproducer bundles: one self-contained directory per failing record, ready for an upstream bug report.

A bundle holds `config.json` (the canonical config, backend, device, dtype, check), `arrays.npz` (input, or x0,
x1 ... for a multi-input layer (merge), weights, cotangent, the oracle's expected values and the per-element
bounds, regenerated from the record's seed exactly as the suite drew them), `repro.py` (NumPy plus the one
backend; exits 1 while the disagreement exists) and a copy of the backend's adapter, which is the suite's
translation of a Keras config onto that backend.
"""
from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
MAIN = Path(__file__).parent / "templates" / "repro_main.py"
CHECKS = ("shape", "forward", "gradient")


def bundle_name(record: dict[str, Any]) -> str:
    """A directory name unique to (layer, adapter, device, dtype, check, seed)."""
    parts = [record["layer"], record["adapter"], record["device"], record["dtype"], record["check"],
             str(record["seed"])]
    return re.sub(r"[^A-Za-z0-9_.-]", "_", "-".join(parts))


def reproducible(record: dict[str, Any]) -> bool:
    """A fail/error record of a conformance check with its case (invalid-config records have no arrays)."""
    return (record.get("status") in ("fail", "error") and record.get("check") in CHECKS
            and isinstance(record.get("config"), dict) and record.get("seed") is not None
            and record.get("input_shape") is not None)


def _adapter_files(module: str) -> list[Path]:
    """The adapter's module (a package: every module of it) and every adapters/ module it imports relatively
    (base, keras_common ...; `from ..base import` in a package's module)."""
    start = ROOT / module.replace(".", "/")
    todo, seen = (sorted(start.glob("*.py"), reverse=True) if start.is_dir() else [start.with_suffix(".py")]), []
    while todo:
        path = todo.pop()
        if path in seen:
            continue
        seen.append(path)
        text = path.read_text()
        todo += [path.parents[len(dots) - 1] / f"{m}.py"
                 for dots, m in re.findall(r"^from (\.+)(\w+) import", text, re.M)]
        # `from . import a, b as c` (the torch adapter's recurrent module)
        todo += [path.parent / f"{m.split()[0]}.py" for line in re.findall(r"^from \. import (.+)$", text, re.M)
                 for m in line.strip("()").split(",") if m.split() and (path.parent / f"{m.split()[0]}.py").exists()]
    return seen


def write_bundle(record: dict[str, Any], out: Path) -> Path:
    """Write the reproducer of one failing record under `out`; returns its directory."""
    import adapters
    import oracle
    from suites import tolerance
    from suites.strategies import Case, arrays

    case = Case.from_spec(record)
    dtype, check = record["dtype"], record["check"]
    config = oracle.normalize(case.config)
    x, ws, g = arrays(case, dtype)
    multi = isinstance(x, list)
    inputs = {f"x{i}": a for i, a in enumerate(x)} if multi else {"input": x}
    data = {**inputs, "cotangent": g, **{f"weight{i}": w for i, w in enumerate(ws)}}
    if check == "gradient":
        gx, gws = oracle.vjp(config, ws, x, g)
        bx, bws = tolerance.vjp_bounds(config, ws, x, g, dtype)
        if multi:  # one input gradient per input, named as the suite names them
            compared = []
            for i, (e, b) in enumerate(zip(gx, bx)):
                data.update({f"expected_input_grad{i}": e, f"bound_input_grad{i}": b})
                compared.append([f"input_grad[{i}]", f"expected_input_grad{i}", f"bound_input_grad{i}"])
        else:
            data.update(expected_input_grad=gx, bound_input_grad=bx)
            compared = [["input_grad", "expected_input_grad", "bound_input_grad"]]
        for i, (e, b) in enumerate(zip(gws, bws)):
            data.update({f"expected_weight_grad{i}": e, f"bound_weight_grad{i}": b})
            compared.append([f"weight_grad[{i}]", f"expected_weight_grad{i}", f"bound_weight_grad{i}"])
    else:
        data.update(expected_output=oracle.forward(config, ws, x),
                    bound_output=tolerance.forward_bound(config, ws, x, dtype))
        compared = [["output", "expected_output", "bound_output"]]
    where = out / bundle_name(record)
    (where / "adapters").mkdir(parents=True, exist_ok=True)
    np.savez(where / "arrays.npz", **data)
    module = adapters.MODULES[record["adapter"]]
    spec = {"layer": record["layer"], "adapter": record["adapter"], "adapter_module": module,
            "device": record["device"], "dtype": dtype, "check": check, "config": config,
            "raw_config": record["config"], "input_shape": record["input_shape"], "seed": record["seed"],
            "n_weights": len(ws), "n_inputs": len(x) if multi else None, "compared": compared,
            "status_when_recorded": record["status"],
            "reason_when_recorded": record.get("reason"), "suite_replay": record.get("replay")}
    (where / "config.json").write_text(json.dumps(spec, indent=1, default=str))
    shutil.copy(MAIN, where / "repro.py")
    (where / "adapters" / "__init__.py").write_text('"""The suite\'s adapter for this backend (copied)."""\n')
    for path in _adapter_files(module):  # at its place under adapters/ (a package's modules in its folder)
        (where / path.relative_to(ROOT)).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, where / path.relative_to(ROOT))
    return where


def write_bundles(records: list[dict[str, Any]], out: Path, limit: int = 200) -> dict[str, str]:
    """Bundles for the failing records (at most `limit`); record id -> bundle path relative to `out`'s parent."""
    written: dict[str, str] = {}
    for r in records:
        if len(written) >= limit:
            break
        if reproducible(r):
            written[bundle_name(r)] = str(write_bundle(r, out).relative_to(out.parent))
    return written
