"""PyTorch: canonical configs mapped onto torch.nn.functional. Never calls the oracle.

Keras layouts are translated here: kernels (*k, in, out) -> (out, in, *k), Dense (in, out) -> (out, in),
channels_last -> NC..., Keras 'same'/'causal' padding computed and applied explicitly with F.pad (torch's
padding='same' refuses stride > 1 and pads symmetrically, TRAPS.md 1-2), Keras 2 hard_sigmoid written out.
"""
from __future__ import annotations

import importlib
import math

import numpy as np

from . import torch_recurrent as _recurrent
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

def _window_pool(mode):
    """Keras max/average pooling: the 'same' pad applied explicitly (-inf for max, TRAPS.md 4); a 'same' average
    divides by the pooled ones of the unpadded input, the count of real elements (TRAPS.md 3): torch's
    count_include_pad cannot express an asymmetric pad."""
    def run(torch, cfg, x, ws):
        F = torch.nn.functional
        rank = len(cfg["pool_size"])
        strides = cfg["pool_size"] if cfg["strides"] is None else cfg["strides"]
        channels_last = cfg["data_format"] == "channels_last"
        if channels_last:
            x = x.movedim(-1, 1)
        pads = [_keras_pads(n, k, s, 1, cfg["padding"]) for n, k, s in zip(x.shape[2:], cfg["pool_size"], strides)]
        flat = [p for pair in reversed(pads) for p in pair]
        if mode == "max":
            y = (F.max_pool1d, F.max_pool2d, F.max_pool3d)[rank - 1](
                F.pad(x, flat, value=-math.inf), cfg["pool_size"], strides)
        else:
            avg = (F.avg_pool1d, F.avg_pool2d, F.avg_pool3d)[rank - 1]
            ones = F.pad(torch.ones_like(x[:1, :1]), flat)
            y = avg(F.pad(x, flat), cfg["pool_size"], strides) / avg(ones, cfg["pool_size"], strides)
        return y.movedim(1, -1) if channels_last else y
    return run


def _global_pool(mode):
    def run(torch, cfg, x, ws):
        dims = tuple(range(1, x.dim() - 1)) if cfg["data_format"] == "channels_last" else tuple(range(2, x.dim()))
        # amax (not max(dim)) splits the gradient among tied maxima like the oracle (tf.reduce_max's rule)
        return torch.amax(x, dim=dims) if mode == "max" else torch.mean(x, dim=dims)
    return run


_LAYERS.update({f"{prefix}{kind}Pooling{rank}D": (_global_pool if prefix else _window_pool)(mode)
                for prefix in ("", "Global") for kind, mode in (("Max", "max"), ("Average", "avg"))
                for rank in (1, 2, 3)})


# ---- cropping, zero padding, upsampling, flatten ----

def _spatial_dims(x, cfg):
    """The spatial dims of x in the layer's data_format (the 1D layers have none: (batch, steps, features))."""
    first = cfg.get("data_format") == "channels_first"
    return list(range(2, x.dim())) if first else list(range(1, x.dim() - 1))


def _amounts(value):
    """(begin, end) per spatial axis from the canonical cropping/padding ((b, e) for 1D, ((b, e), ...) else)."""
    return [tuple(value)] if isinstance(value[0], int) else [tuple(p) for p in value]


def _crop(torch, cfg, x, ws):
    for dim, (lo, hi) in zip(_spatial_dims(x, cfg), _amounts(cfg["cropping"])):
        x = x.narrow(dim, lo, x.shape[dim] - lo - hi)
    return x


def _zero_pad(torch, cfg, x, ws):
    widths = [(0, 0)] * x.dim()
    for dim, pair in zip(_spatial_dims(x, cfg), _amounts(cfg["padding"])):
        widths[dim] = pair
    return torch.nn.functional.pad(x, [p for pair in reversed(widths) for p in pair])  # last dim first


def _legacy_bilinear(torch, x, dim, size):
    """Keras 2.2.x / TF1 resize_bilinear(half_pixel_centers=False) along one dim: source coordinate d / size,
    lerp between floor and the next element (the last one repeated). Division, not multiplication by 1/size,
    so that source coordinates that are integers come out exact."""
    n = x.shape[dim]
    src = torch.arange(n * size, dtype=x.dtype, device=x.device) / size
    lo = torch.floor(src).long()
    hi = torch.clamp(lo + 1, max=n - 1)
    shape = [1] * x.dim()
    shape[dim] = -1
    t = (src - lo.to(x.dtype)).reshape(shape)
    return x.index_select(dim, lo) * (1 - t) + x.index_select(dim, hi) * t


def _upsample(torch, cfg, x, ws):
    sizes = cfg["size"] if isinstance(cfg["size"], tuple) else (cfg["size"],)
    dims = _spatial_dims(x, cfg)
    if cfg.get("interpolation", "nearest") == "nearest":  # repeat each element size times along each axis
        for dim, s in zip(dims, sizes):
            x = x.repeat_interleave(s, dim=dim)
        return x
    if not cfg["half_pixel_centers"]:
        for dim, s in zip(dims, sizes):
            x = _legacy_bilinear(torch, x, dim, s)
        return x
    # half-pixel centres = torch's align_corners=False (TRAPS.md 18); interpolate wants NCHW
    channels_last = cfg["data_format"] == "channels_last"
    if channels_last:
        x = x.movedim(-1, 1)
    y = torch.nn.functional.interpolate(x, size=[n * s for n, s in zip(x.shape[2:], sizes)], mode="bilinear",
                                        align_corners=False)
    return y.movedim(1, -1) if channels_last else y


def _flatten(torch, cfg, x, ws):
    # Keras moves channels last before flattening (TRAPS.md 21); torch.flatten on NCHW would order differently.
    if cfg["data_format"] == "channels_first":
        x = x.movedim(1, -1)
    return torch.flatten(x, start_dim=1)


_LAYERS.update({
    "Cropping1D": _crop, "Cropping2D": _crop, "Cropping3D": _crop,
    "ZeroPadding1D": _zero_pad, "ZeroPadding2D": _zero_pad, "ZeroPadding3D": _zero_pad,
    "UpSampling1D": _upsample, "UpSampling2D": _upsample, "UpSampling3D": _upsample,
    "Flatten": _flatten,
})


# ---- activity regularization; initializers, regularizers and constraints (TorchAdapter methods below) ----

_LAYERS.update({"ActivityRegularization": lambda torch, cfg, x, ws: x.clone()})


def _to_torch_layout(layer, prefix, w):
    """A Keras-layout weight in the layout torch's own layer keeps it, where torch has one: kernels and pointwise
    kernels (*k, in, out) -> (out, in, *k) (Dense (in, out) -> (out, in); Conv*Transpose (*k, out, in) ->
    (in, out, *k)), depthwise (*k, C, M) -> (C*M, 1, *k). torch has no locally connected layer: Keras layout."""
    n = w.ndim
    if prefix == "depthwise":
        return w.reshape(*w.shape[:-2], -1).permute(n - 2, *range(n - 2)).unsqueeze(1)
    if prefix in ("kernel", "pointwise", "recurrent") and n >= 2 and not layer.startswith("LocallyConnected"):
        return w.permute(n - 1, n - 2, *range(n - 2))
    return w


def _from_torch_layout(layer, prefix, t, shape):
    """Inverse of _to_torch_layout for a weight of Keras `shape`."""
    n = len(shape)
    if prefix == "depthwise":
        return t.squeeze(1).permute(*range(1, n - 1), 0).reshape(shape)
    if prefix in ("kernel", "pointwise", "recurrent") and n >= 2 and not layer.startswith("LocallyConnected"):
        return t.permute(*range(2, n), 1, 0)
    return t


def _keras_fans(shape):
    """Keras 2.2.x's fans, for a weight torch has no layer (and so no fan convention) for: LocallyConnected
    kernels and PReLU's alpha stay in the Keras layout here. 2-D: (in, out); 3- to 5-D: the last two axes times
    the receptive field of the others; otherwise ('no specific assumptions') sqrt of the size for both."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if 3 <= len(shape) <= 5:
        field = math.prod(shape[:-2])
        return shape[-2] * field, shape[-1] * field
    return math.sqrt(math.prod(shape)), math.sqrt(math.prod(shape))


def _initialize(torch, init, t, generator, keras_shape=None):
    """torch.nn.init for a canonical Keras initializer, on a tensor in torch's layout. VarianceScaling takes its
    fans from torch's own rule (_calculate_fan_in_and_fan_out: size(1) x receptive field, size(0) x receptive
    field), the one xavier_* and kaiming_* use."""
    nn_init, cls, c = torch.nn.init, init["class_name"], init["config"]
    if cls in ("Zeros", "Ones", "Constant"):
        return nn_init.constant_(t, {"Zeros": 0.0, "Ones": 1.0}.get(cls, c.get("value")))
    if cls == "Identity":
        with torch.no_grad():
            return nn_init.eye_(t).mul_(c["gain"])
    if cls == "Orthogonal":
        if keras_shape is not None and len(keras_shape) > 2:  # Keras flattens to (prod(shape[:-1]), shape[-1])
            flat = torch.empty(math.prod(keras_shape[:-1]), keras_shape[-1], dtype=t.dtype, device=t.device)
            nn_init.orthogonal_(flat, gain=c["gain"], generator=generator)
            with torch.no_grad():
                return t.copy_(flat.reshape(t.shape))
        return nn_init.orthogonal_(t, gain=c["gain"], generator=generator)
    if cls == "RandomUniform":
        return nn_init.uniform_(t, c["minval"], c["maxval"], generator=generator)
    if cls == "RandomNormal":
        return nn_init.normal_(t, c["mean"], c["stddev"], generator=generator)
    if cls == "TruncatedNormal":
        m, s = c["mean"], c["stddev"]
        return nn_init.trunc_normal_(t, m, s, m - 2 * s, m + 2 * s, generator=generator)
    fan_in, fan_out = nn_init._calculate_fan_in_and_fan_out(t) if keras_shape is None else _keras_fans(keras_shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[c["mode"]]
    scale = c["scale"] / max(1.0, n)
    if c["distribution"] == "uniform":
        limit = math.sqrt(3.0 * scale)
        return nn_init.uniform_(t, -limit, limit, generator=generator)
    return nn_init.trunc_normal_(t, 0.0, math.sqrt(scale), -2 * math.sqrt(scale), 2 * math.sqrt(scale),
                                 generator=generator)


def _l1l2(torch, reg, t):
    """Keras L1L2: l1 * sum|t| + l2 * sum t^2, written out (torch has no regularizer objects)."""
    return reg["config"]["l1"] * torch.sum(torch.abs(t)) + reg["config"]["l2"] * torch.sum(t * t)


def _constraint(torch, con, t):
    """Keras constraints written out: norms over `axis` with keepdims and epsilon 1e-7 added to the norm
    (torch.renorm and F.normalize clamp instead of adding, TRAPS.md 22, so they differ)."""
    cls, c = con["class_name"], con["config"]
    if cls == "NonNeg":
        return t * (t >= 0).to(t.dtype)
    axis = c["axis"] if isinstance(c["axis"], (tuple, list)) else (c["axis"],)
    norms = torch.sqrt(torch.sum(t * t, dim=tuple(axis), keepdim=True))
    if cls == "UnitNorm":
        return t / (1e-7 + norms)
    if cls == "MaxNorm":
        desired = torch.clamp(norms, 0.0, c["max_value"])
    else:
        desired = c["rate"] * torch.clamp(norms, c["min_value"], c["max_value"]) + (1 - c["rate"]) * norms
    return t * (desired / (1e-7 + norms))


def _weight_prefixes(config, count):
    """The prefix of each weight: depthwise, pointwise, kernel, recurrent, then bias, as the config declares them."""
    cfg = config["config"]
    if config["class_name"] == "PReLU":
        return ["alpha"]
    if config["class_name"] == "Embedding":
        return ["embeddings"]
    if config["class_name"] == "BatchNormalization":  # get_weights(): gamma, beta, moving_mean, moving_variance
        return ["gamma"] * cfg["scale"] + ["beta"] * cfg["center"] + ["moving_mean", "moving_variance"]
    order = [p for p in ("depthwise", "pointwise", "kernel", "recurrent", "bias") if f"{p}_initializer" in cfg]
    return [p for p in order if p != "bias" or cfg.get("use_bias", True)][:count]


# ---- advanced activations; core Reshape, Permute, RepeatVector, Masking, Lambda ----

def _relu(torch, cfg, x, ws):
    """Seed 003's piecewise ReLU (no single torch op, TRAPS.md 23): max_value for x >= max_value, x for
    threshold <= x < max_value, negative_slope * (x - threshold) below the threshold."""
    y = torch.where(x >= cfg["threshold"], x, cfg["negative_slope"] * (x - cfg["threshold"]))
    return y if cfg["max_value"] is None else torch.where(x >= cfg["max_value"], cfg["max_value"], y)


def _prelu(torch, cfg, x, ws):
    # F.prelu takes 1 or C parameters only; alpha here has the input's shape with shared axes set to 1.
    return torch.where(x < 0, ws[0] * x, x)


def _antirectifier(torch, x):
    x = x - x.mean(dim=1, keepdim=True)
    x = x / torch.sqrt(torch.clamp_min((x * x).sum(dim=1, keepdim=True), 1e-12))
    return torch.cat([torch.relu(x), torch.relu(-x)], dim=1)


def _kept_steps(x, mask_value):
    """True where some feature of a timestep differs from mask_value (TRAPS.md 16)."""
    return (x != mask_value).any(dim=-1)


_LAYERS.update({
    # torch's leaky_relu default slope is 0.01, Keras's 0.3 (TRAPS.md 23): always passed explicitly
    "LeakyReLU": lambda torch, cfg, x, ws: torch.nn.functional.leaky_relu(x, cfg["alpha"]),
    "ELU": lambda torch, cfg, x, ws: torch.nn.functional.elu(x, cfg["alpha"]),
    # strictly greater (seed 003); F.threshold(x, theta, 0) is the same rule
    "ThresholdedReLU": lambda torch, cfg, x, ws: torch.nn.functional.threshold(x, cfg["theta"], 0.0),
    "Softmax": lambda torch, cfg, x, ws: torch.softmax(x, dim=cfg["axis"]),
    "ReLU": _relu, "PReLU": _prelu,
    "Reshape": lambda torch, cfg, x, ws: x.reshape((x.shape[0],) + tuple(cfg["target_shape"])),
    "Permute": lambda torch, cfg, x, ws: x.permute(0, *cfg["dims"]),
    "RepeatVector": lambda torch, cfg, x, ws: x.unsqueeze(1).expand(-1, cfg["n"], -1),
    "Masking": lambda torch, cfg, x, ws: x * _kept_steps(x, cfg["mask_value"]).unsqueeze(-1).to(x.dtype),
    "Lambda": lambda torch, cfg, x, ws: x ** 2 if cfg["function"] == "square" else _antirectifier(torch, x),
})
_MASKS = {"Masking": lambda torch, cfg, x: _kept_steps(x, cfg["mask_value"])}
# ---- merge (a list of inputs) ----

def _keras_aligned(xs):
    """Keras _Merge inserts size-1 axes right after the batch axis of lower-rank inputs (torch broadcasting would
    insert them in front of the batch axis)."""
    rank = max(x.dim() for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.dim()) + x.shape[1:]) for x in xs]


def _count(name, xs, exactly=None):
    """Keras's call contract, which torch ops do not know: a list of at least 2 inputs (exactly 2 for Subtract
    and Dot)."""
    if len(xs) < 2 or (exactly is not None and len(xs) != exactly):
        raise ValueError(f"{name} takes a list of {'exactly' if exactly else 'at least'} {exactly or 2} inputs, "
                         f"got {len(xs)}")


def _fold(op, name, exactly=None):
    """Keras folds its merges left to right: ((x0 op x1) op x2) ..."""
    def run(torch, cfg, xs, ws):
        _count(name, xs, exactly)
        xs = _keras_aligned(xs)
        y = xs[0]
        for x in xs[1:]:
            y = op(torch, y, x)
        return y
    return run


def _average(torch, cfg, xs, ws):
    return _fold(lambda torch, a, b: a + b, "Average")(torch, cfg, xs, ws) / len(xs)


# torch.maximum splits the gradient of a tie in halves; Keras's tf.maximum gives it to the left operand (x >= y),
# so the first input attaining the maximum takes it all: torch.where routes the gradient to the branch it picks.
_maximum = _fold(lambda torch, a, b: torch.where(a >= b, a, b), "Maximum")


def _concatenate(torch, cfg, xs, ws):
    _count("Concatenate", xs)
    return torch.cat(xs, dim=cfg["axis"])


def _keras_l2_normalize(torch, x, axis):
    """Keras 2 K.l2_normalize: x * rsqrt(max(sum x^2, 1e-12)) (TRAPS.md 22). F.normalize divides by
    max(norm, 1e-12), a floor a million times lower in norm, so tiny vectors would come out unit length."""
    return x * torch.rsqrt(torch.clamp((x * x).sum(dim=axis, keepdim=True), min=1e-12))


def _dot(torch, cfg, xs, ws):
    """Per-sample contraction of axes[0] of x with axes[1] of y (axes count the batch axis): both as (batch, free,
    k), one bmm, then x's free axes followed by y's; a result of rank 1 becomes (batch, 1) as in K.batch_dot."""
    _count("Dot", xs, exactly=2)
    x, y = xs
    a0, a1 = (a % t.dim() for a, t in zip(cfg["axes"], xs))
    if cfg["normalize"]:
        x, y = _keras_l2_normalize(torch, x, a0), _keras_l2_normalize(torch, y, a1)
    xm, ym = x.movedim(a0, -1), y.movedim(a1, -1)
    out = torch.bmm(xm.reshape(x.shape[0], -1, xm.shape[-1]), ym.reshape(y.shape[0], -1, ym.shape[-1]).transpose(1, 2))
    out = out.reshape(x.shape[0], *xm.shape[1:-1], *ym.shape[1:-1])
    return out.unsqueeze(1) if out.dim() == 1 else out


_LAYERS.update({
    "Add": _fold(lambda torch, a, b: a + b, "Add"), "Subtract": _fold(lambda torch, a, b: a - b, "Subtract", 2),
    "Multiply": _fold(lambda torch, a, b: a * b, "Multiply"), "Average": _average, "Maximum": _maximum,
    "Concatenate": _concatenate, "Dot": _dot,
})



# ---- dropout, noise and batch normalization ----
# Inference mode: the noise layers are the identity, BatchNormalization uses its moving statistics. Training mode
# runs the _TRAINING functions, (torch, cfg, x, ws) -> (y, weights after the call), under a generator seeded with
# the call's seed. Keras 2.2.x applies Dropout, GaussianDropout and AlphaDropout only for 0 < rate < 1.


def _active(rate):
    return 0.0 < rate < 1.0


def _unit_mask(torch, x, shape, rate):
    """A {0, 1} mask of `shape` (broadcast against x), 1 with probability 1 - rate, drawn with torch.rand."""
    return (torch.rand(shape, dtype=x.dtype, device=x.device) >= rate).to(x.dtype)


def _dropout_train(torch, cfg, x, ws):
    p = cfg["rate"]
    if not _active(p):
        return x, ws
    if cfg["noise_shape"] is None:
        return torch.nn.functional.dropout(x, p, training=True), ws
    # torch has no noise_shape: a mask of that shape (None entries = the input's size), broadcast, 1/(1 - p)
    shape = [n if m is None else m for n, m in zip(x.shape, cfg["noise_shape"])]
    return x * _unit_mask(torch, x, shape, p) / (1.0 - p), ws


def _spatial_dropout_train(torch, cfg, x, ws):
    """F.dropout1d/2d/3d drop whole channels of (B, C, *spatial). TRAPS.md 20: Dropout2d on a 3-D input is not
    SpatialDropout1D; dropout1d on (B, C, T) is."""
    p = cfg["rate"]
    if not _active(p):
        return x, ws
    first = cfg.get("data_format") == "channels_first"
    xc = x if first else x.movedim(-1, 1)
    F = torch.nn.functional
    y = (F.dropout1d, F.dropout2d, F.dropout3d)[x.dim() - 3](xc, p, training=True)
    return (y if first else y.movedim(1, -1)), ws


def _gaussian_noise_train(torch, cfg, x, ws):
    return x + cfg["stddev"] * torch.randn_like(x), ws


def _gaussian_dropout_train(torch, cfg, x, ws):
    p = cfg["rate"]
    if not _active(p):
        return x, ws
    return x * (1.0 + math.sqrt(p / (1.0 - p)) * torch.randn_like(x)), ws


def _alpha_dropout_train(torch, cfg, x, ws):
    """F.alpha_dropout without noise_shape; with one, the Keras formula written out on a broadcast mask:
    a * (x * keep + alpha' * (1 - keep)) + b (TRAPS.md 20)."""
    p = cfg["rate"]
    if not _active(p):
        return x, ws
    if cfg["noise_shape"] is None:
        return torch.nn.functional.alpha_dropout(x, p, training=True), ws
    alpha = -1.6732632423543772848170429916717 * 1.0507009873554804934193349852946
    a = ((1.0 - p) * (1.0 + p * alpha ** 2)) ** -0.5
    keep = _unit_mask(torch, x, [n if m is None else m for n, m in zip(x.shape, cfg["noise_shape"])], p)
    return a * (x * keep + alpha * (1.0 - keep)) - a * alpha * p, ws


def _channels_to_1(cfg, x):
    """(x with the normalised axis moved to 1, the inverse move): F.batch_norm wants (N, C, ...)."""
    axis = cfg["axis"] % x.dim()
    return x.movedim(axis, 1), (lambda y: y.movedim(1, axis))


def _batch_norm(torch, cfg, x, ws, training=False):
    """F.batch_norm with eps = epsilon and torch momentum = 1 - Keras momentum (TRAPS.md 19). The running
    statistics are updated in place on clones, returned as the new weights."""
    xc, back = _channels_to_1(cfg, x)
    gamma = ws[0] if cfg["scale"] else None
    beta = ws[int(cfg["scale"])] if cfg["center"] else None
    mean, var = ws[-2].detach().clone(), ws[-1].detach().clone()
    y = torch.nn.functional.batch_norm(xc, mean, var, gamma, beta, training=training,
                                       momentum=1.0 - cfg["momentum"], eps=cfg["epsilon"])
    return back(y), list(ws[:-2]) + [mean, var]


_LAYERS.update({name: (lambda torch, cfg, x, ws: x) for name in (
    "Dropout", "SpatialDropout1D", "SpatialDropout2D", "SpatialDropout3D", "GaussianNoise", "GaussianDropout",
    "AlphaDropout")})
_LAYERS["BatchNormalization"] = lambda torch, cfg, x, ws: _batch_norm(torch, cfg, x, ws)[0]
_TRAINING = {"Dropout": _dropout_train, "SpatialDropout1D": _spatial_dropout_train,
             "SpatialDropout2D": _spatial_dropout_train, "SpatialDropout3D": _spatial_dropout_train,
             "GaussianNoise": _gaussian_noise_train, "GaussianDropout": _gaussian_dropout_train,
             "AlphaDropout": _alpha_dropout_train,
             "BatchNormalization": lambda torch, cfg, x, ws: _batch_norm(torch, cfg, x, ws, training=True)}


# ---- embeddings and the TimeDistributed wrapper ----

def _embedding(torch, cfg, x, ws):
    """F.embedding on the indices: the float-carried input truncated to int64 as Keras's int32 cast does (the
    cast has no gradient, so the input's gradient is None, returned as zeros). No padding_idx: torch's only
    zeroes that row's gradient and masks nothing (TRAPS.md 16); the mask is _MASKS below."""
    return torch.nn.functional.embedding(x.long(), ws[0])


def _time_distributed(torch, cfg, x, ws):
    """torch's own mapping of the wrapped layer on (batch * timesteps, ...), reshaped back to (batch, timesteps,
    ...); looked up at call time, so any layer mapped here can be wrapped."""
    inner = cfg["layer"]
    y = _LAYERS[inner["class_name"]](torch, inner["config"], x.reshape((-1,) + tuple(x.shape[2:])), ws)
    return y.reshape(tuple(x.shape[:2]) + tuple(y.shape[1:]))


_LAYERS.update({"Embedding": _embedding, "TimeDistributed": _time_distributed})
_MASKS["Embedding"] = lambda torch, cfg, x: (x != 0) if cfg["mask_zero"] else None
# ---- recurrent layers (adapters/torch_recurrent.py) ----
# They take the call's mask and training flag (dropout masks drawn under _run's seeded generator), may take a list
# input [x, *initial states] and may return a list of outputs (return_state, Bidirectional merge_mode=None).

def _recurrent_row(name):
    """(torch, cfg, x, ws, mask=None, training=False) -> the output (or list of outputs) of `name`."""
    if name in _recurrent.CELL_NAMES:
        return lambda torch, cfg, x, ws, mask=None, training=False: _recurrent.cell_row(
            torch, name, cfg, x, ws, mask, training)
    return lambda torch, cfg, x, ws, mask=None, training=False: _recurrent.run_layer(
        torch, name, cfg, x, ws, mask, training)[0]


_RECURRENT = {name: _recurrent_row(name) for name in (*_recurrent.LAYER_NAMES, *_recurrent.CELL_NAMES)}
_LAYERS.update(_RECURRENT)
# ---- convolutional recurrent: ConvLSTM2D ----

def _conv_lstm_pre(torch, x, kernel, bias, strides, dilation, padding):
    """F.conv2d of an NCHW step input with a Keras (kh, kw, in, out) kernel under Keras padding."""
    F = torch.nn.functional
    pads = [_keras_pads(n, k, s, d, padding) for n, k, s, d in zip(x.shape[2:], kernel.shape[:2], strides, dilation)]
    x = F.pad(x, [p for pair in reversed(pads) for p in pair]).clone(memory_format=torch.contiguous_format)
    return F.conv2d(x, kernel.permute(3, 2, 0, 1).contiguous(), bias, stride=strides, dilation=dilation)


def _conv_lstm_masks(torch, shape, rate, like):
    """Four K.dropout(ones, rate) masks (kept: 1/(1 - rate), dropped: 0), one per gate; None outside 0 < rate < 1
    (2.2.x applies none there)."""
    if not 0.0 < rate < 1.0:
        return None
    return [(torch.rand(tuple(shape), dtype=like.dtype, device=like.device) >= rate).to(like.dtype) / (1 - rate)
            for _ in range(4)]


def _gate_convs(torch, a, masks, kernel, bias, filters, nchw, conv):
    """The four gates' convolutions (NCHW, gates along dim 1): one convolution of a without masks, else gate k
    convolves a * masks[k] with its kernel block (and bias block)."""
    if masks is None:
        return conv(nchw(a), kernel, bias)
    return torch.cat([conv(nchw(a * m), kernel[..., k * filters:(k + 1) * filters],
                           None if bias is None else bias[k * filters:(k + 1) * filters])
                      for k, m in enumerate(masks)], dim=1)


def _conv_lstm(torch, cfg, x, ws, mask=None, training=False):
    """ConvLSTM2D as a differentiable loop over F.conv2d: gates i, f, c, o in blocks of `filters`; the input
    convolution with the layer's strides/padding/dilation plus the bias, the recurrent one 'same' with stride 1;
    activations in the Keras layout (softmax along its last axis). x may be [x, h0, c0] (initial states). At a
    masked step (mask False) the states are kept and the output repeats the previous output, zeros at a leading
    masked step (K.rnn's rule, oracle/recurrent.py). Training mode: 2.2.x ConvLSTM2DCell's dropout, four input masks
    and four recurrent masks (one per gate, element-wise), drawn once per call and shared by every timestep."""
    F = cfg["filters"]
    x_masks = _conv_lstm_masks(torch, x[0][:, 0].shape if isinstance(x, (list, tuple)) else x[:, 0].shape,
                               cfg["dropout"], ws[0]) if training else None
    h_masks = None
    x, given = (x[0], list(x[1:])) if isinstance(x, (list, tuple)) else (x, [])
    last = cfg["data_format"] == "channels_last"
    nchw = (lambda t: t.movedim(-1, 1)) if last else (lambda t: t)
    keras = (lambda t: t.movedim(1, -1)) if last else (lambda t: t)
    kernel, recurrent = ws[0], ws[1]
    bias = ws[2] if cfg["use_bias"] else None
    act = lambda name, t: _activation(torch, name, t)  # noqa: E731
    steps = range(x.shape[1])
    h = c = None
    if given:
        h, c = given
    outs = []
    for t in (reversed(steps) if cfg["go_backwards"] else steps):
        zx = _gate_convs(torch, x[:, t], x_masks, kernel, bias, F, nchw,
                         lambda a, k, b: _conv_lstm_pre(torch, a, k, b, cfg["strides"], cfg["dilation_rate"],
                                                        cfg["padding"]))
        if h is None:  # zeros of the input convolution's output shape
            h = c = keras(torch.zeros_like(zx[:, :F]))
        if training and t == (steps[-1] if cfg["go_backwards"] else steps[0]):
            h_masks = _conv_lstm_masks(torch, h.shape, cfg["recurrent_dropout"], ws[0])
        z = zx + _gate_convs(torch, h, h_masks, recurrent, None, F, nchw,
                             lambda a, k, b: _conv_lstm_pre(torch, a, k, b, (1, 1), (1, 1), "same"))
        zi, zf, zc, zo = (keras(b) for b in z.chunk(4, dim=1))
        i, f, o = act(cfg["recurrent_activation"], zi), act(cfg["recurrent_activation"], zf), \
            act(cfg["recurrent_activation"], zo)
        c_new = f * c + i * act(cfg["activation"], zc)
        h_new = o * act(cfg["activation"], c_new)
        if mask is not None:
            keep = torch.as_tensor(mask[:, t], device=x.device).reshape((-1,) + (1,) * (h.dim() - 1))
            prev = outs[-1] if outs else torch.zeros_like(h_new)
            h_new, c_new, out = torch.where(keep, h_new, h), torch.where(keep, c_new, c), torch.where(keep, h_new, prev)
        else:
            out = h_new
        outs.append(out)
        h, c = h_new, c_new
    y = torch.stack(outs, dim=1) if cfg["return_sequences"] else outs[-1]
    return [y, h, c] if cfg["return_state"] else y


_LAYERS.update({"ConvLSTM2D": _conv_lstm})
_RECURRENT["ConvLSTM2D"] = _conv_lstm  # takes the call's mask and training flag
_recurrent.OTHER_LAYERS["ConvLSTM2D"] = _conv_lstm  # so that Bidirectional can wrap it


class TorchAdapter(Adapter):
    name = "torch"
    package = "torch"
    devices = ("cpu", "cuda")
    dtypes = _DTYPES
    layers = frozenset(_LAYERS)
    unsupported_layers = {"Input": "torch has no symbolic input tensors: data is fed to the first op directly"}

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
        # a fresh copy: a time-reversed view has a negative stride (numpy keeps it even on a size-1 axis, where the
        # array counts as contiguous), which torch cannot wrap
        return [torch.tensor(np.array(a, copy=True), device=device, requires_grad=grad) for a in arrays]

    def _run(self, config, xt, ws, device, training, seed, mask=None):
        """(y, weights after the call). Training mode with a seed (the call's, else the layer's `seed`) runs under
        a forked generator seeded with it, so the same seed repeats the sample and the global torch generator
        is left as it was; without one it draws from the global generator. Only recurrent layers take a mask."""
        torch = _torch()
        name = config["class_name"]
        if name in _RECURRENT:
            def call():
                return _RECURRENT[name](torch, config["config"], xt, ws, mask=mask, training=training), ws
        elif mask is not None:
            raise ValueError(f"torch adapter: {name} takes no mask")
        elif not training or name not in _TRAINING:
            return _LAYERS[name](torch, config["config"], xt, ws), ws
        else:
            def call():
                return _TRAINING[name](torch, config["config"], xt, ws)
        seed = seed if seed is not None else config["config"].get("seed")
        if not training or seed is None:
            return call()
        with torch.random.fork_rng(devices=[] if device == "cpu" else None):
            torch.manual_seed(int(seed))
            return call()

    def _mask(self, mask, device):
        return None if mask is None else _torch().tensor(np.array(mask, dtype=bool, copy=True), device=device)

    def _forward(self, config, weights, x, *, device, dtype, training, seed, mask=None):
        if training:
            return self._train_step(config, weights, x, device=device, dtype=dtype, seed=seed, mask=mask)[0]
        return self._no_grad_run(config, weights, x, device, False, None, mask)[0]

    def _no_grad_run(self, config, weights, x, device, training, seed, mask=None):
        torch = _torch()
        xs = x if isinstance(x, list) else [x]  # a list: a merge layer's inputs, or [x, *initial states]
        ts = self._tensors([*xs, *weights], device)
        with torch.no_grad():
            y, new = self._run(config, ts[:len(xs)] if xs is x else ts[0], ts[len(xs):], device, training, seed,
                               self._mask(mask, device))
        # several outputs (return_state, Bidirectional merge_mode=None) come back as a list
        y = [t.cpu().numpy() for t in y] if isinstance(y, list) else y.cpu().numpy()
        return y, [w.cpu().numpy() for w in new]

    def _train_step(self, config, weights, x, *, device, dtype, seed, mask=None):
        return self._no_grad_run(config, weights, x, device, True, seed, mask)

    def _vjp(self, config, weights, x, g, *, device, dtype, training=False, mask=None):
        torch = _torch()
        xs = x if isinstance(x, list) else [x]
        ts = self._tensors([*xs, *weights], device, grad=True)
        y, _ = self._run(config, ts[:len(xs)] if xs is x else ts[0], ts[len(xs):], device, training, None,
                         self._mask(mask, device))
        # several outputs: one cotangent per output, autograd over all of them
        ys, gs = (y, list(g)) if isinstance(y, list) else ([y], [g])
        grads = torch.autograd.grad(ys, ts, grad_outputs=[torch.tensor(np.asarray(a, dtype), device=device)
                                                          for a in gs], allow_unused=True)
        out = [np.zeros_like(a) if gr is None else gr.cpu().numpy() for a, gr in zip([*xs, *weights], grads)]
        return (out[:len(xs)] if xs is x else out[0]), out[len(xs):]

    def stateful_run(self, config, weights, batches, *, device="cpu", dtype="float64", reset=()):
        """One stateful layer called on each batch in turn: the final states of a call are the initial states of
        the next; reset_states() (zeros) before call i for i in `reset`. A list batch [x, *states] passes its
        own initial states, as Keras 2.2.x prefers them to the stored ones. Returns each call's output(s)."""
        torch = _torch()
        ws = self._tensors([np.asarray(w, dtype) for w in weights], device)
        states, outputs = None, []
        for i, batch in enumerate(batches):
            if i in reset:
                states = None
            xs = self._tensors([np.asarray(a, dtype) for a in (batch if isinstance(batch, list) else [batch])],
                               device)
            inputs = xs if len(xs) > 1 else ([xs[0], *states] if states else xs[0])
            with torch.no_grad():
                y, states = _recurrent.run_layer(torch, config["class_name"], config["config"], inputs, ws)
            outputs.append([t.cpu().numpy() for t in y] if isinstance(y, list) else y.cpu().numpy())
        return outputs

    def _compute_mask(self, config, weights, x, *, device, dtype):
        fn = _MASKS.get(config["class_name"])
        mask = None if fn is None else fn(_torch(), config["config"], self._tensors([x], device)[0])
        return None if mask is None else mask.cpu().numpy()

    def _build_error(self, raw_config, input_shape):
        # torch has no Keras config parser, so it cannot reject a Keras config by itself; the invalid-config
        # suite only asks the Keras adapters.
        return None

    # ---- weight parameters ----

    def initial_weights(self, config, input_shape, *, seed, device="cpu", dtype="float64", draws=1, shapes=None):
        torch = _torch()
        out = []
        for d in range(draws):
            draw = []
            for i, (prefix, shape) in enumerate(zip(_weight_prefixes(config, len(shapes)), shapes)):
                generator = torch.Generator(device=device).manual_seed((seed + 104729 * d + 7919 * i) % 2 ** 31)
                keras = torch.empty(shape, dtype=getattr(torch, dtype), device=device)
                t = _to_torch_layout(config["class_name"], prefix, keras).contiguous()
                with torch.no_grad():
                    # no torch counterpart: Keras's own fan rule on the Keras layout (_keras_fans)
                    own = prefix == "alpha" or config["class_name"].startswith("LocallyConnected")
                    init = config["config"][f"{prefix}_initializer"]
                    if prefix == "bias" and config["config"].get("unit_forget_bias"):
                        # torch has no unit_forget_bias: the forget gate's block (i, f, c, o; CuDNNLSTM's
                        # recurrent half) set to ones, the bias initializer run on the parts around it
                        u = shape[-1] // (8 if config["class_name"] == "CuDNNLSTM" else 4)
                        first = 5 * u if config["class_name"] == "CuDNNLSTM" else u
                        _initialize(torch, init, t[:first], generator)
                        t[first:first + u] = 1.0
                        _initialize(torch, init, t[first + u:], generator)
                    else:
                        _initialize(torch, init, t, generator, tuple(shape) if own else None)
                draw.append(_from_torch_layout(config["class_name"], prefix, t, shape).cpu().numpy())
            out.append(draw)
        return out

    def regularization_losses(self, config, weights, inputs, *, device="cpu", dtype="float64"):
        torch = _torch()
        listed = isinstance(inputs, list)  # a recurrent layer's [x, *initial states], a cell's [x_t, *states]
        xs = inputs if listed else [inputs]
        ts = self._tensors([*xs, *weights], device)
        xt, ws = (ts[:len(xs)] if listed else ts[0]), ts[len(xs):]
        cfg = config["config"]
        with torch.no_grad():
            y = _LAYERS[config["class_name"]](torch, cfg, xt, ws)
            losses = [_l1l2(torch, cfg[f"{p}_regularizer"], w) for p, w in
                      zip(_weight_prefixes(config, len(ws)), ws) if cfg.get(f"{p}_regularizer")]
            activity = ({"class_name": "L1L2", "config": {"l1": cfg["l1"], "l2": cfg["l2"]}}
                        if config["class_name"] == "ActivityRegularization" else cfg.get("activity_regularizer"))
            if activity:  # Keras 2.2.x adds one activity loss per output of a layer with several (return_state)
                losses += [_l1l2(torch, activity, a) for a in (y if isinstance(y, list) else [y])]
        return [float(v) for v in losses], ([a.cpu().numpy() for a in y] if isinstance(y, list) else y.cpu().numpy())

    def constrained_weights(self, config, weights, input_shape, *, device="cpu", dtype="float64"):
        torch = _torch()
        ws = self._tensors(weights, device)
        cfg = config["config"]
        with torch.no_grad():
            return [(w if cfg.get(f"{p}_constraint") is None else _constraint(torch, cfg[f"{p}_constraint"], w))
                    .cpu().numpy() for p, w in zip(_weight_prefixes(config, len(ws)), ws)]


ADAPTER = TorchAdapter()
