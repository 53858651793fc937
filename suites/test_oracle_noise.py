"""Oracle self-tests of the noise layers and the statistical checker (no framework): the oracle's own samples
pass the checks, and deliberately broken samples (wrong scaling, unshared or wrongly shared masks, wrong rate,
wrong noise distribution, wrong affine constants) fail the check that is meant to catch them."""
from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings

import oracle
from oracle.noise import ALPHA_PRIME

from . import stochastic, strategies, training
from .strategies import arrays

NOISE = sorted(n for n, layer in oracle.LAYERS.items() if layer.stochastic and layer.family == "noise")


def _failed(comparisons) -> set[str]:
    return {c.name for c in comparisons if not c.ok}


@pytest.mark.parametrize("layer", NOISE)
@settings(max_examples=15)
@given(data=strategies.st.data())
def test_oracle_samples_pass_the_statistical_checks(layer, data):
    case = data.draw(strategies.record(layer).training)
    x, _, _ = arrays(case, "float64")
    config = oracle.normalize(case.config)
    y = oracle.forward(config, [], x, training=True, seed=case.seed)
    mask = training.noise_mask_shape(layer, config["config"], x.shape)
    assert not _failed(stochastic.check_sample(layer, config["config"], x, y, mask, "float64"))


@pytest.mark.parametrize("layer", NOISE)
def test_inference_is_the_exact_identity(layer):
    shape = {"SpatialDropout1D": (2, 3, 4), "SpatialDropout3D": (2, 3, 4, 5, 2)}.get(layer, (2, 3, 4, 5))
    x = np.random.default_rng(0).uniform(-2, 2, shape)
    param = {"stddev": 0.5} if layer == "GaussianNoise" else {"rate": 0.5}
    config = {"class_name": layer, "config": param}
    assert np.array_equal(oracle.forward(config, [], x), x)
    assert np.array_equal(oracle.vjp(config, [], x, 2.0 * x)[0], 2.0 * x)


@pytest.mark.parametrize("layer", ["Dropout", "GaussianDropout", "AlphaDropout", "SpatialDropout1D"])
@pytest.mark.parametrize("rate", [0.0, 1.0])
def test_rate_outside_open_interval_is_identity_in_training(layer, rate):
    """Keras 2.2.x: `if 0. < self.rate < 1.:` applies the noise, else returns the input."""
    x = np.random.default_rng(1).uniform(-2, 2, (3, 4, 5))
    assert np.array_equal(oracle.forward({"class_name": layer, "config": {"rate": rate}}, [], x, training=True,
                                         seed=0), x)


@pytest.mark.parametrize("bad", [(2, 5), (2, 3, 1), (3, 3)])
@pytest.mark.parametrize("layer", ["Dropout", "AlphaDropout"])
def test_noise_shape_must_broadcast(layer, bad):
    """Each entry 1, None or the input's size, one per axis; the error names layer, parameter and value."""
    with pytest.raises(ValueError) as err:
        oracle.normalize({"class_name": layer, "config": {"rate": 0.5, "noise_shape": bad}}, (2, 3))
    assert all(part in str(err.value) for part in (layer, "noise_shape", repr(bad)))


def test_same_seed_same_sample():
    x = np.ones((20, 30))
    config = {"class_name": "Dropout", "config": {"rate": 0.5}}
    a, b, c = (oracle.forward(config, [], x, training=True, seed=s) for s in (7, 7, 8))
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_alpha_dropout_keeps_mean_and_variance_of_a_standardised_input():
    """The documented promise, from the constants alone: E[y] = 0 and E[y^2] = 1 when mean(x) = 0 and
    mean(x^2) = 1, whatever the rate."""
    for p in (0.05, 0.2, 0.5, 0.9):
        a = ((1 - p) * (1 + p * ALPHA_PRIME ** 2)) ** -0.5
        b = -a * ALPHA_PRIME * p
        mean = (1 - p) * b + p * (a * ALPHA_PRIME + b)  # (1 - p) * (a * E[x] + b) with E[x] = 0
        second = (1 - p) * (a * a + b * b) + p * (a * ALPHA_PRIME + b) ** 2  # E[x^2] = 1
        assert abs(mean) < 1e-12 and abs(second - 1.0) < 1e-12


# ---- the checker catches broken samples ----

RNG = np.random.default_rng(20240601)
X = strategies.noise.away_from_zero(RNG, (32, 20, 8))


def _dropout_checks(y, p, mask_shape):
    return stochastic.dropout_checks(X, y, p, mask_shape, "float32")


def _keep(shape, p):
    return (RNG.uniform(size=shape) >= p).astype(np.float64)


def test_correct_dropout_sample_passes():
    assert not _failed(_dropout_checks(X * _keep(X.shape, 0.3) / 0.7, 0.3, X.shape))


@pytest.mark.parametrize("scale", [1.0, 1 / 0.3, 1 / 0.7 * (1 + 1e-5)])
def test_wrong_scaling_is_caught(scale):
    """No scaling, 1/rate instead of 1/(1 - rate), and a relative error of 1e-5 (above float32 rounding)."""
    assert "kept_scaling" in _failed(_dropout_checks(X * _keep(X.shape, 0.3) * scale, 0.3, X.shape))


def test_wrong_rate_is_caught():
    assert "kept_fraction" in _failed(_dropout_checks(X * _keep(X.shape, 0.33) / 0.7, 0.3, X.shape))


def test_unshared_mask_is_caught():
    """noise_shape (batch, 1, features) asks for one mask per (batch, feature): an elementwise mask fails."""
    assert "shared_mask" in _failed(_dropout_checks(X * _keep(X.shape, 0.5) / 0.5, 0.5, (32, 1, 8)))


def test_mask_shared_along_the_wrong_axis_is_caught():
    """docs/traps.md 20: torch Dropout2d on a 3-D (B, C, T) input treats it as one unbatched (C, H, W) image and drops
    whole batch entries, where SpatialDropout1D drops (batch, channel) maps: the mask is constant along the
    channels too, so the channel axis is no longer independent."""
    y = X * _keep((32, 1, 1), 0.5) / 0.5
    assert "independent_mask_axis2" in _failed(_dropout_checks(y, 0.5, (32, 1, 8)))


def test_spatial_mask_on_the_wrong_axis_is_caught():
    """A channels_first mask (B, C, 1) applied to channels_last data (B, T, C) is not shared along T."""
    y = X * _keep((32, 20, 1), 0.5) / 0.5
    assert "shared_mask" in _failed(_dropout_checks(y, 0.5, (32, 1, 8)))


def _normal_checks(sample, mean, sd):
    return _failed(stochastic.normal_sample("noise", sample, mean, sd))


def test_gaussian_checks():
    n = X.size
    assert not _normal_checks(RNG.normal(0.0, 0.5, n), 0.0, 0.5)
    assert "noise_variance" in _normal_checks(RNG.normal(0.0, 0.5 ** 0.5, n), 0.0, 0.5)  # stddev^2 confusion
    assert "noise_ks" in _normal_checks(RNG.uniform(-math.sqrt(3), math.sqrt(3), n) * 0.5, 0.0, 0.5)  # not normal
    assert "noise_mean" in _normal_checks(RNG.normal(0.05, 0.5, n), 0.0, 0.5)
    # GaussianDropout with rate / (1 - rate) as the stddev instead of its square root
    p = 0.2
    assert _normal_checks(RNG.normal(1.0, p / (1 - p), n), 1.0, math.sqrt(p / (1 - p)))


def _alpha(x, keep, p, a_scale=1.0, b_sign=1.0):
    a = ((1 - p) * (1 + p * ALPHA_PRIME ** 2)) ** -0.5 * a_scale
    return a * (x * keep + ALPHA_PRIME * (1 - keep)) - b_sign * a * ALPHA_PRIME * p


def test_alpha_dropout_checks():
    x = strategies.noise.standardised(RNG, (64, 64))
    keep = _keep(x.shape, 0.2)
    check = lambda y: _failed(stochastic.alpha_dropout_checks(x, y, 0.2, x.shape, "float32"))  # noqa: E731
    assert not check(_alpha(x, keep, 0.2))
    assert "two_values" in check(_alpha(x, keep, 0.2, b_sign=-1.0))
    assert "two_values" in check(_alpha(x, keep, 0.2, a_scale=1.001))
    assert "two_values" in check(x * keep / 0.8)  # plain dropout instead of alpha dropout


def test_binomial_tails_against_direct_sums():
    """Exact tails for a small n, summed here term by term with math.comb."""
    n, q = 12, 0.3
    for k in range(n + 1):
        lo = sum(math.comb(n, i) * q ** i * (1 - q) ** (n - i) for i in range(k + 1))
        hi = sum(math.comb(n, i) * q ** i * (1 - q) ** (n - i) for i in range(k, n + 1))
        got = stochastic.binomial_tails(k, n, q)
        assert abs(got[0] - lo) < 1e-12 and abs(got[1] - hi) < 1e-12
