"""Metamorphic relations of the reshaping layers, on the oracle and on every adapter (suites/metamorphic.py);
recorded under check "metamorphic:<relation>"."""
from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from .metamorphic import RECORDED, assert_equal, relation_fixture  # noqa: F401 (the `relation` fixture)
from .strategies.reshaping import amounts

SEED = st.integers(0, 2 ** 32 - 1)


@RECORDED
@given(rank=st.integers(1, 3), data=st.data())
def test_zero_padding_then_cropping_is_the_identity(backend, relation, rank, data):
    """DESIGN.md: ZeroPadding{r}D(p) then Cropping{r}D(p) returns the input, for every form of p (int, tuple of
    ints, tuple of pairs, mixed) and both data formats; the padding is written in one form, the cropping in
    another, both standing for the same (begin, end) pairs."""
    value, pairs = data.draw(amounts(rank, 3 if rank < 3 else 2), label="padding")
    # the cropping: the same pairs, written as the canonical pairs or as drawn
    crop = data.draw(st.sampled_from([value, pairs[0] if rank == 1 else pairs]), label="cropping")
    extra = {} if rank == 1 else {"data_format": data.draw(st.sampled_from(["channels_last", "channels_first"]),
                                                            label="data_format")}
    pad_cfg = {"class_name": f"ZeroPadding{rank}D", "config": {"padding": value, **extra}}
    crop_cfg = {"class_name": f"Cropping{rank}D", "config": {"cropping": crop, **extra}}
    backend.skip_unless_supported(pad_cfg, crop_cfg)
    spatial = [data.draw(st.integers(1, 4 if rank < 3 else 3), label="size") for _ in range(rank)]
    shape = (2, 3, *spatial) if extra.get("data_format") == "channels_first" else (2, *spatial, 3)
    seed = data.draw(SEED, label="seed")
    x = np.random.default_rng(seed).uniform(-2, 2, shape)
    with relation.example("zero_padding_then_cropping", pad_cfg, x, seed) as ex:
        assert_equal("ZeroPadding then Cropping == identity", backend, [(pad_cfg, []), (crop_cfg, [])], [], x,
                     example=ex)


@RECORDED
@given(rank=st.integers(1, 3), data=st.data())
def test_flatten_channels_first_is_flatten_channels_last_of_the_transposed_input(backend, relation, rank, data):
    """docs/traps.md 21: Flatten(channels_first) on (B, C, *spatial) equals Flatten(channels_last) on (B, *spatial, C):
    Keras moves the channels last before flattening (torch.flatten on NCHW would not)."""
    first = {"class_name": "Flatten", "config": {"data_format": "channels_first"}}
    last = {"class_name": "Flatten", "config": {"data_format": "channels_last"}}
    backend.skip_unless_supported(first, last)
    shape = (2, data.draw(st.integers(2, 4), label="channels"),
             *[data.draw(st.integers(1, 4), label="size") for _ in range(rank)])
    seed = data.draw(SEED, label="seed")
    x = np.random.default_rng(seed).uniform(-2, 2, shape)
    with relation.example("flatten_channels_first", first, x, seed) as ex:
        assert_equal("Flatten(channels_first) == Flatten(channels_last) of the transpose", backend, [(first, [])],
                     [(last, [])], x, rhs_x=np.moveaxis(x, 1, -1), example=ex)


@RECORDED
@given(rank=st.integers(1, 2), data=st.data())
def test_nearest_upsampling_then_average_pooling_is_the_identity(backend, relation, rank, data):
    """Issue 3: UpSampling{r}D(size=s) (nearest) then AveragePooling{r}D(pool_size=s) returns the input: every
    pool window holds s copies of one element. Channels_last and ranks 1-2, as the pooling relations (TF has no
    float64 3D pooling and tf-keras no channels_first 2D pooling on CPU: known divergences)."""
    size = tuple(data.draw(st.integers(1, 3), label="size") for _ in range(rank))
    up = {"class_name": f"UpSampling{rank}D", "config": {"size": size[0] if rank == 1 else size}}
    pool = {"class_name": f"AveragePooling{rank}D", "config": {"pool_size": size[0] if rank == 1 else size}}
    backend.skip_unless_supported(up, pool)
    spatial = [data.draw(st.integers(1, 4), label="spatial") for _ in range(rank)]
    seed = data.draw(SEED, label="seed")
    x = np.random.default_rng(seed).uniform(-2, 2, (2, *spatial, 3))
    with relation.example("upsampling_then_average_pooling", up, x, seed) as ex:
        assert_equal("UpSampling(nearest, s) then AveragePooling(s) == identity", backend, [(up, []), (pool, [])],
                     [], x, example=ex)
