"""The adapter contract (DESIGN.md) and what every adapter shares."""
from __future__ import annotations

import abc
import importlib.util
import os

import numpy as np


def conformance_environment() -> None:
    """Settings that make framework results reproducible; must run before TensorFlow is imported.

    oneDNN reorders float32 reductions on CPU (docs/traps.md 25). KERAS_BACKEND pins Keras 3 to TensorFlow."""
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "0"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ["KERAS_BACKEND"] = "tensorflow"


# The optional parts of the contract: ability -> (what it promises, the methods it needs). An adapter declares
# the ones it has in `abilities`; a suite that needs one runs on exactly the adapters that declare it
# (adapters.with_ability) and skips the others with `lacks(...)` as the reason. suites/test_backend_contract.py
# checks that every declared ability's methods exist and that a minimal adapter joins every generic suite.
# The methods named are the ones the adapter's own class must define (a default here does not count).
ABILITIES: dict[str, tuple[str, tuple[str, ...]]] = {
    "masks": ("consumes a (batch, timesteps) mask and passes the framework's own mask on", ("_compute_mask",)),
    "stateful": ("runs a stateful recurrent layer over several batches", ("stateful_run",)),
    "weight_params": ("draws initial weights, adds regularization losses, applies constraints",
                      ("initial_weights", "regularization_losses", "constrained_weights")),
    "invalid_configs": ("builds the framework's layer from a raw config, so its own validation judges it",
                        ("_build_error",)),
    "layer_api": ("serializes the framework's layer (get_config / from_config) and builds Keras 1 configs as "
                  "written", ("round_trip", "native_config")),
}


# The adapter methods that run the backend: suites/backend_calls.py records and replays exactly these, and
# adapters/workers.py runs them in the worker process.
BACKEND_METHODS = frozenset({
    "forward", "vjp", "train_step", "compute_mask", "mask_chain", "build_error", "stateful_run",
    "initial_weights", "regularization_losses", "constrained_weights", "round_trip", "native_config"})


def _cast(inputs, dtype):
    """The input as an array in `dtype`, or each input of a list of arrays (a multi-input layer: merge) as one;
    a nested list of numbers is one input."""
    # contiguous copies: a time-reversed view (x[:, ::-1]) has negative strides, which torch cannot wrap
    if isinstance(inputs, list) and inputs and all(isinstance(x, np.ndarray) for x in inputs):
        return [np.ascontiguousarray(x, dtype) for x in inputs]
    return np.ascontiguousarray(inputs, dtype)


def _masked(mask) -> dict:
    return {} if mask is None else {"mask": np.ascontiguousarray(mask, dtype=bool)}


class Adapter(abc.ABC):
    """One backend. Subclasses set the class attributes and implement `_forward` and `_vjp`, plus the methods of
    the abilities they declare.

    Adapters take canonical configs and documented-layout weights and do all translation themselves.
    A multi-input layer (the merge layers) gets a list of inputs, a list of input shapes in `build_error`, and
    its vjp returns the list of the inputs' gradients in place of the one input gradient."""
    name: str = ""
    package: str = ""              # the distribution whose presence makes the adapter available
    devices: tuple[str, ...] = ("cpu",)
    dtypes: tuple[str, ...] = ("float32", "float64")
    layers: frozenset[str] = frozenset()   # class names this backend implements
    unsupported_layers: dict[str, str] = {}  # class name -> why the backend has no such layer
    abilities: frozenset[str] = frozenset()  # the optional parts of the contract it has (ABILITIES)

    def lacks(self, ability: str) -> str | None:
        """None when the adapter declares `ability`, else the reason a suite that needs it skips."""
        if ability not in ABILITIES:
            raise ValueError(f"ability={ability!r} is not allowed: expected one of {', '.join(ABILITIES)}")
        return None if ability in self.abilities else \
            f"{self.name} does not declare the {ability!r} ability ({ABILITIES[ability][0]})"

    def installed(self) -> str | None:
        """None when the framework can be imported, else the reason."""
        return None if importlib.util.find_spec(self.package) else f"{self.package} is not installed"

    def device_reason(self, device: str) -> str | None:
        """None when `device` is usable, else why not."""
        return None if device in self.devices else f"{self.name} has no device {device!r}"

    def supports(self, config: dict, device: str, dtype: str) -> str | None:
        """None if the adapter can run `config` on `device` in `dtype`, else the reason shown in the report."""
        layer = config["class_name"]
        if layer in self.unsupported_layers:
            return self.unsupported_layers[layer]
        if layer not in self.layers:
            return f"{self.name} adapter has no mapping for {layer}"
        if dtype not in self.dtypes:
            return f"{self.name} adapter does not run {dtype}"
        inner = config["config"].get("layer")  # a wrapper (TimeDistributed) runs only what it wraps
        why = self.supports(inner, device, dtype) if isinstance(inner, dict) and "class_name" in inner else None
        if why:
            return f"{layer}({inner['class_name']}): {why}"
        return self.installed() or self.device_reason(device)

    def forward(self, config, weights, inputs, *, device="cpu", dtype="float64", training=False, seed=None,
                mask=None):
        """The backend's output as a NumPy array in the backend dtype (a list for a layer with several outputs:
        return_state, Bidirectional merge_mode=None, a cell's [output, *new states]).

        `mask`: a boolean (batch, timesteps) array the recurrent layers consume (layer(x, mask=m) in Keras); it
        reaches `_forward` only when given, so adapters of layers without masks need no such keyword."""
        return self._forward(config, [np.asarray(w, dtype) for w in weights], _cast(inputs, dtype),
                             device=device, dtype=dtype, training=training, seed=seed, **_masked(mask))

    def vjp(self, config, weights, inputs, cotangents, *, device="cpu", dtype="float64", training=False, mask=None):
        """(input gradient, [weight gradients]) of <cotangents, forward(...)> by the framework's autodiff; a layer
        with several outputs takes the list of their cotangents.

        training=True differentiates the training-mode output (BatchNormalization's batch statistics). The
        gradient of a non-trainable weight (moving statistics) may be None or anything: checks skip it."""
        g = [np.asarray(c, dtype) for c in cotangents] if isinstance(cotangents, list) else np.asarray(cotangents, dtype)
        return self._vjp(config, [np.asarray(w, dtype) for w in weights], _cast(inputs, dtype), g,
                         device=device, dtype=dtype, training=training, **_masked(mask))

    def train_step(self, config, weights, inputs, *, device="cpu", dtype="float64", seed=None):
        """(training-mode output, the layer's weights after the call) in get_weights() order: one training
        forward pass, so BatchNormalization's moving statistics have moved once. `seed` as in `forward`: the
        same seed repeats the call's random draw on this backend (never bitwise across backends)."""
        return self._train_step(config, [np.asarray(w, dtype) for w in weights], _cast(inputs, dtype),
                                device=device, dtype=dtype, seed=seed)

    def compute_mask(self, config, weights, inputs, *, device="cpu", dtype="float64"):
        """The mask the backend's layer passes on for `inputs` (a boolean array), or None when it has none."""
        return self._compute_mask(config, [np.asarray(w, dtype) for w in weights], np.asarray(inputs, dtype),
                                  device=device, dtype=dtype)

    def _compute_mask(self, config, weights, x, *, device, dtype):
        """Backend mask; the default is no mask (an adapter that maps a masking layer overrides this)."""
        return None

    def mask_chain(self, first: dict, w1: list, second: dict, w2: list, x, *, dtype: str):
        """(the mask `first` passes on, the output of `second` called on first's output with that mask): a
        masking layer (Masking, Embedding(mask_zero=True)) feeding a layer that consumes masks. The default runs
        the two layers one after the other through this contract; a framework that carries masks through a
        model itself (Keras) overrides it to build that model."""
        mask = self.compute_mask(first, w1, x, dtype=dtype)
        y1 = self.forward(first, w1, x, dtype=dtype)
        return mask, self.forward(second, w2, np.asarray(y1, dtype=np.float64), dtype=dtype, mask=mask)

    def build_error(self, raw_config: dict, input_shape) -> Exception | None:
        """Build and call the layer from a raw (possibly invalid) config; the exception it raised, or None.
        `input_shape` is a list of shapes for a call on a list of inputs."""
        why = self.lacks("invalid_configs")
        if why:  # a backend without its own config validation has nothing to judge an invalid config with
            raise NotImplementedError(why)
        if input_shape and all(isinstance(s, (list, tuple)) for s in input_shape):
            return self._build_error(raw_config, [tuple(s) for s in input_shape])
        return self._build_error(raw_config, tuple(input_shape))

    def versions(self) -> dict[str, str]:
        return {}

    # The methods of the abilities (ABILITIES) that have no default here:
    # Stateful recurrent layers ("stateful"):
    # stateful_run(config, weights, batches, *, device, dtype, reset=()) -> the outputs of ONE layer instance
    # (stateful=True, fixed batch size) called on each array of `batches` in turn, reset_states() called before
    # call i for i in `reset`.

    # Weight parameters ("weight_params", suites/weight_checks.py): initial_weights(config, input_shape, *, seed, device, dtype, draws, shapes) -> `draws` initialisations
    # of the weights (get_weights() order and layout; `seed` with the draw and weight index replaces any seed in
    # the initializer configs; `shapes` the documented shapes, for a backend that builds no layer);
    # regularization_losses(config, weights, inputs, *, device, dtype) -> (the losses the layer adds, in any
    # order, its output); constrained_weights(config, weights, input_shape, *, device, dtype) -> every weight
    # after its constraint.
    # The layer API ("layer_api", suites/layer_api.py): round_trip(config, weights, x, *, dtype) -> the real
    # layer's get_config / from_config / get_weights facts; native_config(raw Keras 1 config, input_shape) -> the
    # config the framework builds from it as written (see adapters/keras_layer_api.py).

    @abc.abstractmethod
    def _forward(self, config, weights, x, *, device, dtype, training, seed):
        """Backend output for canonical config and arrays already in `dtype`."""

    @abc.abstractmethod
    def _vjp(self, config, weights, x, g, *, device, dtype, training=False):
        """Backend (input gradient, weight gradients)."""

    def _train_step(self, config, weights, x, *, device, dtype, seed):
        """Backend (training output, weights after the call); a layer without state keeps its weights."""
        return self._forward(config, weights, x, device=device, dtype=dtype, training=True, seed=seed), weights

    # Invalid configs ("invalid_configs"): _build_error(raw_config, input_shape) -> the exception raised while
    # building and calling the layer from a raw config, or None (torch has no Keras config parser: no such ability).
