"""Metamorphic relations of the convolution family, on the oracle and on every adapter (suites/metamorphic.py);
recorded under check "metamorphic:<relation>"."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from .metamorphic import RECORDED, assert_equal, relation_fixture  # noqa: F401 (the `relation` fixture)


@RECORDED
@given(data=st.data())
def test_conv1d_is_conv2d_of_height_one(backend, relation, data):
    """DESIGN.md: Conv1D over (B, T, C) equals Conv2D over (B, 1, T, C) with kernel (1, k, C, F)."""
    k, s = data.draw(st.integers(1, 4), label="k"), data.draw(st.integers(1, 3), label="stride")
    padding = data.draw(st.sampled_from(["valid", "same"]), label="padding")
    b, t, c, f = 2, data.draw(st.integers(k, 9), label="T"), 3, 2
    conv1 = {"class_name": "Conv1D", "config": {"filters": f, "kernel_size": k, "strides": s, "padding": padding}}
    conv2 = {"class_name": "Conv2D", "config": {"filters": f, "kernel_size": (1, k), "strides": (1, s),
                                                "padding": padding}}
    backend.skip_unless_supported(conv1, conv2)
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    x, kernel, bias = rng.uniform(-2, 2, (b, t, c)), rng.uniform(-1, 1, (k, c, f)), rng.uniform(-1, 1, f)
    with relation.example("conv1d_height_one", conv1, x, seed) as ex:
        assert_equal("Conv1D == Conv2D(height 1)", backend, [(conv1, [kernel, bias])],
                     [(conv2, [kernel[None], bias])], x, rhs_x=x[:, None], example=ex)


@RECORDED
@given(data=st.data())
def test_depthwise_is_a_block_diagonal_conv2d(backend, relation, data):
    """DESIGN.md: DepthwiseConv2D equals the grouped Conv2D (groups = C), written as a Conv2D whose kernel
    (kh, kw, C, C*M) is zero outside the groups: column c*M + m holds depthwise[:, :, c, m] in row c (docs/traps.md 7)."""
    kh, kw = data.draw(st.integers(1, 3), label="kh"), data.draw(st.integers(1, 3), label="kw")
    s = data.draw(st.integers(1, 2), label="stride")  # equal strides: TF refuses unequal ones (known divergence)
    padding = data.draw(st.sampled_from(["valid", "same"]), label="padding")
    c, m = data.draw(st.integers(1, 3), label="C"), data.draw(st.integers(1, 3), label="mult")
    shape = (2, data.draw(st.integers(kh, 6), label="H"), data.draw(st.integers(kw, 6), label="W"), c)
    geometry = {"kernel_size": (kh, kw), "strides": s, "padding": padding}
    dw = {"class_name": "DepthwiseConv2D", "config": {**geometry, "depth_multiplier": m}}
    conv = {"class_name": "Conv2D", "config": {**geometry, "filters": c * m}}
    backend.skip_unless_supported(dw, conv)
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    x, kernel, bias = rng.uniform(-2, 2, shape), rng.uniform(-1, 1, (kh, kw, c, m)), rng.uniform(-1, 1, c * m)
    full = np.zeros((kh, kw, c, c * m))
    for ci in range(c):
        full[:, :, ci, ci * m:(ci + 1) * m] = kernel[:, :, ci, :]
    with relation.example("depthwise_block_diagonal", dw, x, seed) as ex:
        assert_equal("DepthwiseConv2D == Conv2D(block-diagonal kernel)", backend, [(dw, [kernel, bias])],
                     [(conv, [full, bias])], x, example=ex)


@RECORDED
@given(data=st.data())
def test_separable_is_depthwise_then_pointwise(backend, relation, data):
    """docs/traps.md 8: SeparableConv2D equals DepthwiseConv2D (strides, dilation, padding; no bias) followed by a
    1x1 Conv2D that carries the bias."""
    k = data.draw(st.integers(1, 3), label="k")
    dilate = data.draw(st.booleans(), label="dilate")
    s, d = (1, data.draw(st.integers(1, 2), label="d")) if dilate else (data.draw(st.integers(1, 2), label="s"), 1)
    padding = data.draw(st.sampled_from(["valid", "same"]), label="padding")
    c, m, f = (data.draw(st.integers(1, 3), label=n) for n in ("C", "mult", "filters"))
    span = (k - 1) * d + 1
    shape = (2, data.draw(st.integers(span, 6), label="H"), data.draw(st.integers(span, 6), label="W"), c)
    geometry = {"kernel_size": k, "strides": s, "dilation_rate": d, "padding": padding}
    sep = {"class_name": "SeparableConv2D", "config": {**geometry, "filters": f, "depth_multiplier": m}}
    dw = {"class_name": "DepthwiseConv2D", "config": {**geometry, "depth_multiplier": m, "use_bias": False}}
    point = {"class_name": "Conv2D", "config": {"filters": f, "kernel_size": 1}}
    backend.skip_unless_supported(sep, dw, point)
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    x, depthwise = rng.uniform(-2, 2, shape), rng.uniform(-1, 1, (k, k, c, m))
    pointwise, bias = rng.uniform(-1, 1, (1, 1, c * m, f)), rng.uniform(-1, 1, f)
    with relation.example("separable_depthwise_pointwise", sep, x, seed) as ex:
        assert_equal("SeparableConv2D == DepthwiseConv2D -> Conv2D(1x1)", backend,
                     [(sep, [depthwise, pointwise, bias])], [(dw, [depthwise]), (point, [pointwise, bias])], x,
                     example=ex)


@pytest.mark.parametrize("rank", [1, 2])
@RECORDED
@given(data=st.data())
def test_locally_connected_with_equal_kernels_is_conv(backend, relation, rank, data):
    """LocallyConnected (channels_last, 'valid') whose every position holds the same kernel, the Conv kernel
    (*k, C, F) flattened in its (*k, C) patch order, and the same bias, equals Conv{rank}D."""
    k = tuple(data.draw(st.integers(1, 3), label="k") for _ in range(rank))
    s = tuple(data.draw(st.integers(1, 3), label="s") for _ in range(rank))
    c, f = data.draw(st.integers(1, 3), label="C"), data.draw(st.integers(1, 3), label="filters")
    sizes = tuple(data.draw(st.integers(ki, 6), label="size") for ki in k)
    local = {"class_name": f"LocallyConnected{rank}D", "config": {"filters": f, "kernel_size": k, "strides": s}}
    conv = {"class_name": f"Conv{rank}D", "config": {"filters": f, "kernel_size": k, "strides": s}}
    backend.skip_unless_supported(local, conv)
    seed = data.draw(st.integers(0, 2 ** 32 - 1), label="seed")
    rng = np.random.default_rng(seed)
    x, kernel, bias = rng.uniform(-2, 2, (2, *sizes, c)), rng.uniform(-1, 1, k + (c, f)), rng.uniform(-1, 1, f)
    out = tuple((n - ki) // si + 1 for n, ki, si in zip(sizes, k, s))
    tiled = np.broadcast_to(kernel.reshape(1, -1, f), (int(np.prod(out)), kernel.size // f, f))
    with relation.example("locally_connected_equal_kernels", local, x, seed) as ex:
        assert_equal(f"LocallyConnected{rank}D(equal kernels) == Conv{rank}D", backend,
                     [(local, [tiled, np.broadcast_to(bias, out + (f,))])], [(conv, [kernel, bias])], x, example=ex)
