"""Backend checks specific to the advanced activations and core layers: the boundary behaviour at the kinks
the conformance inputs avoid (docs/traps.md 23), the mask Masking passes on (docs/traps.md 16), Input's tensor spec."""
from __future__ import annotations

import numpy as np
import pytest

import adapters
import oracle
from oracle.core_functions import input_spec

from . import checks, divergences
from .strategies import Case, arrays, core_shapes

ALL = adapters.names()
DTYPES = ["float32", "float64"]


def _adapter(name):
    a = adapters.get(name)
    if a.installed():
        pytest.skip(a.installed())
    return a


BOUNDARY = [  # (config, the outcome on the Keras adapters: pass, or the known divergence that explains it)
    ({"class_name": "ThresholdedReLU", "config": {}}, None),
    ({"class_name": "ThresholdedReLU", "config": {"theta": 0.5}}, None),
    ({"class_name": "ReLU", "config": {}}, None),
    ({"class_name": "ReLU", "config": {"max_value": 1.0, "negative_slope": 0.25}}, None),
    ({"class_name": "ReLU", "config": {"max_value": 6}}, None),
    ({"class_name": "ReLU", "config": {"threshold": 0.5}}, "relu-at-threshold-is-zero"),
    # exactly at the kinks, threshold > max_value is the at-threshold entry's formula (keras_relu covers both)
    ({"class_name": "ReLU", "config": {"threshold": 1.0, "max_value": 0.5}}, "relu-at-threshold-is-zero"),
    ({"class_name": "LeakyReLU", "config": {"alpha": 0.25}}, None),
    ({"class_name": "ELU", "config": {"alpha": 0.5}}, None),
]


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("config, keras_divergence", BOUNDARY, ids=[str(c["config"]) for c, _ in BOUNDARY])
def test_values_exactly_at_the_kinks(name, dtype, config, keras_divergence):
    """Inputs exactly on theta / threshold / max_value / 0: torch (written from the documentation) matches;
    the Keras backends match or disagree in the one recorded way."""
    adapter = _adapter(name)
    if adapter.supports(oracle.normalize(config), "cpu", dtype):
        pytest.skip(adapter.supports(oracle.normalize(config), "cpu", dtype))
    case = Case(config, (3, 4), 0)
    x, _, _ = arrays(case, dtype)
    assert np.sum(checks.on_kinks(oracle.normalize(config), x) == x) < x.size  # the input really moved
    outcome = checks.run("boundary", case, adapter, "cpu", dtype)
    # the recorded divergence applies to the backends whose known-divergence file has it
    if keras_divergence is None or not any(d.id.endswith(keras_divergence) for d in divergences.load(name)):
        assert outcome.status == "pass", outcome.message
    else:
        assert outcome.status == "known-divergence" and outcome.divergence_id.endswith(keras_divergence), outcome


@pytest.mark.parametrize("name", ALL)
def test_thresholded_relu_strict_on_every_backend(name):
    """x == theta gives 0, the next float above gives x, in both dtypes (docs/traps.md 23)."""
    config = oracle.normalize({"class_name": "ThresholdedReLU", "config": {"theta": 0.5}})
    adapter = _adapter(name)
    if adapter.supports(config, "cpu", "float32"):  # Keras 3 has no ThresholdedReLU
        pytest.skip(adapter.supports(config, "cpu", "float32"))
    for dtype in DTYPES:
        x = np.array([[0.5, np.nextafter(np.array(0.5, dtype), np.array(1.0, dtype))]], dtype=dtype)
        y = adapter.forward(config, [], x, device="cpu", dtype=dtype)
        np.testing.assert_array_equal(y, [[0.0, x[0, 1]]])


@pytest.mark.parametrize("name", ALL)
def test_leaky_relu_default_slope_on_every_backend(name):
    """docs/traps.md 23: the default config gives Keras's 0.3 (not torch's 0.01, not 0.2 of tf.nn.leaky_relu)."""
    config = oracle.normalize({"class_name": "LeakyReLU", "config": {}})
    y = _adapter(name).forward(config, [], np.array([[-1.0, 2.0]], "float32"), device="cpu", dtype="float32")
    np.testing.assert_array_equal(y, np.array([[-0.3, 2.0]], "float32"))


@pytest.mark.parametrize("name", adapters.with_ability("masks"))
@pytest.mark.parametrize("mask_value", [0.0, -0.5, 2.0])
def test_masking_mask_matches(name, mask_value):
    """The mask each backend's Masking passes on equals the oracle's, on inputs with fully and partly masked
    timesteps (seeded; a mismatch in any element fails)."""
    adapter = _adapter(name)
    config = {"class_name": "Masking", "config": {"mask_value": mask_value}}
    for seed in range(5):
        for shape in [(2, 5, 3), (3, 4), (1, 2, 3, 2)]:
            x = core_shapes.masking_inputs(np.random.default_rng(seed), shape, config)
            expected = oracle.compute_mask(config, x)
            assert 0 < expected.sum() or shape[-1] == 1
            got = adapter.compute_mask(oracle.normalize(config), [], x, device="cpu", dtype="float32")
            assert got is not None and got.dtype == bool, got
            np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("name", adapters.with_ability("layer_api"))  # a Keras layer API: symbolic Input
@pytest.mark.parametrize("raw", [{"shape": [32]}, {"shape": [3, 4], "dtype": "float64"},
                                 {"batch_shape": [10, 32]}, {"batch_shape": [None, None, 5], "dtype": None}])
def test_input_tensor_spec(name, raw):
    """Input() returns a symbolic tensor of the oracle's batch shape and dtype (None = floatx)."""
    adapter = _adapter(name)
    _, k = adapter._frameworks()
    cfg = oracle.normalize({"class_name": "Input", "config": raw})["config"]
    tensor = k.Input(**adapter._input_arguments(cfg))
    shape, dtype = input_spec(cfg)
    assert tuple(tensor.shape) == shape
    assert getattr(tensor.dtype, "name", tensor.dtype) == dtype
