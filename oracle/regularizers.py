"""Regularizers (Keras 2.2.x keras/regularizers.py): L1L2 and its shorthands l1, l2, l1_l2.

Canonical form {'class_name': 'L1L2', 'config': {'l1': a, 'l2': b}}; the loss it adds for a tensor x is
`l1 * sum|x| + l2 * sum x^2` (2.2.x L1L2.__call__), exactly, in float64.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from .initializers import parse_object, real

# 2.2.x: l1(l=0.01) and l2(l=0.01) return L1L2 with one factor; l1_l2(l1=0.01, l2=0.01); L1L2(l1=0., l2=0.).
# Factors are any finite reals, as in 2.2.x, which does not check them (the docs say "positive").
_L = {"l": (0.01, real)}
CLASSES = {"L1L2": {"l1": (0.0, real), "l2": (0.0, real)}, "l1": _L, "l2": _L,
           "l1_l2": {"l1": (0.01, real), "l2": (0.01, real)}}
NAMES = {name: (name, {}) for name in CLASSES}


def parse(layer: str, param: str, value: Any) -> dict:
    """Canonical regularizer of `layer.param`."""
    c = parse_object("regularizer", NAMES, CLASSES, layer, param, value)
    cls, cfg = c["class_name"], c["config"]
    if cls in ("l1", "l2"):
        cfg = {"l1": cfg["l"] if cls == "l1" else 0.0, "l2": cfg["l"] if cls == "l2" else 0.0}
    return {"class_name": "L1L2", "config": {"l1": cfg["l1"], "l2": cfg["l2"]}}


def loss(reg: dict, x: np.ndarray) -> float:
    """The loss a canonical regularizer adds for x."""
    x = np.asarray(x, dtype=np.float64)
    c = reg["config"]
    return float(c["l1"] * np.sum(np.abs(x)) + c["l2"] * np.sum(x * x))


def terms(reg: dict, x: np.ndarray) -> tuple[int, float]:
    """(number of terms summed, sum of their absolute values): what the rounding of `loss` scales with."""
    x = np.asarray(x, dtype=np.float64)
    c = reg["config"]
    return 2 * x.size + 2, float(abs(c["l1"]) * np.sum(np.abs(x)) + abs(c["l2"]) * np.sum(x * x))
