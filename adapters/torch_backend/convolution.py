"""PyTorch, families convolution, separable and locally_connected: Conv1D/2D/3D, Conv2DTranspose/3DTranspose,
DepthwiseConv2D, SeparableConv1D/2D, LocallyConnected1D/2D.

Keras layouts are translated here: kernels (*k, in, out) -> (out, in, *k), channels_last -> NC..., Keras
'same'/'causal' padding computed and applied explicitly with F.pad (torch's padding='same' refuses stride > 1 and
pads symmetrically, docs/traps.md 1-2).
"""
from __future__ import annotations

from .ops import activation, keras_pads


def conv(torch, cfg, x, ws):
    F = torch.nn.functional
    rank = len(cfg["kernel_size"])
    channels_last = cfg["data_format"] == "channels_last"
    if channels_last:
        x = x.movedim(-1, 1)
    pads = [keras_pads(n, k, s, d, cfg["padding"]) for n, k, s, d in
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
    return activation(torch, cfg["activation"], y)


# ---- depthwise and separable convolution, locally connected layers ----


def _depthwise_step(torch, cfg, x, kernel, bias):
    """Keras depthwise step on NC... input: groups = C, kernel (*k, C, M) -> (C*M, 1, *k), so that output channel
    c*M + m is input channel c with multiplier m (docs/traps.md 7). Keras 'same' padding applied with F.pad."""
    F = torch.nn.functional
    rank = len(cfg["kernel_size"])
    pads = [keras_pads(n, k, s, d, cfg["padding"]) for n, k, s, d in
            zip(x.shape[2:], cfg["kernel_size"], cfg["strides"], cfg["dilation_rate"])]
    # A plain NCHW copy: float32 F.conv2d on CPU reads garbage for some NHWC-strided views (movedim of a C = 1
    # input; suites/test_backend_findings.py pins that upstream bug), and is_contiguous() is True for them.
    x = F.pad(x, [p for pair in reversed(pads) for p in pair]).clone(memory_format=torch.contiguous_format)
    channels, mult = kernel.shape[-2:]
    weight = kernel.reshape(*kernel.shape[:rank], channels * mult).permute(rank, *range(rank)).unsqueeze(1)
    conv = (F.conv1d, F.conv2d, F.conv3d)[rank - 1]
    return conv(x, weight.contiguous(), bias, stride=cfg["strides"], dilation=cfg["dilation_rate"], groups=channels)


def depthwise(torch, cfg, x, ws):
    channels_last = cfg["data_format"] == "channels_last"
    y = _depthwise_step(torch, cfg, x.movedim(-1, 1) if channels_last else x, ws[0],
                        ws[1] if cfg["use_bias"] else None)
    return activation(torch, cfg["activation"], y.movedim(1, -1) if channels_last else y)


def separable(torch, cfg, x, ws):
    """Depthwise step (strides, dilation, padding), then a 1x..x1 convolution carrying the bias (docs/traps.md 8)."""
    rank = len(cfg["kernel_size"])
    channels_last = cfg["data_format"] == "channels_last"
    z = _depthwise_step(torch, cfg, x.movedim(-1, 1) if channels_last else x, ws[0], None)
    pointwise = ws[1].reshape(ws[1].shape[-2:]).T.reshape(ws[1].shape[-1], ws[1].shape[-2], *(1,) * rank)
    conv = (torch.nn.functional.conv1d, torch.nn.functional.conv2d)[rank - 1]
    y = conv(z, pointwise.contiguous(), ws[2] if cfg["use_bias"] else None)
    return activation(torch, cfg["activation"], y.movedim(1, -1) if channels_last else y)


def locally_connected(torch, cfg, x, ws):
    """Unshared weights: Tensor.unfold windows, flattened as tf-keras implementation=1 lays out its kernel
    (P, prod(k)*C, F): patches (*k, C) for channels_last, (C, *k) for channels_first (docs/traps.md 10)."""
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
    return activation(torch, cfg["activation"], y)


# ---- transposed convolution ----

def _deconv_length(n, k, s, d, padding, output_padding):
    """Keras 2.2.x deconv_length, written here independently of the oracle."""
    span = (k - 1) * d + 1
    if output_padding is None:
        return n * s + max(span - s, 0) if padding == "valid" else n * s
    return (n - 1) * s + span - (2 * (span // 2) if padding == "same" else 0) + output_padding


def conv_transpose(torch, cfg, x, ws):
    """F.conv_transpose with no padding gives the full length L = (n-1)*s + span; Keras keeps N elements of it
    starting at (L - N) // 2 for 'same' (0 for 'valid'), zero-extended past L. torch's own `padding` crops
    symmetrically and `output_padding` extends on the right, which disagrees for odd L - N (docs/traps.md 9), so the
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
    return activation(torch, cfg["activation"], y)
