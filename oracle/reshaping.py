"""Cropping1D/2D/3D, ZeroPadding1D/2D/3D, UpSampling1D/2D/3D (seed 003 "Convolutional layer"; 001/004 where 003
is terse; Keras 2.2.x where all are silent).

One N-d implementation per operation: the spatial axes of the layer's data_format are sliced (cropping), padded
(zero padding) or multiplied by a small per-axis interpolation matrix (upsampling). Cropping and zero padding are
each other's adjoint, so each one's VJP is the other; the upsampling VJP applies the transposed matrices.

Bilinear upsampling (docs/traps.md 18). Keras 2.2.x, which the seeds document, called TF1
`resize_bilinear(align_corners=False, half_pixel_centers=False)`: the source coordinate of output index d is
d / size. tf-keras 2.21 and Keras 3 use half-pixel centres, (d + 0.5) / size - 0.5 clamped to [0, n - 1], which
is also torch's `interpolate(mode='bilinear', align_corners=False)`. Decision: the oracle follows Keras 2.2.x by
default; the oracle-only config key `half_pixel_centers` (named after TF's resize argument, default False)
selects the half-pixel definition. It only changes 'bilinear': with an integer size 'nearest' picks d // size
under both conventions (floor((d + 0.5) / size) == d // size), so the key is accepted and has no effect there.
"""
from __future__ import annotations

import math
from typing import Any

import numpy as np

from .params import boolean, choice, int_tuple, invalid, positive_int
from .registry import Layer, register

DATA_FORMAT = ("channels_last", choice("channels_last", "channels_first", none_as="channels_last"))


def _count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def amounts(rank: int):
    """Parser of `cropping` / `padding` as Keras 2.2.x reads them.

    rank 1: an int (both ends) or (begin, end); canonical form (begin, end), which Keras accepts back.
    rank 2/3: an int (every end), or `rank` entries each an int (symmetric) or a (begin, end) pair; canonical
    form ((begin, end),) * rank. The documentation lists all-ints and all-pairs; Keras 2.2.x normalizes each
    entry on its own (normalize_tuple(entry, 2)), so it also takes a mix such as ((1, 2), 3), and so does this.
    Amounts are counts of rows, so negative values are rejected (Keras 2.2.x did not check; tf-keras and
    Keras 3 reject them)."""
    def parse(layer: str, param: str, value: Any):
        if rank == 1:
            pair = (value, value) if _count(value) else value
            if isinstance(pair, (list, tuple)) and len(pair) == 2 and all(_count(v) for v in pair):
                return tuple(int(v) for v in pair)
            raise invalid(layer, param, value, "expected an integer >= 0 or a tuple of 2 integers >= 0")
        entries = (value,) * rank if _count(value) else value
        if isinstance(entries, (list, tuple)) and len(entries) == rank:
            pairs = [(e, e) if _count(e) else e for e in entries]
            if all(isinstance(p, (list, tuple)) and len(p) == 2 and all(_count(v) for v in p) for p in pairs):
                return tuple((int(a), int(b)) for a, b in pairs)
        raise invalid(layer, param, value, f"expected an integer >= 0, a tuple of {rank} integers >= 0, or a "
                                           f"tuple of {rank} (begin, end) pairs of integers >= 0")
    return parse


def _pairs(cfg: dict, param: str) -> tuple[tuple[int, int], ...]:
    value = cfg[param]
    return (value,) if isinstance(value[0], int) else value


def _spatial_axes(ndim: int, data_format: str) -> tuple[int, ...]:
    return tuple(range(2, ndim)) if data_format == "channels_first" else tuple(range(1, ndim - 1))


def _format(cfg: dict) -> str:
    return cfg.get("data_format", "channels_last")  # the 1D layers have no data_format: (batch, steps, features)


def crop(x: np.ndarray, pairs, data_format: str) -> np.ndarray:
    """x without pairs[i] = (begin, end) elements at the two ends of spatial axis i."""
    index = [slice(None)] * x.ndim
    for axis, (lo, hi) in zip(_spatial_axes(x.ndim, data_format), pairs):
        index[axis] = slice(lo, x.shape[axis] - hi)
    return x[tuple(index)]


def zero_pad(x: np.ndarray, pairs, data_format: str) -> np.ndarray:
    """x with pairs[i] = (begin, end) zeros added at the two ends of spatial axis i."""
    widths = [(0, 0)] * x.ndim
    for axis, pair in zip(_spatial_axes(x.ndim, data_format), pairs):
        widths[axis] = pair
    return np.pad(x, widths)


def interpolation(n: int, size: int, method: str, half_pixel_centers: bool):
    """(lo, hi, t, src) per output index along one axis of length n upsampled by `size`: the output is
    (1 - t) * x[lo] + t * x[hi] at source coordinate src. Coordinates are fractions num / den of integers, so
    lo is exact and t correctly rounded (backends round them more, see `magnitude_matrix`)."""
    d = np.arange(n * size)
    if method == "nearest":  # seed 003: each element repeated `size` times
        lo = d // size
        return lo, lo, np.zeros(d.shape), lo.astype(np.float64)
    num, den = (2 * d + 1 - size, 2 * size) if half_pixel_centers else (d, size)
    num = np.maximum(num, 0)  # half-pixel coordinates below 0 are clamped to 0
    lo = num // den
    hi = np.minimum(lo + 1, n - 1)
    t = np.where(hi == lo, 0.0, (num - lo * den) / den)  # at the last element both neighbours are x[n - 1]
    return lo, hi, t, num / den


def interpolation_matrix(n: int, size: int, method: str, half_pixel_centers: bool) -> np.ndarray:
    """(n * size, n) matrix A of one axis: upsampled = A @ x along that axis."""
    lo, hi, t, _ = interpolation(n, size, method, half_pixel_centers)
    rows = np.arange(n * size)
    a = np.zeros((n * size, n))
    a[rows, lo] = 1.0 - t
    a[rows, hi] += t
    return a


def _along(x: np.ndarray, matrices: dict[int, np.ndarray]) -> np.ndarray:
    """x with every listed axis multiplied by its matrix (a loop over at most 3 axes, each one tensordot)."""
    for axis, m in matrices.items():
        x = np.moveaxis(np.tensordot(m, x, axes=(1, axis)), 0, axis)
    return x


def _matrices(cfg: dict, shape: tuple, adjoint: bool = False, build=interpolation_matrix) -> dict:
    sizes = cfg["size"] if isinstance(cfg["size"], tuple) else (cfg["size"],)
    method, half = cfg.get("interpolation", "nearest"), cfg.get("half_pixel_centers", False)
    axes = _spatial_axes(len(shape), _format(cfg))
    # The adjoint maps an output cotangent back: its axes have length n * size, the matrix is transposed.
    lengths = [shape[a] // s if adjoint else shape[a] for a, s in zip(axes, sizes)]
    return {a: (build(n, s, method, half).T if adjoint else build(n, s, method, half))
            for a, n, s in zip(axes, lengths, sizes)}


def upsample(cfg: dict, x: np.ndarray) -> np.ndarray:
    """UpSampling{1,2,3}D: nearest repeats each element `size` times per axis; bilinear interpolates (above)."""
    return _along(x, _matrices(cfg, x.shape))


def magnitude_matrix(n: int, size: int, method: str, half_pixel_centers: bool) -> np.ndarray:
    """|A| plus (|src| + 1) at both neighbours of each output.

    Backends compute the source coordinate (d + 0.5) * scale - 0.5 (or d * scale) in floating point, with an
    absolute error of a few units of roundoff times (|src| + 1); the weight error multiplies x[hi] - x[lo].
    Where t is 0 in exact arithmetic (or a neighbour is near 0) the plain absolute terms |A| @ |x| miss it, so
    the magnitude counts both neighbours at that size too. Nearest picks one element: nothing to add."""
    a = interpolation_matrix(n, size, method, half_pixel_centers)
    if method == "nearest":
        return a
    lo, hi, _, src = interpolation(n, size, method, half_pixel_centers)
    rows, slack = np.arange(n * size), np.abs(src) + 1.0
    a[rows, lo] += slack
    a[rows, hi] += np.where(hi == lo, 0.0, slack)
    return a


def _up_magnitude(cfg, ax):
    return _along(ax, _matrices(cfg, ax.shape, build=magnitude_matrix))


def _up_vjp_magnitude(cfg, ag):
    return _along(ag, _matrices(cfg, ag.shape, adjoint=True, build=magnitude_matrix))


def _checked_sizes(name: str, rank: int, cfg: dict, shape: tuple) -> tuple:
    """(spatial sizes) of a valid input shape; raises for a wrong rank or an empty axis."""
    shape = tuple(shape)
    if len(shape) != rank + 2:
        raise ValueError(f"{name}: input_shape={shape} is not allowed: expected rank {rank + 2} ({_format(cfg)})")
    sizes = [shape[a] for a in _spatial_axes(len(shape), _format(cfg))]
    if any(n is not None and n < 1 for n in shape[1:]):
        raise ValueError(f"{name}: input_shape={shape} is not allowed: sizes must be >= 1")
    return sizes


def _with_spatial(shape: tuple, cfg: dict, new: list) -> tuple:
    out = list(shape)
    for axis, n in zip(_spatial_axes(len(shape), _format(cfg)), new):
        out[axis] = n
    return tuple(out)


def _register(name: str, spec: dict, forward, vjp, output_shape, reductions, **extra) -> None:
    register(Layer(name=name, family="reshaping", spec=spec, forward=forward, vjp=vjp, output_shape=output_shape,
                   weight_shapes=lambda cfg, shape: [],
                   split_activation=lambda cfg: (cfg, "linear"),  # a linear map with no activation
                   reductions=reductions, **extra))


def _make_crop_pad(kind: str, rank: int) -> None:
    name, param = (f"Cropping{rank}D", "cropping") if kind == "crop" else (f"ZeroPadding{rank}D", "padding")
    # Documented defaults: Cropping1D (1, 1), Cropping2D ((0, 0), (0, 0)), Cropping3D ((1, 1),) * 3;
    # ZeroPadding1D 1, ZeroPadding2D (1, 1), ZeroPadding3D (1, 1, 1). The 1D layers document no data_format.
    default = {("crop", 1): (1, 1), ("crop", 2): ((0, 0), (0, 0)), ("crop", 3): ((1, 1),) * 3,
               ("pad", 1): 1, ("pad", 2): (1, 1), ("pad", 3): (1, 1, 1)}[kind, rank]
    spec = {param: (default, amounts(rank)), **({"data_format": DATA_FORMAT} if rank > 1 else {})}
    there, back = (crop, zero_pad) if kind == "crop" else (zero_pad, crop)

    def output_shape(cfg, shape):
        sizes, pairs = _checked_sizes(name, rank, cfg, shape), _pairs(cfg, param)
        if kind == "pad":
            return _with_spatial(shape, cfg, [None if n is None else n + lo + hi for n, (lo, hi) in zip(sizes, pairs)])
        for axis, (n, (lo, hi)) in enumerate(zip(sizes, pairs)):
            if n is not None and lo + hi >= n:  # Keras 2.2.x would return an empty or malformed tensor
                raise ValueError(f"{name}: {param}={cfg[param]!r} removes all {n} elements of spatial axis {axis} "
                                 f"of input_shape={tuple(shape)}: not allowed, at least one must remain")
        return _with_spatial(shape, cfg, [None if n is None else n - lo - hi for n, (lo, hi) in zip(sizes, pairs)])

    _register(name, spec,
              forward=lambda cfg, weights, x: there(x, _pairs(cfg, param), _format(cfg)),
              vjp=lambda cfg, weights, x, g: (back(g, _pairs(cfg, param), _format(cfg)), []),
              output_shape=output_shape, reductions=lambda cfg, shape: {"output": 1, "input": 1})


def _make_upsampling(rank: int) -> None:
    name = f"UpSampling{rank}D"
    if rank == 1:  # seed 003: UpSampling1D(size=2), an integer; no data_format
        spec = {"size": (2, positive_int)}
    else:
        spec = {"size": ((2,) * rank, int_tuple(rank)), "data_format": DATA_FORMAT}
    if rank == 2:  # interpolation is documented for UpSampling2D only; half_pixel_centers: see the module doc
        spec.update(interpolation=("nearest", choice("nearest", "bilinear")), half_pixel_centers=(False, boolean))

    def factors(cfg):
        return cfg["size"] if isinstance(cfg["size"], tuple) else (cfg["size"],)

    def output_shape(cfg, shape):
        sizes = _checked_sizes(name, rank, cfg, shape)
        return _with_spatial(shape, cfg, [None if n is None else n * s for n, s in zip(sizes, factors(cfg))])

    def reductions(cfg, shape):
        bilinear = cfg.get("interpolation") == "bilinear"
        # an output element sums 2 neighbours per axis (bilinear) or copies 1; an input element receives at
        # most size outputs per axis (nearest), 2 * size + 2 with bilinear (both neighbours, clamped ends)
        return {"output": 2 ** rank if bilinear else 1,
                "input": math.prod(2 * s + 2 if bilinear else s for s in factors(cfg))}

    _register(name, spec, forward=lambda cfg, weights, x: upsample(cfg, x),
              vjp=lambda cfg, weights, x, g: (_along(g, _matrices(cfg, g.shape, adjoint=True)), []),
              output_shape=output_shape, reductions=reductions,
              magnitude=_up_magnitude, vjp_magnitude=_up_vjp_magnitude)


for _rank in (1, 2, 3):
    _make_crop_pad("crop", _rank)
    _make_crop_pad("pad", _rank)
    _make_upsampling(_rank)
