"""PyTorch, families noise and normalization: the dropout and noise layers, BatchNormalization.

Inference mode: the noise layers are the identity, BatchNormalization uses its moving statistics. Training mode
runs the *_train functions, (torch, cfg, x, ws) -> (y, weights after the call), under a generator seeded with
the call's seed (adapter.py). Keras 2.2.x applies Dropout, GaussianDropout and AlphaDropout only for 0 < rate < 1.
"""
from __future__ import annotations

import math


def _active(rate):
    return 0.0 < rate < 1.0


def _unit_mask(torch, x, shape, rate):
    """A {0, 1} mask of `shape` (broadcast against x), 1 with probability 1 - rate, drawn with torch.rand."""
    return (torch.rand(shape, dtype=x.dtype, device=x.device) >= rate).to(x.dtype)


def dropout_train(torch, cfg, x, ws):
    p = cfg["rate"]
    if not _active(p):
        return x, ws
    if cfg["noise_shape"] is None:
        return torch.nn.functional.dropout(x, p, training=True), ws
    # torch has no noise_shape: a mask of that shape (None entries = the input's size), broadcast, 1/(1 - p)
    shape = [n if m is None else m for n, m in zip(x.shape, cfg["noise_shape"])]
    return x * _unit_mask(torch, x, shape, p) / (1.0 - p), ws


def spatial_dropout_train(torch, cfg, x, ws):
    """F.dropout1d/2d/3d drop whole channels of (B, C, *spatial). docs/traps.md 20: Dropout2d on a 3-D input is not
    SpatialDropout1D; dropout1d on (B, C, T) is."""
    p = cfg["rate"]
    if not _active(p):
        return x, ws
    first = cfg.get("data_format") == "channels_first"
    xc = x if first else x.movedim(-1, 1)
    F = torch.nn.functional
    y = (F.dropout1d, F.dropout2d, F.dropout3d)[x.dim() - 3](xc, p, training=True)
    return (y if first else y.movedim(1, -1)), ws


def gaussian_noise_train(torch, cfg, x, ws):
    return x + cfg["stddev"] * torch.randn_like(x), ws


def gaussian_dropout_train(torch, cfg, x, ws):
    p = cfg["rate"]
    if not _active(p):
        return x, ws
    return x * (1.0 + math.sqrt(p / (1.0 - p)) * torch.randn_like(x)), ws


def alpha_dropout_train(torch, cfg, x, ws):
    """F.alpha_dropout without noise_shape; with one, the Keras formula written out on a broadcast mask:
    a * (x * keep + alpha' * (1 - keep)) + b (docs/traps.md 20)."""
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
    """F.batch_norm with eps = epsilon and torch momentum = 1 - Keras momentum (docs/traps.md 19). The running
    statistics are updated in place on clones, returned as the new weights."""
    xc, back = _channels_to_1(cfg, x)
    gamma = ws[0] if cfg["scale"] else None
    beta = ws[int(cfg["scale"])] if cfg["center"] else None
    mean, var = ws[-2].detach().clone(), ws[-1].detach().clone()
    y = torch.nn.functional.batch_norm(xc, mean, var, gamma, beta, training=training,
                                       momentum=1.0 - cfg["momentum"], eps=cfg["epsilon"])
    return back(y), list(ws[:-2]) + [mean, var]


def identity(torch, cfg, x, ws):
    """A noise layer in inference mode."""
    return x


def batch_norm(torch, cfg, x, ws):
    return _batch_norm(torch, cfg, x, ws)[0]


def batch_norm_train(torch, cfg, x, ws):
    return _batch_norm(torch, cfg, x, ws, training=True)
