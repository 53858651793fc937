"""Strategies for Cropping1D/2D/3D, ZeroPadding1D/2D/3D and UpSampling1D/2D/3D."""
from __future__ import annotations

from hypothesis import strategies as st

from .base import OMIT, Case, Record, config, int_or_tuple, maybe, seed

DATA_FORMAT = st.sampled_from(["channels_last", "channels_first", None, OMIT])


@st.composite
def amounts(draw, rank: int, hi: int):
    """(raw value in one of Keras' forms, the (begin, end) pairs it stands for) with amounts in [0, hi]."""
    if rank == 1:  # an int (both ends) or (begin, end)
        pair = (draw(st.integers(0, hi)), draw(st.integers(0, hi)))
        value = draw(st.sampled_from([pair, list(pair)] + ([pair[0]] if pair[0] == pair[1] else [])))
        return value, (tuple(pair),)
    pairs = [(draw(st.integers(0, hi)), draw(st.integers(0, hi))) for _ in range(rank)]
    # per entry: a symmetric int where begin == end (else the pair), a pair written as tuple or list
    entries = [draw(st.sampled_from([p, list(p)] + ([p[0]] if p[0] == p[1] else []))) for p in pairs]
    forms = [tuple(entries), tuple(tuple(p) for p in pairs)]
    if all(a == b for a, b in pairs):
        forms.append(tuple(a for a, _ in pairs))  # the documented tuple of symmetric ints
        if len(set(pairs)) == 1:
            forms.append(pairs[0][0])  # one int for everything
    return draw(st.sampled_from(forms)), tuple(pairs)


def _shape(draw, rank, data_format, spatial):
    batch, channels = draw(st.integers(1, 2)), draw(st.integers(1, 3))
    return (batch, channels, *spatial) if data_format == "channels_first" else (batch, *spatial, channels)


@st.composite
def crop_pad_case(draw, kind: str, rank: int) -> Case:
    """Cropping/ZeroPadding in every documented form (and the default); cropping may leave a single element."""
    name, param = (f"Cropping{rank}D", "cropping") if kind == "crop" else (f"ZeroPadding{rank}D", "padding")
    value, pairs = draw(st.one_of(st.just((OMIT, None)), amounts(rank, 2 if rank < 3 else 1)))
    if pairs is None:  # the documented default
        pairs = {("crop", 1): ((1, 1),), ("crop", 2): ((0, 0),) * 2, ("crop", 3): ((1, 1),) * 3,
                 ("pad", 1): ((1, 1),), ("pad", 2): ((1, 1),) * 2, ("pad", 3): ((1, 1),) * 3}[kind, rank]
    data_format = draw(DATA_FORMAT) if rank > 1 else OMIT
    least = [lo + hi + 1 if kind == "crop" else 1 for lo, hi in pairs]
    spatial = [draw(st.integers(n, n + (3 if rank < 3 else 1))) for n in least]
    params = {param: value, **({"data_format": data_format} if rank > 1 else {})}
    return Case(config(name, params), _shape(draw, rank, data_format, spatial), seed(draw))


@st.composite
def upsampling_case(draw, rank: int) -> Case:
    """UpSampling: size as int or tuple (1 keeps an axis), both data formats, nearest and bilinear in both the
    Keras 2.2.x and the half-pixel convention (UpSampling2D)."""
    if rank == 1:
        size = maybe(draw, st.integers(1, 3))
    else:
        size = OMIT if draw(st.booleans()) else int_or_tuple(draw, rank, 1, 3 if rank < 3 else 2)
    params = {"size": size}
    if rank > 1:
        params["data_format"] = draw(DATA_FORMAT)
    if rank == 2:
        params["interpolation"] = draw(st.sampled_from(["nearest", "bilinear", OMIT]))
        params["half_pixel_centers"] = maybe(draw, st.booleans())
    spatial = [draw(st.integers(1, 4 if rank < 3 else 2)) for _ in range(rank)]
    return Case(config(f"UpSampling{rank}D", params), _shape(draw, rank, params.get("data_format"), spatial),
                seed(draw))


RECORDS = tuple(Record(f"{name}{rank}D", strategy) for rank in (1, 2, 3) for name, strategy in (
    ("Cropping", crop_pad_case("crop", rank)), ("ZeroPadding", crop_pad_case("pad", rank)),
    ("UpSampling", upsampling_case(rank))))


@st.composite
def invalid_reshaping(draw):
    """(raw config, input shape, parameter named in the error, value named in the error)."""
    rank = draw(st.integers(1, 3))
    family = draw(st.sampled_from(["Cropping", "ZeroPadding", "UpSampling"]))
    name = f"{family}{rank}D"
    param = {"Cropping": "cropping", "ZeroPadding": "padding", "UpSampling": "size"}[family]
    shape = (1,) + (4,) * rank + (2,)
    kinds = ["negative", "malformed", "data_format"] + (["removes_all"] if family == "Cropping" else []) + (
        ["interpolation"] if name == "UpSampling2D" else [])
    kind = draw(st.sampled_from(kinds))
    if kind == "negative":  # a count below 0 (size below 1)
        bad = draw(st.integers(-2, 0 if family == "UpSampling" else -1))
        return config(name, {param: bad}), shape, param, bad
    if kind == "malformed":  # a float, or the wrong number of entries
        if family == "UpSampling":
            options = [1.5] + ([(2,) * (rank + 1)] if rank > 1 else [])
        else:
            options = [1.5, (1,) * (rank + 2)] + ([((1, 2, 3),) + (0,) * (rank - 1)] if rank > 1 else [])
        bad = draw(st.sampled_from(options))
        return config(name, {param: bad}), shape, param, bad
    if kind == "removes_all":  # begin + end >= the axis length (4)
        amount = draw(st.integers(2, 3))
        canonical = (amount, amount) if rank == 1 else ((amount, amount),) * rank
        return config(name, {param: amount}), shape, param, canonical
    if kind == "interpolation":  # TF extensions and other spellings; seed 003 lists 'nearest' and 'bilinear'
        bad = draw(st.sampled_from(["bicubic", "area", "Bilinear", "NEAREST", "linear", "cubic"]))
        return config(name, {"interpolation": bad}), shape, "interpolation", bad
    if rank == 1:  # the 1D layers document no data_format: an unknown parameter, named in the error
        return config(name, {"data_format": "channels_first"}), shape, "data_format", "data_format"
    bad = draw(st.sampled_from(["NCHW", "channels-last", "th", "tf"]))
    return config(name, {"data_format": bad}), shape, "data_format", bad


INVALID = invalid_reshaping()
