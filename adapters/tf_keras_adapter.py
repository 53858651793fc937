"""The Keras 2 API from the tf-keras package (the closest living relative of Keras 2.2.x)."""
from __future__ import annotations

import importlib

from .keras_common import KerasAdapter


class TfKerasAdapter(KerasAdapter):
    name = "tf_keras"
    package = "tf_keras"
    module = "tf_keras"
    CUDNN = frozenset({"CuDNNGRU", "CuDNNLSTM"})

    def supports(self, config, device, dtype):
        # docs/traps.md 15: the cuDNN layers exist only in the v1 API and have only a GPU kernel; their cuda rows run
        # where TensorFlow lists a GPU (else the base class returns device_reason's answer)
        if config["class_name"] in self.CUDNN and device != "cuda":
            return (f"{config['class_name']} runs only on a CUDA GPU (cuDNN kernel only, "
                    f"tf_keras.api._v1.keras.layers): see its cuda rows")
        return super().supports(config, device, dtype)

    def _layers_module(self, class_name):
        if class_name in self.CUDNN:
            return importlib.import_module("tf_keras.api._v1.keras.layers")
        return super()._layers_module(class_name)


ADAPTER = TfKerasAdapter()
