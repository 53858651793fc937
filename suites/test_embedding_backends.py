"""Embedding on the real backends beyond the generic suite: the mask each passes on (mask_zero, docs/traps.md 16)
against the oracle's, and what each does with an index outside [0, input_dim), where the oracle raises
(oracle/embedding.py). A backend that returns a value there instead is a finding, pinned here so it is seen when
it changes."""
from __future__ import annotations

import numpy as np
import pytest

import adapters
import oracle

ADAPTERS = adapters.names()


def _adapter(name):
    a = adapters.get(name)
    if a.installed():
        pytest.skip(a.installed())
    return a


def _config(**kw):
    return oracle.normalize({"class_name": "Embedding", "config": {"input_dim": 5, "output_dim": 3, **kw}})


@pytest.mark.parametrize("name", adapters.with_ability("masks"))
@pytest.mark.parametrize("mask_zero", [True, False])
def test_mask_is_index_zero_exactly_when_mask_zero(name, mask_zero):
    x = np.array([[0.0, 1.0, 4.0, 0.0], [2.0, 0.0, 0.0, 3.0]])
    config = _config(mask_zero=mask_zero)
    w = np.random.default_rng(0).uniform(-1, 1, (5, 3))
    got = _adapter(name).compute_mask(config, [w], x, dtype="float32")
    want = oracle.compute_mask(config, x)
    if want is None:
        assert got is None
    else:
        np.testing.assert_array_equal(np.asarray(got), want)


@pytest.mark.parametrize("name", ADAPTERS)
def test_index_past_the_end_raises_like_the_oracle(name):
    """Index input_dim: the oracle raises; tf.gather on CPU and F.embedding raise too."""
    config, w, x = _config(), [np.zeros((5, 3))], np.array([[5.0, 1.0]])
    with pytest.raises(ValueError):
        oracle.forward(config, w, x)
    with pytest.raises(Exception):
        _adapter(name).forward(config, w, x, dtype="float32")


@pytest.mark.parametrize("name", ["tf_keras", "torch"])
def test_negative_index_raises_like_the_oracle(name):
    config, w, x = _config(), [np.zeros((5, 3))], np.array([[-1.0, 1.0]])
    with pytest.raises(ValueError):
        oracle.forward(config, w, x)
    with pytest.raises(Exception):
        _adapter(name).forward(config, w, x, dtype="float32")


def test_keras3_wraps_a_negative_index_to_the_last_row():
    """Finding: Keras 3 (TensorFlow backend, CPU) reads index -1 as row input_dim - 1 (Python-style wrapping)
    instead of raising, as Keras 2.2.x / tf.gather and the oracle do."""
    config = _config()
    w = [np.arange(15.0).reshape(5, 3)]
    y = _adapter("keras").forward(config, w, np.array([[-1.0, 1.0]]), dtype="float64")
    np.testing.assert_array_equal(y, [[w[0][4], w[0][1]]])
