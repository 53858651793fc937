"""Metamorphic relations: two computations that the documentation says are equal, run on one backend.

A relation test takes the `backend` fixture (the oracle in float64, then every adapter/device/dtype the options
select), runs both sides of the relation on it with `run`, and checks them with `assert_equal`. The allowed
difference is the sum of the two sides' error bounds from the tolerance policy (`tolerance.chain_bound` for
each side), so a relation is as tight as single-layer conformance and reports its error in bound units.

On a real backend every example leaves one result record per relation (`relation` fixture, `Relation.example`),
check "metamorphic:<relation>", under the layer the relation is about: `pass`, `fail` or `error` with the message,
or `discarded` when a known divergence of the backend (suites/divergences.py) makes the example uninformative
(the backend raises on that config, or differs from the documented layer there): the record names the entry, and
hypothesis then rejects the example and draws another. The oracle's own runs of a relation are self-tests of the
oracle, not results of a backend, and are not recorded.
"""
from __future__ import annotations

import json
import shlex
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, reject, settings
from hypothesis.errors import HypothesisException

import adapters
import oracle
from adapters.workers import BackendCrash, BackendTimeout

from . import divergences, inflight, tolerance
from .checks import Outcome
from .compare import Comparison, compare
from .recording import Recorder
from .strategies import Case

# A relation test takes the function-scoped `relation` fixture on purpose: its recorder collects the records of
# every example hypothesis draws (the health check warns of fixtures that are not reset between examples).
RECORDED = settings(suppress_health_check=[*settings().suppress_health_check, HealthCheck.function_scoped_fixture])


@dataclass(frozen=True)
class Backend:
    """The oracle (name 'oracle') or one adapter, on a device, in a dtype."""
    name: str
    device: str
    dtype: str

    @property
    def id(self) -> str:
        return f"{self.name}-{self.device}-{self.dtype}"

    def skip_unless_supported(self, *configs: dict) -> None:
        """pytest.skip with the adapter's reason when any config cannot run here."""
        if self.name == "oracle":
            return
        a = adapters.get(self.name)
        for c in configs:
            why = a.supports(oracle.normalize(c), self.device, self.dtype)
            if why:
                pytest.skip(f"{c['class_name']} on {self.id}: {why}")

    def cast(self, a) -> np.ndarray:
        """An array as this backend receives it: rounded to its dtype, held in float64."""
        return np.asarray(a, dtype=np.float64).astype(self.dtype).astype(np.float64)

    def cast_inputs(self, x):
        """`cast` of the input, or of each input of a list (a merge layer's inputs)."""
        return [self.cast(a) for a in x] if isinstance(x, list) else self.cast(x)

    def run(self, stages: list[tuple[dict, list]], x) -> np.ndarray:
        """The layers applied one after another; each intermediate result goes on in the backend's dtype. `x` is
        a list of arrays when the first stage is a merge layer."""
        y = self.cast_inputs(x)
        for config, weights in stages:
            c = oracle.normalize(config, [a.shape for a in y] if isinstance(y, list) else y.shape)
            if self.name == "oracle":
                y = oracle.forward(c, weights, y)
            else:
                y = np.asarray(adapters.get(self.name).forward(c, [self.cast(w) for w in weights], y,
                                                               device=self.device, dtype=self.dtype), np.float64)
        return y


def backends(names: list[str], devices: list[str], dtypes: list[str]) -> list[Backend]:
    """The oracle first, then every selected adapter/device/dtype."""
    out = [Backend("oracle", "cpu", "float64")]
    for name in names:
        a = adapters.get(name)
        out += [Backend(name, d, t) for d in devices if d in a.devices for t in dtypes if t in a.dtypes]
    return out


def assert_equal(what: str, backend: Backend, lhs: list, rhs: list, x, rhs_x=None,
                 example: Example | None = None) -> None:
    """Run both sides (lists of (config, weights) stages) on `backend` and compare them within the sum of the two
    sides' bounds. The right side runs on `rhs_x` when given (the same numbers in another layout, e.g. a Conv1D
    input with a height axis added) and its output is compared in the left side's shape. `what` names the
    relation in the failure message; the comparison goes into `example`'s record."""
    x = backend.cast_inputs(x)
    x2 = x if rhs_x is None else backend.cast_inputs(rhs_x)
    _, b_lhs = tolerance.chain_bound(lhs, x, backend.dtype)
    _, b_rhs = tolerance.chain_bound(rhs, x2, backend.dtype)
    left, right = backend.run(lhs, x), backend.run(rhs, x2)
    if right.size != left.size:
        raise AssertionError(f"{what} [{backend.id}]: lhs.shape={left.shape} but rhs.shape={right.shape}")
    bound = b_lhs + b_rhs.reshape(left.shape) + np.finfo(backend.dtype).tiny
    c = compare("lhs", left, right.reshape(left.shape), bound)
    if example is not None:
        example.saw(c)
    stages = lambda side: " -> ".join(f"{s[0]['class_name']}({s[0].get('config', {})})" for s in side)  # noqa: E731
    shape = [a.shape for a in x] if isinstance(x, list) else x.shape
    assert c.ok, (f"{what} [{backend.id}] input_shape={shape}: {c.describe()}\n"
                  f"  lhs: {stages(lhs)}\n  rhs: {stages(rhs)}")


class Example:
    """What one example's record reports beside its status: the worst comparison the relation made."""

    def __init__(self) -> None:
        self.metrics: dict | None = None

    def saw(self, c: Comparison) -> None:
        if self.metrics is None or c.max_error_in_bounds > self.metrics["max_error_in_bounds"]:
            self.metrics = c.metrics()


class Discarded(Exception):
    """Raised inside `Relation.example` when a known divergence makes the example uninformative: the example is
    recorded as `discarded` (naming the entry) and rejected."""

    def __init__(self, entry: divergences.Divergence, layer: str,
                 consequence: str = "the relation cannot be checked"):
        super().__init__(discard_reason(entry, layer, consequence))
        self.entry, self.reason = entry, str(self)


def discard_reason(entry: divergences.Divergence, layer: str, consequence: str) -> str:
    """One line that names the entry, what it does to the layer, and what the example therefore cannot show (the
    same for every example the entry discards, so the report counts them together)."""
    effect = "raise" if entry.outcome == "error" else "differ from the documented layer"
    return f"discarded: {entry.id} makes {layer} {effect} on this config, so {consequence}"


def known_divergence(backend: Backend, config: dict, outcomes: tuple[str, ...] = ("error",), input_shape=None,
                     masked: bool | None = None, exc: BaseException | None = None) -> divergences.Divergence | None:
    """The known-divergence entry of `backend` about one forward call of `config` (raw or canonical) with one of
    the `outcomes`; given the exception the call raised, only an error entry whose pattern matches it. None on
    the oracle, or where no entry applies (a real failure)."""
    if backend.name == "oracle":
        return None
    c = oracle.normalize(config)
    for outcome in outcomes:
        found = divergences.candidates(backend.name, c["class_name"], c["config"], backend.device, backend.dtype,
                                       "forward", outcome, None if input_shape is None else tuple(input_shape),
                                       masked)
        if exc is not None:
            found = [d for d in found if d.outcome == "error" and d.explains_error(exc) is None]
        if found:
            return found[0]
    return None


def _plain(value):
    """numpy scalars and arrays in a config as JSON values."""
    return value.tolist() if isinstance(value, (np.ndarray, np.generic)) else str(value)


class Relation:
    """The result records of one metamorphic test on one backend, one Recorder per (relation, layer)."""

    def __init__(self, test_id: str, backend: Backend):
        self.test_id, self.backend = test_id, backend
        self.recorders: dict[tuple[str, str], Recorder] = {}
        profile = getattr(settings, "_current_profile", None)
        # the test replays its examples (derandomized under the ci profile, so the failing one too); a single
        # example of a relation has no `suites.replay` command, which runs one layer's conformance checks
        self.replay = (".venv/bin/python -m pytest -p no:cacheprovider"
                       + (f" --hypothesis-profile={profile}" if profile else "") + f" {shlex.quote(test_id)}")

    def _case(self, subject: dict, x, seed: int | None, mask: bool) -> Case:
        shape = [tuple(np.shape(a)) for a in x] if isinstance(x, list) else tuple(np.shape(x))
        return Case(json.loads(json.dumps(subject, default=_plain)), tuple(shape), seed, mask)

    def _recorder(self, name: str, layer: str) -> Recorder:
        b = self.backend
        key = (name, layer)
        if key not in self.recorders:
            self.recorders[key] = Recorder(self.test_id, layer, b.name, b.device, b.dtype, f"metamorphic:{name}")
        return self.recorders[key]

    def _judged(self, name: str, case: Case, outcome: Outcome) -> None:
        if self.backend.name == "oracle":
            return
        rec = self._recorder(name, case.config["class_name"])
        if outcome.status in ("fail", "error"):
            for other in self.recorders.values():  # only the last failure (hypothesis shrinks across layers)
                other.last_failure = None
        rec.add(case, outcome)
        (rec.last_failure if outcome.status in ("fail", "error") else rec.kept[case.to_json()])["replay"] = \
            self.replay

    def discard(self, name: str, subject: dict, x, seed: int | None, entry: divergences.Divergence,
                reason: str, mask: bool = False) -> None:
        """Record one example of relation `name` about `subject` as discarded because of `entry`."""
        if self.backend.name != "oracle":
            self._recorder(name, subject["class_name"]).discard(self._case(subject, x, seed, mask), entry.id, reason)

    @contextmanager
    def example(self, name: str, subject: dict, x, seed: int | None = None, mask: bool = False) -> Iterator[Example]:
        """Judge one example of relation `name` about the layer `subject` on input `x` (an array or a list of
        arrays) drawn from `seed`: the block passes, fails (AssertionError) or errs, and is recorded so; a
        `Discarded` raised in it records the example as discarded and rejects it."""
        case, ex = self._case(subject, x, seed, mask), Example()
        b = self.backend
        spec = {**case.spec(), "adapter": b.name, "device": b.device, "dtype": b.dtype,
                "check": f"metamorphic:{name}", "replay": self.replay}
        try:
            with inflight.running(spec) if b.name != "oracle" else nullcontext():
                yield ex
        except (BackendCrash, BackendTimeout) as exc:  # the backend's worker died or hung: that record, next example
            status = "crash" if isinstance(exc, BackendCrash) else "timeout"
            self._judged(name, case, Outcome(status, f"{status}: {exc}", reason=str(exc)))
            reject()
        except Discarded as d:
            self.discard(name, subject, x, seed, d.entry, d.reason, mask)
            reject()
        except HypothesisException:  # an assume() or reject() of the body: not an example
            raise
        except AssertionError as exc:
            self._judged(name, case, Outcome("fail", str(exc), metrics=ex.metrics))
            raise
        except Exception as exc:
            self._judged(name, case, Outcome("error", f"{type(exc).__name__}: {exc}"[:2000], metrics=ex.metrics))
            raise
        else:
            self._judged(name, case, Outcome("pass", metrics=ex.metrics))

    def flush(self, path: Path | None) -> None:
        for rec in self.recorders.values():
            rec.flush(path)


@pytest.fixture(name="relation")
def relation_fixture(request, backend: Backend) -> Iterator[Relation]:
    """`relation`: the records of this test's examples, appended to results.jsonl at teardown. A test module
    imports it (under this name, so the tests' `relation` argument shadows no import)."""
    rel = Relation(request.node.nodeid, backend)
    yield rel
    # the file conftest.results_path names, read from the option here: conftest imports this module (`backends`),
    # so importing conftest back would be an import cycle (suites/test_imports.py)
    where = request.config.getoption("--report-dir")
    rel.flush(Path(where) / "results.jsonl" if where else None)
