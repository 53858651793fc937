"""A known divergence excuses only what it describes.

A stand-in adapter returns the oracle's own values under the name of a real backend (so that backend's entries
apply), then one planted bug at a time: each must be `fail` / `error`, never `known-divergence`, although an entry
of that backend applies to the case by its layer, config and dtype. Hand-written emulations of the real
divergences (independent of suites/alternatives/) must still be excused, by the one entry that describes them.
Needs no framework.
"""
from __future__ import annotations

import numpy as np
import pytest

import oracle
from adapters.base import Adapter

from . import checks, divergences
from .strategies import Case


class UnimplementedError(Exception):
    """Named as TensorFlow's: an entry matches exception types by class name."""


class InvalidArgumentError(Exception):
    """Named as TensorFlow's."""


class StandIn(Adapter):
    """The oracle under a backend's name, with `bug(config, weights, x, y)` applied to its forward output y (or
    raising)."""
    package = "numpy"

    def __init__(self, name: str, bug=None, vjp_bug=None):
        self.name, self.bug, self.vjp_bug = name, bug, vjp_bug
        self.layers = frozenset(oracle.LAYERS)
        self.unsupported_layers = {}

    def _forward(self, config, weights, x, *, device, dtype, training, seed, mask=None):
        y = oracle.forward(config, weights, x, **({"mask": mask} if mask is not None else {}))
        return self.bug(config, weights, x, y) if self.bug else y

    def _vjp(self, config, weights, x, g, *, device, dtype, training=False, mask=None):
        out = oracle.vjp(config, weights, x, g, **({"mask": mask} if mask is not None else {}))
        return self.vjp_bug(config, x, out) if self.vjp_bug else out

    def _build_error(self, raw_config, input_shape):
        return None


def _raise(exc):
    def bug(config, weights, x, y):
        raise exc
    return bug


CONV_CF = Case({"class_name": "Conv2D", "config": {"filters": 2, "kernel_size": 3, "data_format": "channels_first"}},
               (1, 2, 5, 5), 0)
MAXPOOL3D = Case({"class_name": "MaxPooling3D", "config": {}}, (1, 4, 4, 4, 2), 0)
LEAKY = Case({"class_name": "LeakyReLU", "config": {}}, (2, 6), 0)
GRU = Case({"class_name": "GRU", "config": {"units": 3}}, (2, 4, 3), 0)
DENSE_HS = Case({"class_name": "Dense", "config": {"units": 3, "activation": "hard_sigmoid"}}, (2, 4), 0)

# (adapter, case, dtype, check, planted bug, the entry that applies to the case by its metadata)
PLANTED = {
    "KeyError in Conv2D channels_first": ("tf_keras", CONV_CF, "float32", "forward",
                                          _raise(KeyError("data_format")), "tf-keras-channels-first-cpu"),
    "AssertionError in MaxPooling3D float64": ("tf_keras", MAXPOOL3D, "float64", "forward",
                                               _raise(AssertionError("window")), "tf-keras-maxpooling3d-float64"),
    "LeakyReLU output negated": ("tf_keras", LEAKY, "float64", "forward", lambda c, w, x, y: -y,
                                 "tf-keras-leaky-slope-float32-attribute"),
    "Keras 3 GRU output times 3": ("keras", GRU, "float64", "forward", lambda c, w, x, y: 3 * y,
                                   "keras3-hard-sigmoid"),
    "Dense(hard_sigmoid) output + 1": ("keras", DENSE_HS, "float32", "forward", lambda c, w, x, y: y + 1,
                                       "keras3-hard-sigmoid"),
}


@pytest.mark.parametrize("bug", PLANTED)
def test_a_planted_bug_is_not_excused(bug):
    name, case, dtype, check, planted, entry = PLANTED[bug]
    config = oracle.normalize(case.config)
    outcome_kind = "error" if check == "forward" and bug.startswith(("KeyError", "AssertionError")) else "mismatch"
    applicable = [d.id for d in divergences.candidates(name, case.layer, config["config"], "cpu", dtype, check,
                                                       outcome_kind, case.input_shape, case.mask)]
    assert entry in applicable, f"{entry} no longer applies to {case}: the test would not show anything"
    out = checks.run(check, case, StandIn(name, planted), "cpu", dtype)
    assert out.status in ("fail", "error") and out.divergence_id is None, (bug, out)
    assert entry in out.message, f"the failure should say why {entry} does not explain it: {out.message}"


def test_faithful_emulations_are_excused_by_their_entry():
    """The real divergences, written out by hand, are known divergences with the entry that describes them."""
    def tf_channels_first(c, w, x, y):
        raise UnimplementedError("The Conv2D op currently only supports the NHWC tensor format on the CPU. "
                                 "The op was given the format: NCHW [Op:Conv2D]")
    out = checks.run("forward", CONV_CF, StandIn("tf_keras", tf_channels_first), "cpu", "float32")
    assert (out.status, out.divergence_id) == ("known-divergence", "tf-keras-channels-first-cpu"), out
    assert "UnimplementedError" in out.details["observed"]

    def leaky_float32(c, w, x, y):
        return np.where(x > 0, x, float(np.float32(0.3)) * x)
    out = checks.run("forward", LEAKY, StandIn("tf_keras", leaky_float32), "cpu", "float64")
    assert (out.status, out.divergence_id) == ("known-divergence", "tf-keras-leaky-slope-float32-attribute"), out

    def keras3_hard_sigmoid(c, w, x, y):  # relu6(z + 3) / 6 of the pre-activation z
        z = oracle.forward({"class_name": "Dense", "config": {**c["config"], "activation": "linear"}}, w, x)
        return np.minimum(np.maximum(z + 3.0, 0.0), 6.0) / 6.0
    out = checks.run("forward", DENSE_HS, StandIn("keras", keras3_hard_sigmoid), "cpu", "float64")
    assert (out.status, out.divergence_id) == ("known-divergence", "keras3-hard-sigmoid"), out


def test_an_exception_of_the_oracle_is_ours(monkeypatch):
    """Even an exception that looks like the backend's (its type and message match an entry) is an error of the
    suite when the oracle raises it, and is never filed under that entry."""
    def broken(*args, **kwargs):
        raise InvalidArgumentError("Value for attr 'T' of double is not in the list of allowed values")
    monkeypatch.setattr(oracle, "forward", broken)
    out = checks.run("forward", MAXPOOL3D, StandIn("tf_keras"), "cpu", "float64")
    assert out.status == "error" and out.divergence_id is None, out
    assert "the oracle or the check raised" in out.message and out.details["origin"] == "suite"


def test_two_entries_that_explain_one_failure_are_an_overlap(monkeypatch):
    """A record carries one entry id: when two entries both explain a failure, the record fails and names both."""
    entries = divergences.load("tf_keras")
    leaky = next(d for d in entries if d.id == "tf-keras-leaky-slope-float32-attribute")
    twin = divergences.Divergence(**{**leaky.__dict__, "id": "a-twin-entry"})
    monkeypatch.setattr(divergences, "load", lambda adapter: (*entries, twin))

    def leaky_float32(c, w, x, y):
        return np.where(x > 0, x, float(np.float32(0.3)) * x)
    out = checks.run("forward", LEAKY, StandIn("tf_keras", leaky_float32), "cpu", "float64")
    assert out.status == "fail" and "a-twin-entry" in out.message and leaky.id in out.message, out


def test_every_entry_states_its_excuse():
    """Every entry of every adapter has one of the four kinds of excuse, with its fields (the loader enforces it);
    a bounded entry covers named outputs only."""
    import adapters
    for name in adapters.names():
        for d in divergences.load(name):
            assert d.excuse in ("error pattern", "accepted parameter", "modelled semantics", "bounded error"), d.id
            if d.excuse == "bounded error":
                assert d.outputs and "*" not in d.outputs, f"{name}:{d.id} must name the outputs it covers"
