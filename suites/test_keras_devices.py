"""The Keras adapters' devices: "cuda" is declared, usable only where TensorFlow lists a GPU, and
a skip with that reason elsewhere; "cpu" always runs, on the CPU even on a GPU machine."""
from __future__ import annotations

import subprocess
import sys

import pytest

import adapters
from adapters import keras_common

from .metamorphic import backends
from .recording import Recorder

KERAS = ("tf_keras", "keras")
DENSE = {"class_name": "Dense", "config": {"units": 2}}
LSTM = {"class_name": "LSTM", "config": {"units": 2}}


def _have(name: str) -> None:
    why = adapters.get(name).installed()
    if why:
        pytest.skip(why)


@pytest.fixture
def fresh_gpu_answer():
    """gpu_reason is cached per process: cleared before a test that changes the listing, and after it, so no other
    test sees the pretended answer."""
    keras_common.gpu_reason.cache_clear()
    yield
    keras_common.gpu_reason.cache_clear()


@pytest.fixture
def no_gpu():
    """These tests state what a CPU machine answers; on a machine where TensorFlow lists a GPU they do not apply."""
    for name in KERAS:
        _have(name)
    if keras_common.tensorflow().config.list_physical_devices("GPU"):
        pytest.skip("TensorFlow lists a GPU here: the cuda rows run")


def test_importing_the_keras_adapters_imports_no_framework():
    code = ("import sys, adapters.keras_common, adapters.tf_keras_adapter as t, adapters.keras3_adapter as k; "
            "assert t.ADAPTER.devices == k.ADAPTER.devices == ('cpu', 'cuda'); "
            "loaded = [m for m in ('tensorflow', 'keras', 'tf_keras', 'torch') if m in sys.modules]; "
            "assert not loaded, loaded")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("name", KERAS)
def test_cuda_without_a_gpu_is_unusable_with_the_reason(name, no_gpu):
    a = adapters.get(name)
    assert "cuda" in a.devices
    why = a.device_reason("cuda")
    assert isinstance(why, str) and "GPU" in why and "TensorFlow" in why, why
    assert a.device_reason("cpu") is None
    for dtype in ("float32", "float64"):
        assert a.supports(DENSE, "cuda", dtype) == why
        assert a.supports(DENSE, "cpu", dtype) is None
    assert "no device" in a.device_reason("tpu")


def test_tensorflow_is_imported_after_the_conformance_environment(no_gpu):
    import os
    assert os.environ["TF_ENABLE_ONEDNN_OPTS"] == "0"
    v = adapters.get("tf_keras").versions()
    assert v["TF_ENABLE_ONEDNN_OPTS"] == "0" and v["tf.tensor_float_32_execution"] == "False"
    assert v["tf.gpus (memory growth)"].startswith("none (")


@pytest.mark.parametrize("name", KERAS)
def test_a_listed_gpu_makes_cuda_usable(name, fresh_gpu_answer, monkeypatch):
    _have(name)
    tf = keras_common.tensorflow()
    listed = tf.config.list_physical_devices

    def pretend(kind=None):
        return [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")] if kind == "GPU" else listed(kind)
    monkeypatch.setattr(tf.config, "list_physical_devices", pretend)
    a = adapters.get(name)
    assert a.device_reason("cuda") is None
    assert a.supports(DENSE, "cuda", "float32") is None and a.supports(DENSE, "cpu", "float64") is None


def test_tf_keras_cudnn_layers_run_on_cuda_only(fresh_gpu_answer, monkeypatch, no_gpu):
    a = adapters.get("tf_keras")
    for layer in ("CuDNNGRU", "CuDNNLSTM"):
        config = {"class_name": layer, "config": {"units": 2}}
        assert "only on a CUDA GPU" in a.supports(config, "cpu", "float32")
        assert a.supports(config, "cuda", "float32") == a.device_reason("cuda")  # no GPU here: the device's reason
        wrapped = {"class_name": "Bidirectional", "config": {"layer": config, "merge_mode": "concat"}}
        assert "only on a CUDA GPU" in a.supports(wrapped, "cpu", "float32")
    tf = keras_common.tensorflow()
    keras_common.gpu_reason.cache_clear()
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: [tf.config.PhysicalDevice("/physical_device:GPU:0", "GPU")])
    for layer in ("CuDNNGRU", "CuDNNLSTM"):
        assert a.supports({"class_name": layer, "config": {"units": 2}}, "cuda", "float64") is None
    # Keras 3 removed them: unsupported on every device, whatever the machine has
    assert "Keras 3 has no" in adapters.get("keras").supports({"class_name": "CuDNNGRU", "config": {}}, "cuda",
                                                                "float32")


@pytest.mark.parametrize("name", KERAS)
def test_cpu_blocks_run_on_the_cpu(name):
    _have(name)
    a = adapters.get(name)
    tf, _ = a._frameworks()
    with a._device("cpu"):
        assert a.placement == "cpu"
        assert tf.constant(1.0).device.endswith("CPU:0")
    assert a.placement is None


def test_keras3_lstm_takes_no_cudnn_in_a_cpu_block_of_a_gpu_machine(monkeypatch):
    """use_cudnn='auto' would pick cuDNN on a GPU machine whatever tf.device says: there cpu rows turn it off. On a
    machine without a GPU they keep the default 'auto' users run (whose cuDNN try is a finding of its own)."""
    _have("keras")
    from adapters import keras3_adapter
    a = adapters.get("keras")
    with a._device("cpu"):
        assert a._layer(LSTM, "float32", (1, 3, 2), None).use_cudnn == ("auto" if keras_common.gpu_reason() else False)
    monkeypatch.setattr(keras3_adapter, "gpu_reason", lambda: None)  # pretend TensorFlow lists a GPU
    with a._device("cpu"):
        assert a._layer(LSTM, "float32", (1, 3, 2), None).use_cudnn is False
    assert a._layer(LSTM, "float32", (1, 3, 2), None).use_cudnn == "auto"  # outside a block (round_trip): as built


class _Options:
    """The options conftest.targets reads, as pytest's config gives them."""

    def __init__(self, **chosen: str):
        self.chosen = chosen

    def getoption(self, option: str) -> str:
        return self.chosen.get(option.lstrip("-"), "all")


@pytest.mark.parametrize("device", ["cuda", "all"])
def test_conformance_targets_hold_keras_cuda_rows(device):
    from conftest import targets
    ts = targets(_Options(device=device, layer="Dense", dtype="float32"))
    for name in KERAS:
        assert ("Dense", name, "cuda", "float32") in ts
        assert (("Dense", name, "cpu", "float32") in ts) == (device == "all")
    assert ("Dense", "torch", "cuda", "float32") in ts


@pytest.mark.parametrize("name", KERAS)
def test_a_cuda_row_without_a_gpu_is_a_skip_with_the_reason(name, no_gpu):
    a = adapters.get(name)
    rec = Recorder("test_keras_devices", "Dense", name, "cuda", "float32", "forward")
    with pytest.raises(pytest.skip.Exception, match="GPU"):
        rec.skip_if_unsupported(a)
    [record] = rec.records()
    assert record["status"] == "unsupported" and record["reason"] == a.device_reason("cuda")
    # the metamorphic suites' backends: a cuda backend exists and skips with the same reason
    cuda = [b for b in backends([name], ["cpu", "cuda"], ["float32"]) if b.device == "cuda"]
    assert [b.id for b in cuda] == [f"{name}-cuda-float32"]
    with pytest.raises(pytest.skip.Exception, match="GPU"):
        cuda[0].skip_unless_supported(DENSE)
