"""The Keras adapters' layer API, weight parameters and mask chains (the abilities "layer_api", "weight_params" and
"masks" of adapters/base.py): what tf-keras and Keras 3 share beyond running a layer, as a mixin of KerasAdapter
(adapters/keras_common.py), which provides _frameworks, _layer, _device and the other building blocks used here."""
from __future__ import annotations

import numpy as np


class KerasLayerAPI:
    """get_config / from_config facts, Keras 1 configs as written, initial weights, regularization losses,
    constraints and masks carried through a functional model."""

    def mask_chain(self, first: dict, w1: list, second: dict, w2: list, x, *, dtype: str):
        """(the mask the real first layer produces, the output of the real functional model Input -> first ->
        second): Keras carries the mask from one layer to the next itself."""
        import oracle  # deferred: a reproducer bundle copies the adapter modules without the oracle
        tf, k = self._frameworks()
        in_dtype = "int32" if first["class_name"] == "Embedding" else dtype
        with self._device("cpu"):
            l1 = self._layer(first, dtype, x.shape, [np.asarray(w, dtype) for w in w1])
            mid = tuple(oracle.output_shape(first, x.shape))
            l2 = self._layer(second, dtype, mid, [np.asarray(w, dtype) for w in w2])
            # batch_shape fixed: a stateful second layer needs its batch size (a fresh model starts at zero states)
            inp = k.Input(batch_shape=x.shape, dtype=in_dtype)
            model = k.Model(inp, l2(l1(inp)))
            xt = tf.constant(x.astype(in_dtype))
            y = model(xt, training=False)
            mask = l1.compute_mask(xt)
        y = [np.asarray(a) for a in tf.nest.flatten(list(y))] if isinstance(y, (list, tuple)) else np.asarray(y)
        return None if mask is None else np.asarray(mask), y

    # ---- the common layer API of seed 003: get_config / from_config, serialize / deserialize, get_weights /
    # set_weights, compute_output_shape ----

    # Keys a backend's get_config() writes that the documented Keras 2.2.x signature lacks, with the value that
    # means the documented behaviour. Any other value is kept, so oracle.normalize rejects it by name.
    BACKEND_ONLY = {"groups": 1, "keepdims": False, "quantization_config": None, "lora_rank": None,
                    "lora_alpha": None,
                    # recurrent layers: tf-keras's time-major input layout, masked steps' zero output (False = the
                    # previous output, the documented behaviour), Keras 3's cuDNN switch
                    "time_major": False, "zero_output_for_mask": False, "use_cudnn": "auto",
                    # tf-keras / Keras 3 give GaussianNoise/GaussianDropout a seed and SpatialDropout Dropout's
                    # noise_shape and seed; None is the documented behaviour (Dropout documents both: None again)
                    "seed": None, "noise_shape": None}
    # Per class: keys kept by a base class but unused by the layer (tf-keras SeparableConv inherits Conv's kernel_*
    # arguments and ignores them: its kernels are depthwise_* and pointwise_*), or added with a neutral value.
    UNUSED = {"SeparableConv1D": ("kernel_initializer", "kernel_regularizer", "kernel_constraint"),
              "SeparableConv2D": ("kernel_initializer", "kernel_regularizer", "kernel_constraint")}
    CLASS_ONLY = {("ZeroPadding1D", "data_format"): "channels_last",
                  # batch renormalisation, virtual batches, fused kernels, cross-replica statistics: off / unset
                  **{("BatchNormalization", k): v for k, v in {
                      "renorm": False, "renorm_clipping": None, "renorm_momentum": 0.99, "synchronized": False,
                      "fused": None, "virtual_batch_size": None, "adjustment": None}.items()}}
    # The envelope Keras 3 and tf-keras 2.21 wrap a serialised object in, and keys of nested configs with the
    # value that leaves the documented object unchanged (Keras 3 initializers' input_axes / output_axes).
    ENVELOPE = ("module", "registered_name")
    NESTED_ONLY = {"input_axes": None, "output_axes": None}

    def keras_config(self, class_name: str, backend_config: dict) -> dict:
        """A backend get_config() as a Keras 2.2.x config that oracle.normalize can canonicalise."""
        out = {}
        for key, value in backend_config.items():
            if class_name in ("TimeDistributed", "Bidirectional") and key == "layer":  # the wrapped layer, recursively
                inner = value["config"]
                if class_name == "Bidirectional" and inner.get("zero_output_for_mask") == inner.get("return_sequences"):
                    # Bidirectional sets it to return_sequences on its copies: zeros at masked steps of a returned
                    # sequence are the documented Bidirectional behaviour (docs/traps.md 16), not an extra parameter
                    inner = {k: v for k, v in inner.items() if k != "zero_output_for_mask"}
                out[key] = self.keras_config(value["class_name"], inner)
                continue
            if class_name == "Bidirectional" and key == "backward_layer":
                # Keras 3 writes the backward copy it made itself; 2.2.x had no such argument. Dropped when it is
                # the wrapped layer mirrored (go_backwards flipped, its own name): the documented behaviour
                if self._mirrored(backend_config["layer"], value):
                    continue
            if class_name == "RNN" and key == "cell":  # canonical: one cell config, or a list for stacked cells
                cells = value["config"]["cells"] if value["class_name"] == "StackedRNNCells" else None
                out[key] = [self.keras_config(c["class_name"], c["config"]) for c in cells] if cells is not None \
                    else self.keras_config(value["class_name"], value["config"])
                continue
            if class_name == "Embedding" and key == "batch_input_shape":
                # Embedding's constructor sets input_shape=(input_length,) itself (a nested tuple when input_length
                # is one, as in 2.2.x): derived from input_length, no shape the user gave
                continue
            if key in self.UNUSED.get(class_name, ()):
                continue
            if (class_name, key) in self.CLASS_ONLY and value == self.CLASS_ONLY[(class_name, key)]:
                continue
            if key in self.BACKEND_ONLY and value == self.BACKEND_ONLY[key]:
                continue
            out[key] = self._plain(value)
        return {"class_name": class_name, "config": out}

    def _mirrored(self, forward: dict, backward: dict) -> bool:
        """Whether a serialised backward layer is the forward one with go_backwards flipped (names aside)."""
        f, b = (self.keras_config(v["class_name"], {k: x for k, x in v["config"].items() if k != "name"})
                for v in (forward, backward))
        return f == {**b, "config": {**b["config"], "go_backwards": not b["config"].get("go_backwards", False)}}

    @staticmethod
    def _with(config: dict, extra: dict) -> dict:
        return {"class_name": config["class_name"], "config": {**config["config"], **extra}}

    def _plain(self, value):
        """A nested serialised object without the backend's envelope and neutral extra keys; a NumPy scalar (tf-keras
        ReLU keeps K.cast_to_floatx values, as Keras 2.2.x did) as the Python number it holds."""
        if isinstance(value, (np.ndarray, np.generic)) and np.ndim(value) == 0:
            return value.item()
        if isinstance(value, dict) and "class_name" in value:
            inner = {k: v for k, v in value.get("config", {}).items()
                     if not (k in self.NESTED_ONLY and v == self.NESTED_ONLY[k])} if isinstance(
                value.get("config"), dict) else value.get("config")
            return {"class_name": value["class_name"], "config": inner}
        return value

    def native_config(self, raw_config: dict, input_shape: tuple) -> dict:
        """The config the backend itself reads from a raw (e.g. Keras 1) config, built and called as written."""
        tf, k = self._frameworks()
        layer = getattr(k.layers, raw_config["class_name"]).from_config(dict(raw_config.get("config", {})))
        layer(tf.zeros(input_shape, dtype=layer.compute_dtype))
        return self.keras_config(type(layer).__name__, layer.get_config())

    def round_trip(self, config: dict, weights: list, x: np.ndarray, *, dtype: str) -> dict:
        """The real layer through the common layer API: its config after from_config(get_config()) and after
        layers.deserialize(layers.serialize(...)), get_weights(), compute_output_shape with an unknown batch,
        and the output of the layer and of a copy given set_weights(get_weights())."""
        tf, k = self._frameworks()
        multi = isinstance(x, list)  # a merge layer or a cell: a list of inputs
        cell = config["class_name"] in self.CELLS
        shapes = [tuple(a.shape) for a in x] if multi else tuple(x.shape)
        build = shapes[0] if cell else (list(shapes) if multi else shapes)
        layer = self._layer(config, dtype, build, weights)
        rebuilt = type(layer).from_config(layer.get_config())
        restored = k.layers.deserialize(k.layers.serialize(layer))
        copy = type(layer).from_config(layer.get_config())
        copy.build(build)
        copy.set_weights(layer.get_weights())
        if cell:  # a cell is called on (x_t, states); the cell API has no output-shape method to check (2.2.x)
            shape = None
        else:
            batchless = [(None,) + s[1:] for s in shapes] if multi else (None,) + shapes[1:]
            shape = layer.compute_output_shape(batchless)
            shape = _flat_shapes(shape)
        xt = [tf.constant(np.asarray(a, dtype)) for a in x] if multi else [tf.constant(np.asarray(x, dtype))]
        flat = lambda y: np.concatenate([np.ravel(a) for a in y]) if isinstance(y, list) else np.asarray(y)  # noqa: E731
        try:  # the layer API above needs no call; a backend that cannot run this config raises only here
            output = flat(self._apply(layer, xt, multi, training=False))
            copy_output, call_error = flat(self._apply(copy, xt, multi, training=False)), None
        except Exception as exc:  # reported by the check after the config facts
            output = copy_output = None
            call_error = exc
        name = config["class_name"]
        # Oracle-only keys (UpSampling2D's half_pixel_centers, docs/traps.md 18) have no Keras argument: they are carried
        # over, so that the comparison covers the keys the backend itself writes.
        carried = {k: v for k, v in config["config"].items() if k in self.ORACLE_ONLY}
        return {"from_config": self._with(self.keras_config(name, rebuilt.get_config()), carried),
                "deserialize": self._with(self.keras_config(name, restored.get_config()), carried),
                "weights": [np.asarray(w) for w in layer.get_weights()], "output_shape": shape,
                "output": output, "copy_output": copy_output, "call_error": call_error}

    # ---- weight parameters: initializers, regularizers, constraints ----

    def initial_weights(self, config, input_shape, *, seed, device="cpu", dtype="float64", draws=1, shapes=None):
        with self._device(device):
            layer = self._layer(_seeded(config, seed), dtype, input_shape, None)
            out = [[np.asarray(w) for w in layer.get_weights()]]
            # Further draws: the layer's own initializer objects, re-seeded, at its weights' shapes.
            # Keras 3 names DepthwiseConv2D's variable 'kernel' though its parameter is depthwise_initializer
            inits = [getattr(layer, f"{_prefix(v)}_initializer", None) or layer.depthwise_initializer
                     for v in layer.weights]
            forget = config["config"].get("unit_forget_bias") and config["config"].get("use_bias", True)
            for d in range(1, draws):
                if forget:  # the bias is drawn by a closure around bias_initializer: a fresh layer per draw
                    again = self._layer(_seeded(config, seed + 104729 * d), dtype, input_shape, None)
                    out.append([np.asarray(w) for w in again.get_weights()])
                    continue
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
            multi = isinstance(inputs, list)
            layer = self._layer(config, dtype, self._build_shape(config["class_name"], inputs), weights)
            y = self._apply(layer, [tf.constant(np.asarray(a, dtype)) for a in (inputs if multi else [inputs])], multi,
                            training=False)
            y = [np.asarray(a) for a in y] if isinstance(y, list) else np.asarray(y)
            return [float(np.asarray(loss)) for loss in layer.losses], y

    def constrained_weights(self, config, weights, input_shape, *, device="cpu", dtype="float64"):
        with self._device(device):
            layer = self._layer(config, dtype, input_shape, weights)
            return [np.asarray(v if v.constraint is None else v.constraint(t))
                    for v, t in zip(layer.weights, self._variables(layer))]

def _flat_shapes(shape):
    """compute_output_shape's answer as one tuple, or a flat list of tuples for several outputs: a list (tf-keras)
    or a tuple of shapes (Keras 3), nested per cell for stacked cells' states (flattened as the outputs are)."""
    if hasattr(shape, "as_list"):
        return tuple(shape.as_list())
    if isinstance(shape, (list, tuple)) and shape and (hasattr(shape[0], "as_list")
                                                       or isinstance(shape[0], (list, tuple))):
        out = []
        for s in shape:
            f = _flat_shapes(s)
            out += f if isinstance(f, list) else [f]
        return out
    return tuple(shape)


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
