"""Metamorphic relations of the merge layers, on the oracle and on every adapter (suites/metamorphic.py); recorded
under check "metamorphic:<relation>"."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from . import tolerance
from .compare import compare
from .metamorphic import RECORDED, assert_equal, relation_fixture  # noqa: F401 (the `relation` fixture)

SEED = st.integers(0, 2 ** 32 - 1)


def _shape(data) -> tuple:
    return (data.draw(st.integers(1, 3), label="batch"),
            *data.draw(st.lists(st.integers(1, 4), min_size=1, max_size=3), label="sizes"))


@RECORDED
@given(data=st.data())
def test_subtract_is_add_of_the_negation(backend, relation, data):
    """Subtract([a, b]) == Add([a, -b]): negation is exact, so both sides compute the same sums."""
    sub, add = {"class_name": "Subtract", "config": {}}, {"class_name": "Add", "config": {}}
    backend.skip_unless_supported(sub, add)
    seed = data.draw(SEED, label="seed")
    rng = np.random.default_rng(seed)
    shape = _shape(data)
    a, b = rng.uniform(-2, 2, shape), rng.uniform(-2, 2, shape)
    with relation.example("subtract_add_negation", sub, [a, b], seed) as ex:
        assert_equal("Subtract([a, b]) == Add([a, -b])", backend, [(sub, [])], [(add, [])], [a, b], rhs_x=[a, -b],
                     example=ex)


@RECORDED
@given(n=st.sampled_from([2, 4]), data=st.data())
def test_average_is_add_then_a_scaling_by_one_over_n(backend, relation, n, data):
    """Average(inputs) == Add(inputs) followed by Dense(kernel = I / n, no bias); n = 2 or 4 so I / n is exact in
    every dtype."""
    avg, add = {"class_name": "Average", "config": {}}, {"class_name": "Add", "config": {}}
    shape = _shape(data)
    dense = {"class_name": "Dense", "config": {"units": shape[-1], "use_bias": False}}
    backend.skip_unless_supported(avg, add, dense)
    seed = data.draw(SEED, label="seed")
    rng = np.random.default_rng(seed)
    xs = [rng.uniform(-2, 2, shape) for _ in range(n)]
    with relation.example("average_add_scaled", avg, xs, seed) as ex:
        assert_equal("Average(xs) == Dense(I / n)(Add(xs))", backend, [(avg, [])],
                     [(add, []), (dense, [np.eye(shape[-1]) / n])], xs, example=ex)


@RECORDED
@given(data=st.data())
def test_dot_normalize_of_a_vector_with_itself_is_one(backend, relation, data):
    """Dot(axes, normalize=True)([x, x]) is the cosine of x with itself: 1 for every sample (norms well above the
    l2 floor), within the layer's own forward bound."""
    shape = _shape(data)
    axis = data.draw(st.integers(1, len(shape) - 1), label="axis")
    dot = {"class_name": "Dot", "config": {"axes": axis - len(shape) if data.draw(st.booleans()) else axis,
                                           "normalize": True}}
    backend.skip_unless_supported(dot)
    seed = data.draw(SEED, label="seed")
    rng = np.random.default_rng(seed)
    x = backend.cast(rng.uniform(0.5, 2.0, shape) * rng.choice([-1.0, 1.0], shape))
    with relation.example("dot_normalize_self", dot, [x, x], seed) as ex:
        y = backend.run([(dot, [])], [x, x])
        free = [n for i, n in enumerate(shape) if i not in (0, axis)]
        # the contraction of x's free axes with the same free axes of x: the diagonal holds the cosine of a vector
        # with itself; off the diagonal cosines of different vectors
        diag = y.reshape(shape[0], int(np.prod(free, dtype=int)), -1) if free else y.reshape(shape[0], 1, 1)
        ones = np.ones(diag.shape[:2])
        bound = tolerance.forward_bound(dot, [], [x, x], backend.dtype)
        bound = bound.reshape(diag.shape)
        c = compare("diagonal", np.diagonal(diag, axis1=1, axis2=2), ones, np.diagonal(bound, axis1=1, axis2=2))
        ex.saw(c)
        assert c.ok, f"Dot(normalize) of x with itself == 1 [{backend.id}] input_shape={shape}: {c.describe()}"
