"""The checks of the weight parameters, registered in checks.CHECKS: 'initializer' (statistical, pooled over
seeded draws), 'regularizer' (the losses a layer adds) and 'constraint' (the projection of each weight).

`compare_facts` is the statistical comparison of samples with an initializer's facts; the oracle self-tests
feed it the oracle's own samples (it passes) and deliberately wrong distributions (it fails).
"""
from __future__ import annotations

import math

import numpy as np

import oracle
from oracle import constraints, initializers, regularizers
from oracle.weight_parameters import activity_regularizer

from . import tolerance
from .compare import Comparison, compare
from .strategies import Case, arrays
from .truth import DOCUMENTED

POOLED = 1024     # elements pooled per weight for the distribution statistics
MAX_DRAWS = 64    # at most this many initialisations per example
ORTHOGONAL_DRAWS = 4


def _scalar(name: str, actual: float, expected: float, bound: float) -> Comparison:
    return compare(name, np.array([actual]), np.array([expected]), np.array([bound]))


def compare_facts(name: str, facts: initializers.Facts, samples: np.ndarray, dtype: str) -> list[Comparison]:
    """Samples (draws, *shape) against what the initializer promises."""
    x = np.asarray(samples, dtype=np.float64)
    if x.shape[1:] != facts.shape:
        return [Comparison(name, False, math.inf, math.inf,
                           shape_error=f"{name}.shape={x.shape[1:]}, but should be {facts.shape}")]
    if facts.kind == "blocks":  # each part against its own facts
        return [c for a, b, part in facts.parts for c in compare_facts(f"{name}[..., {a}:{b}]", part,
                                                                        x[..., a:b], dtype)]
    if facts.kind == "exact":
        expected = np.broadcast_to(facts.values, x.shape)
        return [compare(f"{name} values", x, expected, tolerance.sum_bound(1, dtype, np.abs(expected)))]
    if facts.kind == "orthogonal":
        out = []
        for d in range(min(len(x), ORTHOGONAL_DRAWS)):
            w = initializers.flat(x[d])
            rows, cols = w.shape
            gram = w.T @ w if rows >= cols else w @ w.T
            out.append(compare(f"{name} draw {d} orthogonality (W^T W or W W^T)", gram,
                               facts.gain ** 2 * np.eye(len(gram)),
                               np.broadcast_to(tolerance.orthogonality_bound(rows, cols, facts.gain, dtype),
                                               gram.shape)))
        return out
    flat = np.sort(x.ravel())
    n = flat.size
    if n == 0:  # an empty weight (Embedding(output_dim=0)) draws nothing: only its emptiness is checked
        return [compare(f"{name} (empty)", flat, np.zeros(0), np.zeros(0))]
    mean, var, m4 = facts.moments()
    # the size of the values whose rounding the statistics see
    size = abs(facts.loc) + math.sqrt(var) + (max(abs(facts.low), abs(facts.high)) if math.isfinite(facts.high) else 0.0)
    out = [_scalar(f"{name} mean over {n}", float(flat.mean()), mean, tolerance.statistic_bound(var / n, dtype, size)),
           _scalar(f"{name} variance over {n}", float(np.mean((flat - mean) ** 2)), var,
                   tolerance.statistic_bound((m4 - var * var) / n, dtype, size * size))]
    if math.isfinite(facts.low):
        support = np.clip(flat, facts.low, facts.high)
        out.append(compare(f"{name} support [{facts.low:.6g}, {facts.high:.6g}]", flat, support,
                           tolerance.sum_bound(1, dtype, np.abs(support))))
    cdf = facts.cdf(flat)
    gaps = np.maximum(np.arange(1, n + 1) / n - cdf, cdf - np.arange(n) / n)
    out.append(_scalar(f"{name} Kolmogorov-Smirnov distance over {n}", float(gaps.max()), 0.0, tolerance.ks_bound(n)))
    return out


def _initializer(case: Case, adapter, device: str, dtype: str, truth=DOCUMENTED):
    config = oracle.normalize(case.config)
    shapes = oracle.weight_shapes(config, case.input_shape)
    try:
        facts = truth.initializer_facts(config, case.input_shape)
    except ValueError as exc:  # Keras 2.2.x raises (Identity on a non-square weight): the backend must too
        try:
            adapter.initial_weights(config, case.input_shape, seed=case.seed, device=device, dtype=dtype,
                                    shapes=shapes)
        except Exception:  # rejected, as documented
            return True, [Comparison("initializer", True, 0.0, 0.0)], "statistical"
        return False, [Comparison("initializer", False, math.inf, math.inf,
                                  shape_error=f"the backend initialised the weights, but Keras 2.2.x raises: {exc}")
                       ], "statistical"
    parts = [p for f in facts for p in ([q for _, _, q in f.parts] if f.kind == "blocks" else [f])]
    random = [math.prod(f.shape) for f in parts if f.kind not in ("exact",)]
    draws = min(MAX_DRAWS, max([1] + [math.ceil(POOLED / max(n, 1)) for n in random]))
    got = adapter.initial_weights(config, case.input_shape, seed=case.seed, device=device, dtype=dtype, draws=draws,
                                  shapes=shapes)
    if len(got[0]) != len(facts):
        return False, [Comparison("weights", False, math.inf, math.inf,
                                  shape_error=f"{len(got[0])} weights, but should be {len(facts)}")], "statistical"
    cs = []
    for i, f in enumerate(facts):
        cs += compare_facts(f"weight[{i}]", f, np.stack([np.asarray(d[i]) for d in got]), dtype)
    return all(c.ok for c in cs), cs, "statistical"


def _regularizer(case: Case, adapter, device: str, dtype: str, truth=DOCUMENTED):
    config = oracle.normalize(case.config)
    x, ws, _ = arrays(case, dtype)
    losses, y = adapter.regularization_losses(config, ws, x, device=device, dtype=dtype)
    # the activity loss of the backend's own output: the forward check judges the output itself
    y = [np.asarray(a, dtype=np.float64) for a in y] if isinstance(y, list) else np.asarray(y, dtype=np.float64)
    expected = truth.regularization_losses(config, ws, x, outputs=y)
    # Keras 2.2.x Layer.__call__ adds one activity loss per output (add_loss([reg(o) for o in outputs])): a
    # layer with several outputs (return_state) adds several; the oracle gives their sum under 'activity'
    count = len(expected) + (len(y) - 1 if "activity" in expected and isinstance(y, list) else 0)
    if len(losses) != count:
        return False, [Comparison("losses", False, math.inf, math.inf,
                                  shape_error=f"{len(losses)} losses, but should be {count} "
                                              f"({', '.join(expected) or 'none'})")], "exact"
    n, mag = 0, 0.0
    prefixes = oracle.weight_params(config)
    c = config["config"]
    for name in expected:
        reg = c.get(f"{name}_regularizer") if name != "activity" else activity_regularizer(config)
        for part in (y if name == "activity" and isinstance(y, list) else
                     [ws[prefixes.index(name)] if name != "activity" else y]):
            t = regularizers.terms(reg, part)
            n, mag = n + t[0] + 1, mag + t[1]
    total = float(sum(expected.values()))
    return _finish([_scalar(f"total of {len(losses)} losses ({', '.join(expected)})", float(sum(losses)), total,
                            tolerance.regularizer_bound(n, dtype, mag))])


def _finish(cs):
    return all(c.ok for c in cs), cs, "exact"


def _constraint(case: Case, adapter, device: str, dtype: str, truth=DOCUMENTED):
    config = oracle.normalize(case.config)
    x, ws, _ = arrays(case, dtype)
    expected = oracle.constrain(config, ws)
    got = adapter.constrained_weights(config, ws, [a.shape for a in x] if isinstance(x, list) else x.shape,
                                      device=device, dtype=dtype)
    if len(got) != len(expected):
        return False, [Comparison("weights", False, math.inf, math.inf,
                                  shape_error=f"{len(got)} weights, but should be {len(expected)}")], "exact"
    cs = []
    for i, (prefix, a, e) in enumerate(zip(oracle.weight_params(config), got, expected)):
        con = config["config"].get(f"{prefix}_constraint")
        n = 0 if con is None else constraints.reduction(con, e.shape)
        cs.append(compare(f"weight[{i}] ({prefix}) after {con['class_name'] if con else 'no constraint'}",
                          np.asarray(a), e, tolerance.projection_bound(n, dtype, e)))
    return _finish(cs)


CHECKS = {"initializer": _initializer, "regularizer": _regularizer, "constraint": _constraint}
