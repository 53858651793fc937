"""The Keras 1 API of seed 000 (the convolution family), translated to Keras 2 configs.

A config is read as Keras 1 when
  * its class exists only in Keras 1 (Convolution1D/2D/3D), or
  * it carries ``"keras_version": "1..."`` beside ``class_name`` (a Keras 1 model file records the version at
    its top; a single layer's config has to carry it itself), or
  * it uses an argument only Keras 1 had (border_mode, dim_ordering, pool_length, subsample, ...).
Its arguments are then parsed against the seed 000 signature (Keras 1 defaults, e.g. ``dim_ordering='th'``),
renamed, and returned as an ordinary Keras 2 config that `oracle.normalize` canonicalises.

Choices written down here (seed 000 is the reference for Keras 1 behaviour):
  * ``dim_ordering`` defaults to 'th' (channels_first) as seed 000 documents. Keras 2.2.x's legacy interface
    instead maps an absent dim_ordering to Keras 2's default (channels_last): the two readings of the same
    Keras 1 config differ, and this module follows the Keras 1 documentation.
  * Only the value forms seed 000 documents are accepted: tuples for the 2D/3D sizes (Keras 1 called
    ``tuple(...)`` on them, so an int raised), ints for the 1D ones. 'full' border mode (Theano only), 'causal'
    (added in Keras 2), dim_ordering 'default' (depends on keras.json) and non-None ``weights`` (initial weights
    inside a config; pass them as the weights argument) have no Keras 2 config equivalent: each is an error
    naming it.
  * ``init`` is renamed to kernel_initializer with Keras 2's names ('zero' -> 'zeros', 'one' -> 'ones'), as
    Keras 2.2.x's legacy interface does. Keras 1's glorot_normal / he_normal drew an untruncated normal where
    Keras 2 truncates at two standard deviations: the rename keeps the name, not that distribution.
  * Keras 1 regularizer / constraint configs ({'name': 'L1L2Regularizer', 'l1':, 'l2':},
    {'name': 'MaxNorm', 'm':, 'axis':}, {'name': 'MinMaxNorm', 'low':, 'high':, ...}) become their Keras 2
    serialisations (L1L2, MaxNorm(max_value), MinMaxNorm(min_value, max_value)).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

from .params import FRAMEWORK_KEYS, REQUIRED, boolean, choice, invalid, positive_int
from .registry import LAYERS as KERAS2

Parser = Callable[[str, str, Any], Any]

DIM_ORDERING = {"th": "channels_first", "tf": "channels_last"}
INIT_NAMES = {"zero": "zeros", "one": "ones"}  # every other Keras 1 initialization keeps its name in Keras 2
REGULARIZER_NAMES = {"l1l2": "l1_l2", "activity_l1": "l1", "activity_l2": "l2", "activity_l1l2": "l1_l2"}
CONSTRAINT_NAMES = {"maxnorm": "max_norm", "nonneg": "non_neg", "unitnorm": "unit_norm"}
# Keras 1 constraint config keys that Keras 2 renamed, per class.
CONSTRAINT_KEYS = {"MaxNorm": {"m": "max_value"}, "MinMaxNorm": {"low": "min_value", "high": "max_value"}}
KERAS1_FRAMEWORK_KEYS = FRAMEWORK_KEYS | {"input_dtype"}


def strict_tuple(rank: int) -> Parser:
    """A tuple/list of `rank` positive ints (Keras 1 converted these with tuple(), so a bare int was an error)."""
    def parse(layer: str, param: str, value: Any) -> tuple[int, ...]:
        if not isinstance(value, (list, tuple)) or len(value) != rank or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in value):
            raise invalid(layer, param, value, f"expected a tuple of {rank} positive integers (Keras 1, seed 000)")
        return tuple(int(v) for v in value)
    return parse


def non_negative_tuple(rank: int) -> Parser:
    """ZeroPadding's tuple of `rank` non-negative ints (each pads both ends of one axis)."""
    def parse(layer: str, param: str, value: Any) -> tuple[int, ...]:
        if rank == 1 and isinstance(value, int) and not isinstance(value, bool) and value >= 0:
            return int(value)
        if rank == 1 or not isinstance(value, (list, tuple)) or len(value) != rank or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value):
            what = "a non-negative integer" if rank == 1 else f"a tuple of {rank} non-negative integers"
            raise invalid(layer, param, value, f"expected {what} (Keras 1, seed 000)")
        return tuple(int(v) for v in value)
    return parse


def optional(parser: Parser) -> Parser:
    return lambda layer, param, value: None if value is None else parser(layer, param, value)


def border_mode(layer: str, param: str, value: Any) -> str:
    if value == "full":
        raise invalid(layer, param, value, "Keras 1's Theano-only 'full' mode has no Keras 2 equivalent; "
                                           "expected 'valid' or 'same'")
    return choice("valid", "same")(layer, param, value)


def dim_ordering(layer: str, param: str, value: Any) -> str:
    if value == "default":
        raise invalid(layer, param, value, "'default' means keras.json's image_dim_ordering, which a config "
                                           "cannot know; expected 'th' or 'tf'")
    return DIM_ORDERING[choice("th", "tf")(layer, param, value)]


def init(layer: str, param: str, value: Any) -> str:
    if not isinstance(value, str):
        raise invalid(layer, param, value, "expected the name of a Keras 1 initialization")
    return INIT_NAMES.get(value, value)


def _renamed(layer, param, value, names: Mapping[str, str], keys: Mapping[str, Mapping[str, str]], what: str):
    """A Keras 1 regularizer/constraint (None, a name, or {'name': ..., args}) as its Keras 2 serialisation."""
    if value is None:
        return None
    if isinstance(value, str):
        return names.get(value, value)
    if isinstance(value, Mapping) and isinstance(value.get("name"), str):
        cls = value["name"]
        renames = keys.get(cls, {})
        return {"class_name": cls, "config": {renames.get(k, k): v for k, v in value.items() if k != "name"}}
    raise invalid(layer, param, value, f"expected None, a {what} name or a Keras 1 {what} config "
                                       "{'name': ..., ...}")


def regularizer(layer: str, param: str, value: Any):
    out = _renamed(layer, param, value, REGULARIZER_NAMES, {}, "regularizer")
    if isinstance(out, dict) and out["class_name"] in ("L1L2Regularizer", "WeightRegularizer", "ActivityRegularizer"):
        out = {"class_name": "L1L2", "config": out["config"]}  # Keras 1.2 aliases of one class
    return out


def constraint(layer: str, param: str, value: Any):
    return _renamed(layer, param, value, CONSTRAINT_NAMES, CONSTRAINT_KEYS, "constraint")


def no_weights(layer: str, param: str, value: Any) -> None:
    if value is not None:
        raise invalid(layer, param, "<arrays>", "initial weights inside a config have no Keras 2 config "
                                                "equivalent; pass them as the separate weights argument")
    return None


@dataclass(frozen=True)
class Keras1Layer:
    """One Keras 1 signature of seed 000 and how it becomes a Keras 2 config.

    spec:   Keras 1 argument -> (default, parser), the defaults of seed 000.
    build:  parsed Keras 1 arguments -> the Keras 2 layer's parameters."""
    name: str
    target: str
    spec: Mapping[str, tuple[Any, Parser]]
    build: Callable[[dict], dict]

    @property
    def row(self) -> str:
        """The report row and --layer name: a Keras 1 MaxPooling2D must not share the Keras 2 row."""
        return f"keras1.{self.name}"


LAYERS: dict[str, Keras1Layer] = {}


def _register(layer: Keras1Layer) -> None:
    LAYERS[layer.name] = layer


def _conv_common(default_init: str) -> dict:
    return {"init": (default_init, init), "activation": ("linear", lambda layer, p, v: v), "weights": (None, no_weights),
            "border_mode": ("valid", border_mode), "W_regularizer": (None, regularizer),
            "b_regularizer": (None, regularizer), "activity_regularizer": (None, regularizer),
            "W_constraint": (None, constraint), "b_constraint": (None, constraint), "bias": (True, boolean)}


def _conv_params(a: dict, kernel_size, strides, data_format=None) -> dict:
    out = {"filters": a["nb_filter"], "kernel_size": kernel_size, "strides": strides, "padding": a["border_mode"],
           "activation": a["activation"], "use_bias": a["bias"], "kernel_initializer": a["init"],
           "kernel_regularizer": a["W_regularizer"], "bias_regularizer": a["b_regularizer"],
           "activity_regularizer": a["activity_regularizer"], "kernel_constraint": a["W_constraint"],
           "bias_constraint": a["b_constraint"]}
    return out if data_format is None else {**out, "data_format": data_format}


# Convolution1D: seed 000 gives init='uniform' (Keras 1's uniform(scale=0.05) = Keras 2's 'uniform'), and no
# dim_ordering: its input is (samples, steps, input_dim).
_register(Keras1Layer("Convolution1D", "Conv1D", {
    "nb_filter": (REQUIRED, positive_int), "filter_length": (REQUIRED, positive_int), **_conv_common("uniform"),
    "subsample_length": (1, positive_int), "input_dim": (None, optional(positive_int)),
    "input_length": (None, optional(positive_int))},
    lambda a: _conv_params(a, a["filter_length"], a["subsample_length"])))
_register(Keras1Layer("Convolution2D", "Conv2D", {
    "nb_filter": (REQUIRED, positive_int), "nb_row": (REQUIRED, positive_int), "nb_col": (REQUIRED, positive_int),
    **_conv_common("glorot_uniform"), "subsample": ((1, 1), strict_tuple(2)), "dim_ordering": ("th", dim_ordering)},
    lambda a: _conv_params(a, (a["nb_row"], a["nb_col"]), a["subsample"], a["dim_ordering"])))
_register(Keras1Layer("Convolution3D", "Conv3D", {
    "nb_filter": (REQUIRED, positive_int), "kernel_dim1": (REQUIRED, positive_int),
    "kernel_dim2": (REQUIRED, positive_int), "kernel_dim3": (REQUIRED, positive_int),
    **_conv_common("glorot_uniform"), "subsample": ((1, 1, 1), strict_tuple(3)), "dim_ordering": ("th", dim_ordering)},
    lambda a: _conv_params(a, (a["kernel_dim1"], a["kernel_dim2"], a["kernel_dim3"]), a["subsample"],
                           a["dim_ordering"])))

for _kind in ("Max", "Average"):
    # 1D pooling: no dim_ordering in Keras 1, steps on axis 1.
    _register(Keras1Layer(f"{_kind}Pooling1D", f"{_kind}Pooling1D", {
        "pool_length": (2, positive_int), "stride": (None, optional(positive_int)), "border_mode": ("valid", border_mode)},
        lambda a: {"pool_size": a["pool_length"], "strides": a["stride"], "padding": a["border_mode"]}))
    for _rank in (2, 3):
        _register(Keras1Layer(f"{_kind}Pooling{_rank}D", f"{_kind}Pooling{_rank}D", {
            "pool_size": ((2,) * _rank, strict_tuple(_rank)), "strides": (None, optional(strict_tuple(_rank))),
            "border_mode": ("valid", border_mode), "dim_ordering": ("th", dim_ordering)},
            lambda a: {"pool_size": a["pool_size"], "strides": a["strides"], "padding": a["border_mode"],
                       "data_format": a["dim_ordering"]}))

_register(Keras1Layer("UpSampling1D", "UpSampling1D", {"length": (2, positive_int)}, lambda a: {"size": a["length"]}))
_register(Keras1Layer("ZeroPadding1D", "ZeroPadding1D", {"padding": (1, non_negative_tuple(1))},
                      lambda a: {"padding": a["padding"]}))
for _rank in (2, 3):
    _register(Keras1Layer(f"UpSampling{_rank}D", f"UpSampling{_rank}D", {
        "size": ((2,) * _rank, strict_tuple(_rank)), "dim_ordering": ("th", dim_ordering)},
        lambda a: {"size": a["size"], "data_format": a["dim_ordering"]}))
    # Keras 1's ZeroPadding2D (a, b) pads a rows at the top and at the bottom, b columns left and right: the same
    # reading as Keras 2's tuple of symmetric amounts.
    _register(Keras1Layer(f"ZeroPadding{_rank}D", f"ZeroPadding{_rank}D", {
        "padding": ((1,) * _rank, non_negative_tuple(_rank)), "dim_ordering": ("th", dim_ordering)},
        lambda a: {"padding": a["padding"], "data_format": a["dim_ordering"]}))

KERAS1_ONLY = frozenset({"Convolution1D", "Convolution2D", "Convolution3D"})
ROWS: dict[str, Keras1Layer] = {layer.row: layer for layer in LAYERS.values()}


def _only_keras1_args(layer: Keras1Layer) -> set[str]:
    """Arguments whose presence marks a config of a shared class name (MaxPooling2D ...) as Keras 1."""
    return set(layer.spec) - set(KERAS2[layer.target].spec) if layer.target in KERAS2 else set(layer.spec)


def is_keras1(config: Mapping[str, Any]) -> bool:
    """Whether a {'class_name', 'config'} dict is written in the Keras 1 API (see the module docstring)."""
    name = config.get("class_name")
    if name not in LAYERS:
        return False
    version = config.get("keras_version")
    if version is not None:
        return str(version).split(".")[0] == "1"
    raw = config.get("config", {})
    return name in KERAS1_ONLY or (isinstance(raw, Mapping) and bool(set(raw) & _only_keras1_args(LAYERS[name])))


def translate(config: Mapping[str, Any]) -> dict:
    """The Keras 2 config ({'class_name', 'config'}) of a Keras 1 one; ValueError naming a bad argument."""
    layer = LAYERS[config["class_name"]]
    raw = config.get("config", {})
    if not isinstance(raw, Mapping):
        raise ValueError(f"{layer.name}: config={raw!r} is not allowed: expected a dict of parameters")
    unknown = sorted(set(raw) - set(layer.spec) - KERAS1_FRAMEWORK_KEYS)
    if unknown:
        raise ValueError(f"{layer.name}: argument {unknown[0]!r} is not allowed: it is not in the Keras 1 signature "
                         f"of seed 000 (expected some of {', '.join(layer.spec)}); write the config in one API")
    args = {}
    for param, (default, parser) in layer.spec.items():
        if param in raw:
            args[param] = parser(layer.name, param, raw[param])
        elif default is REQUIRED:
            raise ValueError(f"{layer.name}: missing required argument {param!r} (Keras 1, seed 000)")
        else:
            args[param] = parser(layer.name, param, default)  # the seed's defaults go through the parser too
    params = layer.build(args)
    params.update({k: raw[k] for k in ("name", "trainable") if k in raw})
    shape = _batch_input_shape(raw, args)
    if shape is not None:
        params["batch_input_shape"] = shape
    return {"class_name": layer.target, "config": params}


def _batch_input_shape(raw: Mapping[str, Any], args: dict) -> tuple | None:
    """Keras 1's ways of fixing the input: batch_input_shape, input_shape, or Convolution1D's
    input_dim/input_length (steps = input_length, None when only input_dim is given)."""
    if raw.get("batch_input_shape") is not None:
        return tuple(raw["batch_input_shape"])
    if raw.get("input_shape") is not None:
        return (None, *raw["input_shape"])
    if args.get("input_dim") is not None:
        return (None, args.get("input_length"), args["input_dim"])
    return None
