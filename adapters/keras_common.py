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

        # activity regularization (initializers, regularizers and constraints: initial_weights ... below):
        "ActivityRegularization",
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

    def _forward(self, config, weights, x, *, device, dtype, training, seed):
        tf, _ = self._frameworks()
        with self._device(device):
            layer = self._layer(config, dtype, x.shape, weights)
            return np.asarray(layer(tf.constant(x), training=training))

    def _vjp(self, config, weights, x, g, *, device, dtype):
        tf, _ = self._frameworks()
        with self._device(device):
            layer = self._layer(config, dtype, x.shape, weights)
            xt = tf.constant(x)
            with tf.GradientTape() as tape:
                tape.watch(xt)
                loss = tf.reduce_sum(layer(xt) * tf.constant(g))
            grads = tape.gradient(loss, [xt] + self._variables(layer))
        return np.asarray(grads[0]), [np.asarray(w) for w in grads[1:]]

    def _build_error(self, raw_config, input_shape):
        tf, k = self._frameworks()
        try:
            cls = getattr(k.layers, raw_config["class_name"])
            layer = cls.from_config(dict(raw_config.get("config", {})))
            layer(tf.zeros(input_shape, dtype=layer.compute_dtype))
        except Exception as exc:  # any exception is the backend rejecting the config; the test inspects it
            return exc
        return None

    # ---- weight parameters: initializers, regularizers, constraints ----

    def initial_weights(self, config, input_shape, *, seed, device="cpu", dtype="float64", draws=1, shapes=None):
        with self._device(device):
            layer = self._layer(_seeded(config, seed), dtype, input_shape, None)
            out = [[np.asarray(w) for w in layer.get_weights()]]
            # Further draws: the layer's own initializer objects, re-seeded, at its weights' shapes.
            # Keras 3 names DepthwiseConv2D's variable 'kernel' though its parameter is depthwise_initializer
            inits = [getattr(layer, f"{_prefix(v)}_initializer", None) or layer.depthwise_initializer
                     for v in layer.weights]
            for d in range(1, draws):
                draw = []
                for i, (init, v) in enumerate(zip(inits, layer.weights)):
                    c = init.get_config()
                    if "seed" in c:
                        init = type(init).from_config({**c, "seed": (seed + 104729 * d + 7919 * i) % 2 ** 31})
                    draw.append(np.asarray(init(tuple(v.shape), dtype=dtype)))
                out.append(draw)
        return out

    def regularization_losses(self, config, weights, inputs, *, device="cpu", dtype="float64"):
        tf, _ = self._frameworks()
        with self._device(device):
            layer = self._layer(config, dtype, inputs.shape, weights)
            y = layer(tf.constant(inputs))
            return [float(np.asarray(loss)) for loss in layer.losses], np.asarray(y)

    def constrained_weights(self, config, weights, input_shape, *, device="cpu", dtype="float64"):
        with self._device(device):
            layer = self._layer(config, dtype, input_shape, weights)
            return [np.asarray(v if v.constraint is None else v.constraint(t))
                    for v, t in zip(layer.weights, self._variables(layer))]


def _seeded(config: dict, seed: int) -> dict:
    """The config with every initializer that takes a seed seeded from `seed` (one per parameter)."""
    cfg = dict(config["config"])
    for i, key in enumerate(sorted(cfg)):
        value = cfg[key]
        if key.endswith("_initializer") and isinstance(value, dict) and "seed" in value.get("config", {}):
            cfg[key] = {**value, "config": {**value["config"], "seed": (seed + 7919 * i) % 2 ** 31}}
    return {**config, "config": cfg}


def _prefix(variable) -> str:
    """'kernel', 'bias', 'depthwise', 'pointwise', 'recurrent' ... from a variable's name."""
    name = getattr(variable, "path", None) or variable.name
    name = name.split("/")[-1].split(":")[0]
    return name[: -len("_kernel")] if name.endswith("_kernel") else name
