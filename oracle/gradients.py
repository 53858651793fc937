"""Float64 finite differences: the fallback VJP and the check of every analytic VJP."""
from __future__ import annotations

from typing import Callable, Sequence

import numpy as np

# Central differences have truncation error O(h^2 f''') and rounding error O(eps f / h); h = eps^(1/3)
# balances them, leaving a relative error of about eps^(2/3) ~ 4e-11 for smooth functions.
STEP = np.finfo(np.float64).eps ** (1.0 / 3.0)
FD_RELATIVE_ERROR = np.finfo(np.float64).eps ** (2.0 / 3.0)


def directional_derivative(fn: Callable[..., np.ndarray], args: Sequence[np.ndarray],
                           direction: Sequence[np.ndarray], cotangent: np.ndarray) -> float:
    """<cotangent, J(args) . direction> by a central difference along `direction`."""
    scale = max(1.0, max(float(np.max(np.abs(a), initial=0.0)) for a in args))
    h = STEP * scale
    plus = fn(*[a + h * d for a, d in zip(args, direction)])
    minus = fn(*[a - h * d for a, d in zip(args, direction)])
    return float(np.sum(cotangent * (plus - minus)) / (2.0 * h))


def numeric_vjp(fn: Callable[..., np.ndarray], args: Sequence[np.ndarray],
                cotangent: np.ndarray) -> list[np.ndarray]:
    """Full VJP by one central difference per coordinate: the fallback for layers with no analytic VJP."""
    grads = []
    for i, a in enumerate(args):
        g = np.zeros_like(a)
        for idx in np.ndindex(*a.shape):
            e = [np.zeros_like(b) for b in args]
            e[i][idx] = 1.0
            g[idx] = directional_derivative(fn, args, e, cotangent)
        grads.append(g)
    return grads
