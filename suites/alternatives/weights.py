"""Alternative semantics of BatchNormalization's moving statistics and of the weight parameters
(initializers, regularizers) (suites/alternatives)."""
from __future__ import annotations

import math

import numpy as np

import oracle
from oracle import initializers

from .base import Derived, edit, f32, objects


# -- BatchNormalization's moving statistics ------------------------------------------------------------------

class MovingVariance(Derived):
    """The moving variance fed `factor(n)` times the biased batch variance (2.2.x: n / (n - 1 - epsilon))."""
    factor = staticmethod(lambda n: 1.0)

    def train_step(self, config, weights, inputs, dtype=None, **kw):
        y, ws = self.base.train_step(config, weights, inputs, dtype=dtype, **kw)
        c = config["config"]
        x = np.asarray(inputs, np.float64)
        red = tuple(i for i in range(x.ndim) if i != c["axis"] % x.ndim)
        var = x.var(axis=red).reshape(-1)
        n = x.size // max(var.size, 1)
        m = c["momentum"]
        fed = var * self.fed_factor(x, c["axis"] % x.ndim, n, dtype)
        return y, list(ws[:-1]) + [m * np.asarray(weights[-1], np.float64) + (1.0 - m) * fed]

    def fed_factor(self, x, axis: int, n: int, dtype: str | None) -> float:
        return self.factor(n)


class BiasedMovingVariance(MovingVariance):
    """The biased batch variance fed to the moving average (tf.nn.moments; docs/traps.md 19)."""


class UnbiasedMovingVariance(MovingVariance):
    """Bessel's correction, var * n / (n - 1), fed to the moving average (torch's running_var)."""
    factor = staticmethod(lambda n: n / (n - 1.0) if n > 1 else math.inf)


class TfKerasMovingVariance(MovingVariance):
    """tf-keras: the biased variance, except on its fused path (float32, a 4-D or 5-D input normalized along axis 1
    or the last axis), where the Bessel-corrected variance is fed (measured on tf-keras 2.21)."""

    def fed_factor(self, x, axis: int, n: int, dtype: str | None) -> float:
        fused = dtype != "float64" and x.ndim in (4, 5) and axis in (1, x.ndim - 1)  # TF has no float64 fused kernel
        return n / (n - 1.0) if fused and n > 1 else 1.0


class MomentumFloat32(Derived):
    """The moving average's decay 1 - momentum rounded to float32."""

    def reconfigure(self, config):
        return edit(config, lambda c: c.update(momentum=1.0 - f32(1.0 - c["momentum"])))


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
            for reg in objects(c, "_regularizer"):
                reg["config"] = {k: f32(v) if isinstance(v, float) else v for k, v in reg["config"].items()}
            for key in ("l1", "l2"):  # ActivityRegularization's own factors
                if isinstance(c.get(key), float):
                    c[key] = f32(c[key])
        return edit(config, fn)


TRUNCATION = 0.87962566103423978  # stddev of a unit normal truncated at +-2 stddev


class KerasVarianceScaling(Derived):
    """tf-keras / Keras 3 VarianceScaling: a truncated normal whose stddev is first divided by 0.8796 (so the
    truncated variance is scale / fan), and fan n (not sqrt(n)) for a 1-D weight. Written as the documented
    initializer with another scale per weight: scale / 0.8796^2 for 'normal', scale / sqrt(n) for a 1-D weight."""

    @staticmethod
    def _rescaled(init: dict, n: int | None) -> dict:
        """The documented VarianceScaling config that draws as the backend's does (n: a 1-D weight's length)."""
        out = {"class_name": init["class_name"], "config": dict(init["config"])}
        cfg = out["config"]
        if cfg["distribution"] == "normal":
            cfg["scale"] = cfg["scale"] / TRUNCATION ** 2
        if n:
            cfg["scale"] = cfg["scale"] / math.sqrt(n)
        return out

    def initializer_facts(self, config, input_shape):
        prefixes = oracle.weight_params(config)
        shapes = dict(zip(prefixes, oracle.weight_shapes(config, input_shape)))
        vs = {p for p in prefixes if isinstance(config["config"].get(f"{p}_initializer"), dict)
              and config["config"][f"{p}_initializer"].get("class_name") == "VarianceScaling"}

        def fn(c):
            for prefix in vs:
                shape = shapes[prefix]
                c[f"{prefix}_initializer"] = self._rescaled(c[f"{prefix}_initializer"],
                                                           shape[0] if len(shape) == 1 and shape[0] > 0 else None)
        facts = self.base.initializer_facts(edit(config, fn), input_shape)
        # unit_forget_bias: a 1-D bias drawn in parts, each part with its own length as its fan (1-D rule)
        for i, (prefix, f) in enumerate(zip(prefixes, facts)):
            if prefix in vs and f.kind == "blocks":
                init = config["config"][f"{prefix}_initializer"]
                facts[i] = initializers.blocks(f.shape, [part if part.kind == "exact" else initializers.facts(
                    self._rescaled(init, b - a), (b - a,)) for a, b, part in f.parts])
        return facts


class ConstantFloat32(Derived):
    """Constant initializers' value rounded to float32 before the cast to the weight's dtype."""

    def reconfigure(self, config):
        def fn(c):
            for init in objects(c, "_initializer"):
                if init.get("class_name") == "Constant" and isinstance(init["config"].get("value"), float):
                    init["config"]["value"] = f32(init["config"]["value"])
        return edit(config, fn)


class TorchEmbeddingFans(Derived):
    """torch.nn.init reads an Embedding weight's size(1) as fan_in and size(0) as fan_out: Keras's fan_in and
    fan_out swap for the (input_dim, output_dim) matrix."""

    def reconfigure(self, config):
        swap = {"fan_in": "fan_out", "fan_out": "fan_in"}

        def fn(c):
            init = c.get("embeddings_initializer")
            if isinstance(init, dict) and init.get("class_name") == "VarianceScaling":
                init["config"]["mode"] = swap.get(init["config"]["mode"], init["config"]["mode"])
        return edit(config, fn)


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
        return self.base.initializer_facts(edit(config, fn), input_shape)
