"""What a check compares a backend with: the documented semantics (the oracle) and the policy's bounds.

The checks (suites/checks.py, weight_checks.py, training.py) take a `truth` keyword, `DOCUMENTED` by default.
A known-divergence entry that models the backend's own semantics (suites/alternatives/) re-runs the same check
on the backend's recorded answers with another `Truth`, so "the backend agrees with that alternative within the
normal bound" is decided by the very code that decides pass and fail.
"""
from __future__ import annotations

import oracle

from . import tolerance


class Truth:
    """The documented Keras 2.2.x layer (oracle/) and the tolerance policy's bounds (suites/tolerance.py)."""

    def forward(self, config, weights, inputs, **kw):
        return oracle.forward(config, weights, inputs, **kw)

    def vjp(self, config, weights, inputs, cotangents, **kw):
        return oracle.vjp(config, weights, inputs, cotangents, **kw)

    def output_shape(self, config, input_shape):
        return oracle.output_shape(config, input_shape)

    def forward_bound(self, config, weights, inputs, dtype, **kw):
        return tolerance.forward_bound(config, weights, inputs, dtype, **kw)

    def vjp_bounds(self, config, weights, inputs, cotangents, dtype, **kw):
        return tolerance.vjp_bounds(config, weights, inputs, cotangents, dtype, **kw)

    def train_step(self, config, weights, inputs, dtype=None, **kw):
        """`dtype`: the run's dtype, which the documented layer ignores (a backend's kernel choice may not)."""
        return oracle.train_step(config, weights, inputs, **kw)

    def batch_norm_training_bounds(self, cfg, weights, inputs, cotangents, dtype):
        return tolerance.batch_norm_training_bounds(cfg, weights, inputs, cotangents, dtype)

    def regularization_losses(self, config, weights, inputs, **kw):
        return oracle.regularization_losses(config, weights, inputs, **kw)

    def initializer_facts(self, config, input_shape):
        return oracle.initializer_facts(config, input_shape)


DOCUMENTED = Truth()
