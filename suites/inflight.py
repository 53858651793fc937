"""Write-ahead of backend calls: the case a check is running is on disk before the backend sees it.

A worker process that crashes or hangs already becomes a `crash` / `timeout` record (adapters/workers.py). This
file covers the rest: a backend run in the test process (CONFORMANCE_ISOLATE=0, a replay) that takes the process
down, an xdist worker killed by the OOM killer, a run killed with SIGKILL. Each process that runs checks keeps one
file, REPORT_DIR/inflight/<pid>.json, holding the check it is running; it is written before the check's first
backend call and removed when the check returns. A file left behind names the check during which its process
died; `reports build` (reports/inputs.py) turns it into a `crash` record with its replay command, so the failing
example is in the report and `python -m suites.replay` reruns it in a fresh process.

Cost: one small write and rename per check (~50 us), no fsync: the file must survive its process, not the machine.
"""
from __future__ import annotations

import contextlib
import json
import os
import time
from pathlib import Path
from typing import Iterator

DIRECTORY = "inflight"
_where: Path | None = None      # REPORT_DIR/inflight of this run, or None: nothing is written
test_id: str | None = None      # the pytest node running now (set by the recorder fixture)


def configure(report_dir: str | Path | None) -> None:
    """Write this process's in-flight file under report_dir (None: write nothing, as in a replay)."""
    global _where
    _where = Path(report_dir) / DIRECTORY if report_dir else None


def clear(report_dir: str | Path) -> None:
    """Remove the in-flight files of an earlier run (the controller, at the start of a run)."""
    for stale in (Path(report_dir) / DIRECTORY).glob("*.json"):
        stale.unlink(missing_ok=True)


@contextlib.contextmanager
def running(spec: dict) -> Iterator[None]:
    """Keep `spec` (the replay spec of one check: config, input_shape, seed, adapter, device, dtype, check) on
    disk while the body runs; the file is removed however the body ends, unless the process dies in it."""
    if _where is None:
        yield
        return
    _where.mkdir(parents=True, exist_ok=True)
    path = _where / f"{os.getpid()}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({**spec, "test_id": test_id, "pid": os.getpid(),
                               "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}, default=str))
    os.replace(tmp, path)  # a reader sees the whole spec or none
    try:
        yield
    finally:
        path.unlink(missing_ok=True)
