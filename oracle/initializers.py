"""Initializers (Keras 2.2.x keras/initializers.py, linked from seed 003's `*_initializer` parameters).

`parse` turns a name or a {'class_name', 'config'} dict into the canonical {'class_name': <2.2.x class>,
'config': {every argument}}; the function-style names (glorot_uniform, he_normal ...) become the VarianceScaling
they return in 2.2.x. `facts` gives what an initializer promises for one weight shape: exact values (Zeros, Ones,
Constant, Identity), or a distribution (support, mean, variance, fourth central moment, CDF), or orthogonality.
`sample` draws from those facts (the oracle's own samples, used to test the statistical checks).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np

from .params import invalid

# 2.2.x: VarianceScaling 'normal' is tf.truncated_normal(0, sqrt(scale / n)), cut at two stddevs, with no
# correction for the truncation (the 0.87962566 divisor arrived in Keras 2.2.5 / 2.3.0; tf-keras and Keras 3
# keep it: adapters/known_divergences). Truncation is at mean +- 2 stddev for TruncatedNormal as well.
TRUNCATION = 2.0

# name -> (class, fixed arguments). The compatibility aliases and the function-style initializers of 2.2.x.
NAMES = {
    "Zeros": ("Zeros", {}), "zeros": ("Zeros", {}), "zero": ("Zeros", {}),
    "Ones": ("Ones", {}), "ones": ("Ones", {}), "one": ("Ones", {}),
    "Constant": ("Constant", {}), "constant": ("Constant", {}),
    "RandomNormal": ("RandomNormal", {}), "normal": ("RandomNormal", {}), "random_normal": ("RandomNormal", {}),
    "RandomUniform": ("RandomUniform", {}), "uniform": ("RandomUniform", {}),
    "random_uniform": ("RandomUniform", {}),
    "TruncatedNormal": ("TruncatedNormal", {}), "truncated_normal": ("TruncatedNormal", {}),
    "VarianceScaling": ("VarianceScaling", {}),
    "Orthogonal": ("Orthogonal", {}), "orthogonal": ("Orthogonal", {}),
    "Identity": ("Identity", {}), "identity": ("Identity", {}),
    "lecun_uniform": ("VarianceScaling", {"scale": 1.0, "mode": "fan_in", "distribution": "uniform"}),
    "lecun_normal": ("VarianceScaling", {"scale": 1.0, "mode": "fan_in", "distribution": "normal"}),
    "glorot_uniform": ("VarianceScaling", {"scale": 1.0, "mode": "fan_avg", "distribution": "uniform"}),
    "glorot_normal": ("VarianceScaling", {"scale": 1.0, "mode": "fan_avg", "distribution": "normal"}),
    "he_uniform": ("VarianceScaling", {"scale": 2.0, "mode": "fan_in", "distribution": "uniform"}),
    "he_normal": ("VarianceScaling", {"scale": 2.0, "mode": "fan_in", "distribution": "normal"}),
}


def real(layer: str, param: str, value: Any) -> float:
    """A finite real number (ints allowed, bools not)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise invalid(layer, param, value, "expected a finite real number")
    return float(value)


def seed(layer: str, param: str, value: Any) -> int | None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise invalid(layer, param, value, "expected an integer seed or None")
    return value


def _choice(*allowed):
    def parse(layer, param, value):
        # 2.2.x lower-cases mode and distribution before checking them
        if not isinstance(value, str) or value.lower() not in allowed:
            raise invalid(layer, param, value, "expected one of " + ", ".join(map(repr, allowed)))
        return value.lower()
    return parse


def _positive(layer, param, value):
    if real(layer, param, value) <= 0:
        raise invalid(layer, param, value, "expected a positive float (2.2.x: `scale` must be a positive float)")
    return float(value)


# class -> argument -> (default, parser): the 2.2.x signatures.
CLASSES: dict[str, dict[str, tuple[Any, Callable]]] = {
    "Zeros": {}, "Ones": {},
    "Constant": {"value": (0.0, real)},
    "RandomNormal": {"mean": (0.0, real), "stddev": (0.05, real), "seed": (None, seed)},
    "RandomUniform": {"minval": (-0.05, real), "maxval": (0.05, real), "seed": (None, seed)},
    "TruncatedNormal": {"mean": (0.0, real), "stddev": (0.05, real), "seed": (None, seed)},
    "VarianceScaling": {"scale": (1.0, _positive), "mode": ("fan_in", _choice("fan_in", "fan_out", "fan_avg")),
                        "distribution": ("normal", _choice("normal", "uniform")), "seed": (None, seed)},
    "Orthogonal": {"gain": (1.0, real), "seed": (None, seed)},
    "Identity": {"gain": (1.0, real)},
}


def parse_object(kind: str, names: Mapping, classes: Mapping, layer: str, param: str, value: Any) -> dict:
    """A name or {'class_name', 'config'} dict -> canonical dict, for initializers, regularizers, constraints."""
    if isinstance(value, str):
        name, given = value, {}
    elif isinstance(value, Mapping) and isinstance(value.get("class_name"), str):
        name, given = value["class_name"], value.get("config") or {}
        if not isinstance(given, Mapping):
            raise invalid(layer, param, value, f"expected the {kind}'s config to be a dict")
    else:
        raise invalid(layer, param, value, f"expected a {kind} name or a {{'class_name': ..., 'config': ...}} dict")
    if name not in names:
        raise invalid(layer, param, value, f"unknown {kind}: expected one of {', '.join(sorted(names))}")
    cls, fixed = names[name]
    spec = classes[cls]
    allowed = set(spec) - set(fixed)
    unknown = sorted(set(given) - allowed)
    if unknown:
        raise invalid(layer, param, value, f"{name} takes no argument {unknown[0]!r}: expected some of "
                                           f"{', '.join(sorted(allowed)) or 'none'}")
    out = {}
    for arg, (default, parser) in spec.items():
        raw = fixed.get(arg, given.get(arg, default))
        try:
            out[arg] = parser(layer, arg, raw)
        except ValueError as exc:  # name the whole value too, as every message of the suite does
            raise invalid(layer, param, value, f"{name} argument {str(exc).split(': ', 1)[1]}") from None
    return {"class_name": cls, "config": out}


def parse(layer: str, param: str, value: Any) -> dict:
    """Canonical initializer of `layer.param` (None is not an initializer)."""
    return parse_object("initializer", NAMES, CLASSES, layer, param, value)


def fans(shape: tuple) -> tuple[float, float]:
    """Keras 2.2.x _compute_fans (channels_last): 2-D (in, out); 3- to 5-D kernels receptive field x channels;
    anything else (1-D biases, 6-D) sqrt(prod(shape)) for both. tf-keras/Keras 3 use n for 1-D (a divergence)."""
    if len(shape) == 2:
        return float(shape[0]), float(shape[1])
    if len(shape) in (3, 4, 5):
        field = math.prod(shape[:-2])
        return float(shape[-2] * field), float(shape[-1] * field)
    n = math.sqrt(math.prod(shape))
    return n, n


@dataclass(frozen=True)
class Facts:
    """What an initializer promises for one shape.

    kind: 'exact' (values), 'uniform', 'normal', 'truncated_normal' (loc, scale, low, high) or 'orthogonal'
    (the weight flattened to (rows, cols) = (prod(shape[:-1]), shape[-1]) satisfies W^T W = gain^2 I when
    rows >= cols, else W W^T = gain^2 I)."""
    kind: str
    shape: tuple
    values: np.ndarray | None = None
    loc: float = 0.0
    scale: float = 0.0
    low: float = -math.inf
    high: float = math.inf
    gain: float = 1.0
    # kind 'blocks': ((start, stop, Facts), ...) along the last axis, for a weight drawn in parts (an LSTM bias
    # with unit_forget_bias: the bias initializer's facts around a block of ones)
    parts: tuple = ()

    def moments(self) -> tuple[float, float, float]:
        """(mean, variance, fourth central moment) of one element."""
        if self.kind == "uniform":
            w = self.high - self.low
            return (self.low + self.high) / 2, w * w / 12, w ** 4 / 80
        s = self.scale
        if self.kind == "normal" or s == 0:
            return self.loc, s * s, 3 * s ** 4
        a = TRUNCATION  # symmetric truncation at loc +- a*s
        phi, z = math.exp(-a * a / 2) / math.sqrt(2 * math.pi), math.erf(a / math.sqrt(2))
        m2 = 1 - 2 * a * phi / z
        m4 = 3 * m2 - 2 * a ** 3 * phi / z
        return self.loc, m2 * s * s, m4 * s ** 4

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """P(element <= x)."""
        x = np.asarray(x, dtype=np.float64)
        if self.kind == "uniform":
            return np.clip((x - self.low) / (self.high - self.low), 0.0, 1.0)
        t = (x - self.loc) / self.scale
        norm = np.vectorize(lambda v: 0.5 * (1 + math.erf(v / math.sqrt(2))), otypes=[np.float64])
        if self.kind == "normal":
            return norm(t)
        lo, hi = norm(-TRUNCATION), norm(TRUNCATION)
        return np.clip((norm(t) - lo) / (hi - lo), 0.0, 1.0)


def facts(init: Mapping, shape: tuple) -> Facts:
    """The facts of a canonical initializer for a weight of `shape`; ValueError where 2.2.x raises."""
    cls, c, shape = init["class_name"], init["config"], tuple(shape)
    if cls in ("Zeros", "Ones", "Constant"):
        return Facts("exact", shape, np.full(shape, {"Zeros": 0.0, "Ones": 1.0}.get(cls, c.get("value"))))
    if cls == "Identity":
        if len(shape) != 2 or shape[0] != shape[1]:
            raise invalid("Identity", "shape", shape, "Identity matrix initializer can only be used for 2D "
                                                      "square matrices")
        return Facts("exact", shape, c["gain"] * np.eye(shape[0]))
    if cls == "Orthogonal":
        return Facts("orthogonal", shape, gain=c["gain"])
    if cls == "RandomUniform":
        return Facts("uniform", shape, low=c["minval"], high=c["maxval"])
    if cls == "RandomNormal":
        return Facts("normal", shape, loc=c["mean"], scale=c["stddev"])
    if cls == "TruncatedNormal":
        return _truncated(shape, c["mean"], c["stddev"])
    fan_in, fan_out = fans(shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2}[c["mode"]]
    scale = c["scale"] / max(1.0, n)
    if c["distribution"] == "uniform":
        limit = math.sqrt(3.0 * scale)
        return Facts("uniform", shape, low=-limit, high=limit)
    return _truncated(shape, 0.0, math.sqrt(scale))


def blocks(shape: tuple, parts: list[Facts]) -> Facts:
    """The facts of a 1-D weight drawn as consecutive parts (each part's facts for its own shape)."""
    out, start = [], 0
    for part in parts:
        out.append((start, start + part.shape[-1], part))
        start += part.shape[-1]
    if start != shape[-1]:
        raise ValueError(f"blocks of {start} elements for a weight of shape {shape}")
    return Facts("blocks", tuple(shape), parts=tuple(out))


def _truncated(shape, mean, stddev):
    return Facts("truncated_normal", shape, loc=mean, scale=stddev, low=mean - TRUNCATION * abs(stddev),
                 high=mean + TRUNCATION * abs(stddev))


def flat(w: np.ndarray) -> np.ndarray:
    """The (prod(shape[:-1]), shape[-1]) matrix Orthogonal is orthogonal as (a 1-D weight is one row)."""
    return w.reshape(-1, w.shape[-1]) if w.ndim else w.reshape(1, 1)


def sample(f: Facts, rng: np.random.Generator) -> np.ndarray:
    """One draw with these facts, in float64 (the oracle's own sampler)."""
    if f.kind == "exact":
        return f.values.copy()
    if f.kind == "blocks":
        return np.concatenate([sample(part, rng) for _, _, part in f.parts], axis=-1)
    if f.kind == "uniform":
        return rng.uniform(f.low, f.high, size=f.shape)
    if f.kind == "normal":
        return rng.normal(f.loc, f.scale, size=f.shape)
    if f.kind == "truncated_normal":
        out = rng.normal(f.loc, f.scale, size=f.shape)
        bad = np.abs(out - f.loc) > TRUNCATION * abs(f.scale)
        while bad.any():  # redraw outside +- 2 stddev, as tf.truncated_normal does
            out[bad] = rng.normal(f.loc, f.scale, size=int(bad.sum()))
            bad = np.abs(out - f.loc) > TRUNCATION * abs(f.scale)
        return out
    rows, cols = flat(np.zeros(f.shape)).shape
    q, r = np.linalg.qr(rng.normal(size=(max(rows, cols), min(rows, cols))))
    q = q * np.sign(np.diag(r))  # Haar-distributed
    return f.gain * (q if rows >= cols else q.T).reshape(f.shape)
