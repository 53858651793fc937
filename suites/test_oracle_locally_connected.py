"""Oracle self-tests for LocallyConnected1D/2D: the seed's examples, plain loops over positions in the
implementation=1 kernel layout (docs/traps.md 10), the channels_first bias of Keras's K.bias_add, the documented
rejections. Integer inputs keep every sum exact in float64. No framework is imported."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oracle

from . import strategies
from .test_oracle_convolution import example


def lc(rank, filters, kernel_size, **kw):
    return {"class_name": f"LocallyConnected{rank}D", "config": {"filters": filters, "kernel_size": kernel_size, **kw}}


def test_seed_003_locally_connected1d_example():
    """LocallyConnected1D(64, 3, input_shape=(10, 32)) -> (None, 8, 64); then LocallyConnected1D(32, 3)
    -> (None, 6, 32)."""
    assert oracle.output_shape(lc(1, 64, 3), (None, 10, 32)) == (None, 8, 64)
    assert oracle.output_shape(lc(1, 32, 3), (None, 8, 64)) == (None, 6, 32)


def test_seed_003_locally_connected2d_example_and_parameter_count():
    """LocallyConnected2D(64, (3, 3)) on (32, 32, 3) -> (None, 30, 30, 64) with (30*30)*(3*3*3*64) + (30*30)*64
    parameters; then LocallyConnected2D(32, (3, 3)) -> (None, 28, 28, 32)."""
    first = lc(2, 64, (3, 3))
    assert oracle.output_shape(first, (None, 32, 32, 3)) == (None, 30, 30, 64)
    shapes = oracle.weight_shapes(first, (None, 32, 32, 3))
    assert shapes == [(30 * 30, 3 * 3 * 3, 64), (30, 30, 64)]
    assert sum(math.prod(s) for s in shapes) == (30 * 30) * (3 * 3 * 3 * 64) + (30 * 30) * 64
    assert oracle.output_shape(lc(2, 32, (3, 3)), (None, 30, 30, 64)) == (None, 28, 28, 32)


def loop_local(x, kernel, bias, kernel_size, strides, first):
    """Plain loops: y[b, o, f] = sum over the patch at o of x * kernel[position(o)] (+ bias), the patch read in
    (*k, C) order for channels_last and (C, *k) for channels_first; bias[o, f] for channels_last, and for
    channels_first the (*out, F) array read as (F, *out) (Keras's K.bias_add reshapes it)."""
    xl = np.moveaxis(x, 1, -1) if first else x
    sizes, channels, filters = xl.shape[1:-1], xl.shape[-1], kernel.shape[-1]
    outs = [(n - k) // s + 1 for n, k, s in zip(sizes, kernel_size, strides)]
    y = np.zeros((x.shape[0], *outs, filters))
    for b, (p, o) in itertools.product(range(x.shape[0]), enumerate(itertools.product(*map(range, outs)))):
        for f in range(filters):
            acc = 0.0
            for row, (tap, c) in enumerate(
                    ((t, c) for c in range(channels) for t in itertools.product(*map(range, kernel_size))) if first
                    else ((t, c) for t in itertools.product(*map(range, kernel_size)) for c in range(channels))):
                acc += xl[(b, *(oi * s + t for oi, s, t in zip(o, strides, tap)), c)] * kernel[p, row, f]
            y[(b, *o, f)] = acc
    if first:
        y = np.moveaxis(y, -1, 1)
        return y if bias is None else y + bias.reshape((filters, *outs))
    return y if bias is None else y + bias


@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_equals_plain_loops(rank, data):
    config, x, ws = example(data.draw(strategies.cases(f"LocallyConnected{rank}D")), activation="linear")
    c = config["config"]
    ref = loop_local(x, ws[0], ws[1] if c["use_bias"] else None, c["kernel_size"], c["strides"],
                     c["data_format"] == "channels_first")
    np.testing.assert_array_equal(oracle.forward(config, ws, x), ref)


def test_channels_first_bias_is_reshaped_not_transposed():
    """By hand: 1x1 kernel of zeros, output (2 x 3 positions, F = 2), bias b = arange(12).reshape(2, 3, 2).
    channels_last adds b[r, c, f]; channels_first adds b.flat[f*6 + r*3 + c], not b[r, c, f]."""
    bias = np.arange(12.0).reshape(2, 3, 2)
    kernel = np.zeros((6, 1, 2))
    last = oracle.forward(lc(2, 2, 1), [kernel, bias], np.zeros((1, 2, 3, 1)))
    first = oracle.forward(lc(2, 2, 1, data_format="channels_first"), [kernel, bias], np.zeros((1, 1, 2, 3)))
    np.testing.assert_array_equal(last[0, :, :, 1], [[1, 3, 5], [7, 9, 11]])
    np.testing.assert_array_equal(first[0, 1], [[6, 7, 8], [9, 10, 11]])


@pytest.mark.parametrize("rank", [1, 2])
@given(data=st.data())
def test_output_shape_matches_forward(rank, data):
    case = data.draw(strategies.cases(f"LocallyConnected{rank}D"))
    x, ws, _ = strategies.arrays(case, "float64")
    assert oracle.forward(case.config, ws, x).shape == oracle.output_shape(case.config, case.input_shape)


@pytest.mark.parametrize("config, shape, pieces", [
    (lc(2, 2, 3, padding="same"), None, ["LocallyConnected2D", "padding", "'same'", "only 'valid'"]),
    (lc(1, 2, 3, padding="causal"), None, ["LocallyConnected1D", "padding", "'causal'"]),
    (lc(2, 2, 3, implementation=2), None, ["LocallyConnected2D", "implementation", "2"]),
    (lc(1, 2, 3, dilation_rate=2), None, ["LocallyConnected1D", "'dilation_rate'"]),
    (lc(2, 2, (2, 4)), (None, 5, 3, 1), ["LocallyConnected2D", "kernel_size=(2, 4)", "(None, 5, 3, 1)"]),
    (lc(1, 2, 2), (None, None, 3), ["LocallyConnected1D", "(None, None, 3)"]),
])
def test_invalid_configs_are_rejected(config, shape, pieces):
    """Only 'valid' padding (seed 003); implementation=1 only (the Keras 2.2.x layout); no dilation_rate; the
    kernel must fit; the spatial sizes must be known (one kernel per output position)."""
    with pytest.raises(ValueError) as err:
        oracle.normalize(config, shape)
    assert all(p in str(err.value) for p in pieces), (str(err.value), pieces)
