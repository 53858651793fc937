"""The weight parameters every weighted layer documents: `<weight>_initializer`, `<weight>_regularizer`,
`<weight>_constraint`, and `activity_regularizer`. Which weight a prefix names comes from the registration's
`weight_params` or, by default, from the spec (see `weight_params`). Their values are parsed by
oracle/weight_objects.py; this module, above oracle/api.py, answers what they mean for a config.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import constraints, initializers, regularizers
from .api import forward, normalize, weight_shapes
from .registry import LAYERS

# Default order of weights in get_weights() for layers that do not declare `weight_params`: the depthwise and
# pointwise kernels of separable layers, a kernel, a recurrent kernel, then the bias (present with use_bias).
ORDER = ("depthwise", "pointwise", "kernel", "recurrent", "bias")

# Layers whose activity regularizer is a parameter of their own (oracle/activity.py adds ActivityRegularization).
ACTIVITY: dict[str, Any] = {}


def weight_params(config: Mapping[str, Any]) -> list[str]:
    """The parameter prefix of each weight in get_weights() order, e.g. ['kernel', 'bias']."""
    c = normalize(config)
    layer = LAYERS[c["class_name"]]
    if layer.weight_params is not None:
        return list(layer.weight_params(c["config"]))
    cfg = c["config"]
    return [p for p in ORDER if f"{p}_initializer" in cfg and (p != "bias" or cfg.get("use_bias", True))]


def _pairs(config, shapes):
    prefixes = weight_params(config)
    if len(prefixes) != len(shapes):
        raise ValueError(f"{config['class_name']}: weight_params {prefixes} do not match the {len(shapes)} weights "
                         "of weight_shapes; declare `weight_params` in the registration")
    return prefixes


def initializer_facts(config: Mapping[str, Any], input_shape: tuple) -> list[initializers.Facts]:
    """What each weight's initializer promises for its shape (ValueError where Keras 2.2.x raises)."""
    c = normalize(config)
    shapes = weight_shapes(c, input_shape)
    return [_facts(c, p, tuple(s)) for p, s in zip(_pairs(c, shapes), shapes)]


def _facts(c: dict, prefix: str, shape: tuple) -> initializers.Facts:
    init = c["config"][f"{prefix}_initializer"]
    if prefix == "bias" and c["config"].get("unit_forget_bias"):
        # Keras 2.2.x LSTM / LSTMCell / ConvLSTM2D build the bias as concatenate([bias_initializer((u,)),
        # Ones()((u,)), bias_initializer((2u,))]) (gate blocks i, f, c, o); CuDNNLSTM's (8u,) bias as
        # [bias_initializer((5u,)), Ones()((u,)), bias_initializer((2u,))]: the recurrent half's forget block.
        # Each part is drawn for its own shape, so a variance-scaling part has that part's fans.
        u = shape[-1] // (8 if c["class_name"] == "CuDNNLSTM" else 4)
        first = 5 * u if c["class_name"] == "CuDNNLSTM" else u
        return initializers.blocks(shape, [initializers.facts(init, (first,)),
                                           initializers.facts({"class_name": "Ones", "config": {}}, (u,)),
                                           initializers.facts(init, (2 * u,))])
    return initializers.facts(init, shape)


def activity_regularizer(config: Mapping[str, Any]) -> dict | None:
    """The canonical regularizer of the layer's output, or None."""
    c = normalize(config)
    if c["class_name"] in ACTIVITY:
        return ACTIVITY[c["class_name"]](c["config"])
    return c["config"].get("activity_regularizer")


def regularization_losses(config: Mapping[str, Any], weights: list, inputs, outputs=None) -> dict[str, float]:
    """The loss each regularizer of the layer adds: {'kernel': ..., 'bias': ..., 'activity': ...} (only the
    regularized ones). The activity loss is taken on the layer's output, summed over the batch (2.2.x); pass
    `outputs` (a backend's) to regularize those instead of the oracle's forward."""
    c = normalize(config)
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    out = {}
    for p, w in zip(_pairs(c, [w.shape for w in ws]), ws):
        reg = c["config"].get(f"{p}_regularizer")
        if reg is not None:
            out[p] = regularizers.loss(reg, w)
    act = activity_regularizer(c)
    if act is not None:
        y = forward(c, ws, inputs) if outputs is None else outputs
        # Keras 2.2.x Layer.__call__ adds one activity loss per output of a layer with several (return_state):
        # 'activity' is their sum (suites/weight_checks.py counts them)
        out["activity"] = sum(regularizers.loss(act, a) for a in y) if isinstance(y, list) else regularizers.loss(act, y)
    return out


def constrain(config: Mapping[str, Any], weights: list) -> list[np.ndarray]:
    """Every weight after its constraint (unconstrained weights unchanged), as Keras applies them after an
    optimizer step."""
    c = normalize(config)
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    out = []
    for p, w in zip(_pairs(c, [w.shape for w in ws]), ws):
        con = c["config"].get(f"{p}_constraint")
        out.append(w.copy() if con is None else constraints.project(con, w))
    return out

