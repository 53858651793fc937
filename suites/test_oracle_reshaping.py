"""Oracle self-tests for Cropping, ZeroPadding, UpSampling and Flatten: the seed examples, hand-computed outputs,
plain-loop references, and the documented errors. No framework is imported."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import oracle

from . import strategies

EPS = np.finfo(np.float64).eps
SEED = st.integers(0, 2 ** 32 - 1)


def cfg(name, **kw):
    return {"class_name": name, "config": kw}


def test_seed_003_cropping2d_example():
    """Seed 003: Cropping2D(((2, 2), (4, 4))) on (28, 28, 3) -> (None, 24, 20, 3); Conv2D(64, (3, 3),
    padding='same') -> (None, 24, 20, 64); Cropping2D(((2, 2), (2, 2))) -> (None, 20, 16, 64)."""
    first = oracle.output_shape(cfg("Cropping2D", cropping=((2, 2), (4, 4))), (None, 28, 28, 3))
    assert first == (None, 24, 20, 3)
    conv = oracle.output_shape(cfg("Conv2D", filters=64, kernel_size=(3, 3), padding="same"), first)
    assert conv == (None, 24, 20, 64)
    assert oracle.output_shape(cfg("Cropping2D", cropping=((2, 2), (2, 2))), conv) == (None, 20, 16, 64)


def test_seed_003_flatten_example():
    """Seed 003 (and 002): Conv2D(64, (3, 3), padding='same') on (3, 32, 32) gives (None, 64, 32, 32) (channels
    first, as the comment says), then Flatten -> (None, 65536)."""
    conv = oracle.output_shape(cfg("Conv2D", filters=64, kernel_size=(3, 3), padding="same",
                                   data_format="channels_first"), (None, 3, 32, 32))
    assert conv == (None, 64, 32, 32)
    assert oracle.output_shape(cfg("Flatten"), conv) == (None, 65536)
    assert oracle.weight_shapes(cfg("Flatten"), (1, 64, 32, 32)) == []


def test_hand_computed_crop_pad_flatten():
    """Defaults and forms worked out by hand on small integer inputs."""
    seq = np.arange(1.0, 6.0).reshape(1, 5, 1)
    np.testing.assert_array_equal(oracle.forward(cfg("Cropping1D"), [], seq)[0, :, 0], [2, 3, 4])
    np.testing.assert_array_equal(oracle.forward(cfg("Cropping1D", cropping=(0, 2)), [], seq)[0, :, 0], [1, 2, 3])
    np.testing.assert_array_equal(oracle.forward(cfg("ZeroPadding1D"), [], seq)[0, :, 0], [0, 1, 2, 3, 4, 5, 0])
    np.testing.assert_array_equal(oracle.forward(cfg("ZeroPadding1D", padding=(2, 0)), [], seq)[0, :, 0],
                                  [0, 0, 1, 2, 3, 4, 5])
    img = np.arange(1.0, 7.0).reshape(1, 1, 2, 3)  # channels_first: one channel [[1, 2, 3], [4, 5, 6]]
    padded = oracle.forward(cfg("ZeroPadding2D", padding=((1, 0), (0, 1)), data_format="channels_first"), [], img)
    np.testing.assert_array_equal(padded[0, 0], [[0, 0, 0, 0], [1, 2, 3, 0], [4, 5, 6, 0]])
    cropped = oracle.forward(cfg("Cropping2D", cropping=(0, (1, 0)), data_format="channels_first"), [], img)
    np.testing.assert_array_equal(cropped[0, 0], [[2, 3], [5, 6]])
    # Flatten channels_first: (C=3, T=4) with x[c, t] = 4c + t, channels moved last: t-major order
    x = np.arange(12.0).reshape(1, 3, 4)
    np.testing.assert_array_equal(oracle.forward(cfg("Flatten", data_format="channels_first"), [], x)[0],
                                  [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11])
    np.testing.assert_array_equal(oracle.forward(cfg("Flatten"), [], x)[0], np.arange(12.0))


def test_hand_computed_bilinear_both_conventions():
    """2x2 image [[1, 2], [3, 4]] upsampled by 2. Keras 2.2.x (source d / 2): rows/columns 1, 1.5, 2, 2 (the
    last one clamps). Half-pixel (source (d + 0.5) / 2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped): 1, 1.25, 1.75,
    2 along a row; the image is linear, so x = 1 + 2*row + col at each source coordinate."""
    x = np.array([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 2, 1)
    for half, coords in [(False, [0, 0.5, 1, 1]), (True, [0, 0.25, 0.75, 1])]:
        y = oracle.forward(cfg("UpSampling2D", interpolation="bilinear", half_pixel_centers=half), [], x)
        expected = [[1 + 2 * r + c for c in coords] for r in coords]
        np.testing.assert_array_equal(y[0, :, :, 0], expected)


def loop_bilinear(x, size, half):
    """Plain loops over every output pixel of a (rows, cols) image, written from TF's resize_bilinear."""
    (n, m), (sr, sc) = x.shape, size
    y = np.zeros((n * sr, m * sc))

    def neighbours(d, s, length):
        src = (d + 0.5) / s - 0.5 if half else d / s
        src = min(max(src, 0.0), length - 1)
        lo = int(np.floor(src))
        return lo, min(lo + 1, length - 1), src - lo

    for i, j in itertools.product(range(n * sr), range(m * sc)):
        r0, r1, tr = neighbours(i, sr, n)
        c0, c1, tc = neighbours(j, sc, m)
        top = x[r0, c0] * (1 - tc) + x[r0, c1] * tc
        bottom = x[r1, c0] * (1 - tc) + x[r1, c1] * tc
        y[i, j] = top * (1 - tr) + bottom * tr
    return y


@given(rows=st.integers(1, 5), cols=st.integers(1, 5), size=st.tuples(st.integers(1, 4), st.integers(1, 4)),
       half=st.booleans(), first=st.booleans(), seed=SEED)
def test_bilinear_equals_plain_loops(rows, cols, size, half, first, seed):
    """Both conventions, both data formats, against the loops, within the float64 rounding of 4-term sums."""
    x = np.random.default_rng(seed).uniform(-2, 2, (2, rows, cols, 3))
    config = cfg("UpSampling2D", size=size, interpolation="bilinear", half_pixel_centers=half,
                 data_format="channels_first" if first else "channels_last")
    y = oracle.forward(config, [], np.moveaxis(x, -1, 1) if first else x)
    y = np.moveaxis(y, 1, -1) if first else y
    ref = np.stack([np.stack([loop_bilinear(x[b, :, :, c], size, half) for c in range(3)], -1) for b in range(2)])
    # each output is a sum of 4 products of two weights in [0, 1] with one input: <= 8 roundings per side
    bound = 2 * 8 * EPS * np.stack([np.stack([loop_bilinear(np.abs(x[b, :, :, c]), size, half)
                                              for c in range(3)], -1) for b in range(2)])
    assert np.all(np.abs(y - ref) <= bound)


@pytest.mark.parametrize("rank", [1, 2, 3])
@given(data=st.data())
def test_nearest_upsampling_repeats_each_element(rank, data):
    """Seed 003: 'repeats each step size times' along each axis, exactly (np.repeat), in either data_format;
    half_pixel_centers has no effect on 'nearest'."""
    case = data.draw(strategies.cases(f"UpSampling{rank}D"))
    c = oracle.normalize(case.config)["config"]
    if c.get("interpolation") == "bilinear":
        c = {**c, "interpolation": "nearest"}
    x = np.random.default_rng(case.seed).uniform(-2, 2, case.input_shape)
    sizes = c["size"] if rank > 1 else (c["size"],)
    axes = range(2, rank + 2) if c.get("data_format") == "channels_first" else range(1, rank + 1)
    ref = x
    for axis, s in zip(axes, sizes):
        ref = np.repeat(ref, s, axis=axis)
    np.testing.assert_array_equal(oracle.forward({"class_name": case.layer, "config": c}, [], x), ref)
    if rank == 2:
        other = {**c, "half_pixel_centers": not c["half_pixel_centers"]}
        np.testing.assert_array_equal(oracle.forward({"class_name": case.layer, "config": other}, [], x), ref)


@given(half=st.booleans(), size=st.tuples(st.integers(1, 4), st.integers(1, 4)), value=st.floats(-3, 3),
       shape=st.tuples(st.integers(1, 4), st.integers(1, 4)))
def test_bilinear_keeps_constants_and_size_one_is_the_identity(half, size, value, shape):
    """The weights of each output sum to 1, so a constant image stays constant: y = sum w_i * v, where the
    weights 1 - t and t and the two per-axis passes each round once (at most 8 roundings of |v|); size (1, 1)
    returns the input unchanged in both conventions."""
    x = np.full((1, *shape, 2), value)
    y = oracle.forward(cfg("UpSampling2D", size=size, interpolation="bilinear", half_pixel_centers=half), [], x)
    assert np.all(np.abs(y - value) <= 8 * EPS * abs(value))
    z = np.random.default_rng(0).uniform(-2, 2, (1, *shape, 2))
    np.testing.assert_array_equal(oracle.forward(cfg("UpSampling2D", size=1, interpolation="bilinear",
                                                     half_pixel_centers=half), [], z), z)


INVALID = [  # (config, input_shape or None, pieces the message must contain)
    (cfg("Cropping1D", cropping=-1), None, ["Cropping1D", "cropping", "-1"]),
    (cfg("Cropping2D", cropping=((1, 2, 3), 1)), None, ["Cropping2D", "cropping", "((1, 2, 3), 1)"]),
    (cfg("Cropping3D", cropping=(1, 1)), None, ["Cropping3D", "cropping", "(1, 1)"]),
    (cfg("ZeroPadding2D", padding=True), None, ["ZeroPadding2D", "padding", "True"]),
    (cfg("ZeroPadding1D", padding=(1, 2, 3)), None, ["ZeroPadding1D", "padding", "(1, 2, 3)"]),
    (cfg("ZeroPadding1D", data_format="channels_first"), None, ["ZeroPadding1D", "'data_format'"]),
    (cfg("Cropping1D", cropping=(2, 2)), (1, 4, 3), ["Cropping1D", "cropping=(2, 2)", "(1, 4, 3)"]),
    (cfg("Cropping2D", cropping=(0, 3), data_format="channels_first"), (1, 6, 8, 6),
     ["Cropping2D", "cropping=((0, 0), (3, 3))", "spatial axis 1", "(1, 6, 8, 6)"]),
    (cfg("Cropping3D"), (1, 2, 5, 5, 1), ["Cropping3D", "cropping=((1, 1), (1, 1), (1, 1))", "(1, 2, 5, 5, 1)"]),
    (cfg("Cropping2D"), (1, 4, 4), ["Cropping2D", "input_shape=(1, 4, 4)", "rank 4"]),
    (cfg("UpSampling1D", size=(2,)), None, ["UpSampling1D", "size", "(2,)"]),
    (cfg("UpSampling2D", size=0), None, ["UpSampling2D", "size", "0"]),
    (cfg("UpSampling3D", size=(2, 2)), None, ["UpSampling3D", "size", "(2, 2)"]),
    (cfg("UpSampling2D", interpolation="bicubic"), None, ["UpSampling2D", "interpolation", "'bicubic'"]),
    (cfg("UpSampling2D", half_pixel_centers=1), None, ["UpSampling2D", "half_pixel_centers", "1"]),
    (cfg("UpSampling3D", interpolation="bilinear"), None, ["UpSampling3D", "'interpolation'"]),
    (cfg("Flatten", data_format="NCHW"), None, ["Flatten", "data_format", "'NCHW'"]),
    (cfg("Flatten"), (2, 3), ["Flatten", "input_shape=(2, 3)", "rank >= 3"]),
    (cfg("Flatten"), (None, 3, None), ["Flatten", "input_shape=(None, 3, None)"]),
]


@pytest.mark.parametrize("config, input_shape, pieces", INVALID, ids=[" ".join(p) for _, _, p in INVALID])
def test_invalid_config_names_layer_parameter_and_value(config, input_shape, pieces):
    """Invalid values, forms and input shapes (cropping everything, wrong rank) raise naming what is wrong."""
    with pytest.raises(ValueError) as err:
        oracle.normalize(config, input_shape)
    assert all(p in str(err.value) for p in pieces), (str(err.value), pieces)
