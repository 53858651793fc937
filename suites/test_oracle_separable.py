"""Oracle self-tests for DepthwiseConv2D and SeparableConv1D/2D: plain loops, hand-computed channel order
(docs/traps.md 7) and bias placement (docs/traps.md 8), weight shapes, the documented rejections. Integer inputs keep every
sum exact in float64, so comparisons are bit for bit. No framework is imported."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oracle

from . import strategies
from .test_oracle_convolution import example, last_to_first, loop_conv


def loop_depthwise(x, kernel, strides, dilation, padding):
    """channels_last depthwise by plain loops: channel c convolved alone with kernel[..., c, :] gives outputs
    c*M .. c*M + M - 1."""
    return np.concatenate([loop_conv(x[..., c:c + 1], kernel[..., c:c + 1, :], None, strides, dilation, padding)
                           for c in range(x.shape[-1])], axis=-1)


@pytest.mark.parametrize("layer", ["DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"])
@given(data=st.data())
def test_equals_plain_loops(layer, data):
    """Any drawn config equals the loops: depthwise step (strides, dilation, padding), then for the separable
    layers a plain matmul with the pointwise kernel, then the bias."""
    config, x, ws = example(data.draw(strategies.cases(layer)), activation="linear")
    c, first = config["config"], config["config"]["data_format"] == "channels_first"
    xl = np.moveaxis(x, 1, -1) if first else x
    ref = loop_depthwise(xl, ws[0], c["strides"], c["dilation_rate"], c["padding"])
    if layer != "DepthwiseConv2D":
        p = ws[1].reshape(ws[1].shape[-2:])
        ref = np.einsum("...i,if->...f", ref, p)
    if c["use_bias"]:
        ref = ref + ws[-1]
    np.testing.assert_array_equal(oracle.forward(config, ws, x), last_to_first(ref) if first else ref)


def test_depthwise_output_channel_is_c_times_mult_plus_m():
    """docs/traps.md 7, by hand: 1x1 kernel, C = 2, M = 2, kernel[0, 0] = [[1, 10], [100, 1000]], pixel (3, 5):
    outputs (3*1, 3*10, 5*100, 5*1000) in that order, then + bias."""
    cfg = {"class_name": "DepthwiseConv2D", "config": {"kernel_size": 1, "depth_multiplier": 2}}
    kernel = np.array([[1.0, 10.0], [100.0, 1000.0]]).reshape(1, 1, 2, 2)
    bias = np.array([0.5, 0.25, 0.125, 0.0625])
    y = oracle.forward(cfg, [kernel, bias], np.array([3.0, 5.0]).reshape(1, 1, 1, 2))
    np.testing.assert_array_equal(y.reshape(-1), [3.5, 30.25, 500.125, 5000.0625])


def test_separable_bias_after_pointwise_and_strides_on_depthwise_only():
    """docs/traps.md 8, by hand on x = 1..5 (one channel), depthwise taps (1, 10), stride 2, pointwise (2, -1) for
    M = 1 -> F = 2, bias (100, 200): depthwise windows at 0 and 2 give 21, 43; out = 2*z + 100, -z + 200."""
    cfg = {"class_name": "SeparableConv1D", "config": {"filters": 2, "kernel_size": 2, "strides": 2}}
    x = np.arange(1.0, 6.0).reshape(1, 5, 1)
    ws = [np.array([1.0, 10.0]).reshape(2, 1, 1), np.array([2.0, -1.0]).reshape(1, 1, 2), np.array([100.0, 200.0])]
    np.testing.assert_array_equal(oracle.forward(cfg, ws, x), [[[142.0, 179.0], [186.0, 157.0]]])


@pytest.mark.parametrize("config, shape, weights, out", [
    ({"class_name": "DepthwiseConv2D", "config": {"kernel_size": 3, "depth_multiplier": 2}}, (None, 8, 8, 3),
     [(3, 3, 3, 2), (6,)], (None, 6, 6, 6)),
    ({"class_name": "DepthwiseConv2D", "config": {"kernel_size": (2, 3), "data_format": "channels_first",
                                                  "padding": "same", "strides": 2, "use_bias": False}},
     (None, 4, 7, 7), [(2, 3, 4, 1)], (None, 4, 4, 4)),
    ({"class_name": "SeparableConv2D", "config": {"filters": 5, "kernel_size": 3, "depth_multiplier": 2}},
     (None, 8, 8, 3), [(3, 3, 3, 2), (1, 1, 6, 5), (5,)], (None, 6, 6, 5)),
    ({"class_name": "SeparableConv1D", "config": {"filters": 4, "kernel_size": 3, "dilation_rate": 2,
                                                  "padding": "same"}}, (None, 10, 3),
     [(3, 3, 1), (1, 3, 4), (4,)], (None, 10, 4)),
])
def test_weight_and_output_shapes(config, shape, weights, out):
    """Depthwise (*k, C, M), pointwise (1.., C*M, F), bias (F,) or (C*M,); channels C*M for DepthwiseConv2D."""
    assert oracle.weight_shapes(config, shape) == weights
    assert oracle.output_shape(config, shape) == out


@pytest.mark.parametrize("layer", ["DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D"])
@given(data=st.data())
def test_output_shape_matches_forward(layer, data):
    case = data.draw(strategies.cases(layer))
    x, ws, _ = strategies.arrays(case, "float64")
    assert oracle.forward(case.config, ws, x).shape == oracle.output_shape(case.config, case.input_shape)


@pytest.mark.parametrize("config, shape, pieces", [
    ({"class_name": "SeparableConv1D", "config": {"filters": 2, "kernel_size": 2, "padding": "causal"}}, None,
     ["SeparableConv1D", "padding", "'causal'"]),
    ({"class_name": "DepthwiseConv2D", "config": {"kernel_size": 2, "strides": 2, "dilation_rate": (1, 2)}}, None,
     ["DepthwiseConv2D", "strides=(2, 2)", "dilation_rate=(1, 2)"]),
    ({"class_name": "SeparableConv2D", "config": {"filters": 2, "kernel_size": 2, "depth_multiplier": 0}}, None,
     ["SeparableConv2D", "depth_multiplier", "0"]),
    ({"class_name": "DepthwiseConv2D", "config": {"filters": 2, "kernel_size": 2}}, None,
     ["DepthwiseConv2D", "'filters'"]),
    ({"class_name": "SeparableConv2D", "config": {"filters": 2, "kernel_size": 4}}, (None, 3, 6, 1),
     ["SeparableConv2D", "kernel_size=(4, 4)", "(None, 3, 6, 1)", "'valid'"]),
    ({"class_name": "DepthwiseConv2D", "config": {"kernel_size": 2}}, (None, 6, 6, None),
     ["DepthwiseConv2D", "(None, 6, 6, None)"]),
])
def test_invalid_configs_are_rejected(config, shape, pieces):
    """Seeds 003/001: SeparableConv1D padding is 'valid' or 'same'; strides and dilation are incompatible;
    DepthwiseConv2D has no filters; the channels must be known (the weights depend on them)."""
    with pytest.raises(ValueError) as err:
        oracle.normalize(config, shape)
    assert all(p in str(err.value) for p in pieces), (str(err.value), pieces)
