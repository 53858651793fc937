"""The oracle's public functions (DESIGN.md): normalize, forward, output_shape, weight_shapes, vjp and the rest of
`oracle.__all__` but the report rows. They work through the registry (oracle/registry.py) alone, so any module
can import them at module level: the wrappers (TimeDistributed), the nested-layer parsers (oracle/nested.py) and
the weight parameters (oracle/weight_parameters.py) do. oracle/__init__.py imports every family (which registers
its layers) and re-exports these.
"""
from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from . import keras1, recurrent
from .gradients import numeric_vjp
from .params import parse_config
from .registry import LAYERS, Layer


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


def _is_list_of_shapes(input_shape) -> bool:
    return isinstance(input_shape, (list, tuple)) and bool(input_shape) and \
        all(isinstance(s, (list, tuple)) for s in input_shape)


def input_shapes(layer: Layer, input_shape):
    """A shape as a tuple; for a multi-input layer a list of such tuples (a single shape is rejected); for an
    optional list input (the recurrent layers' [x, *initial states]) either."""
    if not layer.multi_input or (layer.multi_input == "optional" and not _is_list_of_shapes(input_shape)):
        return tuple(input_shape)
    if not isinstance(input_shape, (list, tuple)) or not all(isinstance(s, (list, tuple)) for s in input_shape):
        raise ValueError(f"{layer.name}: input_shape={input_shape!r} is not allowed: expected a list of input "
                         "shapes (the layer takes a list of inputs)")
    return [tuple(s) for s in input_shape]


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
        layer.output_shape(cfg, input_shapes(layer, shape))
    return canonical


def output_shape(config: Mapping[str, Any], input_shape) -> tuple:
    """The output shape for `input_shape` (batch included; None entries stay None; a list for a multi-input layer)."""
    c = normalize(config)
    layer = LAYERS[c["class_name"]]
    return layer.output_shape(c["config"], input_shapes(layer, input_shape))


def weight_shapes(config: Mapping[str, Any], input_shape) -> list[tuple]:
    """Weight shapes in the documented get_weights() order and layout."""
    c = normalize(config, input_shape)
    layer = LAYERS[c["class_name"]]
    return [tuple(s) for s in layer.weight_shapes(c["config"], input_shapes(layer, input_shape))]


def _prepare(config, weights, inputs):
    layer = layer_of(config)
    if layer.multi_input == "optional" and not isinstance(inputs, (list, tuple)):
        x = np.asarray(inputs, dtype=np.float64)
        shape = x.shape
    elif layer.multi_input:
        if not isinstance(inputs, (list, tuple)):
            raise ValueError(f"{layer.name}: inputs of shape {np.shape(inputs)} are not allowed: expected a list "
                             "of arrays (the layer takes a list of inputs)")
        x = [np.asarray(a, dtype=np.float64) for a in inputs]
        shape = [a.shape for a in x]
    else:
        x = np.asarray(inputs, dtype=np.float64)
        shape = x.shape
    c = normalize(config, shape)
    expected = layer.weight_shapes(c["config"], shape)
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
        return train_step(config, weights, inputs, seed=seed, mask=mask)[0]
    layer, cfg, ws, x = _prepare(config, weights, inputs)
    return layer.forward(cfg, ws, x, **_mask_argument(layer, mask))


def _mask_argument(layer: Layer, mask) -> dict:
    """{'mask': m} for a layer that consumes masks; a mask given to any other layer is an error."""
    if layer.uses_mask:
        return {"mask": None if mask is None else np.asarray(mask, dtype=bool)}
    if mask is not None:
        raise ValueError(f"{layer.name}: mask is not allowed: the layer does not consume masks")
    return {}


def compute_mask(config: Mapping[str, Any], inputs, mask=None):
    """The mask the layer passes on (None when there is none): the registration's `compute_mask`, else the
    incoming mask unchanged (the recurrent layers will consume it)."""
    x = np.asarray(inputs, dtype=np.float64)
    c = normalize(config, x.shape)
    layer = LAYERS[c["class_name"]]
    return mask if layer.compute_mask is None else layer.compute_mask(c["config"], x, mask)


def stateful_run(config: Mapping[str, Any], weights: list, batches: list, *, reset: tuple = ()) -> list:
    """The outputs of one stateful recurrent layer called on each batch in turn (the final states of a call start
    the next; zeros at the first call and after reset_states() before call i, i in `reset`)."""
    layer, cfg, ws, _ = _prepare(config, weights, batches[0])
    return recurrent.stateful_run(layer.name, cfg, ws, [np.asarray(b, dtype=np.float64) for b in batches],
                                  reset=reset)


def train_step(config: Mapping[str, Any], weights: list, inputs, *, seed: int | None = None, mask=None
               ) -> tuple[np.ndarray, list[np.ndarray]]:
    """(training-mode output, the weights after the call): BatchNormalization's moving statistics move, every
    other layer's weights come back unchanged."""
    layer, cfg, ws, x = _prepare(config, weights, inputs)
    kw = _mask_argument(layer, mask)
    if layer.train is None:
        return layer.forward(cfg, ws, x, **kw), ws
    y, new = layer.train(cfg, ws, x, np.random.default_rng(seed), **kw)
    return y, list(new)


def vjp_reference(config: Mapping[str, Any]) -> str:
    """'analytic' when the layer has an analytic VJP, else 'finite-difference'."""
    return "analytic" if layer_of(config).vjp is not None else "finite-difference"


def vjp(config: Mapping[str, Any], weights: list, inputs, cotangents, *, training: bool = False, mask=None):
    """(gradient w.r.t. the input, [gradient w.r.t. each weight]) of <cotangents, forward(...)>; for a
    multi-input layer the first item is the list of the inputs' gradients.

    training=True differentiates the training-mode output; a stochastic layer has no such oracle gradient.
    A layer with several outputs (Layer.multi_output) takes the list of their cotangents."""
    layer, cfg, ws, x = _prepare(config, weights, inputs)
    kw = _mask_argument(layer, mask)
    g = [np.asarray(c, dtype=np.float64) for c in cotangents] if layer.multi_output(cfg) \
        else np.asarray(cotangents, dtype=np.float64)
    if training and layer.train is not None:
        if layer.train_vjp is None:
            raise ValueError(f"{layer.name}: training-mode gradients are random (one per sample); the oracle has none")
        gx, gws = layer.train_vjp(cfg, ws, x, g)
        return gx, list(gws)
    if layer.vjp is not None:
        gx, gws = layer.vjp(cfg, ws, x, g, **kw)
        return (list(gx) if isinstance(x, list) else gx), list(gws)
    xs = x if layer.multi_input else [x]
    k = len(xs)
    grads = numeric_vjp(lambda *a: layer.forward(cfg, list(a[k:]), list(a[:k]) if layer.multi_input else a[0]),
                        [*xs, *ws], g)
    return (grads[:k] if layer.multi_input else grads[0]), grads[k:]
