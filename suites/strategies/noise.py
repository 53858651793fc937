"""Strategies for Dropout, SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout, AlphaDropout and
BatchNormalization.

A record's `cases` are the small inference-mode cases of the generic suite, its `training` the training-mode cases, larger so that
the statistical checks (suites/stochastic.py) have power: a few thousand elements, or a few hundred independent
units for SpatialDropout. Rates and stddevs are drawn from fixed sets (edges 0 and 1 included) written as floats
or ints, so a known divergence can name the values it covers.
"""
from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from .base import OMIT, Case, Record, config, layout, maybe, seed

RATES = st.sampled_from([0.1, 0.25, 0.5, 0.8, 0.0, 0, 1, 1.0])
TRAINING_RATES = st.sampled_from([0.1, 0.3, 0.5, 0.8, 0.0, 1.0, 1])  # Keras 2.2.x: rate 0 and 1 are the identity
STDDEVS = st.sampled_from([0.1, 0.5, 1.0, 1, 0.0])
DATA_FORMAT = st.sampled_from(["channels_last", "channels_first", None, OMIT])
SEEDS = st.one_of(st.none(), st.integers(0, 2 ** 31 - 1))


@st.composite
def noise_shape(draw, shape: tuple):
    """OMIT, None, or one entry per axis: 1 (mask shared along it), the axis size, or None (the axis size)."""
    if draw(st.booleans()):
        return draw(st.sampled_from([OMIT, None]))
    entries = [draw(st.sampled_from([1, n, None])) for n in shape]
    return draw(st.sampled_from([tuple(entries), list(entries)]))


@st.composite
def dropout_case(draw, name: str, big: bool = False) -> Case:
    """Dropout / AlphaDropout: rate, noise_shape in every form, seed; inputs of rank 2 to 4."""
    rank = draw(st.integers(2, 4))
    hi = {2: 60, 3: 16, 4: 8}[rank] if big else 4
    shape = tuple(draw(st.integers(hi // 2 if big else 1, hi)) for _ in range(rank))
    rates = TRAINING_RATES.filter(lambda r: r > 0) if big and name == "AlphaDropout" else (
        TRAINING_RATES if big else RATES)
    params = {"rate": draw(rates), "noise_shape": draw(noise_shape(shape)), "seed": maybe(draw, SEEDS)}
    return Case(config(name, params), shape, seed(draw))


@st.composite
def spatial_case(draw, rank: int, big: bool = False) -> Case:
    """SpatialDropout{rank}D in both data formats (1D documents only channels_last)."""
    params = {"rate": draw(TRAINING_RATES if big else RATES)}
    if rank > 1:
        params["data_format"] = draw(DATA_FORMAT)
    batch, channels = (draw(st.integers(12, 20)), draw(st.integers(12, 20))) if big else (
        draw(st.integers(1, 3)), draw(st.integers(1, 3)))
    sizes = [draw(st.integers(1, 3 if rank < 3 else 2) if not big else st.integers(2, 3)) for _ in range(rank)]
    return Case(config(f"SpatialDropout{rank}D", params), layout(batch, channels, sizes, params.get("data_format")),
                seed(draw))


@st.composite
def gaussian_case(draw, name: str, big: bool = False) -> Case:
    """GaussianNoise(stddev) / GaussianDropout(rate) on inputs of rank 2 to 4."""
    rank = draw(st.integers(2, 4))
    hi = {2: 60, 3: 16, 4: 8}[rank] if big else 4
    shape = tuple(draw(st.integers(hi // 2 if big else 1, hi)) for _ in range(rank))
    param = {"stddev": draw(STDDEVS)} if name == "GaussianNoise" else {
        "rate": draw(TRAINING_RATES if big else RATES)}
    return Case(config(name, param), shape, seed(draw))


@st.composite
def batch_norm_case(draw, big: bool = False) -> Case:
    """BatchNormalization: axis as -1, a positive or a negative index (channels-first is axis=1), every
    documented parameter, inputs of rank 2 to 5 (rank 4 and 5 reach tf-keras's fused kernel). Training cases keep
    at least 2 elements per channel (n / (n - 1 - epsilon) needs n > 1 + epsilon)."""
    rank = draw(st.integers(2, 5))
    shape = [draw(st.integers(2 if big and i == 0 else 1, 4 if rank < 5 else 3)) for i in range(rank)]
    axis_index = draw(st.integers(1, rank - 1))
    axis = draw(st.sampled_from([axis_index, axis_index - rank] + ([OMIT, -1] if axis_index == rank - 1 else [])))
    params = {"axis": axis, "momentum": maybe(draw, st.sampled_from([0.99, 0.9, 0.5, 0, 1])),
              # n / (n - 1 - epsilon) is infinite for n = 2, epsilon = 1 in Keras 2.2.x: training cases avoid it
              "epsilon": maybe(draw, st.sampled_from([1e-3, 0.1, 1e-5] + ([] if big else [1]))),
              "center": maybe(draw, st.booleans()), "scale": maybe(draw, st.booleans()),
              "gamma_initializer": maybe(draw, st.just("ones")), "moving_variance_initializer": maybe(draw, st.just("ones")),
              "beta_regularizer": maybe(draw, st.none()), "gamma_constraint": maybe(draw, st.none())}
    return Case(config("BatchNormalization", params), tuple(shape), seed(draw))


def _noise_layers(big: bool) -> dict:
    return {"Dropout": dropout_case("Dropout", big), "AlphaDropout": dropout_case("AlphaDropout", big),
            "GaussianNoise": gaussian_case("GaussianNoise", big), "GaussianDropout": gaussian_case("GaussianDropout", big),
            **{f"SpatialDropout{r}D": spatial_case(r, big) for r in (1, 2, 3)}}




def away_from_zero(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """|x| in [0.5, 2] with a random sign: a dropped unit (0) is never mistaken for a kept one, and y / x is the
    multiplicative noise of GaussianDropout."""
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(0.5, 2.0, size=shape)


def standardised(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """A normal sample shifted and scaled to mean 0 and variance 1 exactly (AlphaDropout's promise is about a
    standardised input)."""
    x = rng.standard_normal(shape)
    return (x - x.mean()) / (x.std() if x.size > 1 and x.std() > 0 else 1.0)




def batch_norm_weights(rng: np.random.Generator, cfg: dict, shapes: list) -> list:
    """gamma in +-[0.5, 1.5], beta and moving_mean in [-1, 1], moving_variance in [0.1, 2] (a variance)."""
    draw = {"gamma": lambda s: rng.choice([-1.0, 1.0], size=s) * rng.uniform(0.5, 1.5, size=s),
            "beta": lambda s: rng.uniform(-1.0, 1.0, size=s), "mean": lambda s: rng.uniform(-1.0, 1.0, size=s),
            "var": lambda s: rng.uniform(0.1, 2.0, size=s)}
    names = (["gamma"] if cfg["scale"] else []) + (["beta"] if cfg["center"] else []) + ["mean", "var"]
    return [draw[n](s) for n, s in zip(names, shapes)]


_INFERENCE, _TRAINING = _noise_layers(False), _noise_layers(True)
RECORDS = (*(Record(name, _INFERENCE[name], training=_TRAINING[name],
                    inputs=standardised if name == "AlphaDropout" else away_from_zero) for name in _INFERENCE),
           Record("BatchNormalization", batch_norm_case(), training=batch_norm_case(big=True),
                  weights=batch_norm_weights))


@st.composite
def invalid_noise(draw):
    """(raw config, input shape, parameter named in the error, value named in the error)."""
    # a noise_shape that does not broadcast is not here: backends only meet it in training mode (Keras builds and
    # runs the identity at inference), so suites/test_oracle_noise.py checks the oracle's message for it alone
    kind = draw(st.sampled_from(["rate", "stddev", "spatial_rank", "data_format", "bn_axis", "bn_center"]))
    if kind == "rate":
        name = draw(st.sampled_from(["Dropout", "SpatialDropout1D", "GaussianDropout", "AlphaDropout"]))
        bad = draw(st.sampled_from([-0.5, 1.5, 2, "0.5"]))
        return config(name, {"rate": bad}), (2, 3, 4), "rate", bad
    if kind == "stddev":
        bad = draw(st.sampled_from([-1.0, -0.1, "1"]))
        return config("GaussianNoise", {"stddev": bad}), (2, 3), "stddev", bad
    if kind == "spatial_rank":
        rank = draw(st.integers(1, 3))
        shape = draw(st.sampled_from([(2, 3), (2, 3, 4, 5, 6, 7)]))
        return config(f"SpatialDropout{rank}D", {"rate": 0.5}), shape, "input_shape", shape
    if kind == "data_format":
        bad = draw(st.sampled_from(["NCHW", "channels-last", "th"]))
        rank = draw(st.integers(2, 3))
        return config(f"SpatialDropout{rank}D", {"rate": 0.5, "data_format": bad}), (1,) * (rank + 2), \
            "data_format", bad
    if kind == "bn_axis":
        bad = draw(st.sampled_from([3, 4, -4, -5]))
        return config("BatchNormalization", {"axis": bad}), (2, 3, 4), "axis", bad
    bad = draw(st.sampled_from([1, "yes", None]))
    return config("BatchNormalization", {"center": bad}), (2, 3), "center", bad


INVALID = invalid_noise()
