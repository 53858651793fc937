"""Oracle self-tests for the pooling family: plain-loop references, hand-computed cases, the traps of docs/traps.md 3-4,
the tie rule, and invalid configs. Integer-valued inputs keep every sum exact, and an average is then one
correctly rounded division in both computations, so comparisons are bit for bit. No framework is imported."""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oracle

from . import strategies
from .strategies.pooling import GLOBAL, MAX_LAYERS, WINDOWED


def canonical(case):
    return oracle.normalize(case.config)["config"]


def ints(case):
    """The case's input as small integers (many ties, exact sums)."""
    return np.random.default_rng(case.seed).integers(-3, 4, case.input_shape).astype(np.float64)


def loop_pool(x, mode, pool, strides, padding):
    """Channels_last pooling by loops over output positions and window taps, from docs/traps.md 1, 3, 4 directly:
    'same' pads (total // 2 before), max ignores the padding, the average divides by the real elements."""
    sizes = x.shape[1:-1]
    outs, lows = [], []
    for n, k, s in zip(sizes, pool, strides):
        out = -(-n // s) if padding == "same" else (n - k) // s + 1
        outs.append(out)
        lows.append(max((out - 1) * s + k - n, 0) // 2 if padding == "same" else 0)
    y = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for o in itertools.product(*map(range, outs)):
        real = [tuple(i) for i in itertools.product(*[range(oi * s - lo, oi * s - lo + k) for oi, s, lo, k in
                                                      zip(o, strides, lows, pool)])
                if all(0 <= ii < n for ii, n in zip(i, sizes))]
        vals = np.stack([x[(slice(None), *i, slice(None))] for i in real])
        y[(slice(None), *o, slice(None))] = vals.max(axis=0) if mode == "max" else vals.sum(axis=0) / len(real)
    return y


@pytest.mark.parametrize("layer", WINDOWED)
@given(data=st.data())
def test_windowed_pooling_equals_plain_loops(layer, data):
    case = data.draw(strategies.cases(layer))
    cfg, x = canonical(case), ints(case)
    first = cfg["data_format"] == "channels_first"
    strides = cfg["strides"] or cfg["pool_size"]
    ref = loop_pool(np.moveaxis(x, 1, -1) if first else x, "max" if layer.startswith("Max") else "avg",
                    cfg["pool_size"], strides, cfg["padding"])
    np.testing.assert_array_equal(oracle.forward(case.config, [], x), np.moveaxis(ref, -1, 1) if first else ref)


@pytest.mark.parametrize("layer", GLOBAL)
@given(data=st.data())
def test_global_pooling_is_the_window_over_the_whole_input(layer, data):
    case = data.draw(strategies.cases(layer))
    cfg, x = canonical(case), ints(case)
    xl = np.moveaxis(x, 1, -1) if cfg["data_format"] == "channels_first" else x
    ref = loop_pool(xl, "max" if "Max" in layer else "avg", xl.shape[1:-1], xl.shape[1:-1], "valid")
    np.testing.assert_array_equal(oracle.forward(case.config, [], x), ref.reshape(x.shape[0], -1))


def test_hand_computed_shapes_and_values():
    """Defaults: pool 2, strides = pool, 'valid', channels_last; ceil(n/s) outputs with 'same'."""
    assert oracle.output_shape({"class_name": "MaxPooling1D"}, (None, 10, 3)) == (None, 5, 3)
    assert oracle.output_shape({"class_name": "MaxPooling1D", "config": {"padding": "same"}}, (None, 5, 3)) == (
        None, 3, 3)
    assert oracle.output_shape({"class_name": "AveragePooling2D", "config": {"pool_size": (3, 2), "strides": 1,
                                "data_format": "channels_first"}}, (4, 2, 5, 5)) == (4, 2, 3, 4)
    assert oracle.output_shape({"class_name": "MaxPooling3D"}, (1, 4, 5, 6, 2)) == (1, 2, 2, 3, 2)
    assert oracle.output_shape({"class_name": "GlobalAveragePooling3D", "config": {"data_format": "channels_first"}},
                               (2, 7, 3, 4, 5)) == (2, 7)
    assert oracle.weight_shapes({"class_name": "MaxPooling2D"}, (1, 4, 4, 1)) == []
    x = np.arange(1.0, 7.0).reshape(1, 6, 1)
    avg = {"class_name": "AveragePooling1D", "config": {"pool_size": 3, "strides": 2, "padding": "same"}}
    # 'same': total pad 1, after the input; the last window holds 5, 6 and one pad: (5 + 6) / 2, not / 3
    np.testing.assert_array_equal(oracle.forward(avg, [], x).ravel(), [2.0, 4.0, 5.5])
    mx = {"class_name": "MaxPooling1D", "config": {"pool_size": 3, "strides": 2, "padding": "same"}}
    # all negative: a zero pad would win; Keras pads max pooling with -inf (docs/traps.md 4)
    np.testing.assert_array_equal(oracle.forward(mx, [], -x).ravel(), [-1.0, -3.0, -5.0])


@pytest.mark.parametrize("layer", ["AveragePooling1D", "AveragePooling2D", "AveragePooling3D"])
def test_same_average_of_a_constant_is_the_constant(layer):
    """docs/traps.md 3: the padded elements are not counted, so borders are not pulled towards 0."""
    rank = int(layer[-2])
    cfg = {"class_name": layer, "config": {"pool_size": 3, "strides": 2, "padding": "same"}}
    y = oracle.forward(cfg, [], np.full((1,) + (4,) * rank + (2,), 1.5))
    np.testing.assert_array_equal(y, np.full(y.shape, 1.5))


@pytest.mark.parametrize("layer", MAX_LAYERS)
@given(data=st.data())
def test_tie_rule(layer, data):
    """The windowed max gives a window's cotangent to its first maximum in row-major order, i.e. it equals the
    gradient after breaking every tie towards the earlier position; the global max splits it evenly."""
    case = data.draw(strategies.cases(layer))
    cfg, x = canonical(case), ints(case)
    g = np.random.default_rng(case.seed + 1).uniform(-1, 1, oracle.output_shape(case.config, x.shape))
    grad, _ = oracle.vjp(case.config, [], x, g)
    first = cfg["data_format"] == "channels_first"
    xl, gl = (np.moveaxis(x, 1, -1), np.moveaxis(g, 1, -1)) if first else (x, g)
    if layer.startswith("Global"):
        hit = xl == xl.max(axis=tuple(range(1, xl.ndim - 1)), keepdims=True)
        expected = hit * gl.reshape((gl.shape[0],) + (1,) * (xl.ndim - 2) + (gl.shape[-1],)) / hit.sum(
            axis=tuple(range(1, xl.ndim - 1)), keepdims=True)
    else:
        spatial = xl.shape[1:-1]
        ramp = -np.arange(math.prod(spatial), dtype=np.float64).reshape(spatial)[None, ..., None] * 1e-3
        expected, _ = oracle.vjp(case.config, [], np.moveaxis(xl + ramp, -1, 1) if first else xl + ramp, g)
        expected = np.moveaxis(expected, 1, -1) if first else expected
    np.testing.assert_array_equal(np.moveaxis(grad, 1, -1) if first else grad, expected)


def test_tie_rule_hand_cases():
    ones = np.ones((1, 4, 1))
    mx = {"class_name": "MaxPooling1D", "config": {"pool_size": 2, "strides": 1}}
    np.testing.assert_array_equal(oracle.vjp(mx, [], ones, np.ones((1, 3, 1)))[0].ravel(), [1, 1, 1, 0])
    gm = {"class_name": "GlobalMaxPooling1D"}
    np.testing.assert_array_equal(oracle.vjp(gm, [], ones, np.ones((1, 1)))[0].ravel(), [0.25] * 4)


@pytest.mark.parametrize("config, shape, pieces", [
    ({"class_name": "MaxPooling1D", "config": {"padding": "causal"}}, None, ["MaxPooling1D", "padding", "'causal'"]),
    ({"class_name": "MaxPooling2D", "config": {"padding": "SAME"}}, None, ["MaxPooling2D", "padding", "'SAME'"]),
    ({"class_name": "AveragePooling1D", "config": {"pool_size": 0}}, None, ["AveragePooling1D", "pool_size", "0"]),
    ({"class_name": "AveragePooling2D", "config": {"strides": (1, 2, 3)}}, None, ["strides", "(1, 2, 3)"]),
    ({"class_name": "MaxPooling3D", "config": {"data_format": "th"}}, None, ["MaxPooling3D", "data_format", "'th'"]),
    ({"class_name": "GlobalMaxPooling2D", "config": {"keepdims": True}}, None, ["GlobalMaxPooling2D", "'keepdims'"]),
    # pool_length makes it a Keras 1 config (seed 000), where the Keras 2 pool_size is not an argument
    ({"class_name": "MaxPooling1D", "config": {"pool_length": 2, "pool_size": 2}}, None, ["MaxPooling1D", "'pool_size'"]),
    ({"class_name": "MaxPooling1D", "config": {"pool_size": 5}}, (1, 4, 2), ["pool_size=(5,)", "(1, 4, 2)", "'valid'"]),
    ({"class_name": "MaxPooling2D"}, (1, 4, 4), ["MaxPooling2D", "input_shape=(1, 4, 4)"]),
    ({"class_name": "GlobalAveragePooling1D"}, (1, 0, 4), ["GlobalAveragePooling1D", "(1, 0, 4)"]),
])
def test_invalid_pooling_configs(config, shape, pieces):
    with pytest.raises(ValueError) as err:
        oracle.normalize(config, shape)
    assert all(p in str(err.value) for p in pieces), (str(err.value), pieces)


def test_strides_none_means_pool_size_and_same_fits_any_input():
    x = np.random.default_rng(0).uniform(-2, 2, (2, 5, 3))
    for name in ("MaxPooling1D", "AveragePooling1D"):
        a = oracle.forward({"class_name": name, "config": {"pool_size": 3, "strides": None}}, [], x)
        np.testing.assert_array_equal(a, oracle.forward({"class_name": name, "config": {"pool_size": 3,
                                                                                         "strides": 3}}, [], x))
    assert oracle.output_shape({"class_name": "MaxPooling1D", "config": {"pool_size": 7, "padding": "same"}},
                               (1, 2, 1)) == (1, 1, 1)
