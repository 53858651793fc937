"""Oracle self-tests for the Keras 1 API of seed 000: the seed's examples, the translation of every argument
(expected Keras 2 configs written from the seed's parameter descriptions), the dim_ordering semantics, which
configs are read as Keras 1, and the errors for arguments without a Keras 2 equivalent. No framework needed."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import oracle
from oracle import keras1

from .strategies import arrays, cases


def k1(name, **params):
    return {"class_name": name, "config": params}


def k2(name, **params):
    return oracle.normalize({"class_name": name, "config": params})


# ---- seed 000's examples ----

def test_seed_convolution1d_example():
    """Convolution1D(64, 3, border_mode='same', input_shape=(10, 32)) -> (None, 10, 64); then
    Convolution1D(32, 3, border_mode='same') -> (None, 10, 32)."""
    first = k1("Convolution1D", nb_filter=64, filter_length=3, border_mode="same", input_shape=(10, 32))
    shape = oracle.output_shape(first, (None, 10, 32))
    assert shape == (None, 10, 64)
    second = k1("Convolution1D", nb_filter=32, filter_length=3, border_mode="same")
    assert oracle.output_shape(second, shape) == (None, 10, 32)


def test_seed_convolution2d_example_is_channels_first_by_default():
    """Convolution2D(64, 3, 3, border_mode='same', input_shape=(3, 256, 256)) -> (None, 64, 256, 256): 'th' is
    the documented default, so the 3 of the input shape is the channel axis."""
    first = k1("Convolution2D", nb_filter=64, nb_row=3, nb_col=3, border_mode="same", input_shape=(3, 256, 256))
    shape = oracle.output_shape(first, (None, 3, 256, 256))
    assert shape == (None, 64, 256, 256)
    second = k1("Convolution2D", nb_filter=32, nb_row=3, nb_col=3, border_mode="same")
    assert oracle.output_shape(second, shape) == (None, 32, 256, 256)


def test_input_shape_of_a_first_layer_is_validated():
    """input_dim / input_length / input_shape fix the input: a kernel longer than a 'valid' input is rejected."""
    with pytest.raises(ValueError, match="Conv1D"):
        oracle.normalize(k1("Convolution1D", nb_filter=2, filter_length=5, input_dim=3, input_length=4))
    oracle.normalize(k1("Convolution1D", nb_filter=2, filter_length=4, input_dim=3, input_length=4))


# ---- the translation of each argument ----

@pytest.mark.parametrize("keras1_config, keras2_config", [
    (k1("Convolution1D", nb_filter=4, filter_length=3),
     k2("Conv1D", filters=4, kernel_size=3, kernel_initializer="uniform")),  # seed 000: init='uniform' for 1D
    (k1("Convolution1D", nb_filter=4, filter_length=3, subsample_length=2, border_mode="same", init="he_normal",
        activation="tanh", bias=False),
     k2("Conv1D", filters=4, kernel_size=3, strides=2, padding="same", kernel_initializer="he_normal",
        activation="tanh", use_bias=False)),
    (k1("Convolution2D", nb_filter=4, nb_row=2, nb_col=3, subsample=(2, 1), border_mode="same", dim_ordering="tf"),
     k2("Conv2D", filters=4, kernel_size=(2, 3), strides=(2, 1), padding="same", data_format="channels_last")),
    (k1("Convolution2D", nb_filter=4, nb_row=2, nb_col=3, init="zero"),
     k2("Conv2D", filters=4, kernel_size=(2, 3), data_format="channels_first", kernel_initializer="zeros")),
    (k1("Convolution3D", nb_filter=2, kernel_dim1=1, kernel_dim2=2, kernel_dim3=3, subsample=(1, 2, 1)),
     k2("Conv3D", filters=2, kernel_size=(1, 2, 3), strides=(1, 2, 1), data_format="channels_first")),
    (k1("MaxPooling1D", pool_length=3, stride=1, border_mode="same"),
     k2("MaxPooling1D", pool_size=3, strides=1, padding="same")),
    (k1("AveragePooling1D", border_mode="valid"), k2("AveragePooling1D", pool_size=2)),
    (k1("MaxPooling2D", pool_size=(3, 2), border_mode="valid"),
     k2("MaxPooling2D", pool_size=(3, 2), data_format="channels_first")),
    (k1("AveragePooling3D", strides=(1, 2, 1), dim_ordering="tf"),
     k2("AveragePooling3D", strides=(1, 2, 1), data_format="channels_last")),
    (k1("UpSampling1D", length=3), k2("UpSampling1D", size=3)),
    (k1("UpSampling2D", dim_ordering="th"), k2("UpSampling2D", size=(2, 2), data_format="channels_first")),
    (k1("ZeroPadding3D", padding=(1, 0, 2), dim_ordering="tf"),
     k2("ZeroPadding3D", padding=((1, 1), (0, 0), (2, 2)), data_format="channels_last")),
])
def test_translation_matches_the_seed_descriptions(keras1_config, keras2_config):
    assert oracle.normalize(keras1_config) == keras2_config


def test_regularizers_and_constraints_become_their_keras2_serialisations():
    got = oracle.normalize(k1("Convolution2D", nb_filter=1, nb_row=1, nb_col=1,
                              W_regularizer={"name": "WeightRegularizer", "l1": 0.0, "l2": 0.01},
                              activity_regularizer="activity_l1", b_regularizer="l1l2",
                              W_constraint={"name": "MaxNorm", "m": 3, "axis": 0}, b_constraint="nonneg"))["config"]
    assert got["kernel_regularizer"] == oracle.normalize(k2("Conv2D", filters=1, kernel_size=1, kernel_regularizer={
        "class_name": "L1L2", "config": {"l1": 0.0, "l2": 0.01}}))["config"]["kernel_regularizer"]
    assert got["kernel_constraint"] == oracle.normalize(k2("Conv2D", filters=1, kernel_size=1, kernel_constraint={
        "class_name": "MaxNorm", "config": {"max_value": 3, "axis": 0}}))["config"]["kernel_constraint"]
    expected_names = k2("Conv2D", filters=1, kernel_size=1, activity_regularizer="l1", bias_regularizer="l1_l2",
                        bias_constraint="non_neg")["config"]
    for key in ("activity_regularizer", "bias_regularizer", "bias_constraint"):
        assert got[key] == expected_names[key], key


# ---- semantics: dim_ordering ----

def test_th_and_tf_orderings_are_the_same_convolution_on_transposed_data():
    """'th' on (N, C, H, W) equals 'tf' on (N, H, W, C), transposed back: dim_ordering picks the channel axis."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 4))
    th = k1("Convolution2D", nb_filter=2, nb_row=2, nb_col=3, border_mode="same", subsample=(2, 1))
    tf = k1("Convolution2D", nb_filter=2, nb_row=2, nb_col=3, border_mode="same", subsample=(2, 1), dim_ordering="tf")
    ws = [rng.standard_normal(s) for s in oracle.weight_shapes(th, x.shape)]
    y_th = oracle.forward(th, ws, x)
    y_tf = oracle.forward(tf, ws, np.moveaxis(x, 1, -1))
    np.testing.assert_array_equal(y_th, np.moveaxis(y_tf, -1, 1))


# ---- which configs are Keras 1 ----

def test_a_shared_class_name_is_read_by_its_arguments_or_its_version():
    keras2 = {"class_name": "MaxPooling2D", "config": {"pool_size": [2, 2]}}
    assert oracle.normalize(keras2)["config"]["data_format"] == "channels_last"
    by_argument = {"class_name": "MaxPooling2D", "config": {"pool_size": [2, 2], "border_mode": "same"}}
    assert oracle.normalize(by_argument)["config"]["data_format"] == "channels_first"
    by_version = {**keras2, "keras_version": "1.2.2"}
    assert oracle.normalize(by_version)["config"]["data_format"] == "channels_first"
    assert oracle.row_name(by_version) == "keras1.MaxPooling2D" and oracle.row_name(keras2) == "MaxPooling2D"
    with pytest.raises(ValueError, match="border_mode"):  # a Keras 2 file naming a Keras 1 argument
        oracle.normalize({**by_argument, "keras_version": "2.2.4"})


# ---- errors: no Keras 2 equivalent, or rejected by Keras 1 ----

@pytest.mark.parametrize("config, param, value", [
    (k1("Convolution2D", nb_filter=1, nb_row=2, nb_col=2, border_mode="full"), "border_mode", "full"),
    (k1("Convolution1D", nb_filter=1, filter_length=2, border_mode="causal"), "border_mode", "causal"),
    (k1("Convolution2D", nb_filter=1, nb_row=2, nb_col=2, dim_ordering="default"), "dim_ordering", "default"),
    (k1("Convolution2D", nb_filter=1, nb_row=2, nb_col=2, dim_ordering="channels_last"), "dim_ordering",
     "channels_last"),
    (k1("Convolution2D", nb_filter=1, nb_row=2, nb_col=2, weights=[[1.0]]), "weights", "<arrays>"),
    (k1("Convolution2D", nb_filter=1, nb_row=2, nb_col=2, subsample=2), "subsample", 2),
    (k1("Convolution2D", nb_filter=1, nb_row=2, nb_col=2, padding="same"), "padding", None),
    (k1("Convolution2D", nb_filter=1, nb_row=2), "nb_col", None),
    (k1("Convolution3D", nb_filter=0, kernel_dim1=1, kernel_dim2=1, kernel_dim3=1), "nb_filter", 0),
    (k1("MaxPooling2D", pool_size=2, border_mode="valid"), "pool_size", 2),
    (k1("MaxPooling1D", pool_length=2, dim_ordering="th"), "dim_ordering", None),
    (k1("UpSampling1D", length=0), "length", 0),
    (k1("ZeroPadding2D", padding=(1, 1, 1, 1), dim_ordering="tf"), "padding", (1, 1, 1, 1)),
    (k1("Convolution2D", nb_filter=1, nb_row=2, nb_col=2, W_regularizer=0.01), "W_regularizer", 0.01),
])
def test_keras1_errors_name_layer_argument_and_value(config, param, value):
    with pytest.raises(ValueError) as err:
        oracle.normalize(config)
    message = str(err.value)
    for part in (config["class_name"], repr(param)[1:-1]) + (() if value is None else (repr(value),)):
        assert part in message, f"{part!r} missing from {message!r}"


# ---- every drawn Keras 1 case runs through the oracle ----

@pytest.mark.parametrize("row", sorted(keras1.ROWS))
def test_every_keras1_row_runs_as_its_keras2_target(row):
    @given(cases(row))
    def check(case):
        target = oracle.normalize(case.config)
        assert target["class_name"] == keras1.ROWS[row].target and case.layer == row
        x, ws, g = arrays(case, "float64")
        y = oracle.forward(case.config, ws, x)
        # the translated config is an ordinary Keras 2 config: the same layer, bit for bit
        np.testing.assert_array_equal(y, oracle.forward(target, ws, x))
        assert y.shape == oracle.output_shape(case.config, x.shape) == g.shape
    check()
