"""Hypothesis strategies: valid layer configs with matching input shapes, and the arrays of one example.

An example is a `Case` (raw config, input shape, data seed); its arrays are drawn from the seed in the
adapter's dtype, so the same case replays exactly from three JSON-able values. Keys are sometimes left out of
the raw config so that the documented defaults are exercised. Every report row has one `Record`
(suites/strategies/base.py) that carries all the suites need: its cases, input and weight distributions,
training-mode and weight-parameter cases. Each module of this package is one layer family; it exports `RECORDS`
(or `records(catalog)` when its cases draw other rows' cases) and, optionally, `INVALID`: invalid configs of its
layers. They are found by discovery: a new family module needs no edit here. A multi-input layer's case holds one
shape per input; `arrays` then draws one array per input.
"""
from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

import numpy as np
from hypothesis import strategies as st

import oracle
from oracle import activations

from .base import OMIT, Case, Catalog, Record, config, distinct_inputs, uniform_inputs  # noqa: F401  (re-exported)


def _discover() -> tuple[dict[str, ModuleType], Catalog]:
    """(family name -> module, row -> its record): every module of this package but base.py, sorted by name.
    The `records(catalog)` families are called with the dict that collection fills, complete once this returns."""
    families = {info.name: importlib.import_module(f"{__name__}.{info.name}")
                for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name) if info.name != "base"}
    catalog = Catalog()
    for module in families.values():
        if hasattr(module, "RECORDS") == hasattr(module, "records"):
            raise ImportError(f"{module.__name__} must export RECORDS or records(catalog), not both or neither")
        for record in module.RECORDS if hasattr(module, "RECORDS") else module.records(catalog):
            catalog.add(record)
    return families, catalog


FAMILIES, RECORDS = _discover()

# Invalid configs of every family: (raw config, input shape, parameter and value the error must name).
invalid_cases = st.one_of([f.INVALID for f in FAMILIES.values() if hasattr(f, "INVALID")])

conv_case = FAMILIES["convolution"].conv_case  # used by the oracle self-tests


def record(layer: str) -> Record:
    """The record of one report row (a class, or keras1.<Name>)."""
    if layer not in RECORDS:
        raise KeyError(f"no strategies record for layer {layer!r}: add a Record to its family module in "
                       "suites/strategies/")
    return RECORDS[layer]


def cases(layer: str) -> st.SearchStrategy[Case]:
    """Valid cases of one report row; every row has a strategy (checked by a test)."""
    return record(layer).cases


def training_layers() -> list[str]:
    """The rows whose record has training-mode cases, sorted."""
    return sorted(name for name, r in RECORDS.items() if r.training is not None)


def arrays(case: Case, dtype: str) -> tuple[np.ndarray | list[np.ndarray], list[np.ndarray], np.ndarray]:
    """(input, weights, output cotangent) drawn from the case's seed in `dtype`, upcast to float64; for a
    multi-input case the input is a list of arrays, one per shape.

    Drawn in the backend dtype first so both sides start from the same numbers and input rounding is not
    counted as error. Weights are scaled by 1/sqrt(fan_in) so pre-activations stay O(1), where every
    activation is neither saturated nor overflowing."""
    rng = np.random.default_rng(case.seed)
    rec = record(case.layer)
    shape = [tuple(s) for s in case.input_shape] if case.multi_input else tuple(case.input_shape)
    x = rec.draw_input(rng, shape, case.config)
    shapes = oracle.weight_shapes(case.config, shape)
    if rec.weights is not None:
        ws = rec.weights(rng, oracle.normalize(case.config)["config"], shapes)
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
