"""`python -m reports run --out DIR [--benchmarks FILE] -- PYTEST_ARGS`: the conformance run, then its report,
whatever happens to the run (`make report` calls it).

pytest runs in a process group of its own. Ctrl-C or SIGTERM to this process is passed on to that whole group as
SIGINT, so the controller and every xdist worker end as on Ctrl-C: each test's records are flushed by its
`finally`, the session marks the run `interrupted` (run-state.json). A group still running GRACE_S later is
killed (its run stays `running`, and the report says it never finished). The report is built in every case, from
what was recorded; a check in progress when a process died is a `crash` record (suites/inflight.py). The exit
status is pytest's, or 128 + the signal when the run was interrupted.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

GRACE_S = 60.0  # how long an interrupted pytest may take to flush and finish before its group is killed


def run(pytest_args: list[str], out: str, benchmarks: str | None = None, grace_s: float = GRACE_S) -> int:
    """Run pytest with pytest_args (plus --report-dir=out) and build out/index.html from its results."""
    from .build import main_build
    Path(out).mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-m", "pytest", *pytest_args, f"--report-dir={out}"],
                            start_new_session=True)
    received: list[int] = []

    def forward(signum, _frame):
        received.append(signum)
        try:
            os.killpg(proc.pid, signal.SIGINT)
        except ProcessLookupError:
            pass
    previous = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        while True:
            try:
                code = proc.wait(timeout=grace_s if received else None)
                break
            except subprocess.TimeoutExpired:  # interrupted and still running after the grace period
                os.killpg(proc.pid, signal.SIGKILL)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
    results = Path(out) / "results.jsonl"
    bench = benchmarks if benchmarks and Path(benchmarks).is_file() else None
    main_build([str(results)], out, bench)
    print(f"report: {out}/index.html" + (" (incomplete: the run was interrupted)" if received else ""))
    return 128 + received[0] if received else code
