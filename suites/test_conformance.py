"""Generic conformance: every (layer, adapter, device, dtype) x (shape, forward, gradient), by hypothesis.

A failure prints the shrunk case, the seed, the worst element against its bound, and a replay command.
"""
from __future__ import annotations

import pytest
from hypothesis import assume, example, given

import adapters
import oracle

from . import checks, strategies


@pytest.mark.parametrize("check", ["shape", "forward", "gradient"])
def test_conformance(target, check, recorder):
    layer, name, device, dtype = target
    adapter = adapters.get(name)
    recorder.skip_if_unsupported(adapter)

    @given(case=strategies.cases(layer))
    def examples(case):
        if check == "gradient":
            assume(checks.gradient_well_posed(case, dtype))
        if check in ("forward", "gradient"):
            assume(checks.representable(case, dtype, check))
        outcome = checks.run(check, case, adapter, device, dtype)
        recorder.add(case, outcome)
        if outcome.status in ("fail", "error"):
            raise AssertionError(f"{outcome.message}\nreplay: "
                                 f"{checks.replay_command(case, name, device, dtype, check)}")

    for case in strategies.coverage_cases(layer):
        examples = example(case=case)(examples)
    examples()


def test_every_layer_has_a_strategy_and_every_adapter_a_mapping_or_reason():
    """The pluggy-style declaration check: adapters claim only layers the oracle has."""
    assert {n for n, r in strategies.RECORDS.items() if r.cases is not None} == set(oracle.ROWS)
    for name in adapters.names():
        a = adapters.get(name)
        extra = (set(a.layers) | set(a.unsupported_layers)) - set(oracle.LAYERS)
        assert not extra, f"{name} declares layers the oracle does not implement: {sorted(extra)}"
        missing = set(oracle.LAYERS) - set(a.layers) - set(a.unsupported_layers)
        assert not missing, f"{name} neither maps nor explains {sorted(missing)}"
