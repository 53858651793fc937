"""Metamorphic relations of the recurrent layers, on the oracle and on every adapter (suites/metamorphic.py):
go_backwards is the reversed input, Bidirectional(merge_mode='sum') is the forward layer plus the re-reversed
backward layer, and two stateful calls on the halves of a sequence are one call on the whole (reset_states() a
fresh start). Each relation is checked on the backend against itself (and the stateful one against the oracle's
`stateful_run` too); the allowed difference is the sum of the two sides' bounds from the tolerance policy
(tolerance.forward_bound of each side's layer), never a literal. Generic over every recurrent layer the oracle
runs as a program with go_backwards (GRU, LSTM ... join when they register).

Recorded under checks metamorphic:go_backwards, metamorphic:bidirectional_sum, metamorphic:stateful_halves and
metamorphic:stateful_vs_oracle. An example on which a known divergence makes the backend raise is recorded as
discarded (naming the entry) and rejected; one whose stateful run a known mismatch keeps from agreeing with the
oracle's is discarded for stateful_vs_oracle only. Examples whose truth overflows the dtype (`_finite`) are no
examples at all and are not recorded."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import adapters
import oracle

from . import strategies, tolerance
from .compare import compare
from .metamorphic import RECORDED, Discarded, Example, discard_reason, known_divergence
from .metamorphic import relation_fixture  # noqa: F401 (the `relation` fixture)
from .strategies.wrappers import inner_layers

INNER = [name for name in inner_layers() if strategies.record(name).cases is not None]
# Each example runs the layer three to five times on a backend (and the oracle's bounds as often): a quarter of the
# profile's examples keeps the file near a minute; the conformance suite draws the layers themselves in full.
EXAMPLES = settings(RECORDED, max_examples=max(4, settings().max_examples // 4))


def _with(config: dict, **extra) -> dict:
    return {"class_name": config["class_name"], "config": {**config["config"], **extra}}


def _draw(data, layer: str, backend, **extra):
    """A canonical config of `layer` (with `extra`), its weights and a plain input (no initial states) in the
    backend's dtype, the case's mask (or None) and its seed."""
    case = data.draw(strategies.cases(layer), label="case")
    x, ws, _ = strategies.arrays(case, backend.dtype)
    x = backend.cast(x[0] if isinstance(x, list) else x)
    config = _with(oracle.normalize(case.config), **extra)
    backend.skip_unless_supported(config)
    ws = [backend.cast(w) for w in ws]
    _finite(config, ws, x, backend.dtype)
    return config, ws, x, strategies.case_mask(case), case.seed


def _finite(config, ws, x, dtype) -> None:
    """Exp fed back through time overflows: a value beyond the dtype has no relation to check (as in conformance)."""
    with np.errstate(all="ignore"):
        y = oracle.forward(config, ws, x)
    assume(all(np.all(np.abs(a) < np.finfo(dtype).max / 16) for a in (y if isinstance(y, list) else [y])))


def _known(backend, config, x):
    """The recorded divergence that already explains this backend's forward pass differing from the oracle's, or
    None."""
    return known_divergence(backend, config, ("mismatch",), x.shape, masked=False)


def _forward(backend, config: dict, ws: list, x, mask=None):
    """One layer on `backend` (float64 results). A call that raises where a recorded divergence says the backend
    raises, with the exception the entry describes (Keras 3's channels_first ConvLSTM2D on CPU, tf-keras's float64
    stateful ConvLSTM2D ...), has no relation to check: `Discarded` records the example as discarded and rejects
    it, and the conformance suite records the divergence itself."""
    if backend.name == "oracle":
        return oracle.forward(config, ws, x, mask=mask)
    try:
        y = adapters.get(backend.name).forward(config, ws, x, device=backend.device, dtype=backend.dtype, mask=mask)
    except Exception as exc:
        entry = known_divergence(backend, config, ("error",), np.shape(x), masked=mask is not None, exc=exc)
        if entry:
            raise Discarded(entry, config["class_name"]) from exc
        raise
    return [np.asarray(a, np.float64) for a in y] if isinstance(y, list) else np.asarray(y, np.float64)


def _bound(config, ws, x, dtype, mask=None) -> np.ndarray:
    b = tolerance.forward_bound(config, ws, x, dtype, mask=mask)
    return b[0] if isinstance(b, list) else b


def _check(what: str, backend, left, right, bound, example: Example) -> None:
    c = compare("lhs", left, right, bound + np.finfo(backend.dtype).tiny)
    example.saw(c)
    assert c.ok, f"{what} [{backend.id}] shape={np.shape(left)}: {c.describe()}"


@pytest.mark.parametrize("layer", INNER)
@EXAMPLES
@given(data=st.data())
def test_go_backwards_is_the_reversed_input(backend, relation, layer, data):
    """layer(go_backwards=True)(x, mask) == layer(go_backwards=False)(x reversed in time, mask reversed): the
    same steps in the same order on the same numbers."""
    config, ws, x, mask, seed = _draw(data, layer, backend, return_state=False, go_backwards=True)
    fwd = _with(config, go_backwards=False)
    rev_mask = None if mask is None else mask[:, ::-1]
    with relation.example("go_backwards", config, x, seed, mask=mask is not None) as ex:
        left, right = _forward(backend, config, ws, x, mask), _forward(backend, fwd, ws, x[:, ::-1], rev_mask)
        bound = _bound(config, ws, x, backend.dtype, mask) + _bound(fwd, ws, x[:, ::-1], backend.dtype, rev_mask)
        _check(f"{layer}(go_backwards) == {layer}(reversed input)", backend, left, right, bound, ex)


@pytest.mark.parametrize("layer", INNER)
@EXAMPLES
@given(data=st.data())
def test_bidirectional_sum_is_forward_plus_rereversed_backward(backend, relation, layer, data):
    """Bidirectional(layer, merge_mode='sum')(x) == layer(x) + layer(go_backwards negated)(x), the backward
    sequence re-reversed in time (docs/traps.md 17), each run as its own layer with its half of the weights."""
    # Keras 3 refuses a wrapped layer that already has go_backwards=True (recorded:
    # keras-bidirectional-rejects-go-backwards-layer); the relation is checked there on forward layers
    extra = {"go_backwards": False} if backend.name == "keras" else {}
    inner, ws, x, _, seed = _draw(data, layer, backend, return_state=False, **extra)
    bidi = {"class_name": "Bidirectional", "config": {"layer": inner, "merge_mode": "sum"}}
    backend.skip_unless_supported(bidi)
    bidi = oracle.normalize(bidi)
    back = _with(inner, go_backwards=not inner["config"]["go_backwards"])
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="weights seed"))
    ws_back = [backend.cast(rng.uniform(-1.0, 1.0, np.shape(w))) for w in ws]
    _finite(back, ws_back, x, backend.dtype)
    with relation.example("bidirectional_sum", bidi, x, seed) as ex:
        y_fwd, y_back = _forward(backend, inner, ws, x), _forward(backend, back, ws_back, x)
        b_back = _bound(back, ws_back, x, backend.dtype)
        if inner["config"]["return_sequences"]:
            y_back, b_back = y_back[:, ::-1], b_back[:, ::-1]
        left = _forward(backend, bidi, ws + ws_back, x)
        bound = _bound(bidi, ws + ws_back, x, backend.dtype) + _bound(inner, ws, x, backend.dtype) + b_back
        _check(f"Bidirectional({layer}, 'sum') == forward + re-reversed backward", backend, left, y_fwd + y_back,
               bound, ex)


@pytest.mark.parametrize("layer", [name for name in INNER if "stateful" in oracle.LAYERS[name].spec])
@EXAMPLES
@given(data=st.data())
def test_stateful_halves_equal_one_pass(backend, relation, layer, data):
    """One stateful layer called on the two halves of a sequence == one call on the whole sequence; with
    reset_states() before the second call it == a fresh call on the second half. On an adapter both sides also
    equal the oracle's stateful_run within the same bounds."""
    config, ws, x, _, seed = _draw(data, layer, backend, stateful=True, return_sequences=True, return_state=False,
                                   go_backwards=False)
    assume(x.shape[1] >= 2)
    known = known_divergence(backend, config, ("error",), x.shape, masked=False)
    if known:  # every stateful call of this config raises on this backend (tf-keras's float64 ConvLSTM2D)
        for name in ("stateful_halves", "stateful_vs_oracle"):  # recorded before the skip ends the test
            relation.discard(name, config, x, seed, known,
                             discard_reason(known, layer, "the relation cannot be checked"))
        pytest.skip(f"{backend.name} raises on this stateful config: known divergence {known.id}")
    stacked_keras3 = backend.name == "keras" and isinstance(config["config"].get("cell"), list)
    half = x.shape[1] // 2
    halves = [x[:, :half], x[:, half:]]
    bound = _bound(config, ws, x, backend.dtype)
    second = _bound(config, ws, halves[1], backend.dtype)
    if backend.name == "oracle":
        run = lambda reset=(): oracle.stateful_run(config, ws, halves, reset=reset)  # noqa: E731
    else:
        a = adapters.get(backend.name)
        if a.lacks("stateful"):
            pytest.skip(a.lacks("stateful"))
        run = lambda reset=(): [np.asarray(y, np.float64) for y in a.stateful_run(  # noqa: E731
            config, ws, halves, device=backend.device, dtype=backend.dtype, reset=reset)]
    with relation.example("stateful_halves", config, x, seed) as ex:
        whole = _forward(backend, config, ws, x)
        fresh_ref = _forward(backend, config, ws, halves[1])
        joined = np.concatenate(run(), axis=1)
        _check(f"{layer} stateful halves == one pass", backend, joined, whole, 2.0 * bound, ex)
        if not stacked_keras3:  # Keras 3 cannot reset a stack's states: test_keras3_stacked_cells_reset_states_raises
            fresh = run(reset=(1,))[1]
            _check(f"{layer} reset_states() == a fresh call", backend, fresh, fresh_ref, 2.0 * second, ex)
    if backend.name == "oracle":
        return
    known = _known(backend, config, x)
    if known:  # the backend's own semantics differ from the oracle's here: the self-relations above still held
        relation.discard("stateful_vs_oracle", config, x, seed, known,
                         discard_reason(known, layer, "its stateful run cannot be compared with the oracle's"))
        return
    with relation.example("stateful_vs_oracle", config, x, seed) as ex:
        ref = np.concatenate(oracle.stateful_run(config, ws, halves), axis=1)
        _check(f"{layer} stateful halves == oracle.stateful_run", backend, joined, ref, bound, ex)


def test_keras3_stacked_cells_reset_states_raises():
    """A finding pinned here (a divergence entry cannot name reset_states): Keras 3's RNN over StackedRNNCells
    keeps a stack's states in a tracked list it then tries to `assign` to, so reset_states() on a stateful stack
    raises AttributeError; Keras 2.2.x resets them to zeros. This test fails once Keras 3 fixes it."""
    a = adapters.get("keras")
    if a.installed():
        pytest.skip(a.installed())
    config = oracle.normalize({"class_name": "RNN", "config": {"cell": [{"class_name": "SimpleRNNCell",
                                                                          "config": {"units": 1}}], "stateful": True}})
    x = np.zeros((1, 2, 1))
    ws = [np.zeros(s) for s in oracle.weight_shapes(config, x.shape)]
    with pytest.raises(AttributeError, match="assign"):
        a.stateful_run(config, ws, [x, x], reset=(1,))

