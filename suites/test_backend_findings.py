"""Backend bugs found by this suite that lie outside the Keras semantics (so not known divergences of a
layer): each test pins the upstream behaviour and fails once it is fixed, so the workaround can go."""
from __future__ import annotations

import importlib.util

import pytest


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_torch_slow_conv2d_backward_rejects_noncontiguous_weight():
    """F.conv2d forward accepts a permuted (non-contiguous) kernel view with a non-contiguous input, but the CPU
    backward raises 'slow_conv2d: grad_weight must be contiguous'. The torch adapter passes .contiguous()."""
    import torch
    x = torch.zeros(1, 1, 2, 2, dtype=torch.float64).movedim(-1, 1).requires_grad_()  # NHWC -> NCHW view
    w = torch.zeros(1, 2, 2, 1, dtype=torch.float64, requires_grad=True)             # Keras (kh, kw, in, out)
    y = torch.nn.functional.conv2d(x, w.permute(3, 2, 0, 1))
    with pytest.raises(RuntimeError, match="grad_weight must be contiguous"):
        torch.autograd.grad(y.sum(), [x, w])
    y = torch.nn.functional.conv2d(x, w.permute(3, 2, 0, 1).contiguous())
    assert all(g is not None for g in torch.autograd.grad(y.sum(), [x, w]))


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="torch is not installed")
def test_torch_float32_conv2d_misreads_an_nhwc_view_with_one_channel():
    """torch 2.13 CPU: float32 F.conv2d on the NCHW view of an NHWC tensor with C = 1 (strides (12, 1, 4, 1),
    which is_contiguous() calls contiguous), a (2, 3) kernel and stride (1, 2) returns wrong values (stale memory,
    up to 1e32); the same numbers as a plain NCHW copy are right. Found by SeparableConv2D (input (3, 3, 4, 1));
    the torch adapter's conv, depthwise and separable mappings clone to contiguous_format."""
    import numpy as np
    import torch
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.uniform(-2, 2, (3, 3, 4, 1)), dtype=torch.float32).movedim(-1, 1)
    w = torch.tensor(rng.uniform(-1, 1, (1, 1, 2, 3)), dtype=torch.float32)
    assert x.is_contiguous()
    right = torch.nn.functional.conv2d(x.clone(memory_format=torch.contiguous_format), w, stride=(1, 2))
    exact = torch.nn.functional.conv2d(x.double().clone(memory_format=torch.contiguous_format), w.double(),
                                       stride=(1, 2))
    assert float((right.double() - exact).abs().max()) < 1e-5
    wrong = torch.nn.functional.conv2d(x, w, stride=(1, 2))
    if float((wrong.double() - exact).abs().max()) <= 1e-3:
        # the kernel reads stale memory, so whether it shows depends on the CPU path torch takes (0 of 200 calls
        # on a 2-core machine of 2026-12; reproduced on the machine that found it): the copy above is what the
        # adapter relies on, and it is checked in every run
        pytest.skip("torch's float32 conv2d read this NHWC view correctly on this machine: the finding does not "
                    "reproduce here")
    assert float((wrong.double() - exact).abs().max()) > 1e-3
