"""ActivityRegularization (seed 003, core layers): the identity on its input, which adds the loss
`l1 * sum|x| + l2 * sum x^2` of its output (the oracle's `regularization_losses` gives it)."""
from __future__ import annotations

from .initializers import real
from .registry import Layer, register
from .weight_parameters import ACTIVITY


def _output_shape(cfg, shape):
    if len(shape) < 1:
        raise ValueError(f"ActivityRegularization: input_shape={tuple(shape)} is not allowed: expected rank >= 1")
    return tuple(shape)


register(Layer(
    name="ActivityRegularization", family="core",
    # seed 003: ActivityRegularization(l1=0.0, l2=0.0), "positive floats"; 2.2.x does not check them.
    spec={"l1": (0.0, real), "l2": (0.0, real)},
    forward=lambda cfg, weights, x: x.copy(),
    vjp=lambda cfg, weights, x, g: (g.copy(), []),
    output_shape=_output_shape,
    weight_shapes=lambda cfg, shape: [],
    split_activation=lambda cfg: (None, "linear"),
    reductions=lambda cfg, shape: {"output": 0, "input": 0},
))

# 2.2.x: self.activity_regularizer = regularizers.L1L2(l1=l1, l2=l2)
ACTIVITY["ActivityRegularization"] = lambda cfg: {"class_name": "L1L2", "config": {"l1": cfg["l1"], "l2": cfg["l2"]}}
