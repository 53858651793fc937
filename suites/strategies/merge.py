"""Strategies for the merge layers: Add, Subtract, Multiply, Average, Maximum, Concatenate, Dot.

A case's input_shape is a tuple of shapes, one per input. Elementwise merges draw equal shapes and, as Keras
2.2.x allows, broadcast ones (sizes 1, fewer non-batch axes); Dot draws every axes form (int, pair, negative)."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .base import OMIT, Case, Record, config, maybe, seed

ELEMENTWISE = ("Add", "Subtract", "Multiply", "Average", "Maximum")
TINY = 1e-8  # a Dot input scaled by it has norm < 1e-6: the l2_normalize floor (docs/traps.md 22) decides its scale


def _broadcast_variant(draw, shape: tuple) -> tuple:
    """`shape` itself, or a shape that broadcasts to it: some non-batch sizes set to 1, leading ones dropped."""
    if draw(st.integers(0, 2)):  # two thirds of the inputs keep the full shape
        return shape
    rest = [1 if draw(st.booleans()) else n for n in shape[1:]]
    return (shape[0], *rest[draw(st.integers(0, len(rest))):])


@st.composite
def elementwise_case(draw, name: str) -> Case:
    """2 to 4 inputs (exactly 2 for Subtract) of rank 1 to 4 with a shared batch size."""
    n = 2 if name == "Subtract" else draw(st.integers(2, 4))
    full = (draw(st.integers(1, 3)), *draw(st.lists(st.integers(1, 4), min_size=0, max_size=3)))
    shapes = tuple(_broadcast_variant(draw, full) for _ in range(n))
    return Case(config(name, {}), shapes, seed(draw))


@st.composite
def concatenate_case(draw) -> Case:
    """2 to 4 inputs of rank 2 to 4, equal but for the concatenation axis (any axis, batch included, positive or
    negative, or omitted for the default -1)."""
    full = (draw(st.integers(1, 3)), *draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    rank = len(full)
    axis = maybe(draw, st.integers(-rank, rank - 1))
    at = (-1 if axis is OMIT else axis) % rank
    shapes = tuple(full[:at] + (draw(st.integers(1, 3)),) + full[at + 1:] for _ in range(draw(st.integers(2, 4))))
    return Case(config("Concatenate", {"axis": axis}), shapes, seed(draw))


@st.composite
def dot_case(draw) -> Case:
    """Two inputs of rank 2 to 4 sharing the batch size and the contracted size; `axes` written as a positive or
    negative int where both axes allow it, else a tuple or list of two (each positive or negative)."""
    batch, k = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    shapes, axes = [], []
    for _ in range(2):
        free = draw(st.lists(st.integers(1, 3), min_size=0, max_size=2))
        at = draw(st.integers(1, len(free) + 1))
        shapes.append((batch, *free[:at - 1], k, *free[at - 1:]))
        axes.append(at)
    (r0, r1), (a0, a1) = (len(s) for s in shapes), axes
    forms = [[a0, a1], (a0 - r0, a1 - r1), (a0, a1 - r1), [a0 - r0, a1]]
    forms += [a0] if a0 == a1 else []
    forms += [a0 - r0] if a0 - r0 == a1 - r1 else []
    params = {"axes": draw(st.sampled_from(forms)), "normalize": maybe(draw, st.booleans())}
    return Case(config("Dot", params), tuple(shapes), seed(draw))




def distinct_joint(rng: np.random.Generator, shapes: list) -> list[np.ndarray]:
    """Every element of every input different by at least 4/total (a shuffled grid on [-2, 2)): Maximum's winner
    leads the runner-up by far more than float32 rounding, so its gradient is well-defined (no ties)."""
    sizes = [int(np.prod(s)) for s in shapes]
    grid = -2.0 + 4.0 * (rng.permutation(sum(sizes)) + 0.5) / max(sum(sizes), 1)
    return [part.reshape(s) for part, s in zip(np.split(grid, np.cumsum(sizes)[:-1]), shapes)]


def dot_inputs(rng: np.random.Generator, shapes: list) -> list[np.ndarray]:
    """Uniform on [-2, 2), each input scaled by 1e-8 with probability 1/4: norms far below Keras 2's floor of 1e-6
    (the normalized input is x * 1e6 there; torch's F.normalize and Keras 3 floor the norm elsewhere), and far
    from the floor's knee, where the truth is ill-conditioned."""
    return [rng.uniform(-2.0, 2.0, size=s) * (TINY if rng.random() < 0.25 else 1.0) for s in shapes]


RECORDS = (*(Record(name, elementwise_case(name), inputs=distinct_joint if name == "Maximum" else None)
             for name in ELEMENTWISE),
           Record("Concatenate", concatenate_case()), Record("Dot", dot_case(), inputs=dot_inputs))


@st.composite
def invalid_merge(draw):
    """(raw config, input shapes, parameter named in the error, value named in the error)."""
    kind = draw(st.sampled_from(["count", "broadcast", "batch", "concat_shapes", "concat_axis", "dot_shapes",
                                 "dot_axes", "dot_batch_axis"]))
    if kind == "count":  # a list of 1 input; 3 inputs to Subtract / Dot
        name = draw(st.sampled_from(ELEMENTWISE + ("Concatenate", "Dot")))
        n = 1 if name not in ("Subtract", "Dot") or draw(st.booleans()) else 3
        params = {"axes": -1} if name == "Dot" else {}
        return config(name, params), [(2, 3)] * n, "len(inputs)", n
    if kind in ("broadcast", "batch"):
        shapes = [(2, 3), (2, 4)] if kind == "broadcast" else [(2, 3), (3, 3)]
        return config(draw(st.sampled_from(ELEMENTWISE)), {}), shapes, "input_shape", shapes
    if kind == "concat_shapes":
        shapes = [(2, 3, 4), (2, 5, 4)]
        return config("Concatenate", {"axis": draw(st.sampled_from([-1, 2]))}), shapes, "input_shape", shapes
    if kind == "concat_axis":
        axis = draw(st.sampled_from([3, 7, -4]))
        return config("Concatenate", {"axis": axis}), [(2, 3, 4), (2, 3, 4)], "axis", axis
    if kind == "dot_shapes":
        shapes = [(2, 3), (2, 4)]
        return config("Dot", {"axes": 1}), shapes, "input_shape", shapes
    if kind == "dot_axes":
        axes = draw(st.sampled_from([(1, 2, 3), "1", 1.5, [1, None]]))
        return config("Dot", {"axes": axes}), [(2, 3), (2, 3)], "axes", axes
    # the batch axis, or an axis beyond the rank
    axes = draw(st.sampled_from([(0, 0), (1, 0), (2, 2), (-3, -3)]))
    raw = axes[0] if axes[0] == axes[1] and draw(st.booleans()) else list(axes)
    return config("Dot", {"axes": raw}), [(2, 3), (2, 3)], "axes", axes


INVALID = invalid_merge()
