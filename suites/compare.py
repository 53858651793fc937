"""Turn (actual, expected, bound) into metrics: the error of every element in units of its bound."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass
class Comparison:
    """The worst element of one compared array (or a shape mismatch)."""
    name: str
    ok: bool
    max_abs_error: float
    max_error_in_bounds: float
    worst_index: tuple = ()
    actual: float = float("nan")
    expected: float = float("nan")
    bound: float = float("nan")
    shape_error: str | None = None

    def metrics(self) -> dict:
        return {"worst_output": self.name, "max_abs_error": self.max_abs_error,
                "max_error_in_bounds": self.max_error_in_bounds, "worst_index": list(self.worst_index),
                "actual": self.actual, "expected": self.expected, "bound": self.bound}

    def describe(self) -> str:
        if self.shape_error:
            return self.shape_error
        return (f"{self.name}[{', '.join(map(str, self.worst_index))}] = {self.actual!r}, but should be "
                f"{self.expected!r} +- {self.bound:.3g} (error {self.max_abs_error:.3g} = "
                f"{self.max_error_in_bounds:.3g} x bound)")


def compare(name: str, actual, expected: np.ndarray, bound: np.ndarray) -> Comparison:
    """Elementwise |actual - expected| / bound; NaN or inf where the oracle is finite counts as infinitely wrong."""
    actual = np.asarray(actual)
    if actual.shape != expected.shape:
        return Comparison(name, False, float("inf"), float("inf"),
                          shape_error=f"{name}.shape={actual.shape}, but should be {expected.shape}")
    if actual.size == 0:
        return Comparison(name, True, 0.0, 0.0)
    a = actual.astype(np.float64)
    err = np.abs(a - expected)
    err = np.where(np.isnan(err) & ~(np.isnan(a) & np.isnan(expected)), np.inf, np.nan_to_num(err, nan=0.0))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / bound)
    idx = np.unravel_index(int(np.argmax(ratio)), ratio.shape)
    worst = float(ratio[idx])
    return Comparison(name, bool(worst <= 1.0), float(np.max(err)), worst, tuple(int(i) for i in idx),
                      float(a[idx]), float(expected[idx]), float(bound[idx]))


def worst(comparisons: list[Comparison]) -> Comparison:
    """The comparison with the largest error in bound units (a shape mismatch first)."""
    return max(comparisons, key=lambda c: (c.shape_error is not None, c.max_error_in_bounds))
