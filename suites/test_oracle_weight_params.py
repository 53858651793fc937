"""Oracle self-tests of the weight parameters (no framework): parsing and canonical forms, the 2.2.x fans,
hand-computed losses and projections, and the statistical initializer check itself, which must pass the
oracle's own samples and fail deliberately wrong distributions."""
from __future__ import annotations

import math

import numpy as np
import pytest

import oracle
from oracle import constraints, initializers, regularizers
from suites.weight_checks import compare_facts

from .ulps import assert_ulps


def _facts(init, shape):
    return initializers.facts(initializers.parse("T", "p", init), shape)


def _ok(facts, samples, dtype="float64"):
    return all(c.ok for c in compare_facts("w", facts, samples, dtype))


def test_function_names_are_the_2_2_variance_scalings():
    assert initializers.parse("T", "p", "he_normal")["config"] == {
        "scale": 2.0, "mode": "fan_in", "distribution": "normal", "seed": None}
    assert initializers.parse("T", "p", {"class_name": "glorot_uniform", "config": {"seed": 3}})["config"] == {
        "scale": 1.0, "mode": "fan_avg", "distribution": "uniform", "seed": 3}
    with pytest.raises(ValueError, match="glorot_uniform takes no argument 'scale'"):
        initializers.parse("T", "p", {"class_name": "glorot_uniform", "config": {"scale": 2.0}})


def test_fans_follow_keras_2_2():
    assert initializers.fans((3, 5)) == (3, 5)
    assert initializers.fans((2, 3, 4, 6)) == (2 * 3 * 4, 2 * 3 * 6)  # receptive field x channels
    assert initializers.fans((7,)) == (math.sqrt(7), math.sqrt(7))  # "no specific assumptions"
    f = _facts("glorot_uniform", (2, 3, 4, 6))
    limit = math.sqrt(6 / (24 + 36))
    assert (f.low, f.high) == (-limit, limit)


def test_truncated_normal_is_uncorrected_and_its_moments():
    f = _facts("he_normal", (8, 4))
    assert f.scale == math.sqrt(2 / 8) and f.high == 2 * f.scale  # no 0.8796 divisor in 2.2.x
    _, var, _ = f.moments()
    assert var == pytest.approx(f.scale ** 2 * 0.87962566103423978 ** 2, rel=1e-12)


def test_identity_only_for_square_matrices():
    np.testing.assert_array_equal(_facts({"class_name": "Identity", "config": {"gain": 2}}, (3, 3)).values, 2 * np.eye(3))
    with pytest.raises(ValueError, match="2D square"):
        _facts("identity", (3, 4))


@pytest.mark.parametrize("init, shape", [("glorot_uniform", (6, 40)), ("he_normal", (3, 3, 4, 8)),
                                         ("normal", (50, 10)), ({"class_name": "TruncatedNormal",
                                                                 "config": {"mean": 1.0, "stddev": 0.3}}, (30, 20)),
                                         ("orthogonal", (4, 3, 5)), ("orthogonal", (3, 7)), ("ones", (2, 3))])
def test_statistical_check_passes_the_oracles_samples(init, shape):
    f = _facts(init, shape)
    rng = np.random.default_rng(0)
    draws = max(1, 2048 // math.prod(shape))
    assert _ok(f, np.stack([initializers.sample(f, rng) for _ in range(draws)]))


def test_statistical_check_catches_wrong_distributions():
    rng = np.random.default_rng(1)
    n = (64, 64)
    f = _facts("glorot_normal", n)
    # tf-keras / Keras 3: stddev divided by 0.8796 (variance 1.29x): caught
    wrong = _facts({"class_name": "TruncatedNormal", "config": {"stddev": f.scale / 0.87962566103423978}}, n)
    assert not _ok(f, initializers.sample(wrong, rng)[None])
    # an untruncated normal of the same variance: caught by the support and the KS distance
    same_var = math.sqrt(f.moments()[1])
    assert not _ok(f, rng.normal(0, same_var, size=(1,) + n))
    # glorot_uniform with fan_in instead of fan_avg: caught
    u = _facts("glorot_uniform", (16, 64))
    assert not _ok(u, rng.uniform(-math.sqrt(3 / 16), math.sqrt(3 / 16), size=(1, 16, 64)))
    # a uniform with the right variance but the wrong shape of distribution (a normal): caught by KS
    assert not _ok(u, rng.normal(0, (u.high - u.low) / math.sqrt(12), size=(1, 16, 64)))
    # a non-orthogonal matrix of the right scale
    o = _facts("orthogonal", (8, 8))
    assert not _ok(o, rng.normal(0, 1 / math.sqrt(8), size=(1, 8, 8)))
    # the wrong constant
    assert not _ok(_facts("ones", (3,)), np.full((1, 3), 1 + 1e-12))


def test_regularizer_losses_by_hand():
    w = np.array([[1.0, -2.0], [0.5, 0.0]])
    assert regularizers.loss(regularizers.parse("T", "p", "l1"), w) == pytest.approx(0.01 * 3.5, rel=1e-15)
    assert regularizers.loss(regularizers.parse("T", "p", {"class_name": "l2", "config": {"l": 0.5}}), w) == 0.5 * 5.25
    assert regularizers.parse("T", "p", "l1_l2")["config"] == {"l1": 0.01, "l2": 0.01}
    cfg = {"class_name": "Dense", "config": {"units": 2, "kernel_regularizer": "l2", "activity_regularizer": {
        "class_name": "L1L2", "config": {"l1": 1.0}}}}
    x = np.array([[1.0, 1.0]])
    losses = oracle.regularization_losses(cfg, [w, np.array([0.0, 3.0])], x)
    assert losses == {"kernel": pytest.approx(0.0525, rel=1e-15), "activity": 1.5 + 1.0}  # y = x @ w + b = [1.5, 1.0]


def test_activity_regularization_layer():
    cfg = {"class_name": "ActivityRegularization", "config": {"l1": 0.5, "l2": 2.0}}
    x = np.array([[1.0, -3.0]])
    np.testing.assert_array_equal(oracle.forward(cfg, [], x), x)
    assert oracle.regularization_losses(cfg, [], x) == {"activity": 0.5 * 4 + 2.0 * 10}


def test_constraints_by_hand():
    w = np.array([[3.0, 0.0], [4.0, -1.0]])  # column norms 5 and 1
    maxnorm = constraints.parse("T", "p", "max_norm")  # max_value 2 over axis 0
    expected = w * np.array([2 / (5 + 1e-7), 1 / (1 + 1e-7)])
    np.testing.assert_array_equal(constraints.project(maxnorm, w), expected)
    np.testing.assert_array_equal(constraints.project(constraints.parse("T", "p", "nonneg"), w), [[3, 0], [4, 0]])
    unit = constraints.project(constraints.parse("T", "p", {"class_name": "UnitNorm", "config": {"axis": 1}}), w)
    norms = np.linalg.norm(w, axis=1)  # each row divided by its norm + 1e-7 (K.epsilon() added, not clamped)
    assert_ulps(np.linalg.norm(unit, axis=1), norms / (norms + 1e-7), ops=12)
    mm = constraints.parse("T", "p", {"class_name": "MinMaxNorm", "config": {"min_value": 2, "max_value": 4,
                                                                           "rate": 0.5}})
    assert_ulps(constraints.project(mm, w)[:, 0], w[:, 0] * (0.5 * 4 + 0.5 * 5) / (5 + 1e-7), ops=12)
    with pytest.raises(ValueError, match="out of range"):
        constraints.project(constraints.parse("T", "p", {"class_name": "MaxNorm", "config": {"axis": 2}}), w)
