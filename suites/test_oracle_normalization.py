"""Oracle self-tests of BatchNormalization (no framework): hand-computed inference and training steps, the
channels-first axis, scale/center, and the training-mode VJP against float64 finite differences."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import oracle

from .ulps import assert_ulps
from oracle.gradients import FD_RELATIVE_ERROR, directional_derivative

from . import strategies
from .strategies import arrays

BN = "BatchNormalization"


def test_inference_by_hand():
    """x = 3, moving mean 1, moving variance 3, epsilon 1: (3 - 1) / sqrt(4) = 1, times gamma 2 plus beta 0.5."""
    cfg = {"class_name": BN, "config": {"epsilon": 1}}
    y = oracle.forward(cfg, [np.array([2.0]), np.array([0.5]), np.array([1.0]), np.array([3.0])], np.array([[3.0]]))
    assert y[0, 0] == 2.5


def test_training_step_by_hand():
    """Two samples per channel, [1, 3] and [2, 6]: batch means 2 and 4, biased variances 1 and 4; with epsilon 1
    the outputs are -+1/sqrt(2) and -+2/sqrt(5). Moving mean from 0 with momentum 0.9: 0.1 * mean. Moving
    variance from 1: 0.9 + 0.1 * var * 2 / (2 - (1 + epsilon)) -- Keras 2.2.x's n / (n - 1 - epsilon) with n = 2
    and epsilon = 0.5 is 4."""
    x = np.array([[1.0, 2.0], [3.0, 6.0]])
    for eps, factor in ((2.0, None), (0.5, 4.0)):
        cfg = {"class_name": BN, "config": {"epsilon": eps, "momentum": 0.9, "center": False, "scale": False}}
        y, new = oracle.train_step(cfg, [np.zeros(2), np.ones(2)], x)
        # mean, variance, +epsilon, sqrt, division on the oracle's side; +, sqrt, / on the reference's
        assert_ulps(y[:, 0], [-1 / math.sqrt(1 + eps), 1 / math.sqrt(1 + eps)], ops=10)
        assert_ulps(y[:, 1], [-2 / math.sqrt(4 + eps), 2 / math.sqrt(4 + eps)], ops=10)
        assert_ulps(new[0], [0.2, 0.4], ops=6)  # m * old + (1 - m) * mean
        if factor is not None:
            assert_ulps(new[1], [0.9 + 0.1 * 1 * factor, 0.9 + 0.1 * 4 * factor], ops=12)


def test_channels_first_axis_equals_moved_channels_last():
    rng = np.random.default_rng(3)
    x = rng.uniform(-2, 2, (3, 4, 5, 2))
    ws = [rng.uniform(0.5, 1.5, 4), rng.uniform(-1, 1, 4), rng.uniform(-1, 1, 4), rng.uniform(0.1, 2, 4)]
    first = {"class_name": BN, "config": {"axis": 1}}
    last = {"class_name": BN, "config": {"axis": -1}}
    moved = np.moveaxis(x, 1, -1)
    y_inf = oracle.forward(last, ws, moved)
    assert_ulps(np.moveaxis(oracle.forward(first, ws, x), 1, -1), y_inf, ops=8, scale=np.max(np.abs(y_inf)))
    (y1, w1), (y2, w2) = oracle.train_step(first, ws, x), oracle.train_step(last, ws, moved)
    # batch statistics are sums of n = 30 terms per channel, summed in another order: 2n roundings each for the
    # mean and the variance, then a handful for the normalisation, at the size of the largest output
    n = x.size // x.shape[1]
    assert_ulps(np.moveaxis(y1, 1, -1), y2, ops=4 * n + 10, scale=np.max(np.abs(y2)))
    for a, b in zip(w1, w2):
        assert_ulps(a, b, ops=4 * n + 10, scale=np.max(np.abs(b)))


def test_scale_and_center_false_drop_gamma_and_beta():
    shapes = oracle.weight_shapes({"class_name": BN, "config": {"scale": False, "center": False}}, (2, 3))
    assert shapes == [(3,), (3,)]
    assert oracle.weight_shapes({"class_name": BN, "config": {"scale": False}}, (2, 3)) == [(3,)] * 3


def _fd_agrees(fn, args, v, g, analytic):
    """Central difference of <g, fn> along v against the analytic directional derivative, with Richardson's
    truncation estimate plus the rounding allowance of oracle/gradients.py."""
    d1 = directional_derivative(fn, args, v, g)
    d2 = directional_derivative(fn, args, [2.0 * d for d in v], g) / 2.0
    scale = max(1.0, max(float(np.max(np.abs(a))) for a in args))
    allowed = abs(d1 - d2) + FD_RELATIVE_ERROR * 100.0 * float(np.sum(np.abs(g))) * (1.0 + scale) / scale
    return abs(analytic - d1) <= allowed, (analytic, d1, allowed)


@settings(max_examples=30)
@given(case=strategies.record(BN).training)
def test_training_vjp_against_finite_differences(case):
    """The batch-statistics gradient (x, gamma, beta) against central differences of the training output. The
    moving statistics do not enter that output, so their directions are 0. The allowance uses 100 roundings per
    output element (batch sums of a handful of elements)."""
    config = oracle.normalize(case.config)
    x, ws, g = arrays(case, "float64")
    state = set(oracle.layer_of(config).state(config["config"]))
    rng = np.random.default_rng(case.seed)
    v = [rng.uniform(-1, 1, x.shape)] + [np.zeros_like(w) if i in state else rng.uniform(-1, 1, w.shape)
                                         for i, w in enumerate(ws)]
    fn = lambda xx, *ww: oracle.train_step(config, list(ww), xx)[0]  # noqa: E731
    gx, gws = oracle.vjp(config, ws, x, g, training=True)
    analytic = float(sum(np.vdot(d, a) for d, a in zip(v, [gx, *gws])))
    ok, detail = _fd_agrees(fn, [x, *ws], v, g, analytic)
    assert ok, detail


def test_training_gradient_of_a_stochastic_layer_is_refused():
    with pytest.raises(ValueError, match="Dropout"):
        oracle.vjp({"class_name": "Dropout", "config": {"rate": 0.5}}, [], np.ones((2, 3)), np.ones((2, 3)),
                   training=True)
