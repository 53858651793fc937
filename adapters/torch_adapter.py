"""PyTorch: canonical configs mapped onto torch.nn.functional. Never calls the oracle.

Keras layouts are translated here: kernels (*k, in, out) -> (out, in, *k), Dense (in, out) -> (out, in),
channels_last -> NC..., Keras 'same'/'causal' padding computed and applied explicitly with F.pad (torch's
padding='same' refuses stride > 1 and pads symmetrically, TRAPS.md 1-2), Keras 2 hard_sigmoid written out.
"""
from __future__ import annotations

import importlib
import math

import numpy as np

from .base import Adapter

_DTYPES = ("float32", "float64")


def _torch():
    torch = importlib.import_module("torch")
    # TF32 off so CUDA float32 matmuls and convolutions round like float32 (TRAPS.md 25).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return torch


def _activation(torch, name, y):
    """Keras 2.2.x activations in torch ops; softmax along the last axis of the Keras layout."""
    F = torch.nn.functional
    table = {
        "linear": lambda t: t, "relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
        # Keras 2: clip(0.2x + 0.5, 0, 1). torch's hardsigmoid is relu6(x + 3) / 6 (TRAPS.md 14).
        "hard_sigmoid": lambda t: torch.clamp(0.2 * t + 0.5, 0.0, 1.0),
        "softmax": lambda t: torch.softmax(t, dim=-1), "elu": F.elu, "selu": F.selu,
        "softplus": F.softplus, "softsign": F.softsign, "exponential": torch.exp,
    }
    return table[name](y)


def _keras_pads(size, k, s, d, padding):
    """(before, after) padding Keras applies along one axis. Written here, independently of the oracle."""
    if padding == "causal":
        return (k - 1) * d, 0
    if padding == "same":
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        return total // 2, total - total // 2
    return 0, 0


def _dense(torch, cfg, x, ws):
    y = torch.nn.functional.linear(x, ws[0].T, ws[1] if cfg["use_bias"] else None)
    return _activation(torch, cfg["activation"], y)


def _conv(torch, cfg, x, ws):
    F = torch.nn.functional
    rank = len(cfg["kernel_size"])
    channels_last = cfg["data_format"] == "channels_last"
    if channels_last:
        x = x.movedim(-1, 1)
    pads = [_keras_pads(n, k, s, d, cfg["padding"]) for n, k, s, d in
            zip(x.shape[2:], cfg["kernel_size"], cfg["strides"], cfg["dilation_rate"])]
    # F.pad lists the last axis first. The clone: float32 F.conv2d misreads some NHWC views (test_backend_findings).
    x = F.pad(x, [p for pair in reversed(pads) for p in pair]).clone(memory_format=torch.contiguous_format)
    # (*k, in, out) -> (out, in, *k). contiguous(): torch's slow_conv2d backward raises "grad_weight must be
    # contiguous" for a permuted kernel view (suites/test_backend_findings.py pins that upstream bug).
    kernel = ws[0].permute(rank + 1, rank, *range(rank)).contiguous()
    conv = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    y = conv(x, kernel, ws[1] if cfg["use_bias"] else None, stride=cfg["strides"], dilation=cfg["dilation_rate"])
    if channels_last:
        y = y.movedim(1, -1)
    return _activation(torch, cfg["activation"], y)


_LAYERS = {
    "Dense": _dense,
    "Activation": lambda torch, cfg, x, ws: _activation(torch, cfg["activation"], x),
    "Conv1D": _conv, "Conv2D": _conv, "Conv3D": _conv,
}


# ---- depthwise and separable convolution, locally connected layers ----


def _depthwise_step(torch, cfg, x, kernel, bias):
    """Keras depthwise step on NC... input: groups = C, kernel (*k, C, M) -> (C*M, 1, *k), so that output channel
    c*M + m is input channel c with multiplier m (TRAPS.md 7). Keras 'same' padding applied with F.pad."""
    F = torch.nn.functional
    rank = len(cfg["kernel_size"])
    pads = [_keras_pads(n, k, s, d, cfg["padding"]) for n, k, s, d in
            zip(x.shape[2:], cfg["kernel_size"], cfg["strides"], cfg["dilation_rate"])]
    # A plain NCHW copy: float32 F.conv2d on CPU reads garbage for some NHWC-strided views (movedim of a C = 1
    # input; suites/test_backend_findings.py pins that upstream bug), and is_contiguous() is True for them.
    x = F.pad(x, [p for pair in reversed(pads) for p in pair]).clone(memory_format=torch.contiguous_format)
    channels, mult = kernel.shape[-2:]
    weight = kernel.reshape(*kernel.shape[:rank], channels * mult).permute(rank, *range(rank)).unsqueeze(1)
    conv = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    return conv(x, weight.contiguous(), bias, stride=cfg["strides"], dilation=cfg["dilation_rate"], groups=channels)


def _depthwise(torch, cfg, x, ws):
    channels_last = cfg["data_format"] == "channels_last"
    y = _depthwise_step(torch, cfg, x.movedim(-1, 1) if channels_last else x, ws[0],
                        ws[1] if cfg["use_bias"] else None)
    return _activation(torch, cfg["activation"], y.movedim(1, -1) if channels_last else y)


def _separable(torch, cfg, x, ws):
    """Depthwise step (strides, dilation, padding), then a 1x..x1 convolution carrying the bias (TRAPS.md 8)."""
    rank = len(cfg["kernel_size"])
    channels_last = cfg["data_format"] == "channels_last"
    z = _depthwise_step(torch, cfg, x.movedim(-1, 1) if channels_last else x, ws[0], None)
    pointwise = ws[1].reshape(ws[1].shape[-2:]).T.reshape(ws[1].shape[-1], ws[1].shape[-2], *(1,) * rank)
    conv = (torch.nn.functional.conv1d, torch.nn.functional.conv2d)[rank - 1]
    y = conv(z, pointwise.contiguous(), ws[2] if cfg["use_bias"] else None)
    return _activation(torch, cfg["activation"], y.movedim(1, -1) if channels_last else y)


def _locally_connected(torch, cfg, x, ws):
    """Unshared weights: Tensor.unfold windows, flattened as tf-keras implementation=1 lays out its kernel
    (P, prod(k)*C, F): patches (*k, C) for channels_last, (C, *k) for channels_first (TRAPS.md 10)."""
    rank = len(cfg["kernel_size"])
    first = cfg["data_format"] == "channels_first"
    patches = x.movedim(1, -1) if first else x  # (B, *spatial, C)
    for axis, (k, s) in enumerate(zip(cfg["kernel_size"], cfg["strides"])):
        patches = patches.unfold(1 + axis, k, s)  # -> (B, *out, C, *k)
    out = tuple(patches.shape[1:rank + 1])
    if not first:
        patches = patches.movedim(rank + 1, -1)  # (B, *out, *k, C)
    y = torch.einsum("bpd,pdf->bpf", patches.reshape(x.shape[0], len(ws[0]), -1), ws[0])
    y = y.reshape(x.shape[0], *out, -1)
    if first:
        y = y.movedim(-1, 1)
        # Keras's K.bias_add reshapes (not transposes) the (*out, F) bias to (F, *out) under channels_first
        y = y + ws[1].reshape(y.shape[1:]) if cfg["use_bias"] else y
    elif cfg["use_bias"]:
        y = y + ws[1]
    return _activation(torch, cfg["activation"], y)


_LAYERS.update({"DepthwiseConv2D": _depthwise, "SeparableConv1D": _separable, "SeparableConv2D": _separable,
                "LocallyConnected1D": _locally_connected, "LocallyConnected2D": _locally_connected})


# ---- transposed convolution ----


# ---- pooling ----


# ---- cropping, zero padding, upsampling, flatten ----



class TorchAdapter(Adapter):
    name = "torch"
    package = "torch"
    devices = ("cpu", "cuda")
    dtypes = _DTYPES
    layers = frozenset(_LAYERS)

    def device_reason(self, device):
        if device == "cpu":
            return None
        if device == "cuda":
            return None if _torch().cuda.is_available() else "no CUDA device"
        return f"torch adapter has no device {device!r}"

    def versions(self):
        torch = _torch()
        return {"torch": torch.__version__, "torch.version.cuda": str(torch.version.cuda),
                "torch.backends.cuda.matmul.allow_tf32": str(torch.backends.cuda.matmul.allow_tf32),
                "torch.backends.cudnn.allow_tf32": str(torch.backends.cudnn.allow_tf32),
                "torch.get_num_threads": str(torch.get_num_threads())}

    def _tensors(self, arrays, device, grad=False):
        torch = _torch()
        return [torch.tensor(a, device=device, requires_grad=grad) for a in arrays]

    def _forward(self, config, weights, x, *, device, dtype, training, seed):
        torch = _torch()
        xt, *ws = self._tensors([x, *weights], device)
        with torch.no_grad():
            y = _LAYERS[config["class_name"]](torch, config["config"], xt, ws)
        return y.cpu().numpy()

    def _vjp(self, config, weights, x, g, *, device, dtype):
        torch = _torch()
        xt, *ws = self._tensors([x, *weights], device, grad=True)
        y = _LAYERS[config["class_name"]](torch, config["config"], xt, ws)
        grads = torch.autograd.grad(y, [xt, *ws], grad_outputs=torch.tensor(g, device=device), allow_unused=True)
        out = [np.zeros_like(a) if gr is None else gr.cpu().numpy() for a, gr in zip([x, *weights], grads)]
        return out[0], out[1:]

    def _build_error(self, raw_config, input_shape):
        # torch has no Keras config parser, so it cannot reject a Keras config by itself; the invalid-config
        # suite only asks the Keras adapters.
        return None


ADAPTER = TorchAdapter()
