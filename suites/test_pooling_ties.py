"""The gradient of max pooling at tied maxima, on every adapter (DESIGN.md: the strategies keep a margin so that
conformance gradients are well-defined; this test covers the boundary itself).

The oracle's rule (oracle/pooling.py): a window's cotangent goes whole to its first maximum in row-major order;
the global max splits it evenly among the tied maxima. A backend that routes it otherwise fails here unless a
known-divergence entry (check 'tie_gradient') explains it."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import adapters
import oracle

from . import checks, strategies
from .strategies.pooling import MAX_LAYERS


def tie_decides(case: strategies.Case) -> bool:
    """Whether the tied input of `case` has a window whose gradient depends on the tie rule: breaking its ties
    towards the first and towards the last maximum (a tiny ramp over the row-major position) differ."""
    x, _, g = strategies.arrays(case, "float64")
    x = checks.tied(x)
    config = oracle.normalize(case.config)
    channels_first = config["config"]["data_format"] == "channels_first"
    spatial = x.shape[2:] if channels_first else x.shape[1:-1]
    ramp = np.arange(np.prod(spatial), dtype=np.float64).reshape(spatial) * 1e-6  # << the level spacing of 1
    ramp = ramp[None, None] if channels_first else ramp[None, ..., None]
    first, _ = oracle.vjp(config, [], x - ramp, g)
    last, _ = oracle.vjp(config, [], x + ramp, g)
    return not np.array_equal(first, last)


@pytest.mark.parametrize("layer", MAX_LAYERS)
def test_tie_gradient_follows_the_documented_rule(backend, layer):
    if backend.name == "oracle":
        pytest.skip("the oracle's own tie rule is pinned by suites/test_oracle_pooling.py")
    adapter = adapters.get(backend.name)
    why = adapter.supports({"class_name": layer, "config": {}}, backend.device, backend.dtype)
    if why:
        pytest.skip(f"{layer} on {backend.id}: {why}")
    decided = []

    @given(case=strategies.cases(layer))
    def examples(case):
        outcome = checks.run("tie_gradient", case, adapter, backend.device, backend.dtype)
        assert outcome.status in ("pass", "known-divergence"), (
            f"{outcome.message}\nreplay: "
            f"{checks.replay_command(case, backend.name, backend.device, backend.dtype, 'tie_gradient')}")
        decided.append(tie_decides(case))

    examples()
    assert any(decided), f"{layer}: no drawn example had a tie that decides the gradient; the test saw no tie"
