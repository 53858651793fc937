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
    x = F.pad(x, [p for pair in reversed(pads) for p in pair])  # F.pad lists the last axis first
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


# ---- transposed convolution ----

def _deconv_length(n, k, s, d, padding, output_padding):
    """Keras 2.2.x deconv_length, written here independently of the oracle."""
    span = (k - 1) * d + 1
    if output_padding is None:
        return n * s + max(span - s, 0) if padding == "valid" else n * s
    return (n - 1) * s + span - (2 * (span // 2) if padding == "same" else 0) + output_padding


def _conv_transpose(torch, cfg, x, ws):
    """F.conv_transpose with no padding gives the full length L = (n-1)*s + span; Keras keeps N elements of it
    starting at (L - N) // 2 for 'same' (0 for 'valid'), zero-extended past L. torch's own `padding` crops
    symmetrically and `output_padding` extends on the right, which disagrees for odd L - N (TRAPS.md 9), so the
    crop/extension is one F.pad with negative (cropping) or positive widths, and the bias is added after it."""
    F = torch.nn.functional
    rank = len(cfg["kernel_size"])
    channels_last = cfg["data_format"] == "channels_last"
    if channels_last:
        x = x.movedim(-1, 1)
    # (*k, out, in) -> (in, out, *k); torch's conv_transpose does not flip the kernel either
    kernel = ws[0].permute(rank + 1, rank, *range(rank)).contiguous()
    deconv = (None, F.conv_transpose1d, F.conv_transpose2d, F.conv_transpose3d)[rank]
    full = deconv(x, kernel, None, stride=cfg["strides"], dilation=cfg["dilation_rate"])
    widths = []
    ops = cfg["output_padding"] or (None,) * rank
    for n, length, k, s, d, p in zip(x.shape[2:], full.shape[2:], cfg["kernel_size"], cfg["strides"],
                                     cfg["dilation_rate"], ops):
        size = _deconv_length(n, k, s, d, cfg["padding"], p)
        lo = max(length - size, 0) // 2 if cfg["padding"] == "same" else 0
        widths.append((-lo, size - length + lo))
    y = F.pad(full, [w for pair in reversed(widths) for w in pair])  # F.pad lists the last axis first
    if cfg["use_bias"]:
        y = y + ws[1].reshape(-1, *([1] * rank))
    if channels_last:
        y = y.movedim(1, -1)
    return _activation(torch, cfg["activation"], y)


_LAYERS.update({"Conv2DTranspose": _conv_transpose, "Conv3DTranspose": _conv_transpose})


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
