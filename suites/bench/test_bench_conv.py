"""Conv2D forward in float64: the NumPy oracle against TensorFlow and PyTorch on the CPU.

One shape, x (8, 64, 64, 32) channels_last, kernel (3, 3, 32, 64), 'same' padding, stride 1. All four benchmarks
share one group, so pytest-benchmark prints them side by side; the oracle/TF and oracle/torch ratios are computed
by the report from the benchmark JSON (the oracle benchmarks declare TensorFlow and PyTorch as their peers in
extra_info["peer"], reports/bench.py) (`make bench` runs `pytest suites/bench --benchmark-only
--benchmark-json=...`), never asserted here.

The benchmarks live in their own folder instead of carrying a `benchmark` marker, because no such marker is
registered. Each checks, outside the timing, that the timed function's result agrees with the oracle.
"""
from __future__ import annotations

import os

import numpy as np
import pytest

from adapters.base import conformance_environment

import oracle
from oracle.convolution import conv
from suites.tolerance import UNIT_ROUNDOFF

GROUP = "conv2d-float64-8x64x64x32-3x3x64"
BATCH, HEIGHT, WIDTH, CHANNELS, FILTERS, K = 8, 64, 64, 32, 64, 3
X_SHAPE = (BATCH, HEIGHT, WIDTH, CHANNELS)
KERNEL_SHAPE = (K, K, CHANNELS, FILTERS)
CONFIG = {"class_name": "Conv2D", "config": {"filters": FILTERS, "kernel_size": K, "padding": "same"}}
ROUNDS = 10  # one warm-up round plus 10 timed ones each: about 10 s for the file on 2 cores (the VM is noisy)

PEERS = ["test_tensorflow_conv2d", "test_torch_conv2d"]  # what the report compares the oracle against

# Terms summed per output element: K*K*CHANNELS products plus the bias.
N_TERMS = K * K * CHANNELS + 1


def _info(benchmark, **extra):
    benchmark.group = GROUP
    benchmark.extra_info.update({
        "x_shape": list(X_SHAPE), "kernel_shape": list(KERNEL_SHAPE), "bias_shape": [FILTERS],
        "padding": "same", "strides": [1, 1], "dtype": "float64", "cpu_count": os.cpu_count(),
        **{v: os.environ.get(v, "(unset)") for v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")},
        **extra})


@pytest.fixture(scope="module")
def case():
    """Inputs, the oracle's output and the per-element error bound every result must satisfy."""
    rng = np.random.default_rng(20240601)
    x = rng.standard_normal(X_SHAPE)
    kernel = rng.standard_normal(KERNEL_SHAPE) / np.sqrt(K * K * CHANNELS)
    bias = rng.standard_normal(FILTERS)
    expected = oracle.forward(CONFIG, [kernel, bias], x)
    # The project's float64 ("semantic") tolerance policy, suites/tolerance.py: a length-n sum computed in any order
    # is off by at most gamma_n * sum|terms| ~ n * u * mag (Higham eq. 3.5), where mag, the sum of the absolute
    # terms, is the oracle evaluated on |x|, |kernel|, |bias|, and u = 2**-53 is the float64 unit roundoff
    # (eps64 / 2). Both the oracle and the backend carry such an error, hence the factor 2: 2 * n * u * mag.
    magnitude = oracle.forward(CONFIG, [np.abs(kernel), np.abs(bias)], np.abs(x))
    bound = 2.0 * N_TERMS * UNIT_ROUNDOFF["float64"] * magnitude
    return {"x": x, "kernel": kernel, "bias": bias, "expected": expected, "bound": bound}


def _check(got, case):
    """The result agrees with the oracle within the float64 bound (outside the timing)."""
    got = np.asarray(got, dtype=np.float64)
    assert got.shape == case["expected"].shape
    err = np.abs(got - case["expected"])
    worst = np.unravel_index(np.argmax(err - case["bound"]), err.shape)
    assert np.all(err <= case["bound"]), (
        f"error {err[worst]:.3e} at {worst} exceeds the float64 bound {case['bound'][worst]:.3e}")


def _blas():
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
        return f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # noqa: BLE001  (informational only)
        return "unknown"


def test_oracle_forward(benchmark, case):
    """The public entry point: config normalisation, weight-shape checks, then the convolution."""
    _info(benchmark, framework="oracle.forward", numpy=np.__version__, blas=_blas(), peer=PEERS)
    x, weights = case["x"], [case["kernel"], case["bias"]]
    y = benchmark.pedantic(lambda: oracle.forward(CONFIG, weights, x), rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _check(y, case)


def test_oracle_conv(benchmark, case):
    """The convolution alone, to separate the normalisation overhead of oracle.forward."""
    _info(benchmark, framework="oracle.convolution.conv", numpy=np.__version__, blas=_blas(), peer=PEERS)
    x, kernel, bias = case["x"], case["kernel"], case["bias"]

    def run():
        return conv(x, kernel, bias, strides=(1, 1), padding="same", dilation_rate=(1, 1),
                    data_format="channels_last")

    y = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _check(y, case)


@pytest.fixture(scope="module")
def tf():
    conformance_environment()  # TF_ENABLE_ONEDNN_OPTS=0 must be set before TensorFlow is imported
    return pytest.importorskip("tensorflow", reason="tensorflow is not importable: no TensorFlow benchmark")


def test_tensorflow_conv2d(benchmark, case, tf):
    """tf.nn.conv2d + tf.nn.bias_add on float64 NHWC tensors, eagerly; .numpy() forces the result."""
    xt = tf.constant(case["x"], dtype=tf.float64)
    kt = tf.constant(case["kernel"], dtype=tf.float64)  # HWIO, the Keras layout
    bt = tf.constant(case["bias"], dtype=tf.float64)
    _info(benchmark, framework="tensorflow", tensorflow=tf.__version__,
          TF_ENABLE_ONEDNN_OPTS=os.environ.get("TF_ENABLE_ONEDNN_OPTS", "(unset)"),
          tf_intra_op_parallelism_threads=tf.config.threading.get_intra_op_parallelism_threads(),
          tf_inter_op_parallelism_threads=tf.config.threading.get_inter_op_parallelism_threads(),
          tf_threads_note="0 means TensorFlow's default (one per core)")

    def run():
        return tf.nn.bias_add(tf.nn.conv2d(xt, kt, strides=1, padding="SAME", data_format="NHWC"), bt).numpy()

    y = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _check(y, case)


@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch", reason="torch is not importable: no PyTorch benchmark")


def test_torch_conv2d(benchmark, case, torch):
    """torch.nn.functional.conv2d on float64 NCHW tensors under no_grad (CPU ops are synchronous)."""
    xt = torch.from_numpy(case["x"]).permute(0, 3, 1, 2).contiguous()               # NHWC -> NCHW
    wt = torch.from_numpy(case["kernel"]).permute(3, 2, 0, 1).contiguous()          # HWIO -> OIHW
    bt = torch.from_numpy(case["bias"]).contiguous()
    _info(benchmark, framework="torch", torch=torch.__version__, torch_num_threads=torch.get_num_threads(),
          torch_num_interop_threads=torch.get_num_interop_threads(),
          torch_mkldnn=bool(torch.backends.mkldnn.is_available()))

    def run():
        with torch.no_grad():
            return torch.nn.functional.conv2d(xt, wt, bt, stride=1, padding="same")

    y = benchmark.pedantic(run, rounds=ROUNDS, iterations=1, warmup_rounds=1)
    _check(y.permute(0, 2, 3, 1).numpy(), case)                                     # NCHW -> NHWC
