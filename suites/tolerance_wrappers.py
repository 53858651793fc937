"""Bounds of the wrapper layers (tolerance.CUSTOM): TimeDistributed is its wrapped layer on the batch x time
merged axis, so its bounds are the wrapped layer's bounds there, split back to the wrapper's shapes.

This module sits below suites/tolerance.py: the policy it applies to the wrapped layer is handed to it
(tolerance.py registers `TimeDistributedBounds(forward_bound, vjp_bounds, kink_distance)`), not imported."""
from __future__ import annotations

from typing import Callable

import numpy as np

import oracle
from oracle.time_distributed import merged_shape


class TimeDistributedBounds:
    """tolerance.forward_bound / vjp_bounds / kink_distance of TimeDistributed, through its wrapped layer (it
    passes no mask on: `mask` is always None here). `forward_bound`, `vjp_bounds`, `kink_distance`: the policy's
    functions of those names, called on the wrapped layer's config."""

    def __init__(self, forward_bound: Callable, vjp_bounds: Callable, kink_distance: Callable):
        self._forward_bound, self._vjp_bounds, self._kink_distance = forward_bound, vjp_bounds, kink_distance

    @staticmethod
    def _inner(config, x):
        return oracle.normalize(config)["config"]["layer"], x.reshape(merged_shape(x.shape))

    def forward_bound(self, config: dict, weights: list, x: np.ndarray, dtype: str, mask=None) -> np.ndarray:
        inner, xm = self._inner(config, x)
        b = self._forward_bound(inner, weights, xm, dtype)
        return b.reshape(x.shape[:2] + b.shape[1:])

    def vjp_bounds(self, config: dict, weights: list, x: np.ndarray, g: np.ndarray, dtype: str, mask=None):
        inner, xm = self._inner(config, x)
        bx, bws = self._vjp_bounds(inner, weights, xm, g.reshape(xm.shape[:1] + g.shape[2:]), dtype)
        return np.asarray(bx).reshape(x.shape), bws

    def kink_distance(self, config: dict, weights: list, x: np.ndarray, dtype: str, mask=None) -> float:
        inner, xm = self._inner(config, x)
        return self._kink_distance(inner, weights, xm, dtype)
