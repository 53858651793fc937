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
