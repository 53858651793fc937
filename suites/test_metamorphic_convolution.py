"""Metamorphic relations of the convolution family, on the oracle and on every adapter (suites/metamorphic.py)."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from .metamorphic import assert_equal


@given(data=st.data())
def test_conv1d_is_conv2d_of_height_one(backend, data):
    """DESIGN.md: Conv1D over (B, T, C) equals Conv2D over (B, 1, T, C) with kernel (1, k, C, F)."""
    k, s = data.draw(st.integers(1, 4), label="k"), data.draw(st.integers(1, 3), label="stride")
    padding = data.draw(st.sampled_from(["valid", "same"]), label="padding")
    b, t, c, f = 2, data.draw(st.integers(k, 9), label="T"), 3, 2
    conv1 = {"class_name": "Conv1D", "config": {"filters": f, "kernel_size": k, "strides": s, "padding": padding}}
    conv2 = {"class_name": "Conv2D", "config": {"filters": f, "kernel_size": (1, k), "strides": (1, s),
                                                "padding": padding}}
    backend.skip_unless_supported(conv1, conv2)
    rng = np.random.default_rng(data.draw(st.integers(0, 2 ** 32 - 1), label="seed"))
    x, kernel, bias = rng.uniform(-2, 2, (b, t, c)), rng.uniform(-1, 1, (k, c, f)), rng.uniform(-1, 1, f)
    assert_equal("Conv1D == Conv2D(height 1)", backend, [(conv1, [kernel, bias])],
                 [(conv2, [kernel[None], bias])], x, rhs_x=x[:, None])
