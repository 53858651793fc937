"""Oracle self-tests for the core layers (seed 003): Dense against independent loops, every activation against
hand-written values, and the documented errors. No framework is imported."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oracle
from oracle import activations

EPS = np.finfo(np.float64).eps
# Keras 2.2.x keras/activations.py writes the SELU constants with these digits.
SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def sum_bound(n_terms: int, abs_sum):
    """Allowed gap between two float64 evaluations of the same sum of `n_terms` products.

    Each evaluation, whatever its order, is within n*eps*sum|terms| of the exact sum (every product and every
    addition rounds once, relative error <= eps/2 each, first order); two evaluations differ by at most twice
    that."""
    return 2 * n_terms * EPS * np.asarray(abs_sum)


def ulp_close(got, ref, ops: int) -> bool:
    """|got - ref| <= ops*eps*|ref|, where `ops` counts the rounded steps (libm calls are within 1 ulp) of the
    oracle's formula plus the reference's; a zero reference must be met exactly."""
    got, ref = np.asarray(got, dtype=np.float64), np.asarray(ref, dtype=np.float64)
    return bool(np.all(np.abs(got - ref) <= ops * EPS * np.abs(ref)))


def dense_cfg(units, **kw):
    return {"class_name": "Dense", "config": {"units": units, **kw}}


def act_cfg(name):
    return {"class_name": "Activation", "config": {"activation": name}}


def loop_dense(x, kernel, bias):
    """Plain Python loops: y[..., j] = sum_i x[..., i] * kernel[i, j] + bias[j]."""
    y = np.zeros(x.shape[:-1] + (kernel.shape[1],))
    for lead in np.ndindex(*x.shape[:-1]):
        for j in range(kernel.shape[1]):
            acc = 0.0 if bias is None else float(bias[j])
            for i in range(kernel.shape[0]):
                acc += float(x[lead + (i,)]) * float(kernel[i, j])
            y[lead + (j,)] = acc
    return y


@given(shape=st.lists(st.integers(1, 4), min_size=2, max_size=4), units=st.integers(1, 5),
       use_bias=st.booleans(), seed=st.integers(0, 2 ** 32 - 1))
def test_dense_equals_independent_loops_and_einsum(shape, units, use_bias, seed):
    """Dense on rank 2-4 inputs contracts the last axis: equal to loops and to einsum within the sum bound."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, shape)
    kernel = rng.uniform(-1, 1, (shape[-1], units))
    bias = rng.uniform(-1, 1, units) if use_bias else None
    weights = [kernel] + ([bias] if use_bias else [])
    y = oracle.forward(dense_cfg(units, use_bias=use_bias), weights, x)
    assert y.shape == tuple(shape[:-1]) + (units,)
    abs_sum = np.einsum("...i,ij->...j", np.abs(x), np.abs(kernel)) + (0 if bias is None else np.abs(bias))
    bound = sum_bound(shape[-1] + 1, abs_sum)
    assert np.all(np.abs(y - loop_dense(x, kernel, bias)) <= bound)
    ref = np.einsum("...i,ij->...j", x, kernel) + (0 if bias is None else bias)
    assert np.all(np.abs(y - ref) <= bound)


@pytest.mark.parametrize("rank", [2, 3, 4])
def test_dense_integer_inputs_are_exact(rank):
    """With small integers every product and sum is exact in float64, so the loops match bit for bit."""
    rng = np.random.default_rng(rank)
    x = rng.integers(-5, 6, (2, 3, 4, 5)[-rank:]).astype(np.float64)
    kernel, bias = rng.integers(-5, 6, (5, 3)).astype(np.float64), rng.integers(-5, 6, 3).astype(np.float64)
    np.testing.assert_array_equal(oracle.forward(dense_cfg(3), [kernel, bias], x), loop_dense(x, kernel, bias))


@pytest.mark.parametrize("name", activations.NAMES)
def test_dense_activation_is_applied_after_the_affine_map(name):
    """Dense(activation=a) equals Activation(a) applied to Dense(activation=None), exactly."""
    rng = np.random.default_rng(7)
    x, kernel, bias = rng.uniform(-1, 1, (3, 4)), rng.uniform(-1, 1, (4, 2)), rng.uniform(-1, 1, 2)
    linear = oracle.forward(dense_cfg(2), [kernel, bias], x)
    np.testing.assert_array_equal(oracle.forward(dense_cfg(2, activation=name), [kernel, bias], x),
                                  oracle.forward(act_cfg(name), [], linear))


def test_dense_seed_003_shapes():
    """Seed 003: Dense(32) with input_shape=(16,) outputs (*, 32); rank-3 inputs keep their leading axes."""
    assert oracle.output_shape(dense_cfg(32), (None, 16)) == (None, 32)
    assert oracle.output_shape(dense_cfg(32), (None, 10, 16)) == (None, 10, 32)
    assert oracle.weight_shapes(dense_cfg(32), (None, 16)) == [(16, 32), (32,)]
    assert oracle.weight_shapes(dense_cfg(32, use_bias=False), (None, 16)) == [(16, 32)]
    assert oracle.normalize(dense_cfg(32))["config"]["activation"] == "linear"  # None means a(x) = x


# name -> (input rows, expected rows, ops). Expected values are written by hand or with the math module.
E = math.exp
REFERENCE = {
    "linear": ([[-2.5, 0.0, 3.0]], [[-2.5, 0.0, 3.0]], 0),
    "relu": ([[-1.0, 0.0, 2.5, -1e300]], [[0.0, 0.0, 2.5, 0.0]], 0),
    "tanh": ([[0.0, 1.0, -0.5, -40.0]], [[0.0, math.tanh(1.0), math.tanh(-0.5), -1.0]], 2),
    "sigmoid": ([[0.0, 1.0, -1.0, 40.0, -1000.0]],
                [[0.5, 1 / (1 + E(-1)), E(-1) / (1 + E(-1)), 1.0, 0.0]], 4),
    # Keras 2: clip(0.2x + 0.5, 0, 1), so 0.7 at x = 1 (Keras 3 / torch would give 2/3; docs/traps.md 14).
    "hard_sigmoid": ([[1.0, 3.0, -3.0, 0.0, -1.0, 2.5, -2.5]], [[0.7, 1.0, 0.0, 0.5, 0.3, 1.0, 0.0]], 3),
    "elu": ([[2.0, 0.0, -1.0, -1000.0]], [[2.0, 0.0, math.expm1(-1.0), -1.0]], 2),
    "selu": ([[1.0, 0.0, -1.0, -1000.0]],
             [[SELU_SCALE, 0.0, SELU_SCALE * SELU_ALPHA * math.expm1(-1.0), -SELU_SCALE * SELU_ALPHA]], 5),
    "softplus": ([[0.0, 1.0, 1000.0, -1000.0, -30.0]],
                 [[math.log(2.0), math.log1p(math.e), 1000.0, 0.0, math.log1p(E(-30))]], 5),
    "softsign": ([[1.0, -3.0, 0.0, 7.0]], [[0.5, -0.75, 0.0, 0.875]], 0),
    "exponential": ([[0.0, 1.0, -1.0, 2.0]], [[1.0, math.e, 1 / math.e, E(2.0)]], 2),
    "softmax": ([[0.0, math.log(3.0)], [1000.0, 1000.0], [1000.0, 0.0], [-1.0, -1.0]],
                [[0.25, 0.75], [0.5, 0.5], [1.0, 0.0], [0.5, 0.5]], 6),
}


def test_every_activation_has_a_reference():
    """A new activation name must come with hand-written values here."""
    assert set(REFERENCE) == set(activations.NAMES)


@pytest.mark.parametrize("name", activations.NAMES)
def test_activation_hand_picked_points(name):
    """Each activation at hand-picked points, evaluated without overflow or invalid operations."""
    x, expected, ops = REFERENCE[name]
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        got = oracle.forward(act_cfg(name), [], np.array(x))
    assert ulp_close(got, expected, ops), (got, expected)


def test_selu_constants_and_hard_sigmoid_keras2():
    """The oracle uses Keras 2's SELU constants and the Keras 2 hard_sigmoid."""
    assert activations.SELU_ALPHA == SELU_ALPHA and activations.SELU_SCALE == SELU_SCALE
    y = oracle.forward(act_cfg("hard_sigmoid"), [], np.array([[1.0]]))
    assert ulp_close(y, 0.7, 3) and not ulp_close(y, 1 / 1.5, 1000)


@given(k=st.lists(st.lists(st.integers(-40, 40), min_size=1, max_size=6), min_size=1, max_size=3).filter(
    lambda rows: len({len(r) for r in rows}) == 1), shift=st.integers(-1000, 1000))
def test_softmax_rows_sum_to_one_and_shift_invariant(k, shift):
    """Softmax rows sum to 1 within the sum bound, and adding a constant per row changes nothing at all.

    Inputs are multiples of 1/8 below 2^10, so x + c and x - max(x) are exact: shift invariance is exact."""
    x = np.array(k, dtype=np.float64) / 8.0
    s = oracle.forward(act_cfg("softmax"), [], x)
    n = x.shape[-1]
    # n exps (1 ulp each), an n-term sum, n divisions, and the test's own n-term sum: about (3n + 2) eps.
    assert np.all(np.abs(s.sum(axis=-1) - 1.0) <= (3 * n + 2) * EPS)
    assert np.all(s >= 0)
    np.testing.assert_array_equal(oracle.forward(act_cfg("softmax"), [], x + shift), s)


def test_softmax_acts_on_the_last_axis_of_rank_3():
    """Softmax normalizes the last axis only."""
    x = np.arange(24, dtype=np.float64).reshape(2, 3, 4) / 4.0
    s = oracle.forward(act_cfg("softmax"), [], x)
    assert np.all(np.abs(s.sum(axis=-1) - 1.0) <= (3 * 4 + 2) * EPS)


def test_activation_softmax_rejects_rank_1():
    """Keras 2.2.x cannot apply softmax to a 1-D tensor: the oracle raises a ValueError naming it."""
    for call in (lambda: oracle.output_shape(act_cfg("softmax"), (5,)),
                 lambda: oracle.normalize(act_cfg("softmax"), (5,)),
                 lambda: oracle.forward(act_cfg("softmax"), [], np.zeros(5))):
        with pytest.raises(ValueError, match=r"Activation.*input_shape=\(5,\).*softmax"):
            call()
    assert oracle.output_shape(act_cfg("relu"), (5,)) == (5,)  # elementwise activations accept rank 1


@pytest.mark.parametrize("config", [dense_cfg(2, activation="swish"), act_cfg("swish"),
                                    {"class_name": "Conv1D", "config": {"filters": 1, "kernel_size": 1,
                                                                        "activation": "swish"}}])
def test_unknown_activation_names_layer_parameter_and_value(config):
    """'swish' is not a Keras 2.2.x activation: the error names the layer, the parameter and the value."""
    with pytest.raises(ValueError) as err:
        oracle.normalize(config)
    message = str(err.value)
    assert config["class_name"] in message and "activation" in message and "'swish'" in message
