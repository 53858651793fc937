"""Strategies for the weight parameters (`*_initializer`, `*_regularizer`, `*_constraint`,
`activity_regularizer`) of every layer that documents them, found from the oracle's specs: a layer's own
conformance case with weight parameters drawn in every documented form (names, aliases, dicts with and without
arguments, omitted keys). `INVALID` holds values the oracle must reject."""
from __future__ import annotations

from typing import Mapping

from hypothesis import strategies as st

import oracle
from oracle import weight_parameters as wp

from .base import OMIT, Case, Record, maybe

SEED = st.integers(0, 2 ** 16)
_NAMES = ["zeros", "zero", "Zeros", "ones", "one", "Ones", "constant", "uniform", "random_uniform", "normal",
          "random_normal", "truncated_normal", "TruncatedNormal", "RandomNormal", "RandomUniform", "VarianceScaling",
          "lecun_uniform", "lecun_normal", "glorot_uniform", "glorot_normal", "he_uniform", "he_normal"]


def layers_with_weight_params() -> list[str]:
    """Every oracle layer that takes an initializer, regularizer or constraint (or regularizes its output)."""
    return sorted(name for name, layer in oracle.LAYERS.items()
                  if name in wp.ACTIVITY or any(p.endswith(("_initializer", "_regularizer", "_constraint"))
                                                for p in layer.spec))


@st.composite
def initializer(draw, rank: int, square: bool, dense: bool):
    """A name, or a dict with some arguments; Orthogonal for weights of rank >= 2, Identity for Dense kernels."""
    names = _NAMES + (["orthogonal", "Orthogonal"] if rank >= 2 else []) + (["identity", "Identity"] if dense and rank == 2 else [])
    name = draw(st.sampled_from(names))
    if draw(st.booleans()):
        return name
    args = {"Constant": {"value": st.floats(-3, 3)}, "constant": {"value": st.floats(-3, 3)},
            "RandomNormal": {"mean": st.floats(-1, 1), "stddev": st.floats(0.01, 2)},
            "RandomUniform": {"minval": st.floats(-2, -0.01), "maxval": st.floats(0.01, 2)},
            "TruncatedNormal": {"mean": st.floats(-1, 1), "stddev": st.floats(0.01, 2)},
            "VarianceScaling": {"scale": st.floats(0.1, 3), "mode": st.sampled_from(["fan_in", "fan_out", "fan_avg"]),
                                "distribution": st.sampled_from(["normal", "uniform"])},
            "Orthogonal": {"gain": st.floats(0.5, 2)}, "Identity": {"gain": st.floats(0.5, 2)}}
    cls = {"uniform": "RandomUniform", "random_uniform": "RandomUniform", "normal": "RandomNormal",
           "random_normal": "RandomNormal", "truncated_normal": "TruncatedNormal", "orthogonal": "Orthogonal",
           "identity": "Identity"}.get(name, name)
    config = {k: v for k, s in args.get(cls, {}).items() if (v := maybe(draw, s)) is not OMIT}
    if "seed" in oracle.initializers.CLASSES.get(oracle.initializers.NAMES.get(name, (cls,))[0], {}):
        config.update({"seed": draw(SEED)} if draw(st.booleans()) else {})
    return {"class_name": name, "config": config}


REGULARIZER = st.one_of(
    st.sampled_from(["l1", "l2", "l1_l2"]),
    st.builds(lambda a, b: {"class_name": "L1L2", "config": {"l1": a, "l2": b}}, st.floats(0, 0.5), st.floats(0, 0.5)),
    st.builds(lambda n, a: {"class_name": n, "config": {"l": a}}, st.sampled_from(["l1", "l2"]), st.floats(0, 0.5)),
    st.builds(lambda a, b: {"class_name": "l1_l2", "config": {"l1": a, "l2": b}}, st.floats(0, 0.5), st.floats(0, 0.5)))


@st.composite
def constraint(draw, rank: int):
    """A name (defaults: axis 0), or a dict with a valid axis for the weight: an int or a list of axes."""
    name = draw(st.sampled_from(["max_norm", "MaxNorm", "maxnorm", "non_neg", "NonNeg", "nonneg", "unit_norm",
                                 "UnitNorm", "unitnorm", "min_max_norm", "MinMaxNorm"]))
    if draw(st.booleans()):
        return name
    axes = draw(st.lists(st.integers(0, rank - 1), min_size=1, max_size=rank, unique=True))
    axis = draw(st.sampled_from([axes, axes[0], axes[0] - rank]))
    args = {"max_value": st.floats(0.1, 3), "axis": st.just(axis)}
    if name in ("min_max_norm", "MinMaxNorm"):
        args.update(min_value=st.floats(0, 0.5), max_value=st.floats(0.6, 2), rate=st.floats(0, 1))
    if name in ("non_neg", "NonNeg", "nonneg"):
        args = {}
    if name in ("unit_norm", "UnitNorm", "unitnorm"):
        args = {"axis": st.just(axis)}
    return {"class_name": name, "config": {k: v for k, s in args.items() if (v := maybe(draw, s)) is not OMIT}}


@st.composite
def weight_param_case(draw, catalog: Mapping[str, Record], layer: str) -> Case:
    """The layer's own conformance case with initializers, regularizers and constraints drawn for its weights."""
    base = draw(catalog[layer].cases)
    params = dict(base.config["config"])
    shapes = oracle.weight_shapes(base.config, base.input_shape)
    spec = oracle.LAYERS[layer].spec
    for prefix, shape in zip(oracle.weight_params(base.config), shapes):
        square = len(shape) == 2 and shape[0] == shape[1]
        for suffix, strategy in (("initializer", initializer(len(shape), square, layer == "Dense")),
                                 ("regularizer", REGULARIZER), ("constraint", constraint(len(shape)))):
            if f"{prefix}_{suffix}" in spec:
                value = maybe(draw, strategy)
                if value is not OMIT:
                    params[f"{prefix}_{suffix}"] = value
    if "activity_regularizer" in spec:
        value = maybe(draw, REGULARIZER)
        if value is not OMIT:
            params["activity_regularizer"] = value
    return Case({"class_name": layer, "config": params}, base.input_shape, base.seed)


def records(catalog: Mapping[str, Record]) -> tuple[Record, ...]:
    """The `weight_params` cases of every layer that has weight parameters: its own cases extended (no layer of
    its own here)."""
    return tuple(Record(layer, weight_params=weight_param_case(catalog, layer)) for layer in layers_with_weight_params())


@st.composite
def invalid_weight_param(draw):
    """Dense with an unknown name, an unknown argument, a bad argument value, or None as an initializer."""
    kind = draw(st.sampled_from(["initializer", "regularizer", "constraint"]))
    param = f"{draw(st.sampled_from(['kernel', 'bias']))}_{kind}"
    bad = draw(st.sampled_from({
        "initializer": ["glorot", "xavier_uniform", "kaiming_normal", None,
                        {"class_name": "RandomNormal", "config": {"std": 1.0}},
                        {"class_name": "VarianceScaling", "config": {"scale": -1.0}},
                        {"class_name": "VarianceScaling", "config": {"mode": "fan_sum"}}],
        "regularizer": ["l3", "L2Norm", {"class_name": "L1L2", "config": {"l3": 0.1}},
                        {"class_name": "L1L2", "config": {"l1": "0.1"}}],
        "constraint": ["max", "non_negative", {"class_name": "MaxNorm", "config": {"maxval": 3}},
                       {"class_name": "UnitNorm", "config": {"axis": "0"}}],
    }[kind]))
    return {"class_name": "Dense", "config": {"units": 2, param: bad}}, (2, 3), param, bad


INVALID = invalid_weight_param()
