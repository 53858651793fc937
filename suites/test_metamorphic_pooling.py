"""Metamorphic relations of the pooling family, on the oracle and on every adapter (suites/metamorphic.py).

Channels_last and ranks 1-2 only: the relations are about pooling itself, and tf-keras's 2D channels_first and
TensorFlow's float64 3D pooling cannot run on CPU (known divergences, covered by the conformance suite). Recorded
under check "metamorphic:<relation>"."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from . import tolerance
from .compare import compare
from .metamorphic import RECORDED, assert_equal, relation_fixture  # noqa: F401 (the `relation` fixture)

SEED = st.integers(0, 2 ** 32 - 1)


def window(data, rank):
    """(pool, strides, padding, spatial sizes) with a 'valid' pool that fits."""
    pool = tuple(data.draw(st.integers(1, 3), label="pool") for _ in range(rank))
    strides = tuple(data.draw(st.integers(1, 3), label="stride") for _ in range(rank))
    padding = data.draw(st.sampled_from(["valid", "same"]), label="padding")
    sizes = tuple(data.draw(st.integers(k, 6), label="size") for k in pool)
    return pool, strides, padding, sizes


@RECORDED
@given(data=st.data())
def test_pooling_of_a_constant_is_the_constant(backend, relation, data):
    """Max and average of a constant window are the constant; with 'same' this needs -inf padding for the max
    and an average over the real elements only (docs/traps.md 3-4)."""
    rank = data.draw(st.sampled_from([1, 2]), label="rank")
    kind = data.draw(st.sampled_from(["Max", "Average"]), label="kind")
    pool, strides, padding, sizes = window(data, rank)
    cfg = {"class_name": f"{kind}Pooling{rank}D", "config": {"pool_size": pool, "strides": strides,
                                                             "padding": padding}}
    backend.skip_unless_supported(cfg)
    c = data.draw(st.sampled_from([-1.75, -0.5, 0.375, 1.25]), label="constant")  # exact in every dtype
    x = np.full((2, *sizes, 3), c)
    # no seed: the example is its config, shape and constant (examples that differ only in the constant share a
    # record)
    with relation.example("pooling_constant", cfg, x) as ex:
        _, bound = tolerance.chain_bound([(cfg, [])], x, backend.dtype)
        got = backend.run([(cfg, [])], x)
        check = compare("output", got, np.full(bound.shape, c), bound)
        ex.saw(check)
        assert check.ok, (f"{kind}Pooling{rank}D({cfg['config']}) of the constant {c} [{backend.id}]: "
                          f"{check.describe()}")


@RECORDED
@given(data=st.data())
def test_global_pooling_is_pooling_over_the_whole_input(backend, relation, data):
    """Global{Max,Average}Pooling equals {Max,Average}Pooling with pool_size = the input's spatial size."""
    rank = data.draw(st.sampled_from([1, 2]), label="rank")
    kind = data.draw(st.sampled_from(["Max", "Average"]), label="kind")
    sizes = tuple(data.draw(st.integers(1, 6), label="size") for _ in range(rank))
    whole = {"class_name": f"Global{kind}Pooling{rank}D", "config": {}}
    pooled = {"class_name": f"{kind}Pooling{rank}D", "config": {"pool_size": sizes}}
    backend.skip_unless_supported(whole, pooled)
    seed = data.draw(SEED, label="seed")
    x = np.random.default_rng(seed).uniform(-2, 2, (2, *sizes, 3))
    with relation.example("global_pooling_whole_input", whole, x, seed) as ex:
        assert_equal(f"Global{kind}Pooling{rank}D == {kind}Pooling{rank}D(pool = input)", backend, [(whole, [])],
                     [(pooled, [])], x, example=ex)


@RECORDED
@given(data=st.data())
def test_pooling1d_is_pooling2d_of_height_one(backend, relation, data):
    """{Max,Average}Pooling1D over (B, T, C) equals the 2D layer over (B, 1, T, C) with pool (1, k)."""
    kind = data.draw(st.sampled_from(["Max", "Average"]), label="kind")
    (k,), (s,), padding, (t,) = window(data, 1)
    one = {"class_name": f"{kind}Pooling1D", "config": {"pool_size": k, "strides": s, "padding": padding}}
    two = {"class_name": f"{kind}Pooling2D", "config": {"pool_size": (1, k), "strides": (1, s), "padding": padding}}
    backend.skip_unless_supported(one, two)
    seed = data.draw(SEED, label="seed")
    x = np.random.default_rng(seed).uniform(-2, 2, (2, t, 3))
    with relation.example("pooling1d_height_one", one, x, seed) as ex:
        assert_equal(f"{kind}Pooling1D == {kind}Pooling2D(height 1)", backend, [(one, [])], [(two, [])], x,
                     rhs_x=x[:, None], example=ex)


@RECORDED
@given(data=st.data())
def test_max_pooling_commutes_with_an_increasing_map(backend, relation, data):
    """max(2x + 1) = 2 max(x) + 1 elementwise, written with a Dense(1) on a single channel (exact in binary)."""
    pool, strides, padding, sizes = window(data, 2)
    mx = {"class_name": "MaxPooling2D", "config": {"pool_size": pool, "strides": strides, "padding": padding}}
    affine = {"class_name": "Dense", "config": {"units": 1}}
    backend.skip_unless_supported(mx, affine)
    weights = [np.array([[2.0]]), np.array([1.0])]
    seed = data.draw(SEED, label="seed")
    x = np.random.default_rng(seed).uniform(-2, 2, (2, *sizes, 1))
    with relation.example("max_pooling_increasing_map", mx, x, seed) as ex:
        assert_equal("MaxPooling2D(2x + 1) == 2 MaxPooling2D(x) + 1", backend, [(affine, weights), (mx, [])],
                     [(mx, []), (affine, weights)], x, example=ex)
