"""The checks of one example on one adapter: shape, forward, gradient. Shared by the suite and the replayer.

Each returns an `Outcome`; a failure that a known-divergence entry explains becomes `known-divergence`.
"""
from __future__ import annotations

import json
import re
import shlex
from dataclasses import dataclass, field

import numpy as np

import oracle
from adapters import Adapter
from adapters.workers import BackendCrash, BackendTimeout

from . import alternatives, divergences, inflight, tolerance, training, weight_checks
from .backend_calls import BackendError, Calls
from .compare import Comparison, compare, worst
from .layer_api import keras1_native_check, round_trip_check
from .strategies import Case, arrays, case_mask
from .truth import DOCUMENTED, Truth


@dataclass
class Outcome:
    status: str                       # pass, fail, error, unsupported, known-divergence
    message: str = ""
    metrics: dict | None = None
    reason: str | None = None
    divergence_id: str | None = None
    reference: str | None = None
    details: dict = field(default_factory=dict)


def replay_command(case: Case, adapter: str, device: str, dtype: str, check: str) -> str:
    """One line that replays this example outside pytest."""
    spec = json.dumps({**case.spec(), "adapter": adapter, "device": device, "dtype": dtype, "check": check})
    return f".venv/bin/python -m suites.replay {shlex.quote(spec)}"


def _mask(case) -> dict:
    """{'mask': the case's mask} for a masked case (a recurrent layer's call), else nothing."""
    m = case_mask(case)
    return {} if m is None else {"mask": m}


def _shapes(y):
    """The shape of an output, or the list of shapes of a layer's several outputs."""
    return [tuple(np.shape(a)) for a in y] if isinstance(y, (list, tuple)) else tuple(np.shape(y))


def _shape(case, adapter, device, dtype, truth=DOCUMENTED):
    x, ws, _ = arrays(case, dtype)
    out = truth.output_shape(oracle.normalize(case.config), case.input_shape)
    expected = [tuple(s) for s in out] if isinstance(out, list) else tuple(out)
    actual = _shapes(adapter.forward(oracle.normalize(case.config), ws, x, device=device, dtype=dtype, **_mask(case)))
    ok = actual == expected
    return ok, [Comparison("output", ok, 0.0 if ok else float("inf"), 0.0 if ok else float("inf"),
                           shape_error=None if ok else f"out.shape={actual}, but should be {expected}")], None


def compare_outputs(name: str, actual, expected, bound) -> list[Comparison]:
    """One comparison, or one per output (named name[i]) for a layer with several outputs."""
    if not isinstance(expected, list):
        return [compare(name, actual, expected, bound)]
    if not isinstance(actual, (list, tuple)) or len(actual) != len(expected):
        count = len(actual) if isinstance(actual, (list, tuple)) else 1
        return [Comparison(name, False, float("inf"), float("inf"),
                           shape_error=f"{count} outputs, but should be {len(expected)}")]
    return [compare(f"{name}[{i}]", a, e, b) for i, (a, e, b) in enumerate(zip(actual, expected, bound))]


def _forward(case, adapter, device, dtype, truth=DOCUMENTED):
    config = oracle.normalize(case.config)
    x, ws, _ = arrays(case, dtype)
    kw = _mask(case)
    expected, bound = truth.forward(config, ws, x, **kw), truth.forward_bound(config, ws, x, dtype, **kw)
    actual = adapter.forward(config, ws, x, device=device, dtype=dtype, **kw)
    cs = compare_outputs("output", actual, expected, bound)
    return all(c.ok for c in cs), cs, None


def _gradient(case, adapter, device, dtype, truth=DOCUMENTED):
    x, ws, g = arrays(case, dtype)
    return _compare_vjp(oracle.normalize(case.config), x, ws, g, adapter, device, dtype, truth, **_mask(case))


def tied(x):
    """The input of the tie check: floor() maps [-2, 2) onto four levels, so the largest values of a window
    often tie (with distinct_inputs every window of 8 or more holds a tie); each input of a list (Maximum)."""
    return [np.floor(a) for a in x] if isinstance(x, list) else np.floor(x)


def _tie_gradient(case, adapter, device, dtype, truth=DOCUMENTED):
    """The gradient where the maximum of a window is not unique: pins the documented tie rule of selecting
    layers (oracle/pooling.py), which the conformance inputs avoid on purpose."""
    x, ws, g = arrays(case, dtype)
    return _compare_vjp(oracle.normalize(case.config), tied(x), ws, g, adapter, device, dtype, truth)


def _compare_vjp(config, x, ws, g, adapter, device, dtype, truth: Truth, **kw):
    gx, gws = truth.vjp(config, ws, x, g, **kw)
    bx, bws = truth.vjp_bounds(config, ws, x, g, dtype, **kw)
    ax, aws = adapter.vjp(config, ws, x, g, device=device, dtype=dtype, **kw)
    if isinstance(x, list):  # a multi-input layer: every input's gradient, named input_grad[i]
        cs = [Comparison("input_grads", False, float("inf"), float("inf"),
                         shape_error=f"{len(ax)} input gradients, but should be {len(gx)}")] \
            if len(ax) != len(gx) else []
        cs += [compare(f"input_grad[{i}]", a, e, b) for i, (a, e, b) in enumerate(zip(ax, gx, bx))]
    else:
        cs = [compare("input_grad", ax, gx, bx)]
    if len(aws) != len(gws):
        cs.append(Comparison("weight_grads", False, float("inf"), float("inf"),
                             shape_error=f"{len(aws)} weight gradients, but should be {len(gws)}"))
    state = oracle.layer_of(config).state(config["config"])  # non-trainable (moving statistics): not differentiated
    cs += [compare(f"weight_grad[{i}]", a, e, b) for i, (a, e, b) in enumerate(zip(aws, gws, bws)) if i not in state]
    return all(c.ok for c in cs), cs, oracle.vjp_reference(config)


def on_kinks(config: dict, x: np.ndarray) -> np.ndarray:
    """The boundary check's input: every other element moved exactly onto a point where the layer's f or f'
    jumps (its `Pointwise` kinks: ReLU's threshold and max_value, ThresholdedReLU's theta ...), which the
    conformance inputs avoid on purpose. Kinks are exact in float32 (the strategies draw them so)."""
    act = oracle.layer_of(config).split_activation(oracle.normalize(config)["config"])[1]
    kinks = getattr(act, "kinks", ())
    flat = x.copy().ravel()
    if kinks:
        flat[::2] = np.resize(np.asarray(kinks, dtype=np.float64), flat[::2].size)
    return flat.reshape(x.shape)


def _boundary(case, adapter, device, dtype, truth=DOCUMENTED):
    """Forward values exactly at the kinks: pins the documented rule there (ThresholdedReLU's strict x > theta,
    ReLU's f(threshold) = threshold)."""
    config = oracle.normalize(case.config)
    x, ws, _ = arrays(case, dtype)
    x = on_kinks(config, x)
    expected, bound = truth.forward(config, ws, x), truth.forward_bound(config, ws, x, dtype)
    c = compare("output", adapter.forward(config, ws, x, device=device, dtype=dtype), expected, bound)
    return c.ok, [c], None


CHECKS = {"shape": _shape, "forward": _forward, "gradient": _gradient, "tie_gradient": _tie_gradient,
          "boundary": _boundary, "round_trip": round_trip_check, "keras1_native": keras1_native_check}
CHECKS.update(weight_checks.CHECKS)  # initializer, regularizer, constraint
CHECKS.update(training.CHECKS)  # training mode: 'training', 'seed', 'moving_mean', 'moving_variance' (suites/training.py)


def gradient_well_posed(case: Case, dtype: str) -> bool:
    """False when a pre-activation sits within its error bound of a kink of f' (the gradient is ill-defined)."""
    x, ws, _ = arrays(case, dtype)
    return tolerance.kink_distance(oracle.normalize(case.config), ws, x, dtype, **_mask(case)) > 4.0


def representable(case: Case, dtype: str, check: str) -> bool:
    """False when the oracle's output (or, for the gradient check, its gradients) overflows `dtype`: the
    exponential activation fed back through time grows as exp(exp(...)), and a value beyond the dtype's range has
    no correct rounding to compare with. Only recurrent programs can get there from the bounded inputs drawn."""
    config = oracle.normalize(case.config)
    if oracle.layer_of(config).program is None:
        return True
    x, ws, g = arrays(case, dtype)
    kw = _mask(case)
    with np.errstate(all="ignore"):
        values = [oracle.forward(config, ws, x, **kw)]
        if check == "gradient":
            values += list(oracle.vjp(config, ws, x, g, **kw))
    flat = [a for v in values for a in (v if isinstance(v, list) else [v])]
    flat = [b for a in flat for b in (a if isinstance(a, list) else [a])]
    limit = np.finfo(dtype).max / 16  # headroom for the backend's own intermediate values
    return all(bool(np.all(np.abs(np.asarray(a)) < limit)) for a in flat)


CALLS_THE_LAYER = ("round_trip", "regularizer")  # checks whose backend call is the forward check's call


def run(check: str, case: Case, adapter: Adapter, device: str, dtype: str) -> Outcome:
    """Run one check; never raises. The backend's calls run inside `Calls`, so only an exception raised by the
    backend can be excused by a known divergence; one raised by the oracle, the bounds or the check itself is an
    `error` of ours. A failure is `known-divergence` only when exactly one entry applies and its excuse holds
    (suites/divergences.py); otherwise it is `fail` / `error`, with the entries that applied and why not."""
    config = oracle.normalize(case.config)
    why = adapter.supports(config, device, dtype)
    if why:
        return Outcome("unsupported", reason=why)
    where = f"{case.layer}({json.dumps(case.config['config'])}) input_shape={tuple(case.input_shape)} " \
            f"seed={case.seed} [{adapter.name}/{device}/{dtype}, {check}]"
    calls = Calls(adapter)
    try:
        # on disk while it runs: a backend that takes this process down still leaves the case (suites/inflight.py)
        with inflight.running({**case.spec(), "layer": case.layer, "adapter": adapter.name, "device": device, "dtype": dtype,
                               "check": check}):
            ok, comparisons, reference = CHECKS[check](case, calls, device, dtype)
    except BackendError as err:  # the backend raised: an error outcome, unless a known divergence explains it
        exc = err.original
        if isinstance(exc, (BackendCrash, BackendTimeout)):  # its worker process died or was killed: never excused
            status = "crash" if isinstance(exc, BackendCrash) else "timeout"
            return Outcome(status, f"{where}: {exc}", reason=str(exc),
                           details={"signal": exc.signal_name} if isinstance(exc, BackendCrash) and exc.signal_name
                           else {"limit_s": exc.limit_s} if isinstance(exc, BackendTimeout) else {})
        message = f"{type(exc).__name__}: {_first_line(exc)}"
        # a round trip and the regularizer check call the layer once, as the forward check does: the forward
        # check's errors apply to them too
        known, rejected = _explain(adapter.name, config, case, device, dtype,
                                   (check, "forward") if check in CALLS_THE_LAYER else (check,), "error",
                                   lambda d: d.explains_error(exc))
        if known:
            return Outcome("known-divergence", message, reason=known.reason, divergence_id=known.id,
                           details={"observed": message})
        return Outcome("error", f"{where}: backend raised {message}{rejected}", reason=message + rejected)
    except Exception as exc:  # ours: the oracle, a bound or the check raised; no known divergence covers it
        message = f"{type(exc).__name__}: {_first_line(exc)}"
        return Outcome("error", f"{where}: the oracle or the check raised {message}",
                       reason=f"oracle or check raised {message}", details={"origin": "suite"})
    w = worst(comparisons)
    if ok:
        return Outcome("pass", "", metrics=w.metrics(), reference=reference)

    def evidence(d: divergences.Divergence) -> str | None:
        if not d.semantics:
            return d.explains_bounded(comparisons)
        return _agrees_with(d, check, case, calls, device, dtype)
    known, rejected = _explain(adapter.name, config, case, device, dtype, (check,), "mismatch", evidence)
    message = f"{where}: {w.describe()}"
    if known:
        return Outcome("known-divergence", message, metrics=w.metrics(), reason=known.reason,
                       divergence_id=known.id, reference=reference, details={"observed": w.describe()})
    return Outcome("fail", message + rejected, metrics=w.metrics(), reference=reference,
                   reason=rejected.strip(" ;") or None)


def _first_line(exc: BaseException) -> str:
    """The exception's text on one line (Keras 3's terminal escapes dropped), at most 600 characters: Keras wraps
    the op's message in 'Exception encountered when calling ...', so the first line alone says little."""
    return " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).split())[:600]


def _explain(adapter: str, config: dict, case: Case, device: str, dtype: str, checks: tuple, outcome: str,
             evidence) -> tuple[divergences.Divergence | None, str]:
    """(the one entry whose excuse holds, or None; '' or '; not explained by: <each applicable entry and why>').
    Overlapping entries raise divergences.Overlap, which the caller reports as an error of the data files."""
    why: dict[str, str] = {}

    def judged(d):
        why[d.id] = evidence(d)
        return why[d.id]
    for c in checks:
        try:
            known = divergences.match(adapter, config["class_name"], config["config"], device, dtype, c, outcome,
                                      case.input_shape, case.mask, evidence=judged)
        except divergences.Overlap as exc:  # a data-file error: the record is not excused, and says why
            return None, f"; {exc}"
        if known:
            return known, ""
    return None, ("; not explained by: " + "; ".join(why.values())) if why else ""


def _agrees_with(entry: divergences.Divergence, check: str, case: Case, calls: Calls, device: str, dtype: str
                 ) -> str | None:
    """None when the backend's recorded answers pass `check` against the entry's alternative semantics."""
    truth = alternatives.truth(entry.semantics)
    try:
        ok, comparisons, _ = CHECKS[check](case, calls.replay(), device, dtype, truth=truth)
    except Exception as exc:  # ReplayMismatch, or the alternative cannot run this case: not excused, and said so
        return f"{entry.id}: its semantics {list(entry.semantics)} cannot judge this case ({type(exc).__name__}: {exc})"
    if ok:
        return None
    return f"{entry.id}: the backend does not follow {entry.semantics!r} either ({worst(comparisons).describe()})"
