"""Constraints (Keras 2.2.x keras/constraints.py): MaxNorm, NonNeg, UnitNorm, MinMaxNorm and their aliases.

The projection each applies to a weight, exactly as 2.2.x writes it (norms over `axis`, keepdims, and
K.epsilon() = 1e-7 added to the norm in the denominator, so a weight under the limit is still scaled by
norm / (norm + 1e-7)).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .initializers import parse_object, real
from .params import invalid

EPSILON = 1e-7  # Keras K.epsilon()


def _axis(layer: str, param: str, value: Any):
    """An int or a list/tuple of ints (the axes the norm runs over); range-checked against the weight later."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, (list, tuple)) and value and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value) and len(set(value)) == len(value):
        return tuple(value)
    raise invalid(layer, param, value, "expected an integer axis or a list of distinct integer axes")


CLASSES = {
    "MaxNorm": {"max_value": (2.0, real), "axis": (0, _axis)},
    "NonNeg": {},
    "UnitNorm": {"axis": (0, _axis)},
    "MinMaxNorm": {"min_value": (0.0, real), "max_value": (1.0, real), "rate": (1.0, real), "axis": (0, _axis)},
}
# 2.2.x: max_norm = MaxNorm ...; legacy aliases maxnorm, nonneg, unitnorm.
NAMES = {**{c: (c, {}) for c in CLASSES}, "max_norm": ("MaxNorm", {}), "non_neg": ("NonNeg", {}),
         "unit_norm": ("UnitNorm", {}), "min_max_norm": ("MinMaxNorm", {}), "maxnorm": ("MaxNorm", {}),
         "nonneg": ("NonNeg", {}), "unitnorm": ("UnitNorm", {})}


def parse(layer: str, param: str, value: Any) -> dict:
    """Canonical constraint of `layer.param`."""
    return parse_object("constraint", NAMES, CLASSES, layer, param, value)


def axes(con: dict, ndim: int) -> tuple[int, ...]:
    """The constraint's axes for a weight of rank `ndim`; ValueError when one is out of range."""
    a = con["config"].get("axis", 0)
    a = a if isinstance(a, tuple) else (a,)
    if any(not -ndim <= v < ndim for v in a):
        raise invalid(con["class_name"], "axis", con["config"]["axis"], f"out of range for a weight of rank {ndim}")
    return tuple(v % ndim for v in a)


def norms(con: dict, w: np.ndarray) -> np.ndarray:
    """sqrt(sum w^2) over the constraint's axes, keepdims."""
    return np.sqrt(np.sum(w * w, axis=axes(con, w.ndim), keepdims=True))


def project(con: dict, w: np.ndarray) -> np.ndarray:
    """The constrained weight."""
    w = np.asarray(w, dtype=np.float64)
    cls, c = con["class_name"], con["config"]
    if cls == "NonNeg":
        return w * (w >= 0.0)
    n = norms(con, w)
    if cls == "UnitNorm":
        return w / (EPSILON + n)
    if cls == "MaxNorm":
        desired = np.clip(n, 0.0, c["max_value"])
    else:
        desired = c["rate"] * np.clip(n, c["min_value"], c["max_value"]) + (1 - c["rate"]) * n
    return w * (desired / (EPSILON + n))


def reduction(con: dict, shape: tuple) -> int:
    """Terms in each norm (0 for NonNeg): what the projection's rounding scales with."""
    if con["class_name"] == "NonNeg":
        return 0
    return int(np.prod([shape[a] for a in axes(con, len(shape))]))
