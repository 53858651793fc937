"""PyTorch, family pooling: Max/Average pooling 1D-3D and their Global forms."""
from __future__ import annotations

import math

from .ops import keras_pads


def window_pool(mode):
    """Keras max/average pooling: the 'same' pad applied explicitly (-inf for max, docs/traps.md 4); a 'same' average
    divides by the pooled ones of the unpadded input, the count of real elements (docs/traps.md 3): torch's
    count_include_pad cannot express an asymmetric pad."""
    def run(torch, cfg, x, ws):
        F = torch.nn.functional
        rank = len(cfg["pool_size"])
        strides = cfg["pool_size"] if cfg["strides"] is None else cfg["strides"]
        channels_last = cfg["data_format"] == "channels_last"
        if channels_last:
            x = x.movedim(-1, 1)
        pads = [keras_pads(n, k, s, 1, cfg["padding"]) for n, k, s in zip(x.shape[2:], cfg["pool_size"], strides)]
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


def global_pool(mode):
    def run(torch, cfg, x, ws):
        dims = tuple(range(1, x.dim() - 1)) if cfg["data_format"] == "channels_last" else tuple(range(2, x.dim()))
        # amax (not max(dim)) splits the gradient among tied maxima like the oracle (tf.reduce_max's rule)
        return torch.amax(x, dim=dims) if mode == "max" else torch.mean(x, dim=dims)
    return run
