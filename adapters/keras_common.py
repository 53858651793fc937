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

        # merge (called on a list of inputs):
        "Add", "Subtract", "Multiply", "Average", "Maximum", "Concatenate", "Dot",
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
        layer.build([tuple(s) for s in input_shape] if isinstance(input_shape, list) else tuple(input_shape))
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

    def _forward(self, config, weights, x, *, device, dtype, training, seed):
        tf, _ = self._frameworks()
        multi = isinstance(x, list)  # a merge layer: built with the list of shapes, called on the list
        with self._device(device):
            layer = self._layer(config, dtype, [a.shape for a in x] if multi else x.shape, weights)
            inputs = [tf.constant(a) for a in x] if multi else tf.constant(x)
            return np.asarray(layer(inputs, training=training))

    def _vjp(self, config, weights, x, g, *, device, dtype):
        tf, _ = self._frameworks()
        multi = isinstance(x, list)
        xs = x if multi else [x]
        with self._device(device):
            layer = self._layer(config, dtype, [a.shape for a in xs] if multi else x.shape, weights)
            xts = [tf.constant(a) for a in xs]
            with tf.GradientTape() as tape:
                for xt in xts:
                    tape.watch(xt)
                loss = tf.reduce_sum(layer(xts if multi else xts[0]) * tf.constant(g))
            grads = tape.gradient(loss, xts + self._variables(layer))
        # an input the output does not depend on gets None from the tape: its gradient is zero
        gx = [np.zeros_like(a) if gr is None else np.asarray(gr) for a, gr in zip(xs, grads)]
        return (gx if multi else gx[0]), [np.asarray(w) for w in grads[len(xs):]]

    def _build_error(self, raw_config, input_shape):
        tf, k = self._frameworks()
        try:
            cls = getattr(k.layers, raw_config["class_name"])
            layer = cls.from_config(dict(raw_config.get("config", {})))
            if isinstance(input_shape, list):  # a call on a list of inputs
                layer([tf.zeros(s, dtype=layer.compute_dtype) for s in input_shape])
            else:
                layer(tf.zeros(input_shape, dtype=layer.compute_dtype))
        except Exception as exc:  # any exception is the backend rejecting the config; the test inspects it
            return exc
        return None
