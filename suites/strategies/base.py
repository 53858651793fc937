"""What every family's strategies share: the `Case`, omitted keys, int-or-tuple parameters, seeds."""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Callable, Mapping

import numpy as np
from hypothesis import strategies as st

import oracle
from oracle import activations

OMIT = object()  # "leave this key out of the config"


@dataclass(frozen=True)
class Case:
    config: dict            # raw config as a user would write it (defaults may be missing)
    input_shape: tuple      # one shape, or for a multi-input layer (merge) a tuple of shapes, one per input
    seed: int
    mask: bool = False      # the layer is called with a (batch, timesteps) mask drawn from the seed (case_mask)

    def __post_init__(self):
        # a replayed multi-input case arrives as JSON lists of lists: hold every shape as a tuple
        if self.multi_input:
            object.__setattr__(self, "input_shape", tuple(tuple(s) for s in self.input_shape))

    @property
    def layer(self) -> str:
        """The report row: the class name, or keras1.<Name> for a config in the Keras 1 API."""
        return oracle.row_name(self.config)

    @property
    def multi_input(self) -> bool:
        """Whether input_shape lists several input shapes."""
        return bool(self.input_shape) and isinstance(self.input_shape[0], (list, tuple))

    def spec(self) -> dict:
        """The JSON-able fields that replay the case ("mask" only when set)."""
        return {"config": self.config, "input_shape": list(self.input_shape), "seed": self.seed,
                **({"mask": True} if self.mask else {})}

    def to_json(self) -> str:
        return json.dumps(self.spec())

    @classmethod
    def from_spec(cls, spec: dict) -> "Case":
        """The case of a replay spec, a result record or a divergence witness."""
        return cls(spec["config"], tuple(spec["input_shape"]), int(spec["seed"]), bool(spec.get("mask", False)))


def uniform_inputs(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """The default input distribution: uniform on [-2, 2)."""
    return rng.uniform(-2.0, 2.0, size=shape)


@dataclass(frozen=True)
class Record:
    """Everything the suites need to test one report row (a class, or keras1.<Name>), in one place.

    A family module exports `RECORDS` (a tuple of them) or, when its cases draw other layers' cases (the
    wrappers, weight parameters), `records(catalog)` -> tuple, where `catalog` maps every row to its record once
    collection is done (look it up when drawing, never when building the strategy). Records of one row from
    several modules merge field by field (recurrent_training.py adds the recurrent layers' training cases); a
    field given twice is an error. Fields left None take the default.

    cases:          strategy of valid cases (every row has one: suites/test_conformance.py checks it);
    inputs:         (rng, shape) -> input in float64, for a layer whose truth is ill-conditioned on uniform
                    inputs (max pooling: ties between the largest values of a window); (rng, [shapes]) -> [inputs]
                    for a multi-input layer. Default: uniform on [-2, 2);
    config_inputs:  (rng, shape, raw config) -> input, where the input depends on the config (Masking plants
                    timesteps equal to its mask_value, Embedding draws indices below input_dim);
    weights:        (rng, canonical config, shapes) -> weights in float64, for weights with a constrained range (a
                    variance must be positive). Default: uniform, scaled by 1/sqrt(fan_in);
    training:       strategy of training-mode cases (suites/test_training.py) for a layer whose training mode
                    differs from inference;
    weight_params:  strategy of cases with initializers, regularizers and constraints drawn for the weights
                    (suites/test_weight_params.py).
    """
    layer: str
    cases: st.SearchStrategy | None = None
    inputs: Callable | None = None
    config_inputs: Callable | None = None
    weights: Callable | None = None
    training: st.SearchStrategy | None = None
    weight_params: st.SearchStrategy | None = None

    def merged(self, other: "Record") -> "Record":
        """This record with the fields `other` sets; ValueError when both set one."""
        fields = {}
        for f in dataclasses.fields(self):
            mine, theirs = getattr(self, f.name), getattr(other, f.name)
            if f.name != "layer" and mine is not None and theirs is not None:
                raise ValueError(f"record {self.layer}: field {f.name!r} is given by two family modules")
            fields[f.name] = mine if theirs is None else theirs
        return Record(**fields)

    def draw_input(self, rng: np.random.Generator, shape, raw: dict):
        """The input of one example of this row (`shape` a list of shapes for a multi-input layer)."""
        if self.config_inputs is not None:
            return self.config_inputs(rng, shape, raw)
        if self.inputs is not None:
            return self.inputs(rng, shape)
        if isinstance(shape, list):
            return [uniform_inputs(rng, s) for s in shape]
        return uniform_inputs(rng, shape)


class Catalog(Mapping):
    """Row -> its Record, filled by the package's discovery. Its repr is short: hypothesis prints the strategies
    that take a catalog, and the records hold those strategies again."""

    def __init__(self):
        self._records: dict[str, Record] = {}

    def add(self, record: Record) -> None:
        """Add a record, or merge it into the row's record already here."""
        known = self._records.get(record.layer)
        self._records[record.layer] = record if known is None else known.merged(record)

    def __getitem__(self, layer: str) -> Record:
        return self._records[layer]

    def __iter__(self):
        return iter(self._records)

    def __len__(self) -> int:
        return len(self._records)

    def __repr__(self) -> str:
        return f"<catalog of {len(self)} records>"


def config(name: str, params: dict) -> dict:
    """A raw Keras config; OMIT values are left out so the documented default applies."""
    return {"class_name": name, "config": {k: v for k, v in params.items() if v is not OMIT}}


def maybe(draw, strategy):
    """A drawn value, or OMIT so that the documented default is used."""
    return draw(st.one_of(st.just(OMIT), strategy))


def int_or_tuple(draw, rank, lo, hi):
    """`rank` ints in [lo, hi], written as a tuple, a list, or (when all equal) a single int."""
    values = tuple(draw(st.integers(lo, hi)) for _ in range(rank))
    return draw(st.sampled_from([values, list(values)] + ([values[0]] if len(set(values)) == 1 else [])))


def expand(value, rank, default):
    """The tuple a drawn int-or-tuple (or OMIT -> default) stands for."""
    if value is OMIT:
        value = default
    return tuple(value) if isinstance(value, (tuple, list)) else (value,) * rank


def seed(draw) -> int:
    return draw(st.integers(0, 2 ** 32 - 1))


ACTIVATION = st.sampled_from(activations.NAMES + (None,))


def distinct_inputs(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    """Every element different by at least 4/size (a shuffled grid on [-2, 2)), so that the largest value of any
    window leads the second largest by far more than float32 rounding: max pooling's gradient is well-defined."""
    n = int(np.prod(shape))
    return (-2.0 + 4.0 * (rng.permutation(n) + 0.5) / max(n, 1)).reshape(shape)


def window_sizes(draw, kernel, dilation, rank: int, padding, max_size: int) -> list[int]:
    """Spatial input sizes for a sliding window: with 'valid' (or padding omitted) at least the dilated kernel
    span, so the window fits (the lower end is kernel == input); up to max_size, or span + 2 for wide kernels."""
    sizes = []
    for k, d in zip(expand(kernel, rank, 1), expand(dilation, rank, 1)):
        span = (k - 1) * d + 1
        lo = span if padding in ("valid", OMIT) else 1
        sizes.append(draw(st.integers(lo, max(lo, max_size, span + 2))))
    return sizes


def layout(batch: int, channels: int, sizes, data_format) -> tuple:
    """The input shape in the layer's data_format (None and OMIT mean channels_last)."""
    return (batch, channels, *sizes) if data_format == "channels_first" else (batch, *sizes, channels)
