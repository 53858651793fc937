"""The float64 NumPy oracle: the documented Keras layers, exactly. No framework imports here.

Public API (DESIGN.md): normalize, forward, output_shape, weight_shapes, vjp, LAYERS; and for report rows
ROWS (every layer name the suite knows: the Keras 2 classes, then the Keras 1 names of seed 000 as
"keras1.<Name>"), row_name and row_target.
Configs are Keras serialization dicts {"class_name": ..., "config": {...}}. Keras 1 configs (oracle/keras1.py)
are accepted everywhere and translated to Keras 2 by `normalize`.

Weight parameters (oracle/weight_parameters.py; initializers.py, regularizers.py, constraints.py):
    weight_params(config) -> ['kernel', 'bias', ...]: the prefix of each weight's *_initializer/_regularizer/
        _constraint parameters, in get_weights() order;
    initializer_facts(config, input_shape) -> [Facts]: per weight, exact values or the distribution (support,
        mean, variance, fourth moment, CDF) or orthogonality its initializer promises;
    regularization_losses(config, weights, inputs) -> {'kernel': loss, 'bias': ..., 'activity': ...};
    constrain(config, weights) -> [weights after their constraints].
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

# importing a family registers its layers
from . import activations, conv_transpose, convolution, core, locally_connected  # noqa: F401
from . import keras1, pooling, reshaping, separable  # noqa: F401
from . import activity, advanced_activations, core_functions, core_shapes  # noqa: F401
from .gradients import numeric_vjp
from .params import parse_config
from .registry import LAYERS, Layer
from .weight_parameters import constrain, initializer_facts, regularization_losses, weight_params

__all__ = ["LAYERS", "ROWS", "normalize", "forward", "output_shape", "weight_shapes", "vjp", "vjp_reference",
           "layer_of", "row_name", "row_target", "compute_mask", "weight_params", "initializer_facts",
           "regularization_losses", "constrain"]

# Report rows: the Keras 2 classes, then the Keras 1 signatures of seed 000 (keras1.Convolution2D ...).
ROWS: tuple[str, ...] = tuple(sorted(LAYERS)) + tuple(sorted(keras1.ROWS))


def row_name(config: Mapping[str, Any]) -> str:
    """The report row of a raw config: its class, or keras1.<class> when it is written in the Keras 1 API."""
    return keras1.LAYERS[config["class_name"]].row if keras1.is_keras1(config) else config["class_name"]


def row_target(row: str) -> str:
    """The Keras 2 class a report row runs as (itself, or what a Keras 1 name translates to)."""
    return keras1.ROWS[row].target if row in keras1.ROWS else row


def layer_of(config: Mapping[str, Any]) -> Layer:
    """The registration of a config's class, or a ValueError naming the unknown class."""
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"config={config!r} is not allowed: expected {{'class_name': ..., 'config': {{...}}}}")
    if keras1.is_keras1(config):
        config = keras1.translate(config)
    name = config["class_name"]
    if name not in LAYERS:
        raise ValueError(f"class_name={name!r} is not allowed: the oracle implements {', '.join(sorted(LAYERS))}")
    return LAYERS[name]


def normalize(config: Mapping[str, Any], input_shape: tuple | None = None) -> dict:
    """The canonical config: defaults filled in, ints expanded to tuples, invalid values rejected.

    With `input_shape` (or a `batch_input_shape` in the config) the input is validated too, e.g. a kernel larger
    than a 'valid' input. A Keras 1 config is translated to its Keras 2 equivalent first (oracle/keras1.py)."""
    if isinstance(config, Mapping) and keras1.is_keras1(config):
        config = keras1.translate(config)
    layer = layer_of(config)
    raw = config.get("config", {})
    if not isinstance(raw, Mapping):
        raise ValueError(f"{layer.name}: config={raw!r} is not allowed: expected a dict of parameters")
    cfg = parse_config(layer.name, raw, layer.spec)
    layer.check(layer.name, cfg)
    canonical = {"class_name": layer.name, "config": layer.resolve(cfg)}
    shape = input_shape if input_shape is not None else raw.get("batch_input_shape")
    if shape is not None:
        layer.output_shape(cfg, tuple(shape))
    return canonical


def output_shape(config: Mapping[str, Any], input_shape: tuple) -> tuple:
    """The output shape for `input_shape` (batch included; None entries stay None)."""
    c = normalize(config)
    return LAYERS[c["class_name"]].output_shape(c["config"], tuple(input_shape))


def weight_shapes(config: Mapping[str, Any], input_shape: tuple) -> list[tuple]:
    """Weight shapes in the documented get_weights() order and layout."""
    c = normalize(config, input_shape)
    return [tuple(s) for s in LAYERS[c["class_name"]].weight_shapes(c["config"], tuple(input_shape))]


def _prepare(config, weights, inputs):
    x = np.asarray(inputs, dtype=np.float64)
    c = normalize(config, x.shape)
    layer = LAYERS[c["class_name"]]
    expected = layer.weight_shapes(c["config"], x.shape)
    ws = [np.asarray(w, dtype=np.float64) for w in weights]
    got = [w.shape for w in ws]
    if got != [tuple(s) for s in expected]:
        raise ValueError(f"{layer.name}: weights with shapes {got} are not allowed: expected {expected}")
    return layer, c["config"], ws, x


def forward(config: Mapping[str, Any], weights: list, inputs, *, training: bool = False, seed: int | None = None,
            mask=None) -> np.ndarray:
    """The layer's output in float64. `training`, `seed` and `mask` matter only to layers that use them."""
    layer, cfg, ws, x = _prepare(config, weights, inputs)
    return layer.forward(cfg, ws, x)


def compute_mask(config: Mapping[str, Any], inputs, mask=None):
    """The mask the layer passes on (None when there is none): the registration's `compute_mask`, else the
    incoming mask unchanged (the recurrent layers will consume it)."""
    x = np.asarray(inputs, dtype=np.float64)
    c = normalize(config, x.shape)
    layer = LAYERS[c["class_name"]]
    return mask if layer.compute_mask is None else layer.compute_mask(c["config"], x, mask)


def vjp_reference(config: Mapping[str, Any]) -> str:
    """'analytic' when the layer has an analytic VJP, else 'finite-difference'."""
    return "analytic" if layer_of(config).vjp is not None else "finite-difference"


def vjp(config: Mapping[str, Any], weights: list, inputs, cotangents) -> tuple[np.ndarray, list[np.ndarray]]:
    """(gradient w.r.t. the input, [gradient w.r.t. each weight]) of <cotangents, forward(...)>."""
    layer, cfg, ws, x = _prepare(config, weights, inputs)
    g = np.asarray(cotangents, dtype=np.float64)
    if layer.vjp is not None:
        gx, gws = layer.vjp(cfg, ws, x, g)
        return gx, list(gws)
    grads = numeric_vjp(lambda xx, *ww: layer.forward(cfg, list(ww), xx), [x, *ws], g)
    return grads[0], grads[1:]
