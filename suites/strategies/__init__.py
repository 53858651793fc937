"""Hypothesis strategies: valid layer configs with matching input shapes, and the arrays of one example.

An example is a `Case` (raw config, input shape, data seed); its arrays are drawn from the seed in the
adapter's dtype, so the same case replays exactly from three JSON-able values. Keys are sometimes left out of
the raw config so that the documented defaults are exercised. Each layer family has its own module that
exports `CASES` (layer -> strategy) and, where inputs need a special distribution, `INPUTS`. A multi-input
layer's case holds one shape per input; `arrays` then draws one array per input (its `INPUTS` entry takes the
list of shapes and returns the list of arrays).
"""
from __future__ import annotations

from typing import Callable

import numpy as np
from hypothesis import strategies as st

import oracle
from oracle import activations

from . import conv_transpose, convolution, core, keras1, locally_connected, pooling, reshaping, separable
from . import activity, advanced_activations, core_shapes, merge, noise, weight_params
from . import conv_recurrent, embedding, gated, recurrent, time_distributed, wrappers
from . import recurrent_training
from .base import OMIT, Case, config, distinct_inputs  # noqa: F401  (re-exported)

_FAMILIES = (core, convolution, separable, conv_transpose, locally_connected, pooling, reshaping,
             advanced_activations, core_shapes, activity, merge, noise, weight_params, keras1,
             embedding, time_distributed, recurrent, gated, conv_recurrent, wrappers, recurrent_training)

CASES: dict[str, st.SearchStrategy[Case]] = {}
# layer -> (rng, shape) -> input drawn in float64, for layers whose truth is ill-conditioned on plain uniform
# inputs (max pooling: ties between the largest values of a window).
INPUTS: dict[str, Callable[[np.random.Generator, tuple], np.ndarray]] = {}
# layer -> (rng, shape, raw config) -> input, where the input depends on the config (Masking plants timesteps
# equal to its mask_value).
CONFIG_INPUTS: dict[str, Callable[[np.random.Generator, tuple, dict], np.ndarray]] = {}
# layer -> (rng, canonical config, shapes) -> weights in float64, for weights with a constrained range (a
# variance must be positive).
WEIGHTS: dict[str, Callable[[np.random.Generator, dict, list], list[np.ndarray]]] = {}
# layer -> strategy of training-mode cases (suites/test_training.py), for layers whose training mode differs.
TRAINING: dict[str, st.SearchStrategy[Case]] = {}
for _family in _FAMILIES:
    CASES.update(_family.CASES)
    INPUTS.update(getattr(_family, "INPUTS", {}))
    CONFIG_INPUTS.update(getattr(_family, "CONFIG_INPUTS", {}))
    WEIGHTS.update(getattr(_family, "WEIGHTS", {}))
    TRAINING.update(getattr(_family, "TRAINING", {}))

# Invalid configs of every family: (raw config, input shape, parameter and value the error must name).
invalid_cases = st.one_of([_family.INVALID for _family in _FAMILIES if hasattr(_family, "INVALID")])

conv_case = convolution.conv_case  # used by the oracle self-tests


def cases(layer: str) -> st.SearchStrategy[Case]:
    """Valid cases of one report row (a class, or keras1.<Name>); every row has a strategy (checked by a test)."""
    return CASES[layer]


def uniform_inputs(rng: np.random.Generator, shape: tuple) -> np.ndarray:
    return rng.uniform(-2.0, 2.0, size=shape)


def arrays(case: Case, dtype: str) -> tuple[np.ndarray | list[np.ndarray], list[np.ndarray], np.ndarray]:
    """(input, weights, output cotangent) drawn from the case's seed in `dtype`, upcast to float64; for a
    multi-input case the input is a list of arrays, one per shape.

    Drawn in the backend dtype first so both sides start from the same numbers and input rounding is not
    counted as error. Weights are scaled by 1/sqrt(fan_in) so pre-activations stay O(1), where every
    activation is neither saturated nor overflowing."""
    rng = np.random.default_rng(case.seed)
    if case.multi_input:
        shape = [tuple(s) for s in case.input_shape]
        x = INPUTS.get(case.layer, lambda r, shapes: [uniform_inputs(r, s) for s in shapes])(rng, shape)
    else:
        shape = tuple(case.input_shape)
        x = CONFIG_INPUTS[case.layer](rng, shape, case.config) if case.layer in CONFIG_INPUTS \
            else INPUTS.get(case.layer, uniform_inputs)(rng, shape)
    shapes = oracle.weight_shapes(case.config, shape)
    if case.layer in WEIGHTS:
        ws = WEIGHTS[case.layer](rng, oracle.normalize(case.config)["config"], shapes)
    else:
        ws = []
        for s in shapes:
            fan_in = int(np.prod(s[:-1])) if len(s) > 1 else 1
            ws.append(rng.uniform(-1.0, 1.0, size=s) * np.sqrt(3.0 / max(fan_in, 1)))
    out = oracle.output_shape(case.config, shape)
    # a layer with several outputs (return_state) gets one cotangent per output
    g = [rng.uniform(-1.0, 1.0, size=s) for s in out] if isinstance(out, list) else rng.uniform(-1.0, 1.0, size=out)
    cast = lambda a: a.astype(dtype).astype(np.float64)  # noqa: E731
    return ([cast(a) for a in x] if case.multi_input else cast(x)), [cast(w) for w in ws], \
        ([cast(a) for a in g] if isinstance(g, list) else cast(g))


def case_mask(case: Case) -> np.ndarray | None:
    """The (batch, timesteps) boolean mask a `mask=True` case calls its layer with, else None.

    Drawn from its own generator (seeded by the case seed) so the arrays of the case do not change: each step is
    kept with probability 0.6, so leading, trailing and consecutive masked steps and (rarely) fully masked rows
    all occur; Keras 2.2.x accepts any pattern."""
    if not case.mask:
        return None
    shape = case.input_shape[0] if case.multi_input else case.input_shape
    rng = np.random.default_rng([case.seed, 1])
    return rng.random((shape[0], shape[1])) < 0.6


def coverage_cases(layer: str) -> list[Case]:
    """Explicit examples run before the drawn ones, so that every activation name is exercised in every profile
    (a derandomized run of 100 draws once never drew hard_sigmoid)."""
    shapes = {"Activation": (2, 3, 4), "Dense": (2, 3, 4), "Conv1D": (2, 6, 3)}
    if layer not in shapes:
        return []
    extra = {"Dense": {"units": 3}, "Conv1D": {"filters": 2, "kernel_size": 3, "padding": "same"}}.get(layer, {})
    return [Case({"class_name": layer, "config": {**extra, "activation": name}}, shapes[layer], seed)
            for seed, name in enumerate(activations.NAMES)]
