"""Bounds of the wrapper layers (tolerance.CUSTOM): TimeDistributed is its wrapped layer on the batch x time
merged axis, so its bounds are the wrapped layer's bounds there, split back to the wrapper's shapes."""
from __future__ import annotations

import numpy as np

import oracle
from oracle.time_distributed import merged_shape

from . import tolerance


class TimeDistributedBounds:
    """tolerance.forward_bound / vjp_bounds / kink_distance of TimeDistributed, through its wrapped layer (it
    passes no mask on: `mask` is always None here)."""

    @staticmethod
    def _inner(config, x):
        return oracle.normalize(config)["config"]["layer"], x.reshape(merged_shape(x.shape))

    def forward_bound(self, config: dict, weights: list, x: np.ndarray, dtype: str, mask=None) -> np.ndarray:
        inner, xm = self._inner(config, x)
        b = tolerance.forward_bound(inner, weights, xm, dtype)
        return b.reshape(x.shape[:2] + b.shape[1:])

    def vjp_bounds(self, config: dict, weights: list, x: np.ndarray, g: np.ndarray, dtype: str, mask=None):
        inner, xm = self._inner(config, x)
        bx, bws = tolerance.vjp_bounds(inner, weights, xm, g.reshape(xm.shape[:1] + g.shape[2:]), dtype)
        return np.asarray(bx).reshape(x.shape), bws

    def kink_distance(self, config: dict, weights: list, x: np.ndarray, dtype: str, mask=None) -> float:
        inner, xm = self._inner(config, x)
        return tolerance.kink_distance(inner, weights, xm, dtype)


tolerance.CUSTOM["TimeDistributed"] = TimeDistributedBounds()
