"""Backend calls in a worker process per adapter, so that a backend that segfaults, aborts, hangs or exhausts
memory in one call costs that call, not the run.

The process model (DESIGN.md "Process model"): `IsolatedAdapter` stands in for one adapter in the test process.
Everything that needs no framework (its name, layers, abilities, supports()) is answered there from the adapter's
own class; every call that runs the backend (`REMOTE`) is sent to a worker process started with multiprocessing's
spawn method (a fresh interpreter: no forked TensorFlow or CUDA state) that holds the real adapter and is reused
across calls. The test process waits for the answer with a limit:
- the worker dies (a signal, or exit) -> `BackendCrash` naming the signal; the next call starts a new worker;
- the call outlasts `timeout_s` -> the worker is killed -> `BackendTimeout` naming the limit;
- the worker's resident memory passes `memory_mb` -> it is killed -> `BackendCrash` ("out of memory").
An exception the backend raises is rebuilt in the test process with its class name, module, MRO names and text
(and its __context__), so known-divergence entries and the invalid-config suite judge it as if raised in place.

Enabled by CONFORMANCE_ISOLATE=1 (`make report` sets it); limits: CONFORMANCE_CALL_TIMEOUT (seconds per call,
default 120: the first call of a worker also imports its framework) and CONFORMANCE_WORKER_MEMORY_MB (default
8192).
"""
from __future__ import annotations

import builtins
import importlib
import multiprocessing
import os
import resource
import signal
import time
from pathlib import Path

from .base import BACKEND_METHODS

# The adapter methods that run the backend, plus the ones that may import the framework to answer (the cuda
# device check, the versions for the environment section).
REMOTE = BACKEND_METHODS | {"device_reason", "versions"}
POLL_S = 0.02


class BackendCrash(Exception):
    """The worker running the backend died during the call (`signal_name` set when a signal killed it)."""

    def __init__(self, message: str, signal_name: str | None = None):
        super().__init__(message)
        self.signal_name = signal_name


class BackendTimeout(Exception):
    """The call outlasted `limit_s`; the worker was killed."""

    def __init__(self, message: str, limit_s: float):
        super().__init__(message)
        self.limit_s = limit_s


def describe_exception(exc: BaseException) -> dict:
    """What rebuild_exception needs, all picklable: class name, module, MRO names, builtin base, text, context."""
    builtin = next((c.__name__ for c in type(exc).__mro__ if getattr(builtins, c.__name__, None) is c),
                   "Exception")
    context = exc.__context__ if exc.__context__ is not exc else None
    return {"type": type(exc).__name__, "module": type(exc).__module__,
            "mro": [c.__name__ for c in type(exc).__mro__], "builtin": builtin, "message": str(exc),
            "context": describe_exception(context) if context is not None else None}


def rebuild_exception(d: dict) -> BaseException:
    """An exception of a class named and placed like the original, a subclass of its nearest builtin exception
    (so isinstance(e, ValueError) holds where it did), whose str() is the original text."""
    base = getattr(builtins, d["builtin"], Exception)
    if not (isinstance(base, type) and issubclass(base, BaseException)):
        base = Exception
    cls = type(d["type"], (base,), {"__module__": d["module"], "remote_mro": tuple(d["mro"]),
                                    "__str__": lambda self: d["message"]})
    exc = cls(d["message"])
    if d["context"] is not None:
        exc.__context__ = rebuild_exception(d["context"])
    return exc


def _serve(name: str, module: str, conn) -> None:
    """The worker: the real adapter answers each (method, args, kwargs) until the pipe closes."""
    # no core files: a backend that crashes on purpose or by bug must not fill the disk of a CI machine
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    # Ctrl-C (or reports/run.py forwarding SIGTERM) reaches the whole process group: the test process ends the
    # run and stops this worker; a worker dying of it first would be a crash record of an interrupted run
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    adapter = importlib.import_module(module).ADAPTER
    while True:
        try:
            method, args, kwargs = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = getattr(adapter, method)(*args, **kwargs)
            # an exception returned as the answer (build_error's) would lose its __context__ to pickle
            reply = ("exception", describe_exception(result)) if isinstance(result, BaseException) else ("ok", result)
        except Exception as exc:  # the backend's exception, sent back for the test process to judge
            reply = ("raised", describe_exception(exc))
        try:
            conn.send(reply)
        except Exception:
            try:  # framework containers (Keras 3's TrackedList / TrackedDict) as the builtin ones they stand for
                conn.send((reply[0], _builtin(reply[1])))
            except Exception as exc:  # an answer that cannot be pickled is the adapter's error
                conn.send(("raised", describe_exception(exc)))


def _builtin(value):
    """`value` with every list, tuple and dict (subclasses included) rebuilt as the builtin type."""
    if isinstance(value, dict):
        return {_builtin(k): _builtin(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_builtin(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    return value


def _status_kb(pid: int, field: str) -> int:
    """A /proc/<pid>/status field in KiB (VmRSS now, VmHWM the peak), 0 where there is no /proc."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


class IsolatedAdapter:
    """One adapter whose backend calls run in a worker process (module docstring)."""

    def __init__(self, name: str, module: str, timeout_s: float | None = None, memory_mb: float | None = None):
        self._module = module
        self._local = importlib.import_module(module).ADAPTER
        self.timeout_s = float(timeout_s if timeout_s is not None else os.environ.get("CONFORMANCE_CALL_TIMEOUT", 120))
        self.memory_mb = float(memory_mb if memory_mb is not None else
                               os.environ.get("CONFORMANCE_WORKER_MEMORY_MB", 8192))
        self.peak_rss_mb = 0.0   # the largest peak resident memory of any of its workers
        self.restarts = 0        # workers started after the first (one per crash or timeout)
        self._proc = self._conn = None

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        if attr in REMOTE:
            if not callable(getattr(self._local, attr, None)):
                raise AttributeError(f"{self._local.name} adapter has no {attr}()")
            return lambda *args, **kwargs: self._call(attr, args, kwargs)
        return getattr(self._local, attr)

    def device_reason(self, device: str) -> str | None:
        # the cpu answer needs no framework (every adapter here); another device may import it: in the worker
        return self._local.device_reason(device) if device == "cpu" else self._call("device_reason", (device,), {})

    def supports(self, config: dict, device: str, dtype: str) -> str | None:
        # the adapter's own rule; on cpu it needs no framework, elsewhere its device check may import one: asked
        # in the worker
        if device == "cpu":
            return self._local.supports(config, device, dtype)
        return self._call("supports", (config, device, dtype), {})

    def _start(self):
        ctx = multiprocessing.get_context("spawn")
        parent, child = ctx.Pipe()
        self._proc = ctx.Process(target=_serve, args=(self._local.name, self._module, child), daemon=True,
                                 name=f"conformance-{self._local.name}")
        self._proc.start()
        child.close()
        self._conn = parent

    def _stop(self) -> None:
        if self._proc is not None:
            if self._proc.is_alive():
                self._proc.kill()
            self._proc.join(5)
            self._conn.close()
        self._proc = self._conn = None

    def _lost(self) -> None:
        """The worker crashed or was killed: stop it; the next call starts another."""
        self._stop()
        self.restarts += 1

    def close(self) -> None:
        """Stop the worker (it also dies with this process: daemon)."""
        self._stop()

    def _call(self, method: str, args: tuple, kwargs: dict):
        if self._proc is None or not self._proc.is_alive():
            if self._proc is not None:
                self._lost()
            self._start()
        self._conn.send((method, args, kwargs))
        start, pid, name = time.monotonic(), self._proc.pid, self._local.name
        while True:
            if self._conn.poll(POLL_S):
                try:
                    kind, value = self._conn.recv()
                except (EOFError, OSError):  # the worker died: wait for its exit status, below
                    self._proc.join(10)
                    kind = None
                if kind is not None:
                    self.peak_rss_mb = max(self.peak_rss_mb, _status_kb(pid, "VmHWM") / 1024)
                    if kind == "ok":
                        return value
                    if kind == "exception":
                        return rebuild_exception(value)
                    raise rebuild_exception(value)
            if not self._proc.is_alive():
                code = self._proc.exitcode
                self._lost()
                if code is not None and code < 0:
                    sig = signal.Signals(-code).name
                    raise BackendCrash(f"the {name} worker was killed by {sig} during {method}()", sig)
                raise BackendCrash(f"the {name} worker exited with status {code} during {method}()")
            rss = _status_kb(pid, "VmRSS") / 1024
            self.peak_rss_mb = max(self.peak_rss_mb, rss)
            if rss > self.memory_mb:
                self._lost()
                raise BackendCrash(f"the {name} worker used {rss:.0f} MiB during {method}(), over the "
                                   f"{self.memory_mb:.0f} MiB limit (CONFORMANCE_WORKER_MEMORY_MB): killed",
                                   "SIGKILL")
            if time.monotonic() - start > self.timeout_s:
                self._lost()
                raise BackendTimeout(f"{method}() on {name} outlasted the {self.timeout_s:g} s limit "
                                     "(CONFORMANCE_CALL_TIMEOUT): the worker was killed", self.timeout_s)
