"""Strategies for the pooling family: windowed and global max/average pooling, 1D to 3D."""
from __future__ import annotations

from hypothesis import strategies as st

from .base import OMIT, Case, Record, config, distinct_inputs, expand, int_or_tuple, seed

RANKS = {1: "1D", 2: "2D", 3: "3D"}


def _data_format(draw, rank):
    # None (= keras.json's image_data_format) is documented for 2D/3D only, as for the convolutions.
    return draw(st.sampled_from(["channels_last", "channels_first", OMIT] + ([None] if rank > 1 else [])))


def _shape(draw, sizes, data_format):
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return (batch, channels, *sizes) if data_format == "channels_first" else (batch, *sizes, channels)


@st.composite
def pool_case(draw, rank: int, kind: str) -> Case:
    """{kind}Pooling{rank}D: int and tuple pool sizes, strides omitted / None / smaller or larger than the pool,
    'valid' with the pool equal to the input, 'same' with odd and even totals, both data formats."""
    pool = OMIT if draw(st.booleans()) else int_or_tuple(draw, rank, 1, 3)
    strides = draw(st.sampled_from([OMIT, None, "draw"]))
    if strides == "draw":
        strides = int_or_tuple(draw, rank, 1, 4)
    padding = draw(st.sampled_from(["valid", "same", OMIT]))
    data_format = _data_format(draw, rank)
    params = {"pool_size": pool, "strides": strides, "padding": padding, "data_format": data_format}
    max_size = 7 if rank < 3 else 5
    lo_of = (lambda k: k) if padding in ("valid", OMIT) else (lambda k: 1)  # 'valid' needs the pool to fit
    sizes = [draw(st.integers(lo_of(k), max(lo_of(k), max_size))) for k in expand(pool, rank, 2)]
    return Case(config(f"{kind}Pooling{RANKS[rank]}", params), _shape(draw, sizes, data_format), seed(draw))


@st.composite
def global_case(draw, rank: int, kind: str) -> Case:
    """Global{kind}Pooling{rank}D: both data formats, spatial sizes from 1 (a single element) up."""
    data_format = _data_format(draw, rank)
    max_size = 6 if rank < 3 else 4
    sizes = [draw(st.integers(1, max_size)) for _ in range(rank)]
    return Case(config(f"Global{kind}Pooling{RANKS[rank]}", {"data_format": data_format}),
                _shape(draw, sizes, data_format), seed(draw))


# Max pooling's gradient is ill-defined at ties: its inputs keep a margin between all values. The tie
# behaviour itself is pinned by suites/test_pooling_ties.py.
RECORDS = tuple(Record(f"{prefix}{kind}Pooling{RANKS[rank]}", strategy(rank, kind),
                       inputs=distinct_inputs if kind == "Max" else None)
                for rank in RANKS for kind in ("Max", "Average")
                for prefix, strategy in (("", pool_case), ("Global", global_case)))
MAX_LAYERS = tuple(r.layer for r in RECORDS if "Max" in r.layer)
WINDOWED = tuple(r.layer for r in RECORDS if not r.layer.startswith("Global"))
GLOBAL = tuple(r.layer for r in RECORDS if r.layer.startswith("Global"))


def _rank(layer: str) -> int:
    return int(layer[-2])


@st.composite
def invalid_pool(draw):
    """(raw config, input shape, parameter named in the error, value named in the error) of a pooling layer."""
    layer = draw(st.sampled_from(sorted(WINDOWED + GLOBAL)))
    rank = _rank(layer)
    shape = (1,) + (4,) * rank + (2,)
    kinds = ["data_format"] + (["padding", "pool_size", "strides", "too_large"] if layer in WINDOWED else [])
    kind = draw(st.sampled_from(kinds))
    # a windowed layer's other parameters are written out valid (pool_size 2): Keras 3's AveragePooling has no
    # default pool_size, so a config that omitted it would be rejected for that, not for the drawn parameter
    pool = {"pool_size": 2} if layer in WINDOWED else {}
    if kind == "data_format":
        bad = draw(st.sampled_from(["NHWC", "channels-last", "th", "tf"]))
        return config(layer, {**pool, "data_format": bad}), shape, "data_format", bad
    if kind == "padding":
        bad = draw(st.sampled_from(["full", "SAME", "Valid", "causal", ""]))
        return config(layer, {**pool, "padding": bad}), shape, "padding", bad
    if kind == "pool_size":
        bad = draw(st.integers(-2, 0))
        return config(layer, {"pool_size": bad}), shape, "pool_size", bad
    if kind == "strides":
        bad = draw(st.integers(-2, 0))
        return config(layer, {**pool, "strides": bad}), shape, "strides", bad
    # 'valid' with a pool longer than the input (written out, so the known-divergence entries can name it)
    k = draw(st.integers(5, 7))
    return config(layer, {"pool_size": k, "padding": "valid"}), shape, "pool_size", (k,) * rank


INVALID = invalid_pool()
