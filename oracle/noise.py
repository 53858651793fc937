"""Dropout, SpatialDropout1D/2D/3D (seed 003 "核心网络层") and GaussianNoise, GaussianDropout, AlphaDropout
(seed 003 "噪声层").

Inference mode is the exact identity for all of them. Training mode draws from an np.random.Generator:
- Dropout keeps each unit of the noise_shape mask with probability 1 - rate and scales kept units by
  1/(1 - rate) (docs/traps.md 20); the mask is shared along the axes where noise_shape is 1. SpatialDropout*D is
  Dropout with noise_shape (batch, 1, ..., 1, channels) in its data_format: whole feature maps are dropped.
- GaussianNoise adds N(0, stddev^2); GaussianDropout multiplies by N(1, rate / (1 - rate)) (seed 003).
- AlphaDropout: a * (x * keep + alpha' * (1 - keep)) + b, alpha' = -SELU alpha * SELU scale,
  a = ((1 - rate) * (1 + rate * alpha'^2))^-1/2, b = -a * alpha' * rate (Keras 2.2.x noise.py), which keeps the
  mean and variance of a standardised input.
Keras 2.2.x applies Dropout, GaussianDropout and AlphaDropout only for 0 < rate < 1 (`if 0. < self.rate < 1.`)
and returns the input otherwise, so rate = 0 and rate = 1 are the identity in training mode too.
"""
from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .activations import SELU_ALPHA, SELU_SCALE
from .params import REQUIRED, choice, invalid
from .registry import Layer, register

ALPHA_PRIME = -SELU_ALPHA * SELU_SCALE
DATA_FORMAT = ("channels_last", choice("channels_last", "channels_first", none_as="channels_last"))


def _real(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and np.isfinite(value)


def rate(layer: str, param: str, value: Any) -> float:
    """A fraction in [0, 1] ("在 0 和 1 之间浮动"). Keras 2.2.x clamped other values silently
    (min(1., max(0., rate))); tf-keras and Keras 3 reject them, and so does the oracle."""
    if not _real(value) or not 0.0 <= value <= 1.0:
        raise invalid(layer, param, value, "expected a number between 0 and 1")
    return float(value)


def stddev(layer: str, param: str, value: Any) -> float:
    """The standard deviation of a normal distribution: a number >= 0."""
    if not _real(value) or value < 0:
        raise invalid(layer, param, value, "expected a number >= 0")
    return float(value)


def noise_shape(layer: str, param: str, value: Any) -> tuple | None:
    """None, or one entry per input axis: a positive int or None (None = that axis of the input)."""
    if value is None:
        return None
    if isinstance(value, (list, tuple)) and all(v is None or (isinstance(v, int) and not isinstance(v, bool)
                                                              and v >= 1) for v in value):
        return tuple(value)
    raise invalid(layer, param, value, "expected None or a tuple of positive integers (or None entries)")


def seed(layer: str, param: str, value: Any) -> int | None:
    if value is None or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise invalid(layer, param, value, "expected None or an integer")


def mask_shape(cfg: dict, shape: tuple) -> tuple:
    """The shape of the random mask: noise_shape with None entries taken from the input (Keras 2.2.x
    Dropout._get_noise_shape; its AlphaDropout passed noise_shape on unresolved, which only works without
    None entries, where both agree); the input shape when noise_shape is None."""
    ns = cfg.get("noise_shape")
    return tuple(shape) if ns is None else tuple(n if m is None else m for n, m in zip(shape, ns))


def spatial_mask_shape(rank: int, data_format: str, shape: tuple) -> tuple:
    """SpatialDropout: (batch, 1, ..., 1, channels), channels where the data_format puts them."""
    if data_format == "channels_first":
        return (shape[0], shape[1]) + (1,) * rank
    return (shape[0],) + (1,) * rank + (shape[-1],)


def keep_mask(rng: np.random.Generator, shape: tuple, p: float) -> np.ndarray:
    """1.0 where a unit is kept (probability 1 - p), 0.0 where dropped (Keras: uniform >= rate)."""
    return (rng.uniform(size=shape) >= p).astype(np.float64)


def dropout(x: np.ndarray, keep: np.ndarray, p: float) -> np.ndarray:
    """Kept units scaled by 1/(1 - p), dropped ones 0; `keep` broadcasts against x."""
    return x * keep / (1.0 - p)


def alpha_dropout(x: np.ndarray, keep: np.ndarray, p: float) -> np.ndarray:
    """a * (x * keep + alpha' * (1 - keep)) + b (Keras 2.2.x AlphaDropout)."""
    a = ((1.0 - p) * (1.0 + p * ALPHA_PRIME ** 2)) ** -0.5
    return a * (x * keep + ALPHA_PRIME * (1.0 - keep)) - a * ALPHA_PRIME * p


def _active(p: float) -> bool:
    return 0.0 < p < 1.0  # Keras 2.2.x: the identity outside (0, 1)


def _dropout_train(mask_of):
    def train(cfg, weights, x, rng):
        p = cfg["rate"]
        return (dropout(x, keep_mask(rng, mask_of(cfg, x.shape), p), p) if _active(p) else x), weights
    return train


def _gaussian_noise_train(cfg, weights, x, rng):
    return x + cfg["stddev"] * rng.standard_normal(x.shape), weights


def _gaussian_dropout_train(cfg, weights, x, rng):
    p = cfg["rate"]
    if not _active(p):
        return x, weights
    return x * (1.0 + np.sqrt(p / (1.0 - p)) * rng.standard_normal(x.shape)), weights


def _alpha_dropout_train(cfg, weights, x, rng):
    p = cfg["rate"]
    if not _active(p):
        return x, weights
    return alpha_dropout(x, keep_mask(rng, mask_shape(cfg, x.shape), p), p), weights


def _checked_shape(name: str, rank: int | None, noise: bool):
    """output_shape: the input shape, after checking the rank (SpatialDropout) and that noise_shape
    broadcasts against the input (each entry 1, None or the input's size)."""
    def output_shape(cfg, shape):
        shape = tuple(shape)
        if rank is not None and len(shape) != rank + 2:
            raise ValueError(f"{name}: input_shape={shape} is not allowed: expected rank {rank + 2}")
        if len(shape) < 1:
            raise ValueError(f"{name}: input_shape={shape} is not allowed: expected rank >= 1")
        ns = cfg.get("noise_shape") if noise else None
        if ns is not None and (len(ns) != len(shape) or any(
                m is not None and m != 1 and n is not None and m != n for n, m in zip(shape, ns))):
            raise ValueError(f"{name}: noise_shape={ns!r} is not allowed with input_shape={shape}: expected "
                             f"{len(shape)} entries, each 1, None or the input's size")
        return shape
    return output_shape


def _register(name: str, spec: dict, train, rank: int | None = None, noise: bool = False) -> None:
    register(Layer(
        name=name, family="noise", spec=spec,
        forward=lambda cfg, weights, x: x,  # inference: the exact identity
        vjp=lambda cfg, weights, x, g: (g, []),
        output_shape=_checked_shape(name, rank, noise),
        weight_shapes=lambda cfg, shape: [],
        split_activation=lambda cfg: (None, "linear"),
        reductions=lambda cfg, shape: {"output": 0, "input": 0},
        train=train, stochastic=True,
    ))


_register("Dropout", {"rate": (REQUIRED, rate), "noise_shape": (None, noise_shape), "seed": (None, seed)},
          _dropout_train(mask_shape), noise=True)
# SpatialDropout1D documents only `rate` (input (samples, timesteps, channels)); 2D/3D add data_format.
_register("SpatialDropout1D", {"rate": (REQUIRED, rate)},
          _dropout_train(lambda cfg, shape: spatial_mask_shape(1, "channels_last", shape)), rank=1)
for _rank in (2, 3):
    _register(f"SpatialDropout{_rank}D", {"rate": (REQUIRED, rate), "data_format": DATA_FORMAT},
              _dropout_train(lambda cfg, shape, r=_rank: spatial_mask_shape(r, cfg["data_format"], shape)),
              rank=_rank)
_register("GaussianNoise", {"stddev": (REQUIRED, stddev)}, _gaussian_noise_train)
_register("GaussianDropout", {"rate": (REQUIRED, rate)}, _gaussian_dropout_train)
_register("AlphaDropout", {"rate": (REQUIRED, rate), "noise_shape": (None, noise_shape), "seed": (None, seed)},
          _alpha_dropout_train, noise=True)
