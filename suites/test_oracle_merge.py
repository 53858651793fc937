"""Oracle self-tests for the merge layers: hand-computed values, the documented shapes (seed 003: Dot of two
(batch, n) inputs is (batch, 1)), Keras 2.2.x broadcasting, the input-count errors, the l2 floor of
Dot(normalize=True), Maximum's tie rule. No framework is imported."""
from __future__ import annotations

import numpy as np
import pytest

import oracle

from .ulps import assert_ulps
from oracle import merge, merge_axes
from oracle.gradients import directional_derivative

A = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
B = np.array([[0.5, -1.0, 2.0], [-3.0, 0.25, 1.0]])


def cfg(name: str, **params) -> dict:
    return {"class_name": name, "config": params}


def test_elementwise_values_by_hand():
    assert merge.add([A, B]).tolist() == [[1.5, 1.0, 5.0], [1.0, 5.25, 7.0]]
    assert merge.subtract([A, B]).tolist() == [[0.5, 3.0, 1.0], [7.0, 4.75, 5.0]]
    assert merge.multiply([A, B, B]).tolist() == [[0.25, 2.0, 12.0], [36.0, 0.3125, 6.0]]
    assert merge.average([A, B]).tolist() == [[0.75, 0.5, 2.5], [0.5, 2.625, 3.5]]
    assert merge.maximum([A, B, -A]).tolist() == [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    assert merge.maximum([-A, B]).tolist() == [[0.5, -1.0, 2.0], [-3.0, 0.25, 1.0]]


def test_functional_forms_equal_their_layers():
    for name, fn in [("Add", merge.add), ("Subtract", merge.subtract), ("Multiply", merge.multiply),
                     ("Average", merge.average), ("Maximum", merge.maximum)]:
        np.testing.assert_array_equal(fn([A, B]), oracle.forward(cfg(name), [], [A, B]))
    np.testing.assert_array_equal(merge.concatenate([A, B], axis=0), oracle.forward(cfg("Concatenate", axis=0),
                                                                                      [], [A, B]))
    np.testing.assert_array_equal(merge.dot([A, B], axes=1, normalize=True),
                                  oracle.forward(cfg("Dot", axes=1, normalize=True), [], [A, B]))


def test_keras2_broadcasting_inserts_axes_after_the_batch_axis():
    """(2, 3) with (2, 4, 3): the lower-rank input becomes (2, 1, 3) (K.expand_dims(x, 1)), so each sample's row
    is added to every row of the same sample; size-1 axes broadcast; the batch sizes must agree."""
    c = np.arange(24.0).reshape(2, 4, 3)
    y = merge.add([A, c])
    assert y.shape == (2, 4, 3) and np.array_equal(y[1, 2], A[1] + c[1, 2])
    col = np.array([[10.0], [20.0]])
    assert merge.add([A, col]).tolist() == [[11.0, 12.0, 13.0], [24.0, 25.0, 26.0]]
    assert oracle.output_shape(cfg("Maximum"), [(None, 1, 3), (None, 4, 1), (None, 3)]) == (None, 4, 3)
    with pytest.raises(ValueError, match=r"Add: input_shape=\[\(2, 3\), \(3, 3\)\].*batch sizes differ"):
        merge.add([A, np.zeros((3, 3))])
    with pytest.raises(ValueError, match=r"Multiply: input_shape=\[\(2, 3\), \(2, 2\)\]"):
        merge.multiply([A, np.zeros((2, 2))])


def test_broadcast_gradients_sum_over_the_broadcast_axes():
    col = np.array([[10.0], [20.0]])
    g = np.arange(6.0).reshape(2, 3)
    (ga, gc), _ = oracle.vjp(cfg("Subtract"), [], [A, col], g)
    assert ga.tolist() == g.tolist() and gc.tolist() == [[-3.0], [-12.0]]


def test_concatenation_order_and_gradient_split():
    y = merge.concatenate([A, B, A[:, :1]])
    assert y.shape == (2, 7) and y[0].tolist() == [1.0, 2.0, 3.0, 0.5, -1.0, 2.0, 1.0]
    assert merge.concatenate([A, B], axis=-2).tolist() == A.tolist() + B.tolist()
    g = np.arange(14.0).reshape(2, 7)
    grads, _ = oracle.vjp(cfg("Concatenate"), [], [A, B, A[:, :1]], g)
    assert [gr.tolist() for gr in grads] == [g[:, :3].tolist(), g[:, 3:6].tolist(), g[:, 6:].tolist()]
    assert oracle.output_shape(cfg("Concatenate", axis=1), [(None, 2, 5), (None, 3, 5)]) == (None, 5, 5)
    with pytest.raises(ValueError, match=r"Concatenate: axis=2 is not allowed"):
        merge.concatenate([A, B], axis=2)
    with pytest.raises(ValueError, match=r"Concatenate: input_shape=\[\(2, 3\), \(2, 3, 1\)\]"):
        merge.concatenate([A, B[..., None]])


def test_dot_values_and_documented_shapes():
    """Seed 003: (batch, n) . (batch, n) -> (batch, 1); higher ranks: x's shape less axes[0], then y's less the
    batch axis and axes[1] (K.batch_dot)."""
    assert merge.dot([A, B], axes=1).tolist() == [[4.5], [-4.75]]
    assert merge.dot([A, B], axes=-1).tolist() == [[4.5], [-4.75]]
    x, y = np.arange(24.0).reshape(2, 3, 4), np.arange(30.0).reshape(2, 5, 3)
    out = merge.dot([x, y], axes=(1, 2))
    assert out.shape == (2, 4, 5) and out[1, 2, 3] == sum(x[1, k, 2] * y[1, 3, k] for k in range(3))
    assert merge.dot([x, y], axes=[-2, -1]).tolist() == out.tolist()
    assert oracle.output_shape(cfg("Dot", axes=(1, 1)), [(None, 3), (None, 3, 4)]) == (None, 4)
    for bad in (0, (1, 0), (2, 2), (-3, -3)):
        with pytest.raises(ValueError, match=r"Dot: axes="):
            oracle.output_shape(cfg("Dot", axes=bad), [(2, 3), (2, 3)])
    with pytest.raises(ValueError, match=r"Dot: input_shape=\[\(2, 3\), \(2, 4\)\].*contracted sizes differ"):
        merge.dot([A, np.zeros((2, 4))], axes=1)
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match=r"Dot: normalize="):
            oracle.normalize(cfg("Dot", axes=1, normalize=bad))
    with pytest.raises(ValueError, match=r"Dot: missing required parameter 'axes'"):
        oracle.normalize(cfg("Dot"))


def test_dot_normalize_is_cosine_and_floors_the_squared_sum():
    """Known vectors: (3, 4) . (4, -3) normalized is 0, (3, 4) with itself 1, (1, 0) . (1, 1) is 1/sqrt(2). A
    vector of norm 1e-8 is divided by sqrt(1e-12) = 1e-6 (Keras 2's floor on the squared sum), not by its norm
    (torch's F.normalize floors the norm at 1e-12 and would return a unit vector)."""
    x, y = np.array([[3.0, 4.0], [1.0, 0.0]]), np.array([[4.0, -3.0], [1.0, 1.0]])
    # two norms (a sum, a max, a rsqrt each), two scalings and a two-term dot: about 10 roundings of size-1 terms
    assert_ulps(merge.dot([x, y], axes=1, normalize=True), [[0.0], [2 ** -0.5]], ops=10, scale=1.0)
    assert_ulps(merge.dot([x, x], axes=1, normalize=True), [[1.0], [1.0]], ops=10)
    tiny = np.array([[3e-9, 4e-9]])  # norm 5e-9, squared sum 2.5e-17 < 1e-12
    normalized, _ = merge_axes.l2_normalize(tiny, 1)
    assert_ulps(normalized, tiny / 1e-6, ops=4)  # a square root of the floor and one division, both sides
    assert_ulps(merge.dot([tiny, tiny], axes=1, normalize=True), [[2.5e-5]], ops=10)
    assert not np.allclose(normalized, tiny / max(np.linalg.norm(tiny), 1e-12))  # what F.normalize computes


def test_dot_normalize_gradient_below_the_floor_by_finite_differences():
    """Below the floor the normalization is x * 1e6, a linear map; a step of 1e-12 stays below it."""
    rng = np.random.default_rng(0)
    xs = [rng.uniform(-2, 2, (2, 3)) * 1e-8, rng.uniform(-2, 2, (2, 3))]
    g, v = rng.uniform(-1, 1, (2, 1)), [rng.standard_normal((2, 3)) for _ in range(2)]
    config = cfg("Dot", axes=1, normalize=True)
    grads, _ = oracle.vjp(config, [], xs, g)
    fn = lambda a, b: oracle.forward(config, [], [a, b])  # noqa: E731
    h = 1e-12 / np.finfo(np.float64).eps ** (1 / 3)  # directional_derivative steps by STEP * max(1, |args|)
    fd = directional_derivative(fn, xs, [h * d for d in v], g) / h  # along h*v: divide by h
    analytic = sum(float(np.vdot(d, gr)) for d, gr in zip(v, grads))
    assert abs(analytic - fd) <= 1e-6 * abs(analytic), (analytic, fd)


def test_input_count_errors_name_the_layer_and_the_count():
    for fn, name in [(merge.add, "Add"), (merge.multiply, "Multiply"), (merge.average, "Average"),
                     (merge.maximum, "Maximum"), (merge.concatenate, "Concatenate")]:
        with pytest.raises(ValueError, match=rf"{name}: len\(inputs\)=1 is not allowed: expected a list of at least 2"):
            fn([A])
    with pytest.raises(ValueError, match=r"Subtract: len\(inputs\)=3 is not allowed: expected a list of exactly 2"):
        merge.subtract([A, B, A])
    with pytest.raises(ValueError, match=r"Dot: len\(inputs\)=3 is not allowed: expected a list of exactly 2"):
        merge.dot([A, B, A], axes=1)
    with pytest.raises(ValueError, match=r"Subtract: len\(inputs\)=1"):
        oracle.forward(cfg("Subtract"), [], [A])
    with pytest.raises(ValueError, match=r"Add: input_shape=\(2, 3\) is not allowed: expected a list"):
        oracle.output_shape(cfg("Add"), (2, 3))
    with pytest.raises(ValueError, match=r"Add: inputs of shape \(2, 3\) are not allowed"):
        oracle.forward(cfg("Add"), [], A)


def test_maximum_tie_rule_first_input_takes_the_gradient():
    """The oracle's rule (no documented one; Keras 2.2.x on TensorFlow: tf.maximum's gradient goes to the left
    operand where left >= right, folded left to right): a tie sends the whole cotangent to the first input
    attaining the maximum."""
    x0, x1, x2 = np.array([[1.0, 2.0, 0.0]]), np.array([[1.0, 3.0, 0.0]]), np.array([[0.0, 3.0, 0.0]])
    grads, _ = oracle.vjp(cfg("Maximum"), [], [x0, x1, x2], np.array([[5.0, 6.0, 7.0]]))
    assert [gr.tolist() for gr in grads] == [[[5.0, 0.0, 7.0]], [[0.0, 6.0, 0.0]], [[0.0, 0.0, 0.0]]]
