"""pytest options, hypothesis profiles, the (layer, adapter, device, dtype) matrix and the results file."""
from __future__ import annotations

import importlib.metadata
import json
import os
import platform
from pathlib import Path

from adapters.base import conformance_environment

conformance_environment()  # before any test module can import TensorFlow

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

# ci: derandomized (the same examples on every run), bounded, no deadline (a Keras layer build takes ~10 ms
# and the first one of a process far longer). dev: a quick random look. thorough: before a release.
_COMMON = dict(deadline=None, print_blob=True, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("ci", derandomize=True, database=None,
                          max_examples=int(os.environ.get("CONFORMANCE_EXAMPLES", "40")), **_COMMON)
settings.register_profile("dev", max_examples=10, **_COMMON)
settings.register_profile("thorough", max_examples=300, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def pytest_addoption(parser):
    group = parser.getgroup("conformance")
    group.addoption("--backend", default="all", help="comma-separated adapters (tf_keras,keras,torch) or 'all'")
    group.addoption("--device", default="all", help="comma-separated devices (cpu,cuda) or 'all'")
    group.addoption("--dtype", default="all", help="comma-separated dtypes (float32,float64) or 'all'")
    group.addoption("--layer", default="all", help="comma-separated layer class names or 'all'")
    group.addoption("--report-dir", default=None,
                    help="write results.jsonl and environment.json here (nothing is recorded without it)")


def _chosen(config, option, values):
    raw = config.getoption(option)
    if raw == "all":
        return list(values)
    wanted = raw.split(",")
    unknown = sorted(set(wanted) - set(values))
    if unknown:
        raise pytest.UsageError(f"{option}={raw!r}: unknown {', '.join(unknown)}; expected some of {', '.join(values)}")
    return wanted


def targets(config) -> list[tuple[str, str, str, str]]:
    """Every (layer, adapter, device, dtype) the options select."""
    import adapters
    import oracle
    layers = _chosen(config, "--layer", oracle.ROWS)
    names = _chosen(config, "--backend", adapters.names())
    out = []
    for name in names:
        a = adapters.get(name)
        for device in _chosen(config, "--device", ["cpu", "cuda"]):
            if device not in a.devices:
                continue
            for dtype in _chosen(config, "--dtype", ["float32", "float64"]):
                out += [(layer, name, device, dtype) for layer in layers]
    return out


def pytest_generate_tests(metafunc):
    if "target" in metafunc.fixturenames:
        ts = targets(metafunc.config)
        metafunc.parametrize("target", ts, ids=["-".join(t) for t in ts])
    if "backend" in metafunc.fixturenames:  # metamorphic relations: the oracle, then every adapter/device/dtype
        import adapters
        from suites.metamorphic import backends
        c = metafunc.config
        bs = backends(_chosen(c, "--backend", adapters.names()), _chosen(c, "--device", ["cpu", "cuda"]),
                      _chosen(c, "--dtype", ["float32", "float64"]))
        metafunc.parametrize("backend", bs, ids=[b.id for b in bs])


def pytest_collection_modifyitems(config, items):
    """--backend also selects the tests parametrised over adapters by `name` (the suites that run on the adapters
    with an ability, adapters.with_ability): the others are deselected."""
    import adapters
    chosen = set(_chosen(config, "--backend", adapters.names()))
    keep, drop = [], []
    for item in items:
        name = item.callspec.params.get("name") if hasattr(item, "callspec") else None
        (drop if isinstance(name, str) and name in adapters.MODULES and name not in chosen else keep).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.fixture
def recorder(request, target, check):
    """The Recorder of one (layer, adapter, device, dtype) x check test, flushed to results.jsonl at its end."""
    from suites.recording import Recorder
    rec = Recorder(request.node.nodeid, *target, check)
    yield rec
    rec.flush(results_path(request.config))


def results_path(config) -> Path | None:
    """results.jsonl of this run, or None when the run records nothing (no --report-dir)."""
    where = config.getoption("--report-dir")
    return Path(where) / "results.jsonl" if where else None


def _gpu() -> str:
    """GPU model and driver from nvidia-smi, or why there is none."""
    import shutil
    import subprocess
    if not shutil.which("nvidia-smi"):
        return "none (no nvidia-smi)"
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError) as exc:
        return f"unknown (nvidia-smi failed: {exc})"
    return "; ".join(line.strip() for line in out.stdout.splitlines() if line.strip()) or "none"


def _environment(config) -> dict:
    import adapters
    env = {"python": platform.python_version(), "platform": platform.platform(), "cpu": platform.processor()
           or platform.machine(), "cpu_count": str(os.cpu_count()),
           "hypothesis_profile": settings._current_profile, "hypothesis_seed": str(config.getoption("hypothesis_seed")),
           "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset)")}
    for dist in ("numpy", "hypothesis", "tensorflow", "tf-keras", "keras", "torch"):
        try:
            env[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            env[dist] = "not installed"
    for name in adapters.names():
        a = adapters.get(name)
        if a.installed() is None:
            env.update(a.versions())  # imports the framework and reports the TF32 / oneDNN settings it applied
    env["gpu"] = _gpu()
    env["OMP_NUM_THREADS"] = os.environ.get("OMP_NUM_THREADS", "(unset)")
    try:
        with open("/proc/cpuinfo") as f:
            env["cpu"] = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), env["cpu"])
    except OSError:
        pass
    return env


def pytest_configure(config):
    """SIGTERM ends a run as Ctrl-C does (pytest's KeyboardInterrupt path: every test's finally and teardown
    flushes its records, the session finishes and marks the run interrupted), in the controller and in each
    xdist worker; and every process that runs checks keeps its in-flight file under --report-dir."""
    import signal
    from suites import inflight
    try:
        signal.signal(signal.SIGTERM, signal.default_int_handler)
    except ValueError:  # not the main thread: the process's own handler stays
        pass
    inflight.configure(config.getoption("--report-dir"))


def pytest_runtest_setup(item):
    from suites import inflight
    inflight.test_id = item.nodeid


def _run_state(path: Path, state: str, **fields) -> None:
    """run-state.json beside results.jsonl: `running` until the session finishes (a run killed outright stays
    `running`, and its report says it is incomplete), then `complete` or `interrupted` (reports/inputs.py)."""
    from reports.atomic import write_atomic
    write_atomic(path.parent / "run-state.json", json.dumps({"state": state, **fields}))


def pytest_sessionstart(session):
    """The controller starts a fresh results file and writes the environment next to it."""
    path = results_path(session.config)
    if hasattr(session.config, "workerinput") or path is None:
        return
    from suites import inflight
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("")
    inflight.clear(path.parent)
    _run_state(path, "running", pid=os.getpid())
    if any(item for item in session.config.args if "conformance" in item or item in (".", "suites")):
        (path.parent / "environment.json").write_text(json.dumps(_environment(session.config), indent=1))


def pytest_sessionfinish(session, exitstatus):
    """The controller marks the run complete (tests passed, failed or none collected) or interrupted."""
    path = results_path(session.config)
    if hasattr(session.config, "workerinput") or path is None:
        return
    done = int(exitstatus) in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED, pytest.ExitCode.NO_TESTS_COLLECTED)
    _run_state(path, "complete" if done else "interrupted", exitstatus=int(exitstatus))
