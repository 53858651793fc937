"""Strategies for the Keras 1 API of seed 000: configs written with Keras 1 names and arguments.

Every case carries ``"keras_version": "1.2.2"`` beside class_name, as a Keras 1 model file records it, so that
a MaxPooling2D whose arguments are all omitted still means the Keras 1 layer (dim_ordering 'th'). Rows are named
keras1.<Name>; the adapters run the Keras 2 config the oracle translates to."""
from __future__ import annotations

from hypothesis import strategies as st

from oracle import keras1

from .base import ACTIVATION, OMIT, Case, Record, distinct_inputs, maybe, seed, window_sizes

VERSION = "1.2.2"
INITS = ["uniform", "lecun_uniform", "normal", "zero", "one", "glorot_normal", "glorot_uniform", "he_normal",
         "he_uniform"]
# Keras 1 serialisations of regularizers and constraints (get_config of keras 1.2.2's classes).
REGULARIZERS = [None, "l2", {"name": "L1L2Regularizer", "l1": 0.01, "l2": 0.0},
                {"name": "WeightRegularizer", "l1": 0.0, "l2": 0.001}]
CONSTRAINTS = [None, "nonneg", {"name": "MaxNorm", "m": 2, "axis": 0}, {"name": "UnitNorm", "axis": 0},
               {"name": "MinMaxNorm", "low": 0.0, "high": 1.0, "rate": 1.0, "axis": 0}]


def k1_config(name: str, params: dict) -> dict:
    return {"class_name": name, "keras_version": VERSION,
            "config": {k: v for k, v in params.items() if v is not OMIT}}


def _tuple(draw, rank: int, lo: int, hi: int):
    """A Keras 1 size: a tuple or a list of `rank` ints (never a bare int, which Keras 1 rejected)."""
    values = tuple(draw(st.integers(lo, hi)) for _ in range(rank))
    return draw(st.sampled_from([values, list(values)]))


def _maybe_tuple(draw, rank: int, lo: int, hi: int):
    """A Keras 1 size tuple, or OMIT so that the seed's default applies."""
    return OMIT if draw(st.booleans()) else _tuple(draw, rank, lo, hi)


def _layout(draw, rank: int, sizes, ordering) -> tuple:
    """Keras 1 input shape: channels first for 'th' and when dim_ordering is omitted (the seed's default)."""
    batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    return (batch, *sizes, channels) if ordering == "tf" else (batch, channels, *sizes)


@st.composite
def convolution_case(draw, rank: int) -> Case:
    """Convolution1D/2D/3D with every argument of seed 000 drawn or omitted (Keras 1 defaults)."""
    border = draw(st.sampled_from(["valid", "same", OMIT]))
    if rank == 1:
        kernel = draw(st.integers(1, 4))
        params = {"nb_filter": draw(st.integers(1, 4)), "filter_length": kernel,
                  "subsample_length": maybe(draw, st.integers(1, 3))}
        kernel_sizes = kernel
    else:
        kernel_sizes = tuple(draw(st.integers(1, 3 if rank == 3 else 4)) for _ in range(rank))
        names = ["nb_row", "nb_col"] if rank == 2 else ["kernel_dim1", "kernel_dim2", "kernel_dim3"]
        params = {"nb_filter": draw(st.integers(1, 4)), **dict(zip(names, kernel_sizes)),
                  "subsample": _maybe_tuple(draw, rank, 1, 3),
                  "dim_ordering": draw(st.sampled_from(["th", "tf", OMIT]))}
    params.update({"border_mode": border, "init": maybe(draw, st.sampled_from(INITS)),
                   "activation": maybe(draw, ACTIVATION), "bias": maybe(draw, st.booleans()),
                   "weights": maybe(draw, st.just(None)),
                   "W_regularizer": maybe(draw, st.sampled_from(REGULARIZERS)),
                   "b_regularizer": maybe(draw, st.sampled_from(REGULARIZERS)),
                   "activity_regularizer": maybe(draw, st.sampled_from(REGULARIZERS)),
                   "W_constraint": maybe(draw, st.sampled_from(CONSTRAINTS)),
                   "b_constraint": maybe(draw, st.sampled_from(CONSTRAINTS))})
    sizes = window_sizes(draw, kernel_sizes, OMIT, rank, border, 7 if rank < 3 else 5)
    if rank == 1:
        batch, channels = draw(st.integers(1, 3)), draw(st.integers(1, 4))
        shape = (batch, sizes[0], channels)
        if draw(st.booleans()):  # Keras 1's way of declaring the input of a first layer
            params["input_dim"] = channels
            params["input_length"] = maybe(draw, st.just(sizes[0]))
    else:
        shape = _layout(draw, rank, sizes, params["dim_ordering"])
    return Case(k1_config(f"Convolution{rank}D", params), shape, seed(draw))


@st.composite
def pooling_case(draw, rank: int, kind: str) -> Case:
    """{kind}Pooling{rank}D in Keras 1 form: pool_length/stride (1D) or pool_size/strides tuples (2D/3D)."""
    border = draw(st.sampled_from(["valid", "same", OMIT]))
    if rank == 1:
        pool = maybe(draw, st.integers(1, 3))
        params = {"pool_length": pool, "stride": maybe(draw, st.one_of(st.none(), st.integers(1, 4))),
                  "border_mode": border}
        ordering = "tf"  # Keras 1's 1D pooling has no dim_ordering: (samples, steps, features)
    else:
        pool = _maybe_tuple(draw, rank, 1, 3)
        ordering = draw(st.sampled_from(["th", "tf", OMIT]))
        strides = None if draw(st.booleans()) else _maybe_tuple(draw, rank, 1, 4)
        params = {"pool_size": pool, "strides": strides, "border_mode": border, "dim_ordering": ordering}
    pool_sizes = (2,) * rank if pool is OMIT else ((pool,) if rank == 1 else pool)
    sizes = window_sizes(draw, pool_sizes, OMIT, rank, border, 7 if rank < 3 else 5)
    return Case(k1_config(f"{kind}Pooling{rank}D", params), _layout(draw, rank, sizes, ordering), seed(draw))


@st.composite
def resize_case(draw, rank: int, family: str, arg_1d: str, arg: str, lo: int) -> Case:
    """UpSampling1D(length) / ZeroPadding1D(padding): an int; UpSampling2D/3D(size) / ZeroPadding2D/3D(padding):
    a tuple, with dim_ordering. Factors start at 1, padding amounts at 0 (`lo`)."""
    if rank == 1:
        params, ordering = {arg_1d: maybe(draw, st.integers(lo, lo + 2))}, "tf"
    else:
        ordering = draw(st.sampled_from(["th", "tf", OMIT]))
        params = {arg: _maybe_tuple(draw, rank, lo, lo + 2), "dim_ordering": ordering}
    largest = 2 if family == "UpSampling" and rank == 3 else 4  # upsampled 3D outputs grow fast
    sizes = [draw(st.integers(1, largest)) for _ in range(rank)]
    return Case(k1_config(f"{family}{rank}D", params), _layout(draw, rank, sizes, ordering), seed(draw))


_STRATEGIES = {"Convolution1D": convolution_case(1), "Convolution2D": convolution_case(2),
               "Convolution3D": convolution_case(3),
               **{f"{kind}Pooling{rank}D": pooling_case(rank, kind) for kind in ("Max", "Average") for rank in (1, 2, 3)},
               **{f"UpSampling{rank}D": resize_case(rank, "UpSampling", "length", "size", 1) for rank in (1, 2, 3)},
               **{f"ZeroPadding{rank}D": resize_case(rank, "ZeroPadding", "padding", "padding", 0)
                  for rank in (1, 2, 3)}}
# max pooling gets distinct inputs, as its Keras 2 row does (no ties in a window)
RECORDS = tuple(Record(keras1.LAYERS[name].row, strategy, inputs=distinct_inputs if name.startswith("MaxPooling") else None)
                for name, strategy in _STRATEGIES.items())
