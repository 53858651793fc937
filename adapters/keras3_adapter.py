"""Keras 3 on the TensorFlow backend."""
from __future__ import annotations

from . import keras_cells
from .keras_common import KerasAdapter, gpu_reason


class Keras3Adapter(KerasAdapter):
    name = "keras"
    package = "keras"
    module = "keras"
    unsupported_layers = {
        # docs/traps.md 24: removed from Keras 3 (tf-keras keeps them).
        "LocallyConnected1D": "Keras 3 has no LocallyConnected1D (removed in Keras 3; tf-keras keeps it)",
        "LocallyConnected2D": "Keras 3 has no LocallyConnected2D (removed in Keras 3; tf-keras keeps it)",
        "ThresholdedReLU": "Keras 3 has no ThresholdedReLU (removed in Keras 3, docs/traps.md 24; tf-keras keeps it)",
        "CuDNNGRU": "Keras 3 has no CuDNNGRU (removed in Keras 3, docs/traps.md 24; GRU(use_cudnn=...) replaces it)",
        "CuDNNLSTM": "Keras 3 has no CuDNNLSTM (removed in Keras 3, docs/traps.md 24; LSTM(use_cudnn=...) replaces it)",
    }

    def _translate(self, config):
        out = super()._translate(config)
        if config["class_name"] == "LeakyReLU":  # Keras 3 renamed alpha to negative_slope (docs/traps.md 23)
            out["negative_slope"] = out.pop("alpha")
        if config["class_name"] in ("GRU", "LSTM") and self.placement == "cpu" and gpu_reason() is None:
            # use_cudnn="auto" picks cuDNN whenever the machine has a GPU, whatever tf.device says, and soft placement
            # would then run a cpu row's kernel on the GPU. Only then: on a CPU-only machine the default "auto" is
            # what users run, and its first try of the cuDNN path is where keras3-gru-lstm-implementation-1-input-
            # dropout-error raises, so forcing False there would hide that finding
            out["use_cudnn"] = False
        return out

    def keras_config(self, class_name, backend_config):
        out = super().keras_config(class_name, backend_config)
        if class_name == "LeakyReLU" and "negative_slope" in out["config"]:  # back to the documented name
            out["config"]["alpha"] = out["config"].pop("negative_slope")
        return out

    def _lambda_function(self, name):
        """The documentation's functions in keras.ops (Keras 3 has no backend module K; l2_normalize written
        out as x / sqrt(max(sum(x ** 2), 1e-12)), K.l2_normalize's definition)."""
        from keras import ops
        if name == "square":
            return lambda x: x ** 2

        def antirectifier(x):
            x = x - ops.mean(x, axis=1, keepdims=True)
            x = x * ops.rsqrt(ops.maximum(ops.sum(ops.square(x), axis=1, keepdims=True), 1e-12))
            return ops.concatenate([ops.relu(x), ops.relu(-x)], axis=1)
        return antirectifier

    def minimal_cell_class(self):
        """Seed 003's MinimalRNNCell with keras.ops.matmul in place of K.dot (Keras 3 has no backend module)."""
        if not hasattr(self, "_minimal_cell"):
            import keras
            self._minimal_cell = keras_cells.minimal_rnn_cell(keras, keras.ops.matmul)
        return self._minimal_cell

    def _variables(self, layer):
        # Keras 3 wraps each tf.Variable in a KerasVariable; the tape differentiates the wrapped one.
        return [w.value for w in layer.weights]


ADAPTER = Keras3Adapter()
