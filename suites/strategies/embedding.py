"""Strategies for Embedding: index inputs of rank 2 (the documented (batch, sequence_length)) and higher (2.2.x
takes any rank; input_length is then a tuple), every input_length form, mask_zero, output_dim 0 (seed 003:
"int >= 0")."""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .base import OMIT, Case, Record, config, maybe, seed


@st.composite
def embedding_case(draw) -> Case:
    """input_dim from 1 (only index 0) up; input_length omitted, None, the sequence length, or for an N-d input
    a tuple/list whose entries are the sizes or None."""
    input_dim = draw(st.integers(1, 12))
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
    if len(shape) == 2:
        length = draw(st.sampled_from([OMIT, None, shape[1]]))
    else:
        sizes = [draw(st.sampled_from([n, None])) for n in shape[1:]]
        length = draw(st.sampled_from([OMIT, None, tuple(sizes), list(sizes)]))
    params = {"input_dim": input_dim, "output_dim": draw(st.sampled_from([0, 1, 2, 3, 5])),
              "mask_zero": maybe(draw, st.booleans()), "input_length": length}
    return Case(config("Embedding", params), shape, seed(draw))


def embedding_inputs(rng: np.random.Generator, shape: tuple, raw: dict) -> np.ndarray:
    """Indices in [0, input_dim), as floats; about a quarter set to 0 (the padding index mask_zero masks), so
    rows repeat and the embeddings gradient sums several cotangents."""
    x = rng.integers(0, raw["config"]["input_dim"], size=shape)
    x[rng.uniform(size=shape) < 0.25] = 0
    return x.astype(np.float64)


RECORDS = (Record("Embedding", embedding_case(), config_inputs=embedding_inputs),)


@st.composite
def invalid_embedding(draw):
    """(raw config, input shape, parameter, value): input_dim < 1 or not an int, output_dim < 0, a non-bool
    mask_zero, input_length < 1, or an input_length that disagrees with the input (2.2.x compute_output_shape)."""
    kind = draw(st.sampled_from(["input_dim", "output_dim", "mask_zero", "input_length", "mismatch"]))
    base = {"input_dim": 4, "output_dim": 2}
    if kind == "mismatch":
        length = draw(st.sampled_from([3, 7]))
        return config("Embedding", {**base, "input_length": length}), (2, 5), "input_length", length
    bad = draw(st.sampled_from({"input_dim": [0, -2, 2.0, True], "output_dim": [-1, 1.5, None],
                                "mask_zero": ["yes", 1, None], "input_length": [0, -3, 2.5]}[kind]))
    return config("Embedding", {**base, kind: bad}), (2, 3), kind, bad


INVALID = invalid_embedding()
