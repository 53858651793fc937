"""Strategies for Reshape, Permute, RepeatVector, Masking, Lambda and Input."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .base import OMIT, Case, Record, config, maybe, seed


def _seq(draw, values):
    """A tuple or a list (Keras serializes tuples as lists)."""
    return draw(st.sampled_from([tuple(values), list(values)]))


@st.composite
def reshape_case(draw) -> Case:
    """Targets of 1-3 axes whose product is the input size, sometimes with one -1 (any position)."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    size = int(np.prod(shape[1:]))
    target, rest = [], size
    for _ in range(draw(st.integers(0, 2))):
        d = draw(st.sampled_from([k for k in range(1, rest + 1) if rest % k == 0]))
        target.append(d)
        rest //= d
    target.append(rest)
    target = draw(st.permutations(target))
    if draw(st.booleans()):
        target[draw(st.integers(0, len(target) - 1))] = -1
    return Case(config("Reshape", {"target_shape": _seq(draw, target)}), shape, seed(draw))


@st.composite
def permute_case(draw) -> Case:
    """Any permutation (identity included) of the 1-3 non-batch axes."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    dims = draw(st.permutations(range(1, len(shape))))
    return Case(config("Permute", {"dims": _seq(draw, dims)}), shape, seed(draw))


@st.composite
def repeat_case(draw) -> Case:
    shape = (draw(st.integers(1, 3)), draw(st.integers(1, 5)))
    return Case(config("RepeatVector", {"n": draw(st.integers(1, 4))}), shape, seed(draw))


MASK_VALUES = [0.0, 1.0, -0.5, 2, 0.25]  # exact in float32, so both sides compare the same number


@st.composite
def masking_case(draw) -> Case:
    """(samples, timesteps, features) inputs (rank 2 and 4 too) where some timesteps equal mask_value in all
    features and some only in part (those are not masked); mask_value omitted means 0.0."""
    shape = tuple(draw(st.lists(st.integers(1, 4), min_size=2, max_size=4)))
    return Case(config("Masking", {"mask_value": maybe(draw, st.sampled_from(MASK_VALUES))}), shape, seed(draw))


def masking_inputs(rng: np.random.Generator, shape: tuple, raw: dict) -> np.ndarray:
    """Uniform inputs; each timestep is set to mask_value entirely (p = 1/3) or in some features (p = 1/6)."""
    value = raw["config"].get("mask_value", 0.0)
    x = rng.uniform(-2.0, 2.0, size=shape)
    steps = rng.uniform(size=shape[:-1])
    x[steps < 1 / 3] = value
    partial = (steps >= 1 / 3) & (steps < 0.5)
    x[partial[..., None] & (rng.uniform(size=shape) < 0.5)] = value
    return x


@st.composite
def lambda_case(draw) -> Case:
    """The documentation's two functions: x ** 2 on any shape; the antirectifier on (batch, features >= 2),
    with output_shape omitted, None, the documented function or a tuple, and on rank 3 without one."""
    if draw(st.booleans()):
        shape = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=4)))
        out = draw(st.sampled_from([OMIT, None, shape[1:]])) if len(shape) > 1 else OMIT
        return Case(config("Lambda", {"function": "square", "output_shape": out}), shape, seed(draw))
    if draw(st.integers(0, 3)) == 0:
        shape = (draw(st.integers(1, 3)), draw(st.integers(2, 4)), draw(st.integers(1, 3)))
        return Case(config("Lambda", {"function": "antirectifier"}), shape, seed(draw))
    shape = (draw(st.integers(1, 3)), draw(st.integers(2, 5)))
    out = draw(st.sampled_from([OMIT, None, "antirectifier_output_shape", (2 * shape[1],)]))
    return Case(config("Lambda", {"function": "antirectifier", "output_shape": out}), shape, seed(draw))


@st.composite
def input_case(draw) -> Case:
    """shape, or batch_shape with known or None sizes, every documented dtype form (None = floatx)."""
    dims = tuple(draw(st.lists(st.integers(1, 4), min_size=1, max_size=3)))
    batch = draw(st.integers(1, 3))
    params = {"dtype": maybe(draw, st.sampled_from([None, "float32", "float64"])), "sparse": maybe(draw, st.just(False))}
    if draw(st.booleans()):
        params["shape"] = _seq(draw, dims)
    else:
        known = [draw(st.sampled_from([n, None])) for n in (batch,) + dims]
        params["batch_shape"] = _seq(draw, known)
    return Case(config("Input", params), (batch,) + dims, seed(draw))


RECORDS = (Record("Reshape", reshape_case()), Record("Permute", permute_case()), Record("RepeatVector", repeat_case()),
           Record("Masking", masking_case(), config_inputs=masking_inputs), Record("Lambda", lambda_case()),
           Record("Input", input_case()))


@st.composite
def invalid_core_shapes(draw):
    """(raw config, input shape, parameter and value the error names). Lambda has none here: its config names
    the oracle's functions, which a real Keras config cannot (oracle/core_shapes.py); its errors are pinned in
    suites/test_oracle_core_shapes.py."""
    kind = draw(st.sampled_from(["reshape_size", "reshape_two", "permute", "repeat_n", "repeat_rank", "masking"]))
    if kind == "reshape_size":
        target = draw(st.sampled_from([(5,), (2, 4), (7, -1)]))
        return config("Reshape", {"target_shape": target}), (2, 3, 2), "target_shape", target
    if kind == "reshape_two":
        return config("Reshape", {"target_shape": (-1, -1)}), (2, 6), "target_shape", (-1, -1)
    if kind == "permute":
        dims = draw(st.sampled_from([(1, 1), (0, 1), (2, 3), (1, 3)]))
        return config("Permute", {"dims": dims}), (2, 3, 4), "dims", dims
    if kind == "repeat_n":
        n = draw(st.integers(-2, 0))
        return config("RepeatVector", {"n": n}), (2, 3), "n", n
    if kind == "repeat_rank":
        return config("RepeatVector", {"n": 2}), (2, 3, 4), "input_shape", (2, 3, 4)
    return config("Masking", {"mask_value": "zero"}), (2, 3, 4), "mask_value", "zero"


INVALID = invalid_core_shapes()
