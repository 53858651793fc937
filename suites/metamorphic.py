"""Metamorphic relations: two computations that the documentation says are equal, run on one backend.

A relation test takes the `backend` fixture (the oracle in float64, then every adapter/device/dtype the options
select), runs both sides of the relation on it with `run`, and checks them with `assert_equal`. The allowed
difference is the sum of the two sides' error bounds from the tolerance policy (`tolerance.chain_bound` for
each side), so a relation is as tight as single-layer conformance and reports its error in bound units.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pytest

import adapters
import oracle

from . import tolerance
from .compare import compare


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


def assert_equal(what: str, backend: Backend, lhs: list, rhs: list, x, rhs_x=None) -> None:
    """Run both sides (lists of (config, weights) stages) on `backend` and compare them within the sum of the two
    sides' bounds. The right side runs on `rhs_x` when given (the same numbers in another layout, e.g. a Conv1D
    input with a height axis added) and its output is compared in the left side's shape. `what` names the
    relation in the failure message."""
    x = backend.cast_inputs(x)
    x2 = x if rhs_x is None else backend.cast_inputs(rhs_x)
    _, b_lhs = tolerance.chain_bound(lhs, x, backend.dtype)
    _, b_rhs = tolerance.chain_bound(rhs, x2, backend.dtype)
    left, right = backend.run(lhs, x), backend.run(rhs, x2)
    if right.size != left.size:
        raise AssertionError(f"{what} [{backend.id}]: lhs.shape={left.shape} but rhs.shape={right.shape}")
    bound = b_lhs + b_rhs.reshape(left.shape) + np.finfo(backend.dtype).tiny
    c = compare("lhs", left, right.reshape(left.shape), bound)
    stages = lambda side: " -> ".join(f"{s[0]['class_name']}({s[0].get('config', {})})" for s in side)  # noqa: E731
    shape = [a.shape for a in x] if isinstance(x, list) else x.shape
    assert c.ok, (f"{what} [{backend.id}] input_shape={shape}: {c.describe()}\n"
                  f"  lhs: {stages(lhs)}\n  rhs: {stages(rhs)}")
