"""Hypothesis strategies: valid layer configs with matching input shapes, and the arrays of one example.

An example is a `Case` (raw config, input shape, data seed); its arrays are drawn from the seed in the
adapter's dtype, so the same case replays exactly from three JSON-able values. Keys are sometimes left out of
the raw config so that the documented defaults are exercised.
"""
from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st

import oracle
from oracle import activations

OMIT = object()  # "leave this key out of the config"


@dataclass(frozen=True)
class Case:
    config: dict            # raw config as a user would write it (defaults may be missing)
    input_shape: tuple
    seed: int

    @property
    def layer(self) -> str:
        return self.config["class_name"]

    def to_json(self) -> str:
        return json.dumps({"config": self.config, "input_shape": list(self.input_shape), "seed": self.seed})


def _config(name: str, params: dict) -> dict:
    return {"class_name": name, "config": {k: v for k, v in params.items() if v is not OMIT}}


def _maybe(draw, strategy):
    """A drawn value, or OMIT so that the documented default is used."""
    return draw(st.one_of(st.just(OMIT), strategy))


def _int_or_tuple(draw, rank, lo, hi):
    values = tuple(draw(st.integers(lo, hi)) for _ in range(rank))
    return draw(st.sampled_from([values, list(values)] + ([values[0]] if len(set(values)) == 1 else [])))


ACTIVATION = st.sampled_from(activations.NAMES + (None,))


@st.composite
def conv_case(draw, rank: int) -> Case:
    """Conv{rank}D: even and odd kernels, kernel == input size, stride > kernel, dilation with same/causal."""
    paddings = ["valid", "same"] + (["causal"] if rank == 1 else [])
    padding = draw(st.sampled_from(paddings + [OMIT]))
    kernel = _int_or_tuple(draw, rank, 1, 4 if rank < 3 else 3)
    kt = kernel if isinstance(kernel, (tuple, list)) else (kernel,) * rank
    dilate = draw(st.booleans())
    strides = OMIT if dilate or draw(st.booleans()) else _int_or_tuple(draw, rank, 1, 5)  # stride > kernel too
    dilation = _int_or_tuple(draw, rank, 1, 3) if dilate else OMIT
    dt = (dilation if isinstance(dilation, (tuple, list)) else (dilation,) * rank) if dilation is not OMIT else (1,) * rank
    data_format = draw(st.sampled_from(["channels_last", "channels_first", OMIT] + ([None] if rank > 1 else [])))
    params = {"filters": draw(st.integers(1, 4)), "kernel_size": kernel, "strides": strides, "padding": padding,
              "data_format": data_format, "dilation_rate": dilation,
              "activation": _maybe(draw, ACTIVATION), "use_bias": _maybe(draw, st.booleans())}
    max_size = 7 if rank < 3 else 5
    sizes = []
    for k, d in zip(kt, dt):
        span = (k - 1) * d + 1
        lo = span if padding in ("valid", OMIT) else 1  # 'valid' needs the window to fit; lo == span is k == input
        sizes.append(draw(st.integers(lo, max(lo, max_size, span + 2))))
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    shape = (batch, channels, *sizes) if data_format == "channels_first" else (batch, *sizes, channels)
    return Case(_config(f"Conv{rank}D", params), shape, draw(st.integers(0, 2 ** 32 - 1)))


@st.composite
def dense_case(draw) -> Case:
    """Dense on inputs of rank 2 to 4 (the kernel acts on the last axis)."""
    params = {"units": draw(st.integers(1, 6)), "activation": _maybe(draw, ACTIVATION),
              "use_bias": _maybe(draw, st.booleans())}
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
    return Case(_config("Dense", params), shape, draw(st.integers(0, 2 ** 32 - 1)))


@st.composite
def activation_case(draw) -> Case:
    """Activation by every Keras 2 name on inputs of rank 2 to 4."""
    shape = tuple(draw(st.lists(st.integers(1, 5), min_size=2, max_size=4)))
    return Case(_config("Activation", {"activation": draw(ACTIVATION)}), shape,
                draw(st.integers(0, 2 ** 32 - 1)))


CASES = {"Dense": dense_case(), "Activation": activation_case(),
         "Conv1D": conv_case(1), "Conv2D": conv_case(2), "Conv3D": conv_case(3)}


def cases(layer: str) -> st.SearchStrategy[Case]:
    """Valid cases of one layer; every layer of the oracle has a strategy (checked by a test)."""
    return CASES[layer]


def arrays(case: Case, dtype: str) -> tuple[np.ndarray, list[np.ndarray], np.ndarray]:
    """(input, weights, output cotangent) drawn from the case's seed in `dtype`, upcast to float64.

    Drawn in the backend dtype first so both sides start from the same numbers and input rounding is not
    counted as error. Weights are scaled by 1/sqrt(fan_in) so pre-activations stay O(1), where every
    activation is neither saturated nor overflowing."""
    rng = np.random.default_rng(case.seed)
    shape = tuple(case.input_shape)
    x = rng.uniform(-2.0, 2.0, size=shape)
    ws = []
    for s in oracle.weight_shapes(case.config, shape):
        fan_in = int(np.prod(s[:-1])) if len(s) > 1 else 1
        ws.append(rng.uniform(-1.0, 1.0, size=s) * np.sqrt(3.0 / max(fan_in, 1)))
    g = rng.uniform(-1.0, 1.0, size=oracle.output_shape(case.config, shape))
    cast = lambda a: a.astype(dtype).astype(np.float64)  # noqa: E731
    return cast(x), [cast(w) for w in ws], cast(g)


def coverage_cases(layer: str) -> list[Case]:
    """Explicit examples run before the drawn ones, so that every activation name is exercised in every profile
    (a derandomized run of 100 draws once never drew hard_sigmoid)."""
    shapes = {"Activation": (2, 3, 4), "Dense": (2, 3, 4), "Conv1D": (2, 6, 3)}
    if layer not in shapes:
        return []
    extra = {"Dense": {"units": 3}, "Conv1D": {"filters": 2, "kernel_size": 3, "padding": "same"}}.get(layer, {})
    return [Case({"class_name": layer, "config": {**extra, "activation": name}}, shapes[layer], seed)
            for seed, name in enumerate(activations.NAMES)]
