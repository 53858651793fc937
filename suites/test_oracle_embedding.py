"""Oracle self-tests of Embedding and TimeDistributed (seed 003): the documentation's examples, values written
out by hand, the mask, input_length's shape rules, out-of-range indices, and TimeDistributed against the wrapped
layer run on each timestep separately. No framework is imported."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oracle

from . import strategies


def emb(**kw) -> dict:
    return {"class_name": "Embedding", "config": {"input_dim": 4, "output_dim": 2, **kw}}


def td(layer: dict) -> dict:
    return {"class_name": "TimeDistributed", "config": {"layer": layer}}


def test_seed_example_shapes():
    """Embedding(1000, 64, input_length=10) on a (32, 10) integer matrix -> (32, 10, 64); (1000, 64) weights."""
    config = emb(input_dim=1000, output_dim=64, input_length=10)
    assert oracle.output_shape(config, (32, 10)) == (32, 10, 64)
    assert oracle.output_shape(config, (None, 10)) == (None, 10, 64)
    assert oracle.weight_shapes(config, (32, 10)) == [(1000, 64)]
    x = np.random.default_rng(0).integers(0, 1000, (32, 10)).astype(float)
    assert oracle.forward(config, [np.zeros((1000, 64))], x).shape == (32, 10, 64)


def test_rows_are_gathered_and_gradients_scattered():
    """The seed's [[4], [20]] -> [[0.25, 0.1], [0.6, -0.2]]: row i of the matrix for index i; the gradient of a
    row sums the cotangents of every position holding its index; the index input gets zeros."""
    w = np.zeros((21, 2))
    w[4], w[20] = [0.25, 0.1], [0.6, -0.2]
    config = emb(input_dim=21)
    np.testing.assert_array_equal(oracle.forward(config, [w], np.array([[4.0], [20.0]])),
                                  [[[0.25, 0.1]], [[0.6, -0.2]]])
    x = np.array([[4.0, 20.0, 4.0]])
    g = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]])
    gx, (gw,) = oracle.vjp(config, [w], x, g)
    np.testing.assert_array_equal(gx, np.zeros_like(x))
    expected = np.zeros_like(w)
    expected[4], expected[20] = [1.0 + 5.0, 2.0 + 6.0], [3.0, 4.0]
    np.testing.assert_array_equal(gw, expected)


def test_float_indices_truncate_toward_zero_as_the_int_cast_does():
    w = np.arange(8.0).reshape(4, 2)
    np.testing.assert_array_equal(oracle.forward(emb(), [w], np.array([[1.7, -0.5, 3.99]])), w[[[1, 0, 3]]])


@pytest.mark.parametrize("bad", [4.0, -1.0, 9.0])
def test_out_of_range_index_is_rejected(bad):
    with pytest.raises(ValueError, match=r"Embedding: input index -?\d+ is not allowed"):
        oracle.forward(emb(), [np.zeros((4, 2))], np.array([[0.0, bad]]))


def test_mask_zero_masks_index_zero_only():
    x = np.array([[0.0, 1.0, 0.0, 3.0]])
    np.testing.assert_array_equal(oracle.compute_mask(emb(mask_zero=True), x), [[False, True, False, True]])
    assert oracle.compute_mask(emb(), x) is None


def test_input_length_forms():
    """An int for (batch, n); a tuple with None entries for N-d inputs (2.2.x); a mismatch is rejected."""
    assert oracle.output_shape(emb(input_length=(3, None)), (2, 3, 5)) == (2, 3, 5, 2)
    assert oracle.output_shape(emb(input_length=(3, None)), (2, None, 5)) == (2, 3, 5, 2)
    assert oracle.output_shape(emb(output_dim=0), (2, 3)) == (2, 3, 0)
    for length, shape in [(4, (2, 3)), ((3,), (2, 3, 5)), ((3, 4), (2, 3, 5))]:
        with pytest.raises(ValueError, match="Embedding: input_length="):
            oracle.normalize(emb(input_length=length), shape)


def test_time_distributed_seed_examples():
    """TimeDistributed(Dense(8)) on (None, 10, 16) -> (None, 10, 8); Dense(32) after it -> (None, 10, 32);
    TimeDistributed(Conv2D(64, (3, 3))) on (None, 10, 299, 299, 3) -> (None, 10, 297, 297, 64)."""
    dense = lambda n: {"class_name": "Dense", "config": {"units": n}}  # noqa: E731
    assert oracle.output_shape(td(dense(8)), (None, 10, 16)) == (None, 10, 8)
    assert oracle.output_shape(td(dense(32)), (None, 10, 8)) == (None, 10, 32)
    assert oracle.weight_shapes(td(dense(8)), (None, 10, 16)) == [(16, 8), (8,)]
    conv = {"class_name": "Conv2D", "config": {"filters": 64, "kernel_size": (3, 3)}}
    assert oracle.output_shape(td(conv), (None, 10, 299, 299, 3)) == (None, 10, 297, 297, 64)


@given(case=strategies.cases("TimeDistributed"))
def test_time_distributed_is_the_layer_on_each_timestep(case):
    """Output and VJP equal the wrapped layer applied to each x[:, t] alone, stacked along axis 1, the weight
    gradients summed over the timesteps: an independent route to the same numbers. Inputs, weights and
    cotangents are small integers and a weighted layer's activation is linear, so every sum is exact in float64
    whatever its order, and the two routes agree bit for bit."""
    raw = case.config["config"]["layer"]
    if "activation" in oracle.LAYERS[raw["class_name"]].spec:
        raw = {**raw, "config": {**raw["config"], "activation": "linear"}}
    config = td(raw)
    x, ws, g = strategies.arrays(case, "float64")
    rng = np.random.default_rng(case.seed)
    if not oracle.layer_of(config).index_input(oracle.normalize(config)["config"]):
        x = rng.integers(-3, 4, x.shape).astype(float)
    ws, g = [rng.integers(-3, 4, w.shape).astype(float) for w in ws], rng.integers(-3, 4, g.shape).astype(float)
    inner = oracle.normalize(config)["config"]["layer"]
    steps = range(x.shape[1])
    y = oracle.forward(config, ws, x)
    np.testing.assert_array_equal(y, np.stack([oracle.forward(inner, ws, x[:, t]) for t in steps], axis=1))
    gx, gws = oracle.vjp(config, ws, x, g)
    per_step = [oracle.vjp(inner, ws, x[:, t], g[:, t]) for t in steps]
    np.testing.assert_array_equal(gx, np.stack([p[0] for p in per_step], axis=1))
    for i, gw in enumerate(gws):
        np.testing.assert_array_equal(gw, sum(p[1][i] for p in per_step))


@given(st.sampled_from([{"class_name": "Add", "config": {}}, {"class_name": "Dot", "config": {"axes": 1}}]))
def test_time_distributed_rejects_multi_input_layers(layer):
    with pytest.raises(ValueError, match=f"TimeDistributed: layer='{layer['class_name']}' is not allowed"):
        oracle.normalize(td(layer))


def test_time_distributed_rejects_rank_below_3():
    with pytest.raises(ValueError, match=r"TimeDistributed: input_shape=\(2, 3\) is not allowed"):
        oracle.output_shape(td({"class_name": "Dense", "config": {"units": 2}}), (2, 3))
