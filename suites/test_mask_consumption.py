"""Masks consumed across layers on every backend (docs/traps.md 16): Masking(mask_value) and Embedding(mask_zero=True)
feeding each recurrent layer (suites/mask_chain.py), and TimeDistributed over a recurrent layer (the 4-D input
case) through the conformance checks. Records go to the report under check "mask_chain"."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import adapters
import oracle

from . import alternatives, checks, divergences, mask_chain
from .recording import Recorder
from .strategies import Case, cases

ADAPTERS = adapters.with_ability("masks")
DTYPES = ("float32", "float64")
# Each example builds a real two-layer model; an eighth of the profile's examples keeps the module's cost near a
# conformance row's.
EXAMPLES = max(3, settings().max_examples // 8)


@st.composite
def sequence_case(draw, layer: str) -> Case:
    """A conformance case of a recurrent layer on one 3-D input (no initial states: the first layer has one
    output), so a mask-producing layer can be put in front of it."""
    case = draw(cases(layer).filter(lambda c: not isinstance(c.input_shape[0], (list, tuple))
                                    and len(c.input_shape) == 3))
    return Case(case.config, case.input_shape, case.seed)


FIRST = {
    "Masking": st.one_of(st.just({}), st.sampled_from([0.0, 1.5, -2.0]).map(lambda v: {"mask_value": v})),
    "Embedding": st.integers(2, 5).map(lambda n: {"input_dim": n, "mask_zero": True}),
}


def _adapter(name: str):
    adapter = adapters.get(name)
    if adapter.installed():
        pytest.skip(adapter.installed())
    return adapter


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("second", mask_chain.SECOND)
@pytest.mark.parametrize("first", sorted(FIRST))
@pytest.mark.parametrize("name", ADAPTERS)
def test_mask_consumed_by_the_next_layer(name, first, second, dtype, request):
    from conftest import results_path
    adapter = _adapter(name)
    rec = Recorder(request.node.nodeid, second, name, "cpu", dtype, "mask_chain")
    failures = []

    @settings(max_examples=EXAMPLES, deadline=None)
    @given(case=sequence_case(second), params=FIRST[first])
    def examples(case, params):
        cfg = oracle.normalize(case.config)
        _, w2, _ = mask_chain.arrays(case, dtype)
        if first == "Masking":
            head = {"class_name": "Masking", "config": params}
            x, kept = mask_chain.masked_input(case, dtype, oracle.normalize(head)["config"]["mask_value"])
            w1 = []
        else:
            head = {"class_name": "Embedding", "config": {**params, "output_dim": case.input_shape[-1]}}
            x, kept = mask_chain.embedding_input(case, params["input_dim"])
            rng = np.random.default_rng(case.seed + 2)
            w1 = [rng.uniform(-1, 1, (params["input_dim"], case.input_shape[-1])).astype(dtype).astype(np.float64)]
        head = oracle.normalize(head)  # adapters always get complete canonical configs
        with np.errstate(all="ignore"):
            mask, y, bound = mask_chain.truth(head, w1, cfg, w2, x, dtype)
        flat = y if isinstance(y, list) else [y]
        assume(all(np.all(np.abs(a) < np.finfo(dtype).max / 16) for a in flat))  # as checks.representable
        assert np.array_equal(mask, kept), "the oracle's mask is not the drawn pattern"
        try:
            got_mask, got = adapter.mask_chain(head, w1, cfg, w2, x, dtype=dtype)
            cs = mask_chain.comparisons(mask, got_mask, y, bound, got)
            bad = "; ".join(c.describe() for c in cs if not c.ok)
            how = "mismatch"
        except Exception as exc:  # the backend cannot run the chain: an error, as in the forward check
            bad, how, error = f"{type(exc).__name__}: {exc}"[:400], "error", exc

        def evidence(d):
            """The second layer's own forward divergence (on masked calls) excuses the chain only as it excuses
            the forward check: the same exception, or the same alternative semantics within the bound."""
            if how == "error":
                return d.explains_error(error)
            if not d.semantics:
                return d.explains_bounded(cs)
            with np.errstate(all="ignore"):
                m, alt, alt_bound = mask_chain.truth(head, w1, cfg, w2, x, dtype, alternatives.truth(d.semantics))
            worse = [c for c in mask_chain.comparisons(m, got_mask, alt, alt_bound, got) if not c.ok]
            return f"{d.id}: not {d.semantics} either ({worse[0].describe()})" if worse else None
        try:
            known = bad and divergences.match(name, second, cfg["config"], "cpu", dtype, "forward", how,
                                              case.input_shape, masked=True, evidence=evidence)
        except divergences.Overlap as exc:
            known, bad = None, f"{bad}; {exc}"
        status = "pass" if not bad else "known-divergence" if known else "fail" if how == "mismatch" else "error"
        # recorded as the second layer's masked case; the message names the first layer
        rec.add(Case(case.config, case.input_shape, case.seed, True),
                checks.Outcome(status, f"after {head}: {bad}" if bad else "",
                               divergence_id=known.id if known else None, reason=known.reason if known else None,
                               details={"observed": bad} if known else {}))
        if status in ("fail", "error"):
            failures.append(f"{head} -> {case.config} input_shape={case.input_shape} seed={case.seed}: {bad}")

    rec.run_examples(examples, failures, results_path(request.config))


@st.composite
def time_distributed_recurrent(draw) -> Case:
    """TimeDistributed over a recurrent layer: its 3-D case with an outer axis of 1 to 3 inserted after the batch
    axis, (batch, outer, timesteps, features); stateful and return_state cases are dropped (2.2.x TimeDistributed
    reshapes batch x outer into one batch and keeps one output)."""
    inner = draw(sequence_case(draw(st.sampled_from(("SimpleRNN", "GRU", "LSTM", "RNN")))))
    c = oracle.normalize(inner.config)["config"]
    assume(not c.get("stateful") and not c.get("return_state"))
    shape = (inner.input_shape[0], draw(st.integers(1, 3)), *inner.input_shape[1:])
    return Case({"class_name": "TimeDistributed", "config": {"layer": inner.config}}, shape, inner.seed)


@pytest.mark.parametrize("check", ["forward", "gradient"])
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", adapters.names())
def test_time_distributed_over_a_recurrent_layer(name, dtype, check, request):
    from conftest import results_path
    adapter = _adapter(name)
    rec = Recorder(request.node.nodeid, "TimeDistributed", name, "cpu", dtype, check)
    failures = []

    @settings(max_examples=EXAMPLES, deadline=None)
    @given(case=time_distributed_recurrent())
    def examples(case):
        assume(checks.representable(case, dtype, check))
        outcome = checks.run(check, case, adapter, "cpu", dtype)
        rec.add(case, outcome)
        if outcome.status in ("fail", "error"):
            failures.append(f"{outcome.message}\nreplay: {checks.replay_command(case, name, 'cpu', dtype, check)}")

    rec.run_examples(examples, failures, results_path(request.config))
