"""What the two TensorFlow-based Keras adapters share: build the real layer, set_weights, GradientTape."""
from __future__ import annotations

import importlib
import os

import numpy as np

from .base import Adapter, conformance_environment


class KerasAdapter(Adapter):
    """A Keras API on TensorFlow. Subclasses name the module and how to reach a layer's variables."""
    module: str = ""
    layers = frozenset({
        "Dense", "Activation", "Conv1D", "Conv2D", "Conv3D",
        # depthwise, separable, locally connected:
        "DepthwiseConv2D", "SeparableConv1D", "SeparableConv2D", "LocallyConnected1D", "LocallyConnected2D",
        # transposed convolution:
        "Conv2DTranspose", "Conv3DTranspose",

        # pooling:
        "MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D", "AveragePooling3D",
        "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D",
        "GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
        # cropping, zero padding, upsampling, flatten:
        "Cropping1D", "Cropping2D", "Cropping3D", "ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D",
        "UpSampling1D", "UpSampling2D", "UpSampling3D", "Flatten",

        # dropout, noise and batch normalization:
        "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
        "AlphaDropout", "BatchNormalization",
    })

    def _frameworks(self):
        """(tensorflow, the Keras module), set up once per process on first use."""
        if not hasattr(self, "_loaded"):
            conformance_environment()
            tf = importlib.import_module("tensorflow")
            # TF32 off so float32 results are reproducible on CUDA (TRAPS.md 25); a no-op on CPU.
            tf.config.experimental.enable_tensor_float_32_execution(False)
            self._loaded = (tf, importlib.import_module(self.module))
        return self._loaded

    def device_reason(self, device):
        if device == "cpu":
            return None
        tf, _ = self._frameworks()
        return None if tf.config.list_physical_devices("GPU") else "no CUDA device visible to TensorFlow"

    def versions(self):
        tf, k = self._frameworks()
        return {"tensorflow": tf.__version__, self.module: getattr(k, "__version__", "?"),
                "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset)"),
                "tf.tensor_float_32_execution": str(tf.config.experimental.tensor_float_32_execution_enabled()),
                "tf.threading (intra, inter; 0 = all cores)": f"{tf.config.threading.get_intra_op_parallelism_threads()}, "
                                                              f"{tf.config.threading.get_inter_op_parallelism_threads()}"}

    def _layer(self, config: dict, dtype: str, input_shape: tuple, weights: list | None):
        _, k = self._frameworks()
        layer = getattr(k.layers, config["class_name"]).from_config({**self._translate(config), "dtype": dtype})
        layer.build(tuple(input_shape))
        if weights is not None:
            layer.set_weights(weights)
        return layer

    def _translate(self, config: dict) -> dict:
        """Canonical config -> keyword arguments of the real layer (lists where Keras serializes tuples)."""
        # half_pixel_centers is an oracle-only key (UpSampling2D, TRAPS.md 18): Keras has no such argument and
        # always runs its own half-pixel bilinear, so the Keras 2.2.x convention is a known divergence.
        return {k: list(v) if isinstance(v, tuple) else v for k, v in config["config"].items()
                if k != "half_pixel_centers"}

    def _variables(self, layer) -> list:
        """The layer's variables in get_weights() order, as things GradientTape can differentiate."""
        return list(layer.weights)

    def _device(self, device):
        tf, _ = self._frameworks()
        return tf.device("/GPU:0" if device == "cuda" else "/CPU:0")

    def _seeded(self, seed):
        """A call seed fixes the framework's global generators (python, NumPy, TF, Keras) before the layer is
        built, so a training-mode call with the same seed repeats on this backend; None leaves them alone."""
        if seed is not None:
            _, k = self._frameworks()
            k.utils.set_random_seed(int(seed) % 2 ** 32)

    def _forward(self, config, weights, x, *, device, dtype, training, seed):
        return self._call(config, weights, x, device=device, dtype=dtype, training=training, seed=seed)[0]

    def _call(self, config, weights, x, *, device, dtype, training=False, seed=None):
        tf, _ = self._frameworks()
        with self._device(device):
            self._seeded(seed)
            layer = self._layer(config, dtype, x.shape, weights)
            y = np.asarray(layer(tf.constant(x), training=training))
            return y, [np.asarray(w) for w in layer.get_weights()]

    def _train_step(self, config, weights, x, *, device, dtype, seed):
        return self._call(config, weights, x, device=device, dtype=dtype, training=True, seed=seed)

    def _vjp(self, config, weights, x, g, *, device, dtype, training=False):
        tf, _ = self._frameworks()
        with self._device(device):
            layer = self._layer(config, dtype, x.shape, weights)
            xt = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(xt)
                loss = tf.reduce_sum(layer(xt, training=training) * tf.constant(g))
            grads = tape.gradient(loss, [xt] + self._variables(layer))
        # None: a non-trainable variable (BatchNormalization's moving statistics), which the tape does not watch
        return np.asarray(grads[0]), [None if w is None else np.asarray(w) for w in grads[1:]]

    def _build_error(self, raw_config, input_shape):
        tf, k = self._frameworks()
        try:
            cls = getattr(k.layers, raw_config["class_name"])
            layer = cls.from_config(dict(raw_config.get("config", {})))
            layer(tf.zeros(input_shape, dtype=layer.compute_dtype))
        except Exception as exc:  # any exception is the backend rejecting the config; the test inspects it
            return exc
        return None
