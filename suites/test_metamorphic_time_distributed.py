"""Metamorphic relation of TimeDistributed, on the oracle and on every adapter (suites/metamorphic.py):
TimeDistributed(Dense) on (batch, timesteps, features) equals Dense on the batch x time merged axis; recorded under
check "metamorphic:time_distributed_dense"."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from .metamorphic import RECORDED, assert_equal, relation_fixture  # noqa: F401 (the `relation` fixture)

SEED = st.integers(0, 2 ** 32 - 1)


@RECORDED
@given(batch=st.integers(1, 3), steps=st.integers(1, 4), features=st.integers(1, 5), units=st.integers(1, 4),
       use_bias=st.booleans(), seed=SEED)
def test_time_distributed_dense_is_dense_on_the_merged_axis(backend, relation, batch, steps, features, units,
                                                            use_bias, seed):
    """TimeDistributed(Dense(units))(x) == Dense(units)(x.reshape(batch * steps, features)), reshaped; the bound is
    the sum of both sides' bounds from the policy (TimeDistributed's is its Dense bound on the merged axis)."""
    dense = {"class_name": "Dense", "config": {"units": units, "use_bias": use_bias}}
    wrapped = {"class_name": "TimeDistributed", "config": {"layer": dense}}
    backend.skip_unless_supported(wrapped, dense)
    rng = np.random.default_rng(seed)
    x = rng.uniform(-2, 2, (batch, steps, features))
    ws = [backend.cast(rng.uniform(-1, 1, (features, units)))] + ([backend.cast(rng.uniform(-1, 1, units))]
                                                                  if use_bias else [])
    with relation.example("time_distributed_dense", wrapped, x, seed) as ex:
        assert_equal("TimeDistributed(Dense)(x) == Dense(x merged)", backend, [(wrapped, ws)], [(dense, ws)], x,
                     rhs_x=x.reshape(batch * steps, features), example=ex)
