"""Merge layers (seed 003, "融合层 Merge"): Add, Subtract, Multiply, Average, Maximum, Concatenate, Dot, and their
functional forms add, subtract, multiply, average, maximum, concatenate, dot. Each takes a list of inputs.

Shape rules, from Keras 2.2.x keras/layers/merge.py (the seed only says "the same shape"):
- every merge takes a list of at least 2 inputs; Subtract and Dot exactly 2;
- Add, Subtract, Multiply, Average, Maximum (`_Merge`): the batch sizes must agree; the other axes broadcast,
  aligned at the right, where sizes are equal or one of them is 1; an input of lower rank gets size-1 axes
  inserted right after the batch axis (`K.expand_dims(x, 1)` until the ranks agree);
- Concatenate: equal ranks, every size but the one on `axis` equal (no broadcasting);
- Dot: the two contracted sizes equal; the output shape is x's shape less axes[0] followed by y's less the
  batch axis and axes[1], with a trailing 1 appended when that leaves only the batch axis (K.batch_dot's rule).
"""
from __future__ import annotations

import numpy as np

from .params import invalid, parse_config
from .registry import LAYERS, Layer, register

L2_EPSILON = 1e-12  # tf.nn.l2_normalize's default, which Keras 2.2.x K.l2_normalize uses: on the squared sum


def check_count(layer: str, n: int, exactly: int | None = None) -> None:
    """The documented number of inputs: at least 2, or exactly `exactly`."""
    if exactly is not None and n != exactly:
        raise invalid(layer, "len(inputs)", n, f"expected a list of exactly {exactly} inputs")
    if n < 2:
        raise invalid(layer, "len(inputs)", n, "expected a list of at least 2 inputs")


def shape_error(layer: str, shapes, why: str) -> ValueError:
    """The error for input shapes a merge layer cannot take, naming them as a list of tuples."""
    return invalid(layer, "input_shape", [tuple(s) for s in shapes], why)


def broadcast_shape(layer: str, shapes: list[tuple]) -> tuple:
    """The output shape of an elementwise merge (Keras 2.2.x `_Merge.build` / `compute_output_shape`)."""
    if any(len(s) < 1 for s in shapes):
        raise shape_error(layer, shapes, "every input needs a batch axis")
    batches = {s[0] for s in shapes} - {None}
    if len(batches) > 1:
        raise shape_error(layer, shapes, "the batch sizes differ")
    rank = max(len(s) for s in shapes)
    out = []
    for axis in range(1, rank):  # right-aligned non-batch axes
        sizes = {s[axis - rank + len(s)] for s in shapes if axis - rank + len(s) >= 1} - {1}
        if None in sizes:
            out.append(None)
        elif len(sizes) > 1:
            raise shape_error(layer, shapes, "the sizes must be equal or 1 on every non-batch axis (aligned right)")
        else:
            out.append(sizes.pop() if sizes else 1)
    return (next(iter(batches), None), *out)


def keras_aligned(xs: list[np.ndarray]) -> list[np.ndarray]:
    """Lower-rank inputs with size-1 axes inserted after the batch axis, as Keras 2.2.x `_Merge.call` does."""
    rank = max(x.ndim for x in xs)
    return [x.reshape(x.shape[:1] + (1,) * (rank - x.ndim) + x.shape[1:]) for x in xs]


def _unbroadcast(g: np.ndarray, x: np.ndarray) -> np.ndarray:
    """The cotangent of a broadcast input: summed over the axes it was broadcast along, in its own shape."""
    aligned = keras_aligned([x, g])[0].shape
    axes = tuple(i for i, (a, b) in enumerate(zip(aligned, g.shape)) if a == 1 and b != 1)
    return g.sum(axis=axes, keepdims=True).reshape(x.shape)


def add(inputs: list) -> np.ndarray:
    """The functional form of Add: the elementwise sum of at least 2 inputs (summed left to right, as Keras)."""
    return _elementwise("Add", inputs)


def subtract(inputs: list) -> np.ndarray:
    """The functional form of Subtract: inputs[0] - inputs[1] (exactly 2 inputs)."""
    return _elementwise("Subtract", inputs)


def multiply(inputs: list) -> np.ndarray:
    """The functional form of Multiply: the elementwise product of at least 2 inputs."""
    return _elementwise("Multiply", inputs)


def average(inputs: list) -> np.ndarray:
    """The functional form of Average: the elementwise sum divided by the number of inputs."""
    return _elementwise("Average", inputs)


def maximum(inputs: list) -> np.ndarray:
    """The functional form of Maximum: the elementwise maximum of at least 2 inputs."""
    return _elementwise("Maximum", inputs)


def concatenate(inputs: list, axis: int = -1) -> np.ndarray:
    """The functional form of Concatenate: the inputs joined along `axis` (which counts the batch axis)."""
    return _functional("Concatenate", inputs, {"axis": axis})


def dot(inputs: list, axes, normalize: bool = False) -> np.ndarray:
    """The functional form of Dot: per-sample dot products of 2 inputs along `axes` (which count the batch axis);
    with normalize=True each input is first L2-normalized along its contracted axis (cosine proximity)."""
    return _functional("Dot", inputs, {"axes": axes, "normalize": normalize})


def _functional(name: str, inputs: list, params: dict) -> np.ndarray:
    """Parse the parameters, validate count and shapes (the ValueErrors of the layers), run the layer."""
    layer = LAYERS[name]  # Concatenate and Dot are registered by merge_axes.py
    cfg = parse_config(name, params, layer.spec)
    xs = [np.asarray(x, dtype=np.float64) for x in inputs]
    layer.output_shape(cfg, [x.shape for x in xs])
    return layer.forward(cfg, [], xs)


def _elementwise(name: str, inputs: list) -> np.ndarray:
    return _functional(name, inputs, {})


# ---- the maths; inputs already validated ----

def _sum(xs):
    y = xs[0]
    for x in xs[1:]:
        y = y + x
    return y


def _product_except(xs, i):
    """The product of every input but the i-th (every input for i = None), left to right."""
    y = np.ones(())
    for j, x in enumerate(xs):
        if j != i:
            y = y * x
    return y


def _first_max(xs):
    """Index of the first input holding the maximum, per element: Keras's running K.maximum(output, x) on
    TensorFlow sends the cotangent to the left operand where left >= right (tf.maximum's gradient), so a tie goes
    to the earliest input. The seed documents no tie rule; this is the one the oracle pins."""
    return np.argmax(np.stack(np.broadcast_arrays(*xs)), axis=0)


ELEMENTWISE = {  # name -> (forward on aligned inputs, [cotangent of each aligned input] given g)
    "Add": (_sum, lambda xs, g: [g] * len(xs)),
    "Subtract": (lambda xs: xs[0] - xs[1], lambda xs, g: [g, -g]),
    "Multiply": (lambda xs: _product_except(xs, None),
                 lambda xs, g: [g * _product_except(xs, i) for i in range(len(xs))]),
    "Average": (lambda xs: _sum(xs) / len(xs), lambda xs, g: [g / len(xs)] * len(xs)),
    "Maximum": (lambda xs: np.max(np.stack(np.broadcast_arrays(*xs)), axis=0),
                lambda xs, g: [np.where(_first_max(xs) == i, g, 0.0) for i in range(len(xs))]),
}


def _elementwise_vjp(name):
    def vjp(cfg, weights, xs, g):
        cots = ELEMENTWISE[name][1](keras_aligned(xs), g)
        return [_unbroadcast(np.broadcast_to(c, g.shape), x) for c, x in zip(cots, xs)], []
    return vjp


def _elementwise_reductions(name):
    """Terms per output element (inputs summed or multiplied: n - 1 roundings; Average also divides) and per
    element of each input's gradient (the broadcast factor summed, times Multiply's n - 1 products)."""
    def reductions(cfg, shapes):
        out = broadcast_shape(name, shapes)
        n = len(shapes)
        per_output = {"Add": n - 1, "Subtract": 1, "Multiply": n - 1, "Average": n, "Maximum": 0}[name]
        grads = {}
        for i, s in enumerate(shapes):
            factor = int(np.prod(out[1:])) // max(int(np.prod(s[1:])), 1)
            extra = {"Multiply": n - 1, "Average": 1}.get(name, 0)
            grads[f"input{i}"] = (factor - 1) + extra
        return {"output": per_output, **grads}
    return reductions


def _elementwise_output_shape(name):
    def output_shape(cfg, shapes):
        check_count(name, len(shapes), exactly=2 if name == "Subtract" else None)
        return broadcast_shape(name, shapes)
    return output_shape


for _name in ELEMENTWISE:
    register(Layer(
        name=_name, family="merge", spec={}, multi_input=True,
        forward=lambda cfg, weights, xs, _n=_name: ELEMENTWISE[_n][0](keras_aligned(xs)),
        vjp=_elementwise_vjp(_name), output_shape=_elementwise_output_shape(_name),
        weight_shapes=lambda cfg, shapes: [],
        split_activation=lambda cfg: (cfg, "linear"),
        reductions=_elementwise_reductions(_name),
        selects=_name == "Maximum",
        # Subtract's absolute terms are |x0| + |x1|; the layer at |x| would give |x0| - |x1|
        magnitude=(lambda cfg, ax: _sum(keras_aligned(ax))) if _name == "Subtract" else None,
        vjp_magnitude=(lambda cfg, ax, ag: [_unbroadcast(ag, a) for a in ax]) if _name == "Subtract" else None,
    ))
