"""The float64 NumPy oracle: the documented Keras layers, exactly. No framework imports here.

Public API (DESIGN.md): normalize, forward, output_shape, weight_shapes, vjp, LAYERS.
Configs are Keras serialization dicts {"class_name": ..., "config": {...}}.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

# importing a family registers its layers
from . import activations, conv_transpose, convolution, core, locally_connected  # noqa: F401
from . import pooling, reshaping, separable  # noqa: F401
from . import noise, normalization  # noqa: F401
from .gradients import numeric_vjp
from .params import parse_config
from .registry import LAYERS, Layer

__all__ = ["LAYERS", "normalize", "forward", "output_shape", "weight_shapes", "vjp", "vjp_reference", "layer_of",
           "train_step"]


def layer_of(config: Mapping[str, Any]) -> Layer:
    """The registration of a config's class, or a ValueError naming the unknown class."""
    if not isinstance(config, Mapping) or "class_name" not in config:
        raise ValueError(f"config={config!r} is not allowed: expected {{'class_name': ..., 'config': {{...}}}}")
    name = config["class_name"]
    if name not in LAYERS:
        raise ValueError(f"class_name={name!r} is not allowed: the oracle implements {', '.join(sorted(LAYERS))}")
    return LAYERS[name]


def normalize(config: Mapping[str, Any], input_shape: tuple | None = None) -> dict:
    """The canonical config: defaults filled in, ints expanded to tuples, invalid values rejected.

    With `input_shape` (or a `batch_input_shape` in the config) the input is validated too, e.g. a kernel larger
    than a 'valid' input."""
    layer = layer_of(config)
    raw = config.get("config", {})
    if not isinstance(raw, Mapping):
        raise ValueError(f"{layer.name}: config={raw!r} is not allowed: expected a dict of parameters")
    cfg = parse_config(layer.name, raw, layer.spec)
    layer.check(layer.name, cfg)
    canonical = {"class_name": layer.name, "config": cfg}
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
    """The layer's output in float64. `training`, `seed` and `mask` matter only to layers that use them.

    In training mode a stochastic layer draws from np.random.default_rng(seed): one sample of the documented
    distribution (backends draw from other generators, so conformance there is statistical, never bitwise)."""
    if training:
        return train_step(config, weights, inputs, seed=seed)[0]
    layer, cfg, ws, x = _prepare(config, weights, inputs)
    return layer.forward(cfg, ws, x)


def train_step(config: Mapping[str, Any], weights: list, inputs, *, seed: int | None = None
               ) -> tuple[np.ndarray, list[np.ndarray]]:
    """(training-mode output, the weights after the call): BatchNormalization's moving statistics move, every
    other layer's weights come back unchanged."""
    layer, cfg, ws, x = _prepare(config, weights, inputs)
    if layer.train is None:
        return layer.forward(cfg, ws, x), ws
    y, new = layer.train(cfg, ws, x, np.random.default_rng(seed))
    return y, list(new)


def vjp_reference(config: Mapping[str, Any]) -> str:
    """'analytic' when the layer has an analytic VJP, else 'finite-difference'."""
    return "analytic" if layer_of(config).vjp is not None else "finite-difference"


def vjp(config: Mapping[str, Any], weights: list, inputs, cotangents, *, training: bool = False
        ) -> tuple[np.ndarray, list[np.ndarray]]:
    """(gradient w.r.t. the input, [gradient w.r.t. each weight]) of <cotangents, forward(...)>.

    training=True differentiates the training-mode output; a stochastic layer has no such oracle gradient."""
    layer, cfg, ws, x = _prepare(config, weights, inputs)
    g = np.asarray(cotangents, dtype=np.float64)
    if training and layer.train is not None:
        if layer.train_vjp is None:
            raise ValueError(f"{layer.name}: training-mode gradients are random (one per sample); the oracle has none")
        gx, gws = layer.train_vjp(cfg, ws, x, g)
        return gx, list(gws)
    if layer.vjp is not None:
        gx, gws = layer.vjp(cfg, ws, x, g)
        return gx, list(gws)
    grads = numeric_vjp(lambda xx, *ww: layer.forward(cfg, list(ww), xx), [x, *ws], g)
    return grads[0], grads[1:]
