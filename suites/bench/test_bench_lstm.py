"""LSTM forward in float64: the oracle's recurrent program (oracle/recurrent.py) against tf-keras's LSTM layer and
torch.nn.LSTM on the CPU, one group so pytest-benchmark prints them side by side; the report computes the
ratios against the declared peers (extra_info["peer"]), never asserted here.

One shape: x (16, 20, 32), 64 units, recurrent_activation='sigmoid' (the one torch.nn.LSTM has), tanh. Each
benchmark checks, outside the timing, that its result agrees with the oracle within the tolerance policy's float64
bound of the layer (suites/bounded.py carries it through the 20 steps).
"""
from __future__ import annotations

import os

import numpy as np
import pytest

import oracle
from adapters.base import conformance_environment
from suites import tolerance

GROUP = "lstm-float64-16x20x32-64"
BATCH, STEPS, FEATURES, UNITS = 16, 20, 32, 64
CONFIG = oracle.normalize({"class_name": "LSTM", "config": {"units": UNITS, "recurrent_activation": "sigmoid",
                                                            "return_sequences": True}})
ROUNDS = 5
PEERS = ["test_tf_keras_lstm", "test_torch_lstm"]


def _info(benchmark, **extra):
    benchmark.group = GROUP
    benchmark.extra_info.update({"x_shape": [BATCH, STEPS, FEATURES], "units": UNITS, "dtype": "float64",
                                 "cpu_count": os.cpu_count(), **extra})


@pytest.fixture(scope="module")
def case():
    rng = np.random.default_rng(20261121)
    x = rng.uniform(-1.0, 1.0, size=(BATCH, STEPS, FEATURES))
    shapes = oracle.weight_shapes(CONFIG, x.shape)
    ws = [rng.uniform(-1.0, 1.0, size=s) / np.sqrt(s[0] if len(s) > 1 else 1) for s in shapes]
    return {"x": x, "weights": ws, "expected": oracle.forward(CONFIG, ws, x),
            "bound": tolerance.forward_bound(CONFIG, ws, x, "float64")}


def _check(got, case):
    err = np.abs(np.asarray(got, dtype=np.float64) - case["expected"])
    assert np.all(err <= case["bound"]), f"error {err.max():.3e} beyond the float64 bound"


def test_oracle_lstm(benchmark, case):
    """oracle.forward: config checks, then 20 steps of the program in NumPy."""
    _info(benchmark, framework="oracle.forward", numpy=np.__version__, peer=PEERS)
    y = benchmark.pedantic(lambda: oracle.forward(CONFIG, case["weights"], case["x"]), rounds=ROUNDS, iterations=1,
                           warmup_rounds=1)
    _check(y, case)


def test_tf_keras_lstm(benchmark, case):
    """tf-keras LSTM built once with the documented weights, called eagerly; .numpy() forces the result."""
    conformance_environment()
    tf = pytest.importorskip("tensorflow", reason="tensorflow is not importable: no tf-keras benchmark")
    keras = pytest.importorskip("tf_keras", reason="tf_keras is not importable: no tf-keras benchmark")
    cfg = {k: list(v) if isinstance(v, tuple) else v for k, v in CONFIG["config"].items()}
    layer = keras.layers.LSTM.from_config({**cfg, "dtype": "float64"})
    layer.build(case["x"].shape)
    layer.set_weights(case["weights"])
    xt = tf.constant(case["x"])
    _info(benchmark, framework="tf_keras", tensorflow=tf.__version__)
    y = benchmark.pedantic(lambda: layer(xt).numpy(), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _check(y, case)


def test_torch_lstm(benchmark, case):
    """torch.nn.LSTM with the Keras weights mapped in (docs/traps.md 11: transposed kernels, the bias in b_ih)."""
    torch = pytest.importorskip("torch", reason="torch is not importable: no PyTorch benchmark")
    kernel, recurrent, bias = (torch.from_numpy(w) for w in case["weights"])
    lstm = torch.nn.LSTM(FEATURES, UNITS, batch_first=True, dtype=torch.float64)
    with torch.no_grad():
        lstm.weight_ih_l0.copy_(kernel.T)
        lstm.weight_hh_l0.copy_(recurrent.T)
        lstm.bias_ih_l0.copy_(bias)
        lstm.bias_hh_l0.zero_()
    xt = torch.from_numpy(case["x"])
    _info(benchmark, framework="torch", torch=torch.__version__, torch_num_threads=torch.get_num_threads())

    def run():
        with torch.no_grad():
            return lstm(xt)[0].numpy()
    y = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _check(y, case)
