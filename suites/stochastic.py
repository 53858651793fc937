"""Statistical checks of one training-mode sample of a noise layer (DESIGN.md "Stochastic layers").

Backends draw from their own generators, so a sample is never compared bitwise with the oracle's: it is
checked against the documented distribution. Each check is a `Comparison` whose error is in units of its
acceptance bound (1.0 = at the edge), like every other check of the suite:
- exact parts per element (kept units scaled by exactly 1/(1 - rate), dropped ones 0; AlphaDropout's a and b)
  within the tolerance policy's bound;
- the mask shared along the documented axes (noise_shape entries 1, SpatialDropout's spatial axes), and
  independent along the others (disjoint neighbour pairs agree with probability p^2 + (1 - p)^2);
- the kept count of the independent units inside an exact binomial acceptance interval;
- GaussianNoise / GaussianDropout: the noise's mean, variance and Kolmogorov-Smirnov distance to the documented
  normal; AlphaDropout: the output's mean and second moment given the input.
FALSE_ALARM is the false-alarm rate of each statistical test; a training check runs at most 7 of them, so a
correct backend fails one example with probability < 7e-6. The suite's seeds are fixed (derandomized hypothesis
and a seeded generator per call), so CI is deterministic.
"""
from __future__ import annotations

import math

import numpy as np

from . import tolerance
from .compare import Comparison, compare

FALSE_ALARM = 1e-6
Z_CRIT = 4.891638  # two-sided standard normal quantile: P(|Z| > 4.8916) = 1e-6
# Kolmogorov's limit P(sqrt(n) D > c) ~ 2 exp(-2 c^2) = 1e-6 (Stephens' finite-n correction applied to D)
KS_CRIT = math.sqrt(math.log(2.0 / FALSE_ALARM) / 2.0)
# Rounding steps of a scaled unit: rate and 1 - rate in the backend dtype, 1/(1 - rate), the product.
SCALING_STEPS = 4


def _log_binomial_pmf(k: np.ndarray, n: int, q: float) -> np.ndarray:
    lg = np.vectorize(math.lgamma)
    with np.errstate(divide="ignore"):
        return lg(n + 1.0) - lg(k + 1.0) - lg(n - k + 1.0) + k * np.log(q) + (n - k) * np.log1p(-q)


def binomial_tails(k: int, n: int, q: float) -> tuple[float, float]:
    """(P(K <= k), P(K >= k)) for K ~ Binomial(n, q), summed exactly in log space."""
    if q <= 0.0 or q >= 1.0:  # K is certain: 0 or n
        certain = 0 if q <= 0.0 else n
        return float(k >= certain), float(k <= certain)
    pmf = np.exp(_log_binomial_pmf(np.arange(n + 1, dtype=np.float64), n, q))
    return float(min(1.0, pmf[:k + 1].sum())), float(min(1.0, pmf[k:].sum()))


def binomial(name: str, k: int, n: int, q: float) -> Comparison:
    """k successes of n with probability q: inside the two-sided interval of false-alarm rate FALSE_ALARM.
    Error in bound units: log(tail) / log(FALSE_ALARM / 2) (tail = the smaller tail probability)."""
    tail = min(binomial_tails(k, n, q))
    ratio = 0.0 if tail >= 1.0 else (math.inf if tail <= 0.0 else math.log(tail) / math.log(FALSE_ALARM / 2.0))
    return Comparison(name, ratio <= 1.0, abs(k / max(n, 1) - q), ratio, actual=k / max(n, 1), expected=q,
                      bound=FALSE_ALARM)


def z_test(name: str, value: float, expected: float, sd: float) -> Comparison:
    """|value - expected| within Z_CRIT standard deviations (sd of the statistic under the documentation)."""
    err = abs(value - expected)
    ratio = err / (Z_CRIT * sd) if sd > 0 else (0.0 if err == 0 else math.inf)
    return Comparison(name, ratio <= 1.0, err, ratio, actual=value, expected=expected, bound=Z_CRIT * sd)


def ks_normal(name: str, sample: np.ndarray, mean: float, sd: float) -> Comparison:
    """Kolmogorov-Smirnov distance of the sample to N(mean, sd^2), with Stephens' correction."""
    z = np.sort((np.ravel(sample) - mean) / sd)
    n = z.size
    cdf = 0.5 * (1.0 + np.vectorize(math.erf)(z / math.sqrt(2.0)))
    d = max(float(np.max(np.arange(1, n + 1) / n - cdf)), float(np.max(cdf - np.arange(n) / n)))
    stat = d * (math.sqrt(n) + 0.12 + 0.11 / math.sqrt(n))
    return Comparison(name, stat <= KS_CRIT, d, stat / KS_CRIT, actual=d, expected=0.0, bound=KS_CRIT / math.sqrt(n))


def normal_sample(name: str, sample: np.ndarray, mean: float, sd: float) -> list[Comparison]:
    """Mean, variance (about the known mean: n s^2 / sd^2 ~ chi^2_n) and KS distance of a normal sample."""
    n = sample.size
    var = float(np.mean((sample - mean) ** 2))
    return [z_test(f"{name}_mean", float(np.mean(sample)), mean, sd / math.sqrt(n)),
            z_test(f"{name}_variance", var / sd ** 2, 1.0, math.sqrt(2.0 / n)), ks_normal(f"{name}_ks", sample, mean, sd)]


def _shared_axes(mask_shape: tuple, shape: tuple) -> tuple:
    return tuple(i for i, (m, n) in enumerate(zip(mask_shape, shape)) if m == 1 and n > 1)


def mask_checks(kept: np.ndarray, mask_shape: tuple, p: float) -> list[Comparison]:
    """A {0, 1} element mask: constant along the shared axes, its units independent with P(kept) = 1 - p."""
    shared = _shared_axes(mask_shape, kept.shape)
    lo, hi = kept.min(axis=shared, keepdims=True), kept.max(axis=shared, keepdims=True)
    mixed = int(np.sum(lo != hi))
    out = [Comparison("shared_mask", mixed == 0, float(mixed), math.inf if mixed else 0.0, actual=mixed,
                      expected=0, bound=0.0)]
    units = lo  # one entry per independent unit (the shared axes reduced to size 1)
    out.append(binomial("kept_fraction", int(units.sum()), units.size, 1.0 - p))
    for axis in range(units.ndim):  # disjoint neighbour pairs along every unshared axis agree with prob. q
        m = units.shape[axis] // 2
        if m == 0 or units.shape[axis] < 2:
            continue
        a, b = (np.take(units, np.arange(start, 2 * m, 2), axis=axis) for start in (0, 1))
        out.append(binomial(f"independent_mask_axis{axis}", int(np.sum(a == b)), a.size, p * p + (1 - p) ** 2))
    return out


def dropout_checks(x: np.ndarray, y: np.ndarray, p: float, mask_shape: tuple, dtype: str) -> list[Comparison]:
    """Dropout / SpatialDropout: every element 0 or x / (1 - p) (|x| >= 0.5 so a kept unit is never 0)."""
    if not 0.0 < p < 1.0:  # Keras 2.2.x: the identity
        return [compare("output", y, x, tolerance.sum_bound(1, dtype, np.abs(x)))]
    kept = (np.asarray(y) != 0).astype(np.float64)
    expected = kept * x / (1.0 - p)
    return [compare("kept_scaling", y, expected, tolerance.sum_bound(SCALING_STEPS, dtype, np.abs(x) / (1.0 - p)))
            ] + mask_checks(kept, mask_shape, p)


def alpha_dropout_checks(x: np.ndarray, y: np.ndarray, p: float, mask_shape: tuple, dtype: str) -> list[Comparison]:
    """AlphaDropout: every element a x + b (kept) or a alpha' + b (dropped), the mask as for Dropout, and the
    output's mean and second moment given x (for a standardised x: 0 and 1, the documented promise)."""
    from oracle.noise import ALPHA_PRIME
    if not 0.0 < p < 1.0:
        return [compare("output", y, x, tolerance.sum_bound(1, dtype, np.abs(x)))]
    a = ((1.0 - p) * (1.0 + p * ALPHA_PRIME ** 2)) ** -0.5
    b = -a * ALPHA_PRIME * p
    kept_value, dropped_value = a * x + b, a * ALPHA_PRIME + b
    bound = tolerance.sum_bound(SCALING_STEPS + 2, dtype, np.abs(a * x) + abs(b) + abs(a * ALPHA_PRIME))
    kept = (np.abs(y - kept_value) <= bound).astype(np.float64)  # ties (x near alpha') count as kept
    expected = np.where(kept > 0, kept_value, dropped_value)
    out = [compare("two_values", y, expected, bound)] + mask_checks(kept, mask_shape, p)
    shared = _shared_axes(mask_shape, x.shape)
    n = x.size
    for name, f in (("mean", lambda v: v), ("second_moment", lambda v: v * v)):
        # per unit, the output moves by f(kept_value) - f(dropped) when the unit is kept (probability 1 - p)
        expected_moment = float(np.mean((1 - p) * f(kept_value) + p * f(dropped_value)))
        spread = np.sum(f(kept_value) - f(dropped_value), axis=shared) if shared else f(kept_value) - f(dropped_value)
        sd = math.sqrt(p * (1 - p) * float(np.sum(spread ** 2))) / n
        out.append(z_test(f"output_{name}", float(np.mean(f(np.asarray(y, dtype=np.float64)))), expected_moment, sd))
    return out


def check_sample(layer: str, cfg: dict, x: np.ndarray, y: np.ndarray, mask_shape: tuple | None,
                 dtype: str) -> list[Comparison]:
    """The statistical checks of one training-mode output y of a noise layer on input x."""
    y = np.asarray(y, dtype=np.float64)
    if y.shape != x.shape:
        return [Comparison("output", False, math.inf, math.inf, shape_error=f"out.shape={y.shape}, but should be "
                                                                           f"{x.shape}")]
    if layer in ("GaussianNoise", "GaussianDropout"):
        sd = cfg["stddev"] if layer == "GaussianNoise" else (
            math.sqrt(cfg["rate"] / (1 - cfg["rate"])) if 0 < cfg["rate"] < 1 else 0.0)
        if sd == 0.0:
            return [compare("output", y, x, tolerance.sum_bound(1, dtype, np.abs(x)))]
        sample = y - x if layer == "GaussianNoise" else y / x
        return normal_sample("noise", sample, 0.0 if layer == "GaussianNoise" else 1.0, sd)
    if layer == "AlphaDropout":
        return alpha_dropout_checks(x, y, cfg["rate"], mask_shape, dtype)
    return dropout_checks(x, y, cfg["rate"], mask_shape, dtype)
