"""Parametric elementwise functions (the advanced activation layers) as one object the tolerance policy reads.

`oracle/activations.py` knows the fixed Keras activations by name. The advanced activation layers carry
parameters (LeakyReLU's alpha, ReLU's threshold ...), so their registrations hand the policy a `Pointwise`
instead of a name: f, f', f'', the absolute terms of the documented formula (what one evaluation rounds
relative to) and the points where f or f' jumps (gradient checks keep a margin from them; the boundary check
puts inputs exactly on them). `SoftmaxAlong` is the softmax along an axis other than the last.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass(frozen=True, eq=False)
class Pointwise:
    """An elementwise function with its derivatives, rounding magnitude and kinks."""
    name: str
    f: Callable[[np.ndarray], np.ndarray]
    d1: Callable[[np.ndarray], np.ndarray]
    d2: Callable[[np.ndarray], np.ndarray]
    rounding: Callable[[np.ndarray], np.ndarray]   # absolute terms of the documented formula at x
    kinks: tuple[float, ...] = ()

    def vjp(self, x: np.ndarray, g: np.ndarray) -> np.ndarray:
        return self.d1(x) * g


@dataclass(frozen=True)
class SoftmaxAlong:
    """softmax along `axis` (an int, possibly negative)."""
    axis: int


def piecewise_linear(name: str, pieces, kinks: tuple[float, ...]) -> Pointwise:
    """A Pointwise from `pieces(x) -> (value, slope, absolute terms)`: f'' = 0 away from the kinks."""
    return Pointwise(name, f=lambda x: pieces(x)[0], d1=lambda x: pieces(x)[1], d2=np.zeros_like,
                     rounding=lambda x: pieces(x)[2], kinks=tuple(float(k) for k in kinks))
