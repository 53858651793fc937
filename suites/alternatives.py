"""Alternative semantics that known-divergence entries name (`semantics = "name"` or a list of names).

Each is a `Truth` (suites/truth.py): what a backend computes instead of the documented layer, written as a change
to the oracle's own evaluation (a parameter the backend rounds, another activation, its order of states, its
moving-variance formula ...). A mismatch is excused only when the backend agrees with the alternative within the
normal bound of the same check (`checks.run` re-runs the check on the backend's recorded answers), so a planted
bug that merely happens to fall under an entry's condition stays a failure.

A list of names composes: each later name wraps the earlier ones, so its reconfiguration reaches them too.
"""
from __future__ import annotations

import contextlib
import copy
import math

import numpy as np

import oracle
from oracle import activations

from . import tolerance
from .truth import DOCUMENTED, Truth


def _f32(v: float) -> float:
    return float(np.float32(v))


class Derived(Truth):
    """A Truth built on another: `reconfigure` the config, take bounds as for `bound_dtype`, run inside `context`.
    Subclasses override those hooks, or a method where the backend's rule is not a config of the documented one."""

    def __init__(self, base: Truth = DOCUMENTED):
        self.base = base

    def reconfigure(self, config: dict) -> dict:
        return config

    def bound_dtype(self, dtype: str) -> str:
        return dtype

    def context(self):
        return contextlib.nullcontext()

    def forward(self, config, weights, inputs, **kw):
        with self.context():
            return self.base.forward(self.reconfigure(config), weights, inputs, **kw)

    def vjp(self, config, weights, inputs, cotangents, **kw):
        with self.context():
            return self.base.vjp(self.reconfigure(config), weights, inputs, cotangents, **kw)

    def output_shape(self, config, input_shape):
        return self.base.output_shape(self.reconfigure(config), input_shape)

    def forward_bound(self, config, weights, inputs, dtype, **kw):
        with self.context():
            return self.base.forward_bound(self.reconfigure(config), weights, inputs, self.bound_dtype(dtype), **kw)

    def vjp_bounds(self, config, weights, inputs, cotangents, dtype, **kw):
        with self.context():
            return self.base.vjp_bounds(self.reconfigure(config), weights, inputs, cotangents,
                                        self.bound_dtype(dtype), **kw)

    def train_step(self, config, weights, inputs, **kw):
        return self.base.train_step(self.reconfigure(config), weights, inputs, **kw)

    def batch_norm_training_bounds(self, cfg, weights, inputs, cotangents, dtype):
        inner = self.reconfigure({"class_name": "BatchNormalization", "config": cfg})["config"]
        return self.base.batch_norm_training_bounds(inner, weights, inputs, cotangents, self.bound_dtype(dtype))

    def regularization_losses(self, config, weights, inputs, **kw):
        return self.base.regularization_losses(self.reconfigure(config), weights, inputs, **kw)

    def initializer_facts(self, config, input_shape):
        return self.base.initializer_facts(self.reconfigure(config), input_shape)


def _edit(config: dict, fn) -> dict:
    """A deep copy of the canonical config whose inner dict `fn` edits in place."""
    c = copy.deepcopy(config)
    fn(c["config"])
    return c


def _objects(cfg: dict, suffix: str):
    """The canonical serialized objects of the config whose key ends with `suffix` (initializers ...)."""
    return [v for k, v in cfg.items() if k.endswith(suffix) and isinstance(v, dict) and "config" in v]


# -- activations and pointwise layers ------------------------------------------------------------------------

class HalfPixelCentres(Derived):
    """UpSampling2D(bilinear) with half-pixel centres (TF2's resize), source = (dst + 0.5) / size - 0.5."""

    def reconfigure(self, config):
        return _edit(config, lambda c: c.update(half_pixel_centers=True))


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
                    c[key] = _f32(c[key])
        return _edit(config, fn)


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
    """Keras 3's hard_sigmoid relu6(x + 3) / 6 wherever the layer uses hard_sigmoid (TRAPS 14)."""

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
    list is read in cell order (2.2.x: reverse cell order, states[0] the last cell's)."""

    def _out(self, config, ys):
        if not isinstance(ys, list):
            return ys
        p = _cell_order(_cell_state_counts(config))
        return [ys[0]] + [ys[1 + i] for i in p]

    def _g_in(self, config, g):  # cotangents of the backend's outputs -> the oracle's order
        if not isinstance(g, list):
            return g
        inv = _inverse(_cell_order(_cell_state_counts(config)))
        return [g[0]] + [g[1 + i] for i in inv]

    def _x_in(self, config, x):  # the given inputs -> what the oracle must see
        if not isinstance(x, list) or len(x) == 1:
            return x
        q = _initial_order(_cell_state_counts(config))
        return [x[0]] + [x[1 + q[j]] for j in range(len(q))]

    def _gx_out(self, config, x, gx):  # the oracle's input gradients -> the given inputs' order
        if not isinstance(x, list) or len(x) == 1:
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


# -- BatchNormalization's moving statistics ------------------------------------------------------------------

class MovingVariance(Derived):
    """The moving variance fed `factor(n)` times the biased batch variance (2.2.x: n / (n - 1 - epsilon))."""
    factor = staticmethod(lambda n: 1.0)

    def train_step(self, config, weights, inputs, **kw):
        y, ws = self.base.train_step(config, weights, inputs, **kw)
        c = config["config"]
        x = np.asarray(inputs, np.float64)
        red = tuple(i for i in range(x.ndim) if i != c["axis"] % x.ndim)
        var = x.var(axis=red).reshape(-1)
        n = x.size // max(var.size, 1)
        m = c["momentum"]
        return y, list(ws[:-1]) + [m * np.asarray(weights[-1], np.float64) + (1.0 - m) * var * self.factor(n)]


class BiasedMovingVariance(MovingVariance):
    """The biased batch variance fed to the moving average (tf.nn.moments; TRAPS 19)."""


class UnbiasedMovingVariance(MovingVariance):
    """Bessel's correction, var * n / (n - 1), fed to the moving average (torch's running_var)."""
    factor = staticmethod(lambda n: n / (n - 1.0) if n > 1 else math.inf)


class MomentumFloat32(Derived):
    """The moving average's decay 1 - momentum rounded to float32."""

    def reconfigure(self, config):
        return _edit(config, lambda c: c.update(momentum=1.0 - _f32(1.0 - c["momentum"])))


# -- weight parameters ---------------------------------------------------------------------------------------

class BatchMeanActivityLoss(Derived):
    """The activity loss divided by the batch size (Keras 2.2.x sums it over the batch)."""

    def regularization_losses(self, config, weights, inputs, **kw):
        out = dict(self.base.regularization_losses(config, weights, inputs, **kw))
        if "activity" in out:
            out["activity"] /= max(np.shape(inputs[0] if isinstance(inputs, list) else inputs)[0], 1)
        return out


class NoActivityLoss(Derived):
    """The layer adds no activity loss (its activity_regularizer is dropped)."""

    def regularization_losses(self, config, weights, inputs, **kw):
        return {k: v for k, v in self.base.regularization_losses(config, weights, inputs, **kw).items()
                if k != "activity"}


class RegularizerFactorsFloat32(Derived):
    """Every regularization factor stored as float32 (l1('l1') = 0.01 -> 0.009999999776)."""

    def reconfigure(self, config):
        def fn(c):
            for reg in _objects(c, "_regularizer"):
                reg["config"] = {k: _f32(v) if isinstance(v, float) else v for k, v in reg["config"].items()}
            for key in ("l1", "l2"):  # ActivityRegularization's own factors
                if isinstance(c.get(key), float):
                    c[key] = _f32(c[key])
        return _edit(config, fn)


TRUNCATION = 0.87962566103423978  # stddev of a unit normal truncated at +-2 stddev


class KerasVarianceScaling(Derived):
    """tf-keras / Keras 3 VarianceScaling: a truncated normal whose stddev is first divided by 0.8796 (so the
    truncated variance is scale / fan), and fan n (not sqrt(n)) for a 1-D weight. Written as the documented
    initializer with another scale per weight: scale / 0.8796^2 for 'normal', scale / sqrt(n) for a 1-D weight."""

    def initializer_facts(self, config, input_shape):
        shapes = dict(zip(oracle.weight_params(config), oracle.weight_shapes(config, input_shape)))

        def fn(c):
            for prefix, shape in shapes.items():
                init = c.get(f"{prefix}_initializer")
                if not (isinstance(init, dict) and init.get("class_name") == "VarianceScaling"):
                    continue
                cfg = init["config"]
                if cfg["distribution"] == "normal":
                    cfg["scale"] = cfg["scale"] / TRUNCATION ** 2
                if len(shape) == 1 and shape[0] > 0:
                    cfg["scale"] = cfg["scale"] / math.sqrt(shape[0])
        return self.base.initializer_facts(_edit(config, fn), input_shape)


class ConstantFloat32(Derived):
    """Constant initializers' value rounded to float32 before the cast to the weight's dtype."""

    def reconfigure(self, config):
        def fn(c):
            for init in _objects(c, "_initializer"):
                if init.get("class_name") == "Constant" and isinstance(init["config"].get("value"), float):
                    init["config"]["value"] = _f32(init["config"]["value"])
        return _edit(config, fn)


class TorchEmbeddingFans(Derived):
    """torch.nn.init reads an Embedding weight's size(1) as fan_in and size(0) as fan_out: Keras's fan_in and
    fan_out swap for the (input_dim, output_dim) matrix."""

    def reconfigure(self, config):
        swap = {"fan_in": "fan_out", "fan_out": "fan_in"}

        def fn(c):
            init = c.get("embeddings_initializer")
            if isinstance(init, dict) and init.get("class_name") == "VarianceScaling":
                init["config"]["mode"] = swap.get(init["config"]["mode"], init["config"]["mode"])
        return _edit(config, fn)


class TorchDepthwiseFans(Derived):
    """torch.nn.init takes the fans of a depthwise kernel from its (C*M, 1, *k) weight: (prod(k), C*M*prod(k))
    where Keras takes (C*prod(k), M*prod(k)) from (*k, C, M). Written as the documented initializer with another
    scale: times C (fan_in), / C (fan_out), times (C + M) / (1 + C*M) (fan_avg)."""

    def initializer_facts(self, config, input_shape):
        shapes = dict(zip(oracle.weight_params(config), oracle.weight_shapes(config, input_shape)))

        def fn(c):
            init = c.get("depthwise_initializer")
            if not (isinstance(init, dict) and init.get("class_name") == "VarianceScaling"):
                return
            cin, mult = shapes["depthwise"][-2:]
            cfg = init["config"]
            cfg["scale"] *= {"fan_in": cin, "fan_out": 1.0 / cin, "fan_avg": (cin + mult) / (1.0 + cin * mult)}[
                cfg["mode"]]
        return self.base.initializer_facts(_edit(config, fn), input_shape)


SEMANTICS: dict[str, type[Derived]] = {
    "half_pixel_centres": HalfPixelCentres, "float32_arithmetic": Float32Arithmetic,
    "slope_float32": SlopeFloat32, "keras_relu": KerasReLU, "keras3_hard_sigmoid": Keras3HardSigmoid,
    "zeros_at_masked_steps": ZerosAtMaskedSteps, "states_in_cell_order": StatesInCellOrder,
    "biased_moving_variance": BiasedMovingVariance, "unbiased_moving_variance": UnbiasedMovingVariance,
    "momentum_float32": MomentumFloat32, "batch_mean_activity_loss": BatchMeanActivityLoss,
    "no_activity_loss": NoActivityLoss,
    "regularizer_factors_float32": RegularizerFactorsFloat32, "keras_variance_scaling": KerasVarianceScaling,
    "constant_float32": ConstantFloat32, "torch_embedding_fans": TorchEmbeddingFans,
    "torch_depthwise_fans": TorchDepthwiseFans,
}


def truth(names) -> Truth:
    """The Truth of one name or a list of names (each later one wraps the earlier ones)."""
    t: Truth = DOCUMENTED
    for name in [names] if isinstance(names, str) else names:
        if name not in SEMANTICS:
            raise ValueError(f"semantics={name!r} is not allowed: expected one of {', '.join(SEMANTICS)}")
        t = SEMANTICS[name](t)
    return t
