"""The checks of one example on one adapter: shape, forward, gradient. Shared by the suite and the replayer.

Each returns an `Outcome`; a failure that a known-divergence entry explains becomes `known-divergence`.
"""
from __future__ import annotations

import json
import shlex
from dataclasses import dataclass, field

import numpy as np

import oracle
from adapters import Adapter
from oracle import recurrent

from . import divergences, tolerance, training, weight_checks
from .compare import Comparison, compare, worst
from .layer_api import keras1_native_check, round_trip_check
from .strategies import Case, arrays, case_mask


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


def _shape(case, adapter, device, dtype):
    x, ws, _ = arrays(case, dtype)
    out = oracle.output_shape(case.config, case.input_shape)
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


def _forward(case, adapter, device, dtype):
    config = oracle.normalize(case.config)
    x, ws, _ = arrays(case, dtype)
    kw = _mask(case)
    actual = adapter.forward(config, ws, x, device=device, dtype=dtype, **kw)
    cs = compare_outputs("output", actual, oracle.forward(config, ws, x, **kw),
                         tolerance.forward_bound(config, ws, x, dtype, **kw))
    return all(c.ok for c in cs), cs, None


def _gradient(case, adapter, device, dtype):
    x, ws, g = arrays(case, dtype)
    return _compare_vjp(oracle.normalize(case.config), x, ws, g, adapter, device, dtype, **_mask(case))


def tied(x):
    """The input of the tie check: floor() maps [-2, 2) onto four levels, so the largest values of a window
    often tie (with distinct_inputs every window of 8 or more holds a tie); each input of a list (Maximum)."""
    return [np.floor(a) for a in x] if isinstance(x, list) else np.floor(x)


def _tie_gradient(case, adapter, device, dtype):
    """The gradient where the maximum of a window is not unique: pins the documented tie rule of selecting
    layers (oracle/pooling.py), which the conformance inputs avoid on purpose."""
    x, ws, g = arrays(case, dtype)
    return _compare_vjp(oracle.normalize(case.config), tied(x), ws, g, adapter, device, dtype)


def _compare_vjp(config, x, ws, g, adapter, device, dtype, **kw):
    gx, gws = oracle.vjp(config, ws, x, g, **kw)
    bx, bws = tolerance.vjp_bounds(config, ws, x, g, dtype, **kw)
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


def _boundary(case, adapter, device, dtype):
    """Forward values exactly at the kinks: pins the documented rule there (ThresholdedReLU's strict x > theta,
    ReLU's f(threshold) = threshold)."""
    config = oracle.normalize(case.config)
    x, ws, _ = arrays(case, dtype)
    x = on_kinks(config, x)
    actual = adapter.forward(config, ws, x, device=device, dtype=dtype)
    c = compare("output", actual, oracle.forward(config, ws, x), tolerance.forward_bound(config, ws, x, dtype))
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
    if config["class_name"] not in recurrent.PROGRAMS:
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


def run(check: str, case: Case, adapter: Adapter, device: str, dtype: str) -> Outcome:
    """Run one check; never raises for a backend failure (an exception becomes an `error` outcome)."""
    config = oracle.normalize(case.config)
    why = adapter.supports(config, device, dtype)
    if why:
        return Outcome("unsupported", reason=why)
    where = f"{case.layer}({json.dumps(case.config['config'])}) input_shape={tuple(case.input_shape)} " \
            f"seed={case.seed} [{adapter.name}/{device}/{dtype}, {check}]"
    try:
        ok, comparisons, reference = CHECKS[check](case, adapter, device, dtype)
    except Exception as exc:  # the backend raised: an error outcome, unless a known divergence explains it
        message = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
        known = divergences.match(adapter.name, config["class_name"], config["config"], device, dtype, check, "error",
                                  case.input_shape, case.mask)
        if not known and check == "round_trip":  # it calls the layer once, as the forward check does: same error
            known = divergences.match(adapter.name, config["class_name"], config["config"], device, dtype,
                                      "forward", "error", case.input_shape, case.mask)
        if known:
            return Outcome("known-divergence", message, reason=known.reason, divergence_id=known.id)
        return Outcome("error", f"{where}: backend raised {message}", reason=message)
    w = worst(comparisons)
    status, message, known = "pass", "", None
    if not ok:
        known = divergences.match(adapter.name, config["class_name"], config["config"], device, dtype, check,
                                  "mismatch", case.input_shape, case.mask)
        status = "known-divergence" if known else "fail"
        message = f"{where}: {w.describe()}"
    return Outcome(status, message, metrics=w.metrics(), reason=known.reason if known else None,
                   divergence_id=known.id if known else None, reference=reference)
