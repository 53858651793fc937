"""PyTorch, bottom layer: the helpers every layer family shares. Never calls the oracle and imports no project
module; torch itself is imported only inside `load_torch`, on first use.

Keras conventions written out in torch ops: Keras 2 activations (hard_sigmoid), Keras 'same'/'causal' padding,
the Keras <-> torch weight layouts and fans, Keras initializers, L1L2 regularizers and constraints.
"""
from __future__ import annotations

import importlib
import math
from dataclasses import dataclass
from typing import Callable

DTYPES = ("float32", "float64")


def load_torch():
    torch = importlib.import_module("torch")
    # TF32 off so CUDA float32 matmuls and convolutions round like float32 (docs/traps.md 25).
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return torch


def activation(torch, name, y):
    """Keras 2.2.x activations in torch ops; softmax along the last axis of the Keras layout."""
    F = torch.nn.functional
    table = {
        "linear": lambda t: t, "relu": F.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid,
        # Keras 2: clip(0.2x + 0.5, 0, 1). torch's hardsigmoid is relu6(x + 3) / 6 (docs/traps.md 14).
        "hard_sigmoid": lambda t: torch.clamp(0.2 * t + 0.5, 0.0, 1.0),
        "softmax": lambda t: torch.softmax(t, dim=-1), "elu": F.elu, "selu": F.selu,
        "softplus": F.softplus, "softsign": F.softsign, "exponential": torch.exp,
    }
    return table[name](y)


def keras_pads(size, k, s, d, padding):
    """(before, after) padding Keras applies along one axis. Written here, independently of the oracle."""
    if padding == "causal":
        return (k - 1) * d, 0
    if padding == "same":
        out = -(-size // s)
        total = max((out - 1) * s + (k - 1) * d + 1 - size, 0)
        return total // 2, total - total // 2
    return 0, 0


# ---- weight layouts and fans (a layer's record names its WeightLayout; layers.py) ----

def to_torch_layout(prefix, w):
    """A Keras-layout weight in the layout torch's own layer keeps it, where torch has one: kernels and pointwise
    kernels (*k, in, out) -> (out, in, *k) (Dense (in, out) -> (out, in); Conv*Transpose (*k, out, in) ->
    (in, out, *k)), depthwise (*k, C, M) -> (C*M, 1, *k)."""
    n = w.ndim
    if prefix == "depthwise":
        return w.reshape(*w.shape[:-2], -1).permute(n - 2, *range(n - 2)).unsqueeze(1)
    if prefix in ("kernel", "pointwise", "recurrent") and n >= 2:
        return w.permute(n - 1, n - 2, *range(n - 2))
    return w


def from_torch_layout(prefix, t, shape):
    """Inverse of to_torch_layout for a weight of Keras `shape`."""
    n = len(shape)
    if prefix == "depthwise":
        return t.squeeze(1).permute(*range(1, n - 1), 0).reshape(shape)
    if prefix in ("kernel", "pointwise", "recurrent") and n >= 2:
        return t.permute(*range(2, n), 1, 0)
    return t


def keras_fans(shape):
    """Keras 2.2.x's fans, for a weight torch has no layer (and so no fan convention) for: LocallyConnected
    kernels and PReLU's alpha stay in the Keras layout here. 2-D: (in, out); 3- to 5-D: the last two axes times
    the receptive field of the others; otherwise ('no specific assumptions') sqrt of the size for both."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if 3 <= len(shape) <= 5:
        field = math.prod(shape[:-2])
        return shape[-2] * field, shape[-1] * field
    return math.sqrt(math.prod(shape)), math.sqrt(math.prod(shape))


@dataclass(frozen=True)
class WeightLayout:
    """How a layer's weights are laid out for initialisation: to_torch(prefix, w), from_torch(prefix, t, shape),
    and whether the fans are Keras's own rule on the Keras shape (keras_fans) rather than torch's."""
    to_torch: Callable
    from_torch: Callable
    own_fans: bool = False


# torch's own layer layout and fan rule (the default)
TORCH_LAYOUT = WeightLayout(to_torch_layout, from_torch_layout)
# torch has no such layer (locally connected): the Keras layout, Keras's fans
KERAS_LAYOUT = WeightLayout(lambda prefix, w: w, lambda prefix, t, shape: t, own_fans=True)


def initialize(torch, init, t, generator, keras_shape=None):
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
    fan_in, fan_out = nn_init._calculate_fan_in_and_fan_out(t) if keras_shape is None else keras_fans(keras_shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[c["mode"]]
    scale = c["scale"] / max(1.0, n)
    if c["distribution"] == "uniform":
        limit = math.sqrt(3.0 * scale)
        return nn_init.uniform_(t, -limit, limit, generator=generator)
    return nn_init.trunc_normal_(t, 0.0, math.sqrt(scale), -2 * math.sqrt(scale), 2 * math.sqrt(scale),
                                 generator=generator)


def l1l2(torch, reg, t):
    """Keras L1L2: l1 * sum|t| + l2 * sum t^2, written out (torch has no regularizer objects)."""
    return reg["config"]["l1"] * torch.sum(torch.abs(t)) + reg["config"]["l2"] * torch.sum(t * t)


def constraint(torch, con, t):
    """Keras constraints written out: norms over `axis` with keepdims and epsilon 1e-7 added to the norm
    (torch.renorm and F.normalize clamp instead of adding, docs/traps.md 22, so they differ)."""
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


def weight_prefixes(config, count):
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
