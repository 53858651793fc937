"""Core layers that move, repeat or mask elements: Reshape, Permute, RepeatVector, Masking, Lambda, Input
(seed 003, "Keras 核心网络层").

Lambda: a real get_config holds marshalled bytecode, which a NumPy oracle cannot run. Decision: the config
names the function, and the oracle knows the documentation's two examples by name: `function="square"` is
`lambda x: x ** 2`, `function="antirectifier"` the documented antirectifier; `output_shape` is None, a tuple
(without the batch axis) or `"antirectifier_output_shape"`, the documented function. The Keras adapters build
a real Lambda layer around the same functions written with their backend ops.

Input: a function returning a symbolic tensor, not a layer with maths. The oracle states what it can: the
tensor's batch shape and dtype (`input_spec`), and feeding data through an Input-only model returns the data
unchanged (identity rows in the report).
"""
from __future__ import annotations

import numpy as np

from .params import REQUIRED, invalid, positive_int
from .registry import Layer, register


def _ints(allow_minus_one: bool):
    def parse(layer, param, value):
        ok = isinstance(value, (list, tuple)) and len(value) >= 1 and all(
            isinstance(v, int) and not isinstance(v, bool) and (v >= 1 or (allow_minus_one and v == -1))
            for v in value)
        if not ok or (allow_minus_one and list(value).count(-1) > 1):
            what = "positive integers, at most one of them -1" if allow_minus_one else "positive integers"
            raise invalid(layer, param, value, f"expected a non-empty tuple of {what}")
        return tuple(int(v) for v in value)
    return parse


def _known(name, shape):
    if any(n is None for n in shape[1:]):
        raise ValueError(f"{name}: input_shape={tuple(shape)} is not allowed: every non-batch size must be known")


# ---- Reshape -------------------------------------------------------------------------------------------------

def reshape_target(target: tuple, shape: tuple) -> tuple:
    """The output shape (batch kept) with the one -1 inferred (Keras 2.2.x Reshape._fix_unknown_dimension)."""
    _known("Reshape", shape)
    size = int(np.prod(shape[1:]))
    known = int(np.prod([t for t in target if t != -1]))
    if -1 in target:
        if size % known:
            raise ValueError(f"Reshape: target_shape={target} is not allowed for input_shape={tuple(shape)}: "
                             f"{size} elements cannot be split into {known} times an integer")
        target = tuple(size // known if t == -1 else t for t in target)
    elif known != size:
        raise ValueError(f"Reshape: target_shape={target} is not allowed for input_shape={tuple(shape)}: "
                         f"total size of the new array ({known}) must equal the input's ({size})")
    return (shape[0],) + target


register(Layer(
    name="Reshape", family="core", spec={"target_shape": (REQUIRED, _ints(True))},
    forward=lambda cfg, weights, x: x.reshape(reshape_target(cfg["target_shape"], x.shape)),
    vjp=lambda cfg, weights, x, g: (g.reshape(x.shape), []),
    output_shape=lambda cfg, shape: reshape_target(cfg["target_shape"], tuple(shape)),
    weight_shapes=lambda cfg, shape: [], split_activation=lambda cfg: (cfg, "linear"),
    reductions=lambda cfg, shape: {"output": 1, "input": 1},
))


# ---- Permute -------------------------------------------------------------------------------------------------

def _permute_output_shape(cfg, shape):
    dims = cfg["dims"]
    if sorted(dims) != list(range(1, len(dims) + 1)):
        raise ValueError(f"Permute: dims={dims} is not allowed: expected a permutation of 1..{len(dims)} "
                         "(1-based, the batch axis excluded)")
    if len(shape) != len(dims) + 1:
        raise ValueError(f"Permute: dims={dims} is not allowed for input_shape={tuple(shape)}: expected "
                         f"{len(shape) - 1} axes")
    return (shape[0],) + tuple(shape[d] for d in dims)


register(Layer(
    name="Permute", family="core", spec={"dims": (REQUIRED, _ints(False))},
    # check(): a non-permutation is rejected without an input shape too
    check=lambda name, cfg: _permute_output_shape(cfg, (None,) + tuple(range(len(cfg["dims"])))) and None,
    forward=lambda cfg, weights, x: np.transpose(x, (0,) + cfg["dims"]),
    vjp=lambda cfg, weights, x, g: (np.transpose(g, np.argsort((0,) + cfg["dims"])), []),
    output_shape=_permute_output_shape, weight_shapes=lambda cfg, shape: [],
    split_activation=lambda cfg: (cfg, "linear"), reductions=lambda cfg, shape: {"output": 1, "input": 1},
))


# ---- RepeatVector --------------------------------------------------------------------------------------------

def _repeat_output_shape(cfg, shape):
    if len(shape) != 2:
        raise ValueError(f"RepeatVector: input_shape={tuple(shape)} is not allowed: expected rank 2 "
                         "(num_samples, features)")
    return (shape[0], cfg["n"], shape[1])


register(Layer(
    name="RepeatVector", family="core", spec={"n": (REQUIRED, positive_int)},
    forward=lambda cfg, weights, x: np.repeat(x[:, None, :], cfg["n"], axis=1),
    vjp=lambda cfg, weights, x, g: (g.sum(axis=1), []),
    output_shape=_repeat_output_shape, weight_shapes=lambda cfg, shape: [],
    split_activation=lambda cfg: (cfg, "linear"),
    reductions=lambda cfg, shape: {"output": 1, "input": cfg["n"]},
))


# ---- Masking -------------------------------------------------------------------------------------------------

def timestep_mask(x: np.ndarray, mask_value: float) -> np.ndarray:
    """True where a timestep is kept: some feature differs from mask_value (a step is masked only when *all*
    its features equal it, docs/traps.md 16). Shape: the input's without the last (features) axis."""
    return np.any(x != mask_value, axis=-1)


def _real(layer, param, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise invalid(layer, param, value, "expected a number")
    return float(value)


def _masking_output_shape(cfg, shape):
    if len(shape) < 2:
        raise ValueError(f"Masking: input_shape={tuple(shape)} is not allowed: expected rank >= 2 "
                         "(samples, ..., features)")
    return tuple(shape)


register(Layer(
    name="Masking", family="core", spec={"mask_value": (0.0, _real)},
    forward=lambda cfg, weights, x: x * timestep_mask(x, cfg["mask_value"])[..., None],
    # the mask is a decision on the input, constant under differentiation (as in every backend)
    vjp=lambda cfg, weights, x, g: (g * timestep_mask(x, cfg["mask_value"])[..., None], []),
    output_shape=_masking_output_shape, weight_shapes=lambda cfg, shape: [],
    split_activation=lambda cfg: (cfg, "linear"), selects=True,  # x or 0 picked: exact
    reductions=lambda cfg, shape: {"output": 1, "input": 1},
    compute_mask=lambda cfg, x, mask: timestep_mask(x, cfg["mask_value"]),
))
