"""The base of every alternative semantics: a Truth built on another, and the config-editing helpers."""
from __future__ import annotations

import contextlib
import copy

import numpy as np

from ..truth import DOCUMENTED, Truth


def f32(v: float) -> float:
    return float(np.float32(v))


class Derived(Truth):
    """A Truth built on another: `reconfigure` the config, take bounds as for `bound_dtype`, run inside `context`.
    Subclasses override those hooks, or a method where the backend's rule is not a config of the documented one."""

    def __init__(self, base: Truth = DOCUMENTED):
        self.base = base

    def reconfigure(self, config: dict) -> dict:
        return config

    def bound_dtype(self, dtype: str) -> str:
        return dtype

    def context(self):
        return contextlib.nullcontext()

    def forward(self, config, weights, inputs, **kw):
        with self.context():
            return self.base.forward(self.reconfigure(config), weights, inputs, **kw)

    def vjp(self, config, weights, inputs, cotangents, **kw):
        with self.context():
            return self.base.vjp(self.reconfigure(config), weights, inputs, cotangents, **kw)

    def output_shape(self, config, input_shape):
        return self.base.output_shape(self.reconfigure(config), input_shape)

    def forward_bound(self, config, weights, inputs, dtype, **kw):
        with self.context():
            return self.base.forward_bound(self.reconfigure(config), weights, inputs, self.bound_dtype(dtype), **kw)

    def vjp_bounds(self, config, weights, inputs, cotangents, dtype, **kw):
        with self.context():
            return self.base.vjp_bounds(self.reconfigure(config), weights, inputs, cotangents,
                                        self.bound_dtype(dtype), **kw)

    def train_step(self, config, weights, inputs, dtype=None, **kw):
        return self.base.train_step(self.reconfigure(config), weights, inputs, dtype=dtype, **kw)

    def batch_norm_training_bounds(self, cfg, weights, inputs, cotangents, dtype):
        inner = self.reconfigure({"class_name": "BatchNormalization", "config": cfg})["config"]
        return self.base.batch_norm_training_bounds(inner, weights, inputs, cotangents, self.bound_dtype(dtype))

    def regularization_losses(self, config, weights, inputs, **kw):
        return self.base.regularization_losses(self.reconfigure(config), weights, inputs, **kw)

    def initializer_facts(self, config, input_shape):
        return self.base.initializer_facts(self.reconfigure(config), input_shape)


def edit(config: dict, fn) -> dict:
    """A deep copy of the canonical config whose inner dict `fn` edits in place."""
    c = copy.deepcopy(config)
    fn(c["config"])
    return c


def objects(cfg: dict, suffix: str):
    """The canonical serialized objects of the config whose key ends with `suffix` (initializers ...)."""
    return [v for k, v in cfg.items() if k.endswith(suffix) and isinstance(v, dict) and "config" in v]
