"""Lambda (the documentation's two examples, named) and Input (seed 003, "Keras 核心网络层").

See oracle/core_shapes.py for why a Lambda config names its function and what the oracle says about Input.
"""
from __future__ import annotations

import numpy as np

from .params import REQUIRED, boolean, choice, invalid
from .pointwise import Pointwise
from .registry import Layer, register

EPSILON = 1e-12  # K.l2_normalize: x / sqrt(max(sum(x ** 2), 1e-12)) (Keras 2.2.x, tf.nn.l2_normalize)

SQUARE = Pointwise("square", f=lambda x: x ** 2, d1=lambda x: 2.0 * x, d2=lambda x: np.full_like(x, 2.0),
                   rounding=lambda x: x ** 2)


def _centred(x):
    """(d, r): x centred along axis 1 and the clamped l2 norm of d along axis 1 (keepdims)."""
    d = x - x.mean(axis=1, keepdims=True)
    return d, np.sqrt(np.maximum(np.sum(d * d, axis=1, keepdims=True), EPSILON))


def antirectifier(x: np.ndarray) -> np.ndarray:
    """The documented example: centre along axis 1, l2-normalize along axis 1, concatenate relu(x), relu(-x)."""
    d, r = _centred(x)
    u = d / r
    return np.concatenate([np.maximum(u, 0.0), np.maximum(-u, 0.0)], axis=1)


def antirectifier_vjp(x: np.ndarray, g: np.ndarray) -> np.ndarray:
    """Input cotangent of `antirectifier` (relu'(0) = 0; the normalization is constant where the norm clamps)."""
    d, r = _centred(x)
    u = d / r
    f = x.shape[1]
    gu = g[:, :f] * (u > 0) - g[:, f:] * (u < 0)
    clamped = np.sum(d * d, axis=1, keepdims=True) < EPSILON
    gd = np.where(clamped, gu / r, (gu - u * np.sum(u * gu, axis=1, keepdims=True)) / r)
    return gd - gd.mean(axis=1, keepdims=True)


def _anti_magnitude(cfg, x):
    """Absolute terms of each output's rounding, from the real x: the mean's error (~ mean|x|) and d_i's own,
    over the norm, plus the norm's relative error carried by |u|."""
    d, r = _centred(x)
    m = np.abs(x).mean(axis=1, keepdims=True)
    mag = (m + np.abs(d)) / r + np.abs(d / r) * (np.sqrt(x.shape[1]) * m / r + 1.0)
    return np.concatenate([mag, mag], axis=1)


def _anti_vjp_magnitude(cfg, x, g):
    """The same for the input gradient: the projection's terms over r, grown by the relative error of d and r."""
    d, r = _centred(x)
    u, f = np.abs(d / r), x.shape[1]
    gu = np.abs(g[:, :f]) + np.abs(g[:, f:])
    grow = 1.0 + (np.sqrt(f) * np.abs(x).mean(axis=1, keepdims=True) + np.abs(d)) / r
    mag = (gu + u * np.sum(u * gu, axis=1, keepdims=True)) / r * grow
    return mag + mag.mean(axis=1, keepdims=True)


def _output_shape_param(layer, param, value):
    """None, a tuple of positive ints (without the batch axis), or the documented output-shape function."""
    if value is None or value == "antirectifier_output_shape":
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1
                                                for v in value):
        return tuple(int(v) for v in value)
    raise invalid(layer, param, value, "expected None, a tuple of positive integers or "
                                       "'antirectifier_output_shape'")


def _none_only(what):
    def parse(layer, param, value):
        if value is None or (value == {} and what == "arguments"):
            return None
        raise invalid(layer, param, value, f"expected None: the documented functions take no {what}")
    return parse


def _lambda_output_shape(cfg, shape):
    shape = tuple(shape)
    if cfg["function"] == "antirectifier":
        if len(shape) < 2 or any(n is None for n in shape[1:2]):
            raise ValueError(f"Lambda: input_shape={shape} is not allowed with function='antirectifier': "
                             "expected rank >= 2 with a known axis 1")
        real = (shape[0], 2 * shape[1]) + shape[2:]
    else:
        real = shape
    declared = cfg["output_shape"]
    if declared == "antirectifier_output_shape":
        if len(shape) != 2:  # the documented function asserts len(shape) == 2
            raise ValueError(f"Lambda: output_shape='antirectifier_output_shape' is not allowed for "
                             f"input_shape={shape}: the function accepts only 2D tensors")
        declared = (shape[1] * 2,)
    if declared is not None and tuple(declared) != real[1:]:
        raise ValueError(f"Lambda: output_shape={cfg['output_shape']!r} is not allowed for input_shape={shape}: "
                         f"function={cfg['function']!r} returns {real}")
    return real


def _split(cfg):
    return (None, SQUARE) if cfg["function"] == "square" else (cfg, "linear")


register(Layer(
    name="Lambda", family="core",
    spec={"function": (REQUIRED, choice("square", "antirectifier")), "output_shape": (None, _output_shape_param),
          "mask": (None, _none_only("mask")), "arguments": (None, _none_only("arguments"))},
    forward=lambda cfg, weights, x: SQUARE.f(x) if cfg["function"] == "square" else antirectifier(x),
    vjp=lambda cfg, weights, x, g: (SQUARE.vjp(x, g) if cfg["function"] == "square"
                                    else antirectifier_vjp(x, g), []),
    output_shape=_lambda_output_shape, weight_shapes=lambda cfg, shape: [], split_activation=_split,
    reductions=lambda cfg, shape: {"output": shape[1] + 2, "input": shape[1] + 2},
    magnitude=_anti_magnitude, vjp_magnitude=_anti_vjp_magnitude, magnitude_at_input=True,
))


# ---- Input ---------------------------------------------------------------------------------------------------

def _shape_param(layer, param, value):
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and all(v is None or (isinstance(v, int) and not isinstance(v, bool)
                                                              and v >= 1) for v in value):
        return tuple(value)
    raise invalid(layer, param, value, "expected None or a tuple of positive integers (None for unknown sizes)")


def _check_input(name, cfg):
    if cfg["shape"] is None and cfg["batch_shape"] is None:
        # Keras 2.2.x asserts "Please provide to Input either a shape or a batch_shape argument"
        raise ValueError("Input: shape=None is not allowed with batch_shape=None: give shape or batch_shape")


def input_spec(cfg: dict) -> tuple[tuple, str]:
    """(batch shape with None for unknown sizes, dtype) of the tensor Input returns. Keras 2.2.x: batch_shape
    wins when both are given; shape means (None,) + shape."""
    shape = cfg["batch_shape"] if cfg["batch_shape"] is not None else (None,) + cfg["shape"]
    return tuple(shape), cfg["dtype"]


def _input_output_shape(cfg, shape):
    spec, _ = input_spec(cfg)
    if len(spec) != len(shape) or any(s is not None and n is not None and s != n for s, n in zip(spec, shape)):
        raise ValueError(f"Input: input_shape={tuple(shape)} is not allowed: the Input is {spec}")
    return tuple(shape)


register(Layer(
    name="Input", family="core",
    # dtype None means floatx ('float32'), as Keras 2.2.x's Input does
    spec={"shape": (None, _shape_param), "batch_shape": (None, _shape_param),
          "dtype": ("float32", choice("float16", "float32", "float64", none_as="float32")),
          "sparse": (False, boolean)},
    check=_check_input,
    forward=lambda cfg, weights, x: x, vjp=lambda cfg, weights, x, g: (g, []),
    output_shape=_input_output_shape, weight_shapes=lambda cfg, shape: [],
    split_activation=lambda cfg: (cfg, "linear"), reductions=lambda cfg, shape: {"output": 1, "input": 1},
))
