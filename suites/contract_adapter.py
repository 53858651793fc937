"""The smallest adapter the contract allows (adapters/base.py), for suites/test_backend_contract.py: the oracle
itself, rounded to the run's dtype, on a few layers and with no optional ability. Registered only through
CONFORMANCE_ADAPTERS="reference=suites.contract_adapter", so it proves a new backend is one module: every generic
suite picks it up, and the suites that need an ability it lacks skip it with the reason."""
from __future__ import annotations

import numpy as np

import oracle
from adapters.base import Adapter


LAYERS = frozenset({"Dense", "Conv1D", "MaxPooling1D", "Flatten"})


def _rounded(value, dtype: str):
    """The float64 answer rounded once to `dtype` (a list of outputs elementwise): a correctly rounded backend."""
    if isinstance(value, list):
        return [_rounded(v, dtype) for v in value]
    return np.asarray(value, dtype=np.float64).astype(dtype)


class ReferenceAdapter(Adapter):
    name = "reference"
    package = "numpy"
    layers = LAYERS
    unsupported_layers = {name: "the minimal contract adapter maps four layers only" for name in oracle.LAYERS
                          if name not in LAYERS}

    def _forward(self, config, weights, x, *, device, dtype, training, seed):
        return _rounded(oracle.forward(config, [np.asarray(w, np.float64) for w in weights], np.asarray(x, np.float64)),
                        dtype)

    def _vjp(self, config, weights, x, g, *, device, dtype, training=False):
        gx, gws = oracle.vjp(config, [np.asarray(w, np.float64) for w in weights], np.asarray(x, np.float64),
                             np.asarray(g, np.float64))
        return _rounded(gx, dtype), [_rounded(w, dtype) for w in gws]

    def versions(self):
        return {"numpy": np.__version__}


ADAPTER = ReferenceAdapter()
