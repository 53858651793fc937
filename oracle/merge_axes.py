"""The merge layers with axis parameters: Concatenate(axis=-1) and Dot(axes, normalize=False) (seed 003, "融合层
Merge"; shape rules in oracle/merge.py's docstring). Axes count the batch axis, as in Keras."""
from __future__ import annotations

import numpy as np

from .merge import L2_EPSILON, check_count, shape_error
from .params import REQUIRED, boolean, invalid
from .registry import Layer, register


def integer(layer: str, param: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise invalid(layer, param, value, "expected an integer")
    return int(value)


def axes_pair(layer: str, param: str, value) -> tuple[int, int]:
    """An int (the same axis of both inputs) or a list/tuple of 2 ints (Keras 2.2.x Dot.__init__'s rule)."""
    items = [value, value] if isinstance(value, int) and not isinstance(value, bool) else value
    if not isinstance(items, (list, tuple)) or len(items) != 2 or not all(
            isinstance(a, int) and not isinstance(a, bool) for a in items):
        raise invalid(layer, param, value, "expected an integer or a tuple of 2 integers")
    return int(items[0]), int(items[1])


# ---- Concatenate ----

def _concat_axis(cfg, shapes) -> int:
    rank = len(shapes[0])
    if not -rank <= cfg["axis"] < rank:
        raise invalid("Concatenate", "axis", cfg["axis"], f"expected an axis of the rank-{rank} inputs, "
                      f"in [{-rank}, {rank})")
    return cfg["axis"] % rank


def _concat_output_shape(cfg, shapes):
    check_count("Concatenate", len(shapes))
    if len({len(s) for s in shapes}) > 1 or len(shapes[0]) < 1:
        raise shape_error("Concatenate", shapes, "every input needs the same rank (at least 1)")
    axis = _concat_axis(cfg, shapes)
    if len({s[:axis] + s[axis + 1:] for s in shapes}) > 1:
        raise shape_error("Concatenate", shapes, f"the sizes must match on every axis but axis={cfg['axis']}")
    sizes = [s[axis] for s in shapes]
    return shapes[0][:axis] + (None if None in sizes else sum(sizes),) + shapes[0][axis + 1:]


def _concat_vjp(cfg, weights, xs, g):
    axis = _concat_axis(cfg, [x.shape for x in xs])
    return np.split(g, np.cumsum([x.shape[axis] for x in xs])[:-1], axis=axis), []


register(Layer(
    name="Concatenate", family="merge", spec={"axis": (-1, integer)}, multi_input=True,
    forward=lambda cfg, weights, xs: np.concatenate(xs, axis=_concat_axis(cfg, [x.shape for x in xs])),
    vjp=_concat_vjp, output_shape=_concat_output_shape, weight_shapes=lambda cfg, shapes: [],
    split_activation=lambda cfg: (cfg, "linear"),
    reductions=lambda cfg, shapes: {"output": 0, **{f"input{i}": 0 for i in range(len(shapes))}},  # copies
))


# ---- Dot ----

def dot_axes(cfg, shapes) -> tuple[int, int]:
    """The contracted axes as non-negative ints. Keras resolves a negative axis modulo the rank, so that -3 on a
    rank-2 input would be axis 1; the oracle accepts only axes of the input. The batch axis cannot be contracted:
    Dot takes per-sample products (Keras 2.2.x computed a meaningless (features, 1) output for it)."""
    out = []
    for a, s in zip(cfg["axes"], shapes):
        if not -len(s) <= a < len(s) or a % len(s) == 0:
            raise invalid("Dot", "axes", cfg["axes"], f"expected non-batch axes of inputs of ranks "
                          f"{len(shapes[0])} and {len(shapes[1])} (axis 0 is the batch axis)")
        out.append(a % len(s))
    return out[0], out[1]


def _dot_output_shape(cfg, shapes):
    check_count("Dot", len(shapes), exactly=2)
    if any(len(s) < 2 for s in shapes):
        raise shape_error("Dot", shapes, "each input needs rank >= 2 (batch, ...)")
    a0, a1 = dot_axes(cfg, shapes)
    s0, s1 = shapes
    if None not in (s0[0], s1[0]) and s0[0] != s1[0]:
        raise shape_error("Dot", shapes, "the batch sizes differ")
    if None not in (s0[a0], s1[a1]) and s0[a0] != s1[a1]:
        raise shape_error("Dot", shapes, f"the contracted sizes differ (axes {a0} and {a1})")
    out = s0[:a0] + s0[a0 + 1:] + s1[1:a1] + s1[a1 + 1:]
    return out + (1,) if len(out) == 1 else out  # K.batch_dot: a rank-1 result becomes (batch, 1)


def l2_normalize(x: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """(x / sqrt(max(sum x^2, 1e-12)), the divisor) along `axis`: Keras 2.2.x K.l2_normalize (docs/traps.md 22).
    torch's F.normalize divides by max(norm, 1e-12) instead, a different floor for tiny vectors."""
    s = np.sqrt(np.maximum(np.sum(x * x, axis=axis, keepdims=True), L2_EPSILON))
    return x / s, s


def _l2_normalize_vjp(x, axis, gn):
    """The cotangent of x given that of x / s: gn / s - x <gn, x> / s^3 where the floor is not active."""
    q = np.sum(x * x, axis=axis, keepdims=True)
    s = np.sqrt(np.maximum(q, L2_EPSILON))
    return gn / s - x * np.sum(gn * x, axis=axis, keepdims=True) * (q > L2_EPSILON) / s ** 3


def _moved(x, axis):
    """x as (batch, free elements, contracted) with the contracted axis last."""
    m = np.moveaxis(x, axis, -1)
    return m.reshape(m.shape[0], -1, m.shape[-1])


def _bilinear(x, y, a0, a1):
    return np.einsum("bik,bjk->bij", _moved(x, a0), _moved(y, a1))


def _bilinear_vjp(x, y, a0, a1, g):
    gm = g.reshape(_bilinear(x, y, a0, a1).shape)
    gx = np.einsum("bij,bjk->bik", gm, _moved(y, a1)).reshape(np.moveaxis(x, a0, -1).shape)
    gy = np.einsum("bij,bik->bjk", gm, _moved(x, a0)).reshape(np.moveaxis(y, a1, -1).shape)
    return np.moveaxis(gx, -1, a0), np.moveaxis(gy, -1, a1)


def _dot_forward(cfg, weights, xs):
    x, y = xs
    a0, a1 = dot_axes(cfg, [x.shape, y.shape])
    if cfg["normalize"]:
        x, y = l2_normalize(x, a0)[0], l2_normalize(y, a1)[0]
    return _bilinear(x, y, a0, a1).reshape(_dot_output_shape(cfg, [x.shape, y.shape]))


def _dot_vjp(cfg, weights, xs, g):
    x, y = xs
    a0, a1 = dot_axes(cfg, [x.shape, y.shape])
    if not cfg["normalize"]:
        return list(_bilinear_vjp(x, y, a0, a1, g)), []
    gxn, gyn = _bilinear_vjp(l2_normalize(x, a0)[0], l2_normalize(y, a1)[0], a0, a1, g)
    return [_l2_normalize_vjp(x, a0, gxn), _l2_normalize_vjp(y, a1, gyn)], []


def _dot_vjp_magnitude(cfg, ax, ag):
    """The absolute terms of each input gradient. With normalize, the gradient (gn - xn <xn, gn>) / s cancels,
    so the terms are (|gn| + |xn| <|xn|, |gn|>) / s with |gn| the bilinear cotangent's own absolute terms."""
    a0, a1 = dot_axes(cfg, [a.shape for a in ax])
    if not cfg["normalize"]:
        return list(_bilinear_vjp(ax[0], ax[1], a0, a1, ag))
    (xn, sx), (yn, sy) = l2_normalize(ax[0], a0), l2_normalize(ax[1], a1)
    gxn, gyn = _bilinear_vjp(xn, yn, a0, a1, ag)
    return [(gxn + xn * np.sum(xn * gxn, axis=a0, keepdims=True)) / sx,
            (gyn + yn * np.sum(yn * gyn, axis=a1, keepdims=True)) / sy]


def _dot_reductions(cfg, shapes):
    """The dot sums the contracted length k; each input gradient sums the other input's free elements. With
    normalize, two more k-term sums (the squared norm, whose relative error halves under the square root, and
    the <xn, gn> of the gradient) and about 10 roundings of rsqrt and the products (5 ulps, as activations)."""
    a0, a1 = dot_axes(cfg, shapes)
    k = shapes[0][a0]
    free = [int(np.prod([n for i, n in enumerate(s) if i not in (0, a)])) for s, a in zip(shapes, (a0, a1))]
    extra = k + 10 if cfg["normalize"] else 0
    return {"output": k + extra, "input0": free[1] + 2 * extra, "input1": free[0] + 2 * extra}


register(Layer(
    name="Dot", family="merge", multi_input=True,
    # Keras 2.2.x: Dot(axes, normalize=False); axes has no default there (tf-keras and Keras 3 neither, though
    # Keras 3's functional dot() defaults to -1).
    spec={"axes": (REQUIRED, axes_pair), "normalize": (False, boolean)},
    forward=_dot_forward, vjp=_dot_vjp, output_shape=_dot_output_shape, weight_shapes=lambda cfg, shapes: [],
    split_activation=lambda cfg: (cfg, "linear"),  # the layer at |x| gives the sum of |xn_k| |yn_k|
    reductions=_dot_reductions, vjp_magnitude=_dot_vjp_magnitude,
))
