"""Alternative semantics of activations, pointwise layers and recurrent layers (suites/alternatives)."""
from __future__ import annotations

import math

import numpy as np

from oracle import activations

from .. import tolerance
from .base import Derived, edit, f32


# -- activations and pointwise layers ------------------------------------------------------------------------

class HalfPixelCentres(Derived):
    """UpSampling2D(bilinear) with half-pixel centres (TF2's resize), source = (dst + 0.5) / size - 0.5."""

    def reconfigure(self, config):
        return edit(config, lambda c: c.update(half_pixel_centers=True))


class Float32Arithmetic(Derived):
    """The layer computed (and rounded) in float32 although the run is float64: float32 bounds."""

    def bound_dtype(self, dtype):
        return "float32"


class SlopeFloat32(Derived):
    """LeakyReLU's alpha / ReLU's negative_slope rounded to float32 (a float32 op attribute)."""

    def reconfigure(self, config):
        def fn(c):
            for key in ("alpha", "negative_slope"):
                if isinstance(c.get(key), float):
                    c[key] = f32(c[key])
        return edit(config, fn)


class KerasReLU(Derived):
    """Keras's ReLU formula clip(x * (x > threshold), 0, max_value) - slope * relu(threshold - x): 0 at x ==
    threshold > 0, and slope * (x - threshold) on [max_value, threshold) (seed 003: threshold, max_value)."""

    @staticmethod
    def _parts(config, x):
        c = config["config"]
        t, top, s = c["threshold"], c["max_value"], c["negative_slope"]
        top = math.inf if top is None else top
        above = np.where(x > t, x, 0.0)
        y = np.clip(above, 0.0, top) - s * np.maximum(t - x, 0.0)
        dy = np.where(x > t, ((above > 0) & (above < top)).astype(np.float64), np.where(x < t, s, 0.0))
        return y, dy, np.abs(above) + abs(s) * (np.abs(x) + abs(t))

    def forward(self, config, weights, inputs, **kw):
        return self._parts(config, inputs)[0]

    def vjp(self, config, weights, inputs, cotangents, **kw):
        return self._parts(config, inputs)[1] * cotangents, []

    def forward_bound(self, config, weights, inputs, dtype, **kw):
        return tolerance.sum_bound(3, dtype, self._parts(config, inputs)[2])

    def vjp_bounds(self, config, weights, inputs, cotangents, dtype, **kw):
        return tolerance.sum_bound(2, dtype, np.abs(self._parts(config, inputs)[1] * cotangents)), []


class Keras3HardSigmoid(Derived):
    """Keras 3's hard_sigmoid relu6(x + 3) / 6 wherever the layer uses hard_sigmoid (docs/traps.md 14)."""

    def context(self):
        return activations.redefined("hard_sigmoid", lambda x: np.clip(x / 6.0 + 0.5, 0.0, 1.0),
                                     lambda x: np.where(np.abs(x) < 3.0, 1.0 / 6.0, 0.0), np.zeros_like)


# -- recurrent layers ----------------------------------------------------------------------------------------

class ZerosAtMaskedSteps(Derived):
    """Bidirectional's sequence outputs are 0 at masked timesteps (zero_output_for_mask) where 2.2.x repeats
    the previous output; the states are unchanged. The output is y * mask, so the VJP takes mask * cotangent."""

    @staticmethod
    def _count(config) -> int:
        return 2 if config["config"]["merge_mode"] is None else 1

    def _apply(self, config, ys, mask):
        if mask is None:
            return ys
        if config["config"]["layer"]["config"].get("go_backwards"):
            # the forward copy then runs backwards and returns its sequence in that order, and the backward
            # copy's sequence is reversed back from forward order: both halves' zeros sit at the reversed steps
            mask = np.asarray(mask)[:, ::-1]
        m = lambda a: a * np.asarray(mask, np.float64).reshape(mask.shape + (1,) * (np.ndim(a) - 2))  # noqa: E731
        if not isinstance(ys, list):
            return m(ys)
        n = self._count(config)
        return [m(a) for a in ys[:n]] + list(ys[n:])

    def forward(self, config, weights, inputs, **kw):
        return self._apply(config, self.base.forward(config, weights, inputs, **kw), kw.get("mask"))

    def vjp(self, config, weights, inputs, cotangents, **kw):
        return self.base.vjp(config, weights, inputs, self._apply(config, cotangents, kw.get("mask")), **kw)

    def vjp_bounds(self, config, weights, inputs, cotangents, dtype, **kw):
        g = self._apply(config, cotangents, kw.get("mask"))
        return self.base.vjp_bounds(config, weights, inputs, g, dtype, **kw)


def _cell_state_counts(config) -> list[int]:
    """States per cell of RNN(cell=[...]), in cell order."""
    return [2 if c["class_name"] == "LSTMCell" else 1 for c in config["config"]["cell"]]


def _cell_order(counts: list[int]) -> list[int]:
    """P with cell_order[i] = keras22_order[P[i]]: 2.2.x keeps the flat states in reverse cell order."""
    offsets, at = {}, 0
    for c in reversed(range(len(counts))):
        offsets[c], at = at, at + counts[c]
    return [offsets[c] + j for c in range(len(counts)) for j in range(counts[c])]


def _initial_order(counts: list[int]) -> list[int]:
    """Q with keras22_list[j] = given[Q[j]]: the backend hands the given flat list to the cells in cell order."""
    starts = np.cumsum([0] + counts[:-1])
    return [int(starts[c]) + j for c in reversed(range(len(counts))) for j in range(counts[c])]


def _inverse(p: list[int]) -> list[int]:
    inv = [0] * len(p)
    for i, j in enumerate(p):
        inv[j] = i
    return inv


class StatesInCellOrder(Derived):
    """RNN over stacked cells whose final states come back per cell in cell order, and whose flat initial-state
    list is read in cell order (2.2.x: reverse cell order, states[0] the last cell's); Bidirectional around such
    an RNN returns each direction's states that way."""

    @staticmethod
    def _blocks(config) -> tuple[int, list[list[int]]]:
        """(outputs before the states, the cell-order permutation of each block of states): RNN's one block;
        Bidirectional around it has one per direction, after its merged output(s)."""
        if config["class_name"] == "Bidirectional":
            inner = config["config"]["layer"]
            head = 2 if config["config"]["merge_mode"] is None else 1
            return head, [_cell_order(_cell_state_counts(inner))] * 2
        return 1, [_cell_order(_cell_state_counts(config))]

    def _permuted(self, config, ys, inverse: bool):
        if not isinstance(ys, list):
            return ys
        head, blocks = self._blocks(config)
        out, at = list(ys[:head]), head
        for p in blocks:
            block = ys[at:at + len(p)]
            out += [block[i] for i in (_inverse(p) if inverse else p)]
            at += len(p)
        return out + list(ys[at:])

    def _out(self, config, ys):
        return self._permuted(config, ys, inverse=False)

    def _g_in(self, config, g):  # cotangents of the backend's outputs -> the oracle's order
        return self._permuted(config, g, inverse=True)

    def _x_in(self, config, x):  # the given inputs -> what the oracle must see (RNN's flat initial states)
        if not isinstance(x, list) or len(x) == 1 or config["class_name"] != "RNN":
            return x
        q = _initial_order(_cell_state_counts(config))
        return [x[0]] + [x[1 + q[j]] for j in range(len(q))]

    def _gx_out(self, config, x, gx):  # the oracle's input gradients -> the given inputs' order
        if not isinstance(x, list) or len(x) == 1 or config["class_name"] != "RNN":
            return gx
        q = _initial_order(_cell_state_counts(config))
        out = [gx[0]] + [None] * len(q)
        for j, i in enumerate(q):
            out[1 + i] = gx[1 + j]
        return out

    def forward(self, config, weights, inputs, **kw):
        return self._out(config, self.base.forward(config, weights, self._x_in(config, inputs), **kw))

    def output_shape(self, config, input_shape):
        return self._out(config, self.base.output_shape(config, input_shape))

    def forward_bound(self, config, weights, inputs, dtype, **kw):
        return self._out(config, self.base.forward_bound(config, weights, self._x_in(config, inputs), dtype, **kw))

    def vjp(self, config, weights, inputs, cotangents, **kw):
        gx, gw = self.base.vjp(config, weights, self._x_in(config, inputs), self._g_in(config, cotangents), **kw)
        return self._gx_out(config, inputs, gx), gw

    def vjp_bounds(self, config, weights, inputs, cotangents, dtype, **kw):
        bx, bw = self.base.vjp_bounds(config, weights, self._x_in(config, inputs), self._g_in(config, cotangents),
                                      dtype, **kw)
        return self._gx_out(config, inputs, bx), bw
