"""PyTorch, family reshaping: Cropping, ZeroPadding and UpSampling 1D-3D."""
from __future__ import annotations


def _spatial_dims(x, cfg):
    """The spatial dims of x in the layer's data_format (the 1D layers have none: (batch, steps, features))."""
    first = cfg.get("data_format") == "channels_first"
    return list(range(2, x.dim())) if first else list(range(1, x.dim() - 1))


def _amounts(value):
    """(begin, end) per spatial axis from the canonical cropping/padding ((b, e) for 1D, ((b, e), ...) else)."""
    return [tuple(value)] if isinstance(value[0], int) else [tuple(p) for p in value]


def crop(torch, cfg, x, ws):
    for dim, (lo, hi) in zip(_spatial_dims(x, cfg), _amounts(cfg["cropping"])):
        x = x.narrow(dim, lo, x.shape[dim] - lo - hi)
    return x


def zero_pad(torch, cfg, x, ws):
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


def upsample(torch, cfg, x, ws):
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
    # half-pixel centres = torch's align_corners=False (docs/traps.md 18); interpolate wants NCHW
    channels_last = cfg["data_format"] == "channels_last"
    if channels_last:
        x = x.movedim(-1, 1)
    y = torch.nn.functional.interpolate(x, size=[n * s for n, s in zip(x.shape[2:], sizes)], mode="bilinear",
                                        align_corners=False)
    return y.movedim(1, -1) if channels_last else y
