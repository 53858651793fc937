"""Embedding (seed 003 "embeddings"): integer indices -> rows of the (input_dim, output_dim) embeddings matrix.

Inputs are carried as float arrays holding the indices (the whole pipeline draws and casts floats). Keras 2.2.x
`Embedding.call` casts a non-int32 input with K.cast, which truncates toward zero; the oracle does the same, so
1.7 reads as index 1 and -0.5 as index 0. An index outside [0, input_dim) after that cast is rejected with a
ValueError: the documentation promises no value for it, and TensorFlow on CPU (tf.gather) and torch
(F.embedding) both raise there. (TensorFlow on GPU returns zeros, Keras 3 wraps negative indices; those are
recorded as findings, not followed.)

The input has no gradient (integer indices): the oracle's VJP returns zeros for it, and the adapters return
zeros where the framework gives None. The embeddings gradient is a scatter-add of the output cotangent into the
rows the indices pick.
"""
from __future__ import annotations

import numpy as np

from .params import REQUIRED, boolean, invalid, positive_int
from .registry import Layer, register
from .weight_objects import serialized_object

NAME = "Embedding"


def _non_negative_int(layer: str, param: str, value) -> int:
    # seed 003: "output_dim: int >= 0" (input_dim is "int > 0": positive_int)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise invalid(layer, param, value, "expected an integer >= 0")
    return int(value)


def _input_length(layer: str, param: str, value):
    """None, a positive int, or (2.2.x: "input_length can be tuple if input is 3D or higher") a tuple/list of
    positive ints or None entries, one per non-batch axis."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)):
        if not value or not all(v is None or (isinstance(v, int) and not isinstance(v, bool) and v >= 1)
                                for v in value):
            raise invalid(layer, param, value, "expected None, a positive integer, or a non-empty tuple of "
                                               "positive integers or None")
        return tuple(value)
    return positive_int(layer, param, value)


def indices(x: np.ndarray, input_dim: int) -> np.ndarray:
    """The integer indices a float input stands for (truncated toward zero, as K.cast to int32 does); a
    ValueError names the first index outside [0, input_dim)."""
    idx = np.trunc(np.asarray(x, dtype=np.float64))
    bad = (idx < 0) | (idx >= input_dim)
    if np.any(bad):
        raise ValueError(f"{NAME}: input index {int(idx[bad].flat[0])} is not allowed: expected indices in "
                         f"[0, input_dim={input_dim})")
    return idx.astype(np.int64)


def embedding(x: np.ndarray, embeddings: np.ndarray) -> np.ndarray:
    """Rows of `embeddings` at the indices of x: (batch, ...) -> (batch, ..., output_dim)."""
    return embeddings[indices(x, embeddings.shape[0])]


def embedding_vjp(x: np.ndarray, embeddings: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, list[np.ndarray]]:
    """(zeros for the index input, [scatter-add of g into the rows the indices pick])."""
    grad = np.zeros_like(embeddings, dtype=np.float64)
    idx = indices(x, embeddings.shape[0]).reshape(-1)
    np.add.at(grad, idx, g.reshape(idx.size, embeddings.shape[1]))
    return np.zeros(np.shape(x)), [grad]


def _output_shape(cfg, shape):
    """2.2.x compute_output_shape: input_length (an int, or a tuple for an N-d index input) must have one entry
    per non-batch axis and agree with every known size; a None entry takes the input's size."""
    shape = tuple(shape)
    if len(shape) < 2:
        raise ValueError(f"{NAME}: input_shape={shape} is not allowed: expected rank >= 2 (batch, sequence_length)")
    lengths = cfg["input_length"]
    if lengths is None:
        return shape + (cfg["output_dim"],)
    lengths = list(lengths) if isinstance(lengths, tuple) else [lengths]
    if len(lengths) != len(shape) - 1 or any(a is not None and b is not None and a != b
                                              for a, b in zip(lengths, shape[1:])):
        raise invalid(NAME, "input_length", cfg["input_length"], f"the input_shape={shape} does not match it")
    return (shape[0],) + tuple(b if a is None else a for a, b in zip(lengths, shape[1:])) + (cfg["output_dim"],)


def _reductions(cfg, shape):
    # A gather sums nothing; an embeddings row's gradient sums one cotangent row per occurrence of its index,
    # at most once per input element (the shape alone cannot say how often an index repeats).
    return {"output": 0, "input": 0, "weight0": int(np.prod(shape))}


register(Layer(
    name=NAME, family="embeddings",
    spec={"input_dim": (REQUIRED, positive_int), "output_dim": (REQUIRED, _non_negative_int),
          "embeddings_initializer": ("uniform", serialized_object),
          "embeddings_regularizer": (None, serialized_object),
          "activity_regularizer": (None, serialized_object),
          "embeddings_constraint": (None, serialized_object),
          "mask_zero": (False, boolean), "input_length": (None, _input_length)},
    forward=lambda cfg, weights, x: embedding(x, weights[0]),
    vjp=lambda cfg, weights, x, g: embedding_vjp(x, weights[0], g),
    output_shape=_output_shape,
    weight_shapes=lambda cfg, shape: [(cfg["input_dim"], cfg["output_dim"])],
    split_activation=lambda cfg: (cfg, "linear"),  # a selection of weight elements: linear in the weights
    reductions=_reductions,
    # mask_zero: index 0 is padding (docs/traps.md 16; torch's padding_idx only zeroes that row's gradient, it masks
    # nothing). 2.2.x compute_mask returns K.not_equal(inputs, 0) on the raw input, before the int cast.
    compute_mask=lambda cfg, x, mask: np.not_equal(x, 0) if cfg["mask_zero"] else None,
    weight_params=lambda cfg: ["embeddings"],
    index_input=lambda cfg: True,
))
