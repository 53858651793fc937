"""Oracle self-tests for the advanced activations and the core shape layers, from seed 003's formulas and
examples written out by hand. No framework is imported."""
from __future__ import annotations

import numpy as np
import pytest

import oracle

from .ulps import assert_ulps


def fwd(name, x, **cfg):
    return oracle.forward({"class_name": name, "config": cfg}, [], np.asarray(x, dtype=np.float64))


def test_leaky_relu_default_slope_is_keras_0_3():
    """docs/traps.md 23: Keras's default alpha is 0.3 (torch's is 0.01); f(0) = 0 with slope 1 from x >= 0."""
    np.testing.assert_array_equal(fwd("LeakyReLU", [[-2.0, -1.0, 0.0, 3.0]]), [[-0.6, -0.3, 0.0, 3.0]])
    assert oracle.normalize({"class_name": "LeakyReLU", "config": {}})["config"]["alpha"] == 0.3


def test_thresholded_relu_is_strict_at_theta():
    """f(x) = x for x > theta only: f(theta) = 0 (docs/traps.md 23); default theta 1.0."""
    np.testing.assert_array_equal(fwd("ThresholdedReLU", [[0.5, 1.0, 1.5]]), [[0.0, 0.0, 1.5]])
    np.testing.assert_array_equal(fwd("ThresholdedReLU", [[0.0, 0.25, -1.0]], theta=0.0), [[0.0, 0.25, 0.0]])


@pytest.mark.parametrize("cfg, x, y", [
    ({}, [-1.0, 0.0, 2.0], [0.0, 0.0, 2.0]),                                     # max(x, 0)
    ({"max_value": 1.0}, [-1.0, 0.5, 1.0, 3.0], [0.0, 0.5, 1.0, 1.0]),             # x >= max_value -> max_value
    ({"negative_slope": 0.5}, [-2.0, 0.0, 1.0], [-1.0, 0.0, 1.0]),
    ({"threshold": 0.5}, [0.25, 0.5, 0.75], [0.0, 0.5, 0.75]),                    # threshold <= x -> x
    ({"threshold": 0.5, "negative_slope": 0.5}, [-0.5, 0.25], [-0.5, -0.125]),    # slope * (x - threshold)
    ({"threshold": -1.0, "max_value": 2.0}, [-2.0, -0.5, 2.0], [0.0, -0.5, 2.0]),  # x between them stays x
    ({"threshold": 1.0, "max_value": 0.5}, [0.25, 0.75, 2.0], [0.0, 0.5, 0.5]),    # the first rule wins
])
def test_relu_piecewise_definition(cfg, x, y):
    """Seed 003's three rules, in their order, at chosen points."""
    np.testing.assert_array_equal(fwd("ReLU", [x], **cfg), [y])


def test_elu_and_prelu_formulas():
    x = np.array([[-1.0, 0.0, 2.0]])
    assert_ulps(fwd("ELU", x, alpha=0.5), [[0.5 * (np.exp(-1.0) - 1.0), 0.0, 2.0]], ops=6)  # exp, -1, *alpha twice
    cfg = {"class_name": "PReLU", "config": {"shared_axes": [1]}}
    assert oracle.weight_shapes(cfg, (2, 3, 4)) == [(1, 4)]
    assert oracle.weight_shapes({"class_name": "PReLU", "config": {}}, (2, 3, 4)) == [(3, 4)]
    alpha = np.array([[0.5, 2.0, -1.0, 0.0]])
    x = np.array([[[-1.0, -1.0, -1.0, -1.0], [1.0, -2.0, 3.0, -4.0], [0.0, 0.0, 0.0, 0.0]]])
    np.testing.assert_array_equal(oracle.forward(cfg, [alpha], x),
                                  [[[-0.5, -2.0, 1.0, 0.0], [1.0, -4.0, 3.0, 0.0], [0.0, 0.0, 0.0, 0.0]]])
    _, (ga,) = oracle.vjp(cfg, [alpha], x, np.ones_like(x))
    np.testing.assert_array_equal(ga, [[-1.0, -3.0, -1.0, -5.0]])  # sum of x over the batch and shared axis 1


def test_softmax_axis():
    x = np.array([[[0.0, np.log(3.0)], [0.0, 0.0]]])
    assert_ulps(fwd("Softmax", x, axis=2)[0, 0], [0.25, 0.75], ops=6)  # two exps, a sum, a division
    assert_ulps(fwd("Softmax", x, axis=1)[0, :, 1], [0.75, 0.25], ops=6)
    np.testing.assert_array_equal(fwd("Softmax", x, axis=-2), fwd("Softmax", x, axis=1))


def test_reshape_examples_and_inference():
    """The documentation's examples: (12,) -> (3, 4); (3, 4) -> (6, 2); (6, 2) -> (-1, 2, 2) = (3, 2, 2)."""
    shape = lambda t, s: oracle.output_shape({"class_name": "Reshape", "config": {"target_shape": t}}, s)  # noqa
    assert shape((3, 4), (None, 12)) == (None, 3, 4)
    assert shape((6, 2), (None, 3, 4)) == (None, 6, 2)
    assert shape((-1, 2, 2), (None, 6, 2)) == (None, 3, 2, 2)
    x = np.arange(24.0).reshape(2, 12)
    np.testing.assert_array_equal(fwd("Reshape", x, target_shape=(3, -1))[1, 2], [20.0, 21.0, 22.0, 23.0])
    with pytest.raises(ValueError, match=r"Reshape: target_shape=\(5,\).*\(None, 12\)"):
        shape((5,), (None, 12))
    with pytest.raises(ValueError, match=r"Reshape: target_shape=\(5, -1\)"):
        shape((5, -1), (None, 12))


def test_permute_and_repeat_vector_examples():
    """Permute((2, 1)) on (10, 64) -> (64, 10); RepeatVector(3) on (None, 32) -> (None, 3, 32)."""
    assert oracle.output_shape({"class_name": "Permute", "config": {"dims": (2, 1)}}, (None, 10, 64)) == (None, 64, 10)
    x = np.arange(24.0).reshape(1, 2, 3, 4)
    y = fwd("Permute", x, dims=(3, 1, 2))
    assert y.shape == (1, 4, 2, 3) and y[0, 3, 1, 2] == x[0, 1, 2, 3]
    assert oracle.output_shape({"class_name": "RepeatVector", "config": {"n": 3}}, (None, 32)) == (None, 3, 32)
    np.testing.assert_array_equal(fwd("RepeatVector", [[1.0, 2.0]], n=2), [[[1.0, 2.0], [1.0, 2.0]]])
    with pytest.raises(ValueError, match=r"Permute: dims=\(1, 1\)"):
        oracle.normalize({"class_name": "Permute", "config": {"dims": (1, 1)}})


def test_masking_all_features_and_mask():
    """A timestep is masked only when all its features equal mask_value (docs/traps.md 16)."""
    x = np.array([[[0.0, 0.0], [0.0, 1.0], [2.0, 2.0]]])
    np.testing.assert_array_equal(fwd("Masking", x), [[[0.0, 0.0], [0.0, 1.0], [2.0, 2.0]]])
    cfg = {"class_name": "Masking", "config": {"mask_value": 2.0}}
    np.testing.assert_array_equal(oracle.forward(cfg, [], x), [[[0.0, 0.0], [0.0, 1.0], [0.0, 0.0]]])
    np.testing.assert_array_equal(oracle.compute_mask(cfg, x), [[True, True, False]])
    # a layer without its own compute_mask passes the incoming mask on
    assert oracle.compute_mask({"class_name": "ReLU", "config": {}}, x, mask="m") == "m"


def test_lambda_documented_functions():
    np.testing.assert_array_equal(fwd("Lambda", [[-3.0, 2.0]], function="square"), [[9.0, 4.0]])
    y = fwd("Lambda", [[1.0, 3.0]], function="antirectifier", output_shape="antirectifier_output_shape")
    s = np.sqrt(0.5)  # centred (-1, 1), normalized (-s, s)
    assert_ulps(y, [[0.0, s, s, 0.0]], ops=10, scale=1.0)
    with pytest.raises(ValueError, match="Lambda: output_shape='antirectifier_output_shape'"):
        oracle.normalize({"class_name": "Lambda", "config": {"function": "antirectifier",
                                                             "output_shape": "antirectifier_output_shape"}}, (2, 3, 4))
    with pytest.raises(ValueError, match="Lambda: function='cube'"):
        oracle.normalize({"class_name": "Lambda", "config": {"function": "cube"}})
    with pytest.raises(ValueError, match=r"Lambda: output_shape=\(3,\)"):
        oracle.normalize({"class_name": "Lambda", "config": {"function": "square", "output_shape": (3,)}}, (2, 4))


def test_input_spec():
    from oracle.core_functions import input_spec
    c = oracle.normalize({"class_name": "Input", "config": {"shape": [32]}})["config"]
    assert input_spec(c) == ((None, 32), "float32")
    c = oracle.normalize({"class_name": "Input", "config": {"batch_shape": [10, 32], "dtype": "float64"}})["config"]
    assert input_spec(c) == ((10, 32), "float64")
    with pytest.raises(ValueError, match="Input: shape=None"):
        oracle.normalize({"class_name": "Input", "config": {}})
    with pytest.raises(ValueError, match=r"Input: input_shape=\(2, 31\)"):
        oracle.normalize({"class_name": "Input", "config": {"shape": [32]}}, (2, 31))
