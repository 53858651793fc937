"""Merge layers on the backends, beyond generic conformance: the Keras functional forms equal their classes, every
adapter rejects a wrong number of inputs like the oracle, Dot(normalize=True) on tiny vectors follows Keras 2's
floor (not F.normalize's), and Maximum's gradient at ties follows the oracle's first-input rule."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

import adapters
import oracle
from oracle import merge

from . import checks, divergences, strategies, tolerance
from .compare import compare

KERAS = ["tf_keras", "keras"]
FUNCTIONAL = {"Add": "add", "Subtract": "subtract", "Multiply": "multiply", "Average": "average",
              "Maximum": "maximum", "Concatenate": "concatenate", "Dot": "dot"}
PARAMS = {"Concatenate": {"axis": 1}, "Dot": {"axes": [2, 1], "normalize": True}}
SHAPES = {"Concatenate": [(2, 3, 4), (2, 2, 4)], "Dot": [(2, 3, 4), (2, 4, 2)]}


def _need(name: str):
    adapter = adapters.get(name)
    if adapter.installed():
        pytest.skip(adapter.installed())
    return adapter


@pytest.mark.parametrize("layer", sorted(FUNCTIONAL))
@pytest.mark.parametrize("name", KERAS)
def test_functional_form_equals_its_class(name, layer):
    """keras.layers.add(inputs, ...) is documented as the functional interface of Add(...): the same numbers."""
    adapter = _need(name)
    tf, k = adapter._frameworks()
    shapes = SHAPES.get(layer, [(2, 3, 4)] * 2)
    xs = [np.random.default_rng(i).uniform(-2, 2, s) for i, s in enumerate(shapes)]
    config = oracle.normalize({"class_name": layer, "config": PARAMS.get(layer, {})})
    expected = adapter.forward(config, [], xs, device="cpu", dtype="float64")
    got = getattr(k.layers, FUNCTIONAL[layer])([tf.constant(x) for x in xs], dtype="float64", **PARAMS.get(layer, {}))
    np.testing.assert_array_equal(np.asarray(got), expected)


COUNT_ERRORS = [("Add", 1), ("Multiply", 1), ("Average", 1), ("Maximum", 1), ("Concatenate", 1),
                ("Subtract", 1), ("Subtract", 3), ("Dot", 1), ("Dot", 3)]


@pytest.mark.parametrize("layer, n", COUNT_ERRORS, ids=[f"{layer}-{n}" for layer, n in COUNT_ERRORS])
@pytest.mark.parametrize("name", adapters.names())
def test_wrong_number_of_inputs_is_rejected_everywhere(name, layer, n):
    """The oracle raises a ValueError naming the layer and the count; each Keras adapter rejects the raw config
    on that list (layer and functional form), and the torch mapping refuses the call."""
    adapter = _need(name)
    params = {"axes": -1} if layer == "Dot" else {}
    raw = {"class_name": layer, "config": params}
    with pytest.raises(ValueError, match=rf"{layer}: len\(inputs\)={n} is not allowed"):
        oracle.output_shape(raw, [(2, 3)] * n)
    xs = [np.ones((2, 3))] * n
    if name == "torch":
        with pytest.raises(ValueError, match=layer):
            adapter.forward(oracle.normalize(raw), [], xs, device="cpu", dtype="float64")
        return
    tf, k = adapter._frameworks()
    known = divergences.match(name, layer, params, "cpu", "float32", "invalid", "accepts", [(2, 3)] * n,
                              evidence=lambda d: d.explains_parameter("len(inputs)"))
    if known:  # the entry's witness test shows the acceptance; here the functional form must behave the same
        assert adapter.build_error(raw, [(2, 3)] * n) is None, f"stale known divergence {known.id}"
        getattr(k.layers, FUNCTIONAL[layer])([tf.constant(x) for x in xs], **params)
        return
    assert adapter.build_error(raw, [(2, 3)] * n) is not None, f"{name} accepted {layer} on {n} inputs"
    with pytest.raises(Exception):
        getattr(k.layers, FUNCTIONAL[layer])([tf.constant(x) for x in xs], **params)


@pytest.mark.parametrize("name", adapters.names())
def test_dot_normalize_on_tiny_vectors_uses_keras2_floor(name):
    """Norms of 5e-9 and 2e-8: Keras 2 divides by sqrt(1e-12) = 1e-6, torch's F.normalize by the norm itself. The
    oracle follows Keras 2; an adapter must too, or a known divergence must say why (Keras 3: a floor of 1e-7)."""
    adapter = _need(name)
    x, y = np.array([[3e-9, 4e-9], [1.0, 2.0]]), np.array([[2e-8, 0.0], [2.0, -1.0]])
    config = oracle.normalize({"class_name": "Dot", "config": {"axes": 1, "normalize": True}})
    expected = oracle.forward(config, [], [x, y])
    assert expected[0, 0] == pytest.approx(3e-9 * 2e-8 / 1e-12, rel=1e-12)  # 0.06, not the cosine 0.6
    if name == "torch":
        import torch
        F = torch.nn.functional
        plain = (F.normalize(torch.tensor(x), dim=1) * F.normalize(torch.tensor(y), dim=1)).sum(1)
        assert plain[0].item() == pytest.approx(0.6, rel=1e-12)  # F.normalize's floor gives the cosine
    got = adapter.forward(config, [], [x, y], device="cpu", dtype="float64")
    c = compare("output", got, expected, tolerance.forward_bound(config, [], [x, y], "float64"))
    known = None if c.ok else divergences.match(name, "Dot", config["config"], "cpu", "float64", "forward",
                                                "mismatch", evidence=lambda d: d.explains_bounded([c]))
    assert c.ok or known, f"{name}: {c.describe()}; no known divergence explains it"


def test_maximum_tie_gradient_follows_the_first_input_rule(backend):
    """floor() puts the inputs on four levels, so many elements tie across inputs; the whole cotangent must go to
    the first input attaining the maximum (oracle/merge.py), as tf.maximum's gradient folded left to right."""
    if backend.name == "oracle":
        pytest.skip("the oracle's own tie rule is pinned by suites/test_oracle_merge.py")
    adapter = adapters.get(backend.name)
    why = adapter.supports({"class_name": "Maximum", "config": {}}, backend.device, backend.dtype)
    if why:
        pytest.skip(f"Maximum on {backend.id}: {why}")
    decided = []

    @given(case=strategies.cases("Maximum"))
    def examples(case):
        outcome = checks.run("tie_gradient", case, adapter, backend.device, backend.dtype)
        assert outcome.status in ("pass", "known-divergence"), (
            f"{outcome.message}\nreplay: "
            f"{checks.replay_command(case, backend.name, backend.device, backend.dtype, 'tie_gradient')}")
        xs = checks.tied(strategies.arrays(case, "float64")[0])
        stacked = np.stack(np.broadcast_arrays(*merge.keras_aligned(xs)))
        # a tie decides the gradient where the maximum is attained by more than one input
        decided.append(bool(np.any(np.sum(stacked == stacked.max(axis=0), axis=0) > 1)))

    examples()
    assert any(decided), "no drawn example had a tie between inputs; the test saw no tie"
