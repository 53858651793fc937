"""What the two TensorFlow-based Keras adapters share: build the real layer, set_weights, GradientTape."""
from __future__ import annotations

import contextlib
import functools
import importlib
import os
from typing import Iterator

import numpy as np

from . import keras_cells
from .base import Adapter, conformance_environment
from .keras_layer_api import KerasLayerAPI

GPU_LISTING = "tf.config.list_physical_devices('GPU')"


@functools.cache
def tensorflow():
    """TensorFlow, imported once on first use and only after conformance_environment() (oneDNN off, docs/traps.md 25):
    no adapter module imports it at import time."""
    conformance_environment()
    tf = importlib.import_module("tensorflow")
    # TF32 off so float32 results are reproducible on CUDA (docs/traps.md 25); a no-op on CPU.
    tf.config.experimental.enable_tensor_float_32_execution(False)
    for gpu in tf.config.list_physical_devices("GPU"):
        # TensorFlow otherwise takes nearly all GPU memory at its first op, starving torch in the same process;
        # allowed only before the GPU is initialised, so here, before any op
        with contextlib.suppress(RuntimeError):
            tf.config.experimental.set_memory_growth(gpu, True)
    return tf


@functools.cache
def gpu_reason() -> str | None:
    """None when TensorFlow lists a GPU, else why the "cuda" device is unusable (asked once per process: the
    listing does not change while it runs)."""
    tf = tensorflow()
    if tf.config.list_physical_devices("GPU"):
        return None
    if not tf.test.is_built_with_cuda():
        return "this TensorFlow build has no CUDA support (tf.test.is_built_with_cuda() is False)"
    return f"TensorFlow sees no GPU ({GPU_LISTING} is empty)"


class KerasAdapter(KerasLayerAPI, Adapter):
    """A Keras API on TensorFlow. Subclasses name the module and how to reach a layer's variables."""
    module: str = ""
    devices = ("cpu", "cuda")
    placement: str | None = None  # the device of the `_device` block being run, None outside one
    abilities = frozenset({"masks", "stateful", "weight_params", "invalid_configs", "layer_api"})

    @functools.cached_property
    def layers(self) -> frozenset[str]:
        """Every layer the oracle implements (the seeds' Keras 2.2.x classes); a backend that lacks one lists it
        in unsupported_layers with the reason (supports() checks that first). CuDNN*: GPU only, see supports.
        The oracle is imported here, not at import time: a reproducer bundle copies this module without it."""
        import oracle
        return frozenset(oracle.LAYERS)
    # Classes called as cell(x_t, states) -> (output, new states), and recurrent layers whose list input is
    # [x, *initial states] (Keras 2.2.x RNN.__call__([x, h0, c0]) -> layer(x, initial_state=[h0, c0])).
    CELLS = frozenset({"SimpleRNNCell", "GRUCell", "LSTMCell", "MinimalRNNCell"})
    STATE_INPUTS = frozenset({"SimpleRNN", "GRU", "LSTM", "RNN", "ConvLSTM2D", "CuDNNGRU", "CuDNNLSTM",
                              "Bidirectional"}) | CELLS

    def _frameworks(self):
        """(tensorflow, the Keras module), set up once per process on first use."""
        if not hasattr(self, "_loaded"):
            self._loaded = (tensorflow(), importlib.import_module(self.module))
        return self._loaded

    def device_reason(self, device):
        """The "cuda" device is usable when TensorFlow lists a GPU (CuDNN layers, channels_first kernels)."""
        return gpu_reason() if device == "cuda" else super().device_reason(device)

    def versions(self):
        tf, k = self._frameworks()
        gpus = tf.config.list_physical_devices("GPU")
        return {"tensorflow": tf.__version__, self.module: getattr(k, "__version__", "?"),
                "TF_ENABLE_ONEDNN_OPTS": os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset)"),
                "tf.tensor_float_32_execution": str(tf.config.experimental.tensor_float_32_execution_enabled()),
                "tf.gpus (memory growth)": ", ".join(f"{g.name} ({tf.config.experimental.get_memory_growth(g)})"
                                                     for g in gpus) or f"none ({gpu_reason()})",
                # soft placement on: an op with no GPU kernel runs on the CPU inside a cuda row's /GPU:0 block
                "tf.soft_device_placement": str(tf.config.get_soft_device_placement()),
                "tf.threading (intra, inter; 0 = all cores)": f"{tf.config.threading.get_intra_op_parallelism_threads()}, "
                                                              f"{tf.config.threading.get_inter_op_parallelism_threads()}"}

    def _layer(self, config: dict, dtype: str, input_shape: tuple, weights: list | None):
        _, k = self._frameworks()
        if config["class_name"] in ("Lambda", "Input"):  # built from Python objects, not from a config
            return self._function_layer(config, dtype)
        if "layer" in config["config"]:  # a wrapper (TimeDistributed, Bidirectional): around the real inner layer
            layer = self._wrapper(config, dtype)
        else:
            layer = self._construct(config, dtype)
        if input_shape is None:
            return layer
        if input_shape and isinstance(input_shape[0], (list, tuple)) and config["class_name"] in self.STATE_INPUTS:
            input_shape = input_shape[0]  # [x, *states]: built on x alone
        layer.build([tuple(s) for s in input_shape] if isinstance(input_shape, list) else tuple(input_shape))
        if weights is not None:
            layer.set_weights(weights)
        return layer

    def _construct(self, config: dict, dtype: str):
        """The real layer of a canonical config (RNN and MinimalRNNCell: adapters/keras_cells.py)."""
        _, k = self._frameworks()
        if config["class_name"] == "RNN":
            return keras_cells.build_rnn(self, k, config, dtype)
        if config["class_name"] == "MinimalRNNCell":
            return keras_cells.build_cell(self, k, config, dtype)
        return getattr(self._layers_module(config["class_name"]), config["class_name"]).from_config(
            {**self._translate(config), "dtype": dtype})

    def _layers_module(self, class_name: str):
        """Where the class lives (tf-keras keeps CuDNNGRU / CuDNNLSTM in its v1 API)."""
        return self._frameworks()[1].layers

    def minimal_cell_class(self):
        """Seed 003's MinimalRNNCell for this Keras API, written with K.dot as the seed does."""
        if not hasattr(self, "_minimal_cell"):
            _, k = self._frameworks()
            self._minimal_cell = keras_cells.minimal_rnn_cell(k, k.backend.dot)
        return self._minimal_cell

    ORACLE_ONLY = frozenset({"half_pixel_centers"})

    def _wrapper(self, config: dict, dtype: str):
        """TimeDistributed(layer=...) / Bidirectional(layer=..., merge_mode=...) around the inner layer built from its
        canonical config, in the run's dtype; `weights` (always None in a canonical config) is left to the
        constructor's default."""
        _, k = self._frameworks()
        layer = self._layer(config["config"]["layer"], dtype, None, None)  # built (unbuilt) as any other layer
        kwargs = {key: v for key, v in self._translate(config).items() if key not in ("layer", "weights")}
        return getattr(k.layers, config["class_name"])(layer=layer, **kwargs, dtype=dtype)

    def _translate(self, config: dict) -> dict:
        """Canonical config -> keyword arguments of the real layer (lists where Keras serializes tuples)."""
        # half_pixel_centers is an oracle-only key (UpSampling2D, docs/traps.md 18): Keras has no such argument and
        # always runs its own half-pixel bilinear, so the Keras 2.2.x convention is a known divergence.
        return {k: list(v) if isinstance(v, tuple) else v for k, v in config["config"].items()
                if k not in self.ORACLE_ONLY}

    def _lambda_function(self, name: str):
        """The documentation's Lambda functions, written with the Keras 2 backend module as seed 003 does."""
        tf, k = self._frameworks()
        K = k.backend
        if name == "square":
            return lambda x: x ** 2

        def antirectifier(x):
            x -= K.mean(x, axis=1, keepdims=True)
            x = K.l2_normalize(x, axis=1)
            return K.concatenate([K.relu(x), K.relu(-x)], axis=1)
        return antirectifier

    def _function_layer(self, config: dict, dtype: str):
        """A real Lambda layer around the named function, or for Input a model made of the Input alone (feeding
        it data returns the data). The run's dtype replaces Input's own: rows compare values in that dtype;
        suites/test_advanced_activations_backends.py checks the symbolic tensor's dtype and shape for the config's
        dtype."""
        _, k = self._frameworks()
        cfg = config["config"]
        if config["class_name"] == "Input":
            inp = k.Input(**self._input_arguments({**cfg, "dtype": dtype}))
            return k.Model(inp, inp)

        def antirectifier_output_shape(input_shape):
            shape = list(input_shape)
            assert len(shape) == 2  # only valid for 2D tensors (the documented function)
            shape[-1] *= 2
            return tuple(shape)
        out = antirectifier_output_shape if cfg["output_shape"] == "antirectifier_output_shape" else \
            (list(cfg["output_shape"]) if cfg["output_shape"] is not None else None)
        return k.layers.Lambda(self._lambda_function(cfg["function"]), output_shape=out, dtype=dtype)

    def _input_arguments(self, cfg: dict) -> dict:
        """Keyword arguments of Input() from the canonical config (batch_shape wins, as in Keras 2.2.x)."""
        where = {"batch_shape": list(cfg["batch_shape"])} if cfg["batch_shape"] is not None else \
            {"shape": list(cfg["shape"])}
        return {**where, "dtype": cfg["dtype"], "sparse": cfg["sparse"]}

    def _compute_mask(self, config, weights, x, *, device, dtype):
        tf, _ = self._frameworks()
        with self._device(device):
            mask = self._layer(config, dtype, x.shape, weights).compute_mask(tf.constant(x))
        return None if mask is None else np.asarray(mask)

    def _variables(self, layer) -> list:
        """The layer's variables in get_weights() order, as things GradientTape can differentiate."""
        return list(layer.weights)

    @contextlib.contextmanager
    def _device(self, device: str) -> Iterator[None]:
        """Build, call and gradient inside on the GPU for "cuda", on the CPU otherwise (a GPU machine's cpu rows
        stay CPU rows); `placement` names the device meanwhile, for a layer whose kernel choice ignores tf.device."""
        outer, self.placement = self.placement, device
        try:
            with tensorflow().device("/GPU:0" if device == "cuda" else "/CPU:0"):
                yield
        finally:
            self.placement = outer

    def _seeded(self, seed):
        """A call seed fixes the framework's global generators (python, NumPy, TF, Keras) before the layer is
        built, so a training-mode call with the same seed repeats on this backend; None leaves them alone."""
        if seed is not None:
            _, k = self._frameworks()
            k.utils.set_random_seed(int(seed) % 2 ** 32)

    def _forward(self, config, weights, x, *, device, dtype, training, seed, mask=None):
        return self._call(config, weights, x, device=device, dtype=dtype, training=training, seed=seed,
                          mask=mask)[0]

    def _build_shape(self, layer_name: str, x):
        """The shape a layer is built with: a merge layer's list of shapes; x's alone for the recurrent layers'
        [x, *initial states] and the cells' [x_t, *states]."""
        if not isinstance(x, list):
            return x.shape
        return x[0].shape if layer_name in self.STATE_INPUTS else [a.shape for a in x]

    def _apply(self, layer, xts: list, listed: bool, *, training, mask=None):
        """Call the layer: on a list (merge), on x with initial_state / a cell on (x_t, states), with a mask; the
        result as a flat list of tensors when the layer returns several (return_state, a cell's new states)."""
        tf, _ = self._frameworks()
        kw = {"training": training}
        if mask is not None:
            kw["mask"] = tf.constant(mask)
        name = type(layer).__name__
        if name in self.CELLS:
            out, states = layer(xts[0], list(xts[1:]), **kw)
            return [out, *(states if isinstance(states, (list, tuple)) else [states])]
        if listed and name in self.STATE_INPUTS:
            y = layer(xts[0], initial_state=list(xts[1:]), **kw) if len(xts) > 1 else layer(xts[0], **kw)
        else:
            y = layer(xts if listed else xts[0], **kw)
        # tf.nest.flatten: a stacked RNN's return_state gives its states nested per cell ([out, [h1], [h2, c2]])
        return tf.nest.flatten(list(y)) if isinstance(y, (list, tuple)) else y

    def _call(self, config, weights, x, *, device, dtype, training=False, seed=None, mask=None):
        tf, _ = self._frameworks()
        multi = isinstance(x, list)  # a merge layer or [x, *states]: called on the list
        xs = x if multi else [x]
        with self._device(device):
            self._seeded(seed)
            layer = self._layer(config, dtype, self._build_shape(config["class_name"], x), weights)
            y = self._apply(layer, [tf.constant(a) for a in xs], multi, training=training, mask=mask)
            y = [np.asarray(a) for a in y] if isinstance(y, list) else np.asarray(y)
            return y, [np.asarray(w) for w in layer.get_weights()]

    def _train_step(self, config, weights, x, *, device, dtype, seed, mask=None):
        return self._call(config, weights, x, device=device, dtype=dtype, training=True, seed=seed, mask=mask)

    def stateful_run(self, config, weights, batches, *, device="cpu", dtype="float64", reset=()):
        """One stateful layer instance called on each batch in turn (reset_states() before call i in `reset`)."""
        tf, _ = self._frameworks()
        with self._device(device):
            layer = self._layer(config, dtype, np.shape(batches[0]), [np.asarray(w, dtype) for w in weights])
            outputs = []
            for i, b in enumerate(batches):
                if i in reset:
                    layer.reset_states()
                y = layer(tf.constant(np.asarray(b, dtype)))
                outputs.append(np.asarray(y[0] if isinstance(y, (list, tuple)) else y))
            return outputs

    def _vjp(self, config, weights, x, g, *, device, dtype, training=False, mask=None):
        tf, _ = self._frameworks()
        multi = isinstance(x, list)
        xs = x if multi else [x]
        with self._device(device):
            layer = self._layer(config, dtype, self._build_shape(config["class_name"], x), weights)
            xts = [tf.constant(a) for a in xs]
            with tf.GradientTape() as tape:
                for xt in xts:
                    tape.watch(xt)
                y = self._apply(layer, xts, multi, training=training, mask=mask)
                pairs = zip(y, g) if isinstance(y, list) else [(y, g)]
                loss = tf.add_n([tf.reduce_sum(a * tf.constant(c)) for a, c in pairs])
            grads = tape.gradient(loss, xts + self._variables(layer))
        # an input the output does not depend on gets None from the tape: its gradient is zero; a weight gets None
        # when it is non-trainable (BatchNormalization's moving statistics, which the tape does not watch)
        gx = [np.zeros_like(a) if gr is None else np.asarray(gr) for a, gr in zip(xs, grads)]
        # a gathered weight (Embedding) gets tf.IndexedSlices: densified, repeated rows summed
        return (gx if multi else gx[0]), [None if w is None else np.asarray(tf.convert_to_tensor(w))
                                          for w in grads[len(xs):]]

    def _build_error(self, raw_config, input_shape):
        tf, k = self._frameworks()
        try:
            cls = getattr(k.layers, raw_config["class_name"])
            cfg = dict(raw_config.get("config", {}))
            if raw_config["class_name"] in ("TimeDistributed", "Bidirectional") and isinstance(cfg.get("layer"), dict):
                # Keras 3 cannot deserialize a raw wrapped config without its `module` key: build the inner layer
                # first, as _wrapper does, so the wrapper's own validation is what gets tested
                inner = cfg["layer"]
                cfg["layer"] = getattr(k.layers, inner["class_name"]).from_config(dict(inner.get("config", {})))
            layer = cls.from_config(cfg)
            if isinstance(input_shape, list):  # a call on a list of inputs
                layer([tf.zeros(s, dtype=layer.compute_dtype) for s in input_shape])
            else:
                layer(tf.zeros(input_shape, dtype=layer.compute_dtype))
        except Exception as exc:  # any exception is the backend rejecting the config; the test inspects it
            return exc
        return None
