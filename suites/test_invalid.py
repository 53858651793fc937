"""Invalid configs: the oracle rejects each with a message naming layer, parameter and value, and the Keras
adapters reject it too, with the exception type the documentation implies (a Keras adapter that accepts one, or
that crashes on it with another exception, is a finding, recorded like any other)."""
from __future__ import annotations

import re

import pytest
from hypothesis import given, settings

import adapters
import oracle

from . import divergences, strategies
from .recording import Recorder
from .strategies import invalid_cases

# Draws of each family's INVALID strategy in the backend test, whatever the hypothesis profile: every family is
# drawn on its own (one hypothesis run each), so each is covered, and a small family (whose few distinct configs
# run out) does not take draws from a large one; the families with the most distinct invalid configs get more.
# ~1000 draws, ~650 distinct configs per adapter (one build and call each, ~15 ms).
DRAWS = 40
MORE_DRAWS = {"pooling": 150, "reshaping": 100, "convolution": 80, "conv_transpose": 80, "separable": 80,
              "noise": 50}
FAMILIES = [(name, f.INVALID) for name, f in strategies.FAMILIES.items() if hasattr(f, "INVALID")]

# The rejection the documentation implies. Seed 003 names one exception for invalid configs: ValueError
# ("__异常__ - ValueError: 无效的构造参数", ConvLSTM2D; "ValueError: 如果参数 `merge_mode` 非法", Bidirectional),
# and Keras validates the same way everywhere: ValueError for a value outside the documented set or range,
# TypeError for a value of the wrong type (or a keyword the layer does not have). An impossible shape that only
# the op sees at call time is rejected by TensorFlow with tf.errors.InvalidArgumentError (an OpError: the
# framework's documented error for an invalid op argument), which is a rejection too. Anything else -- KeyError,
# IndexError, AttributeError, AssertionError, UnboundLocalError, NotImplementedError, another OpError -- is the
# backend's own code failing on input it never validated (or refusing it with an exception a caller catching the
# documented one would miss), not the documented rejection: `fail`, unless a known-divergence entry of outcome
# "error" (check "invalid") names its type and text.
DOCUMENTED = (ValueError, TypeError)
DOCUMENTED_NAMES = "ValueError/TypeError (or tf.errors.InvalidArgumentError at call time)"


def documented(exc: BaseException) -> bool:
    return isinstance(exc, DOCUMENTED) or any(
        c.__name__ == "InvalidArgumentError" and c.__module__.startswith("tensorflow") for c in type(exc).__mro__)


def judged(exc: BaseException) -> BaseException:
    """The exception that says how the backend rejected the config. Layer.from_config (tf-keras and Keras 3)
    re-raises whatever the constructor raised as TypeError("Error when deserializing class ...") without `from`,
    so a constructor's KeyError would read as a TypeError: the constructor's own exception (the wrapper's
    __context__) is judged instead."""
    while isinstance(exc, TypeError) and str(exc).startswith("Error when deserializing class") \
            and exc.__context__ is not None:
        exc = exc.__context__
    return exc


def describe(exc: BaseException) -> str:
    """'Type: text' on one line (whitespace and Keras 3's terminal escapes collapsed), at most 1000 characters."""
    text = " ".join(re.sub(r"\x1b\[[0-9;]*m", "", str(exc)).split())
    return f"{type(exc).__name__}: {text[:1000]}"


@given(invalid_cases)
def test_oracle_rejects_with_a_precise_message(case):
    config, shape, param, value = case
    with pytest.raises(ValueError) as err:
        oracle.normalize(config, shape)
    message = str(err.value)
    for part in (config["class_name"], param, repr(value)):
        assert part in message, f"{part!r} missing from the error {message!r} for {config}"


@pytest.mark.parametrize("name", adapters.with_ability("invalid_configs"))
def test_keras_adapters_reject_too(name, request):
    from conftest import results_path
    adapter = adapters.get(name)
    if adapter.installed():
        pytest.skip(adapter.installed())
    rec = Recorder(request.node.nodeid, "(invalid configs)", name, "cpu", "float32", "invalid")
    failures, broken = [], []

    def judge(case):
        config, shape, param, value = case
        drawn = f"{param}={value!r}"
        why = adapter.supports(config, "cpu", "float32")
        if why:  # a layer the backend does not have (Keras 3: LocallyConnected, ThresholdedReLU)
            rec.add_invalid(config, shape, "unsupported", why)
            return
        match = lambda outcome, evidence: divergences.match(  # noqa: E731
            name, config["class_name"], config["config"], "cpu", "float32", "invalid", outcome, shape,
            evidence=evidence)
        error = adapter.build_error(config, shape)
        if error is None:  # accepted: only an entry that names the drawn invalid parameter excuses it
            known = match("accepts", lambda d: d.explains_parameter(param))
            rec.add_invalid(config, shape, "known-divergence" if known else "fail",
                            known.reason if known else f"{name} accepted {drawn}",
                            divergence_id=known.id if known else None)
            if not known:
                failures.append(f"accepted {drawn}: {config} on input {shape}")
            return
        exc = judged(error)
        observed = describe(exc)
        if re.search(r"Could not locate class", str(exc)):
            # the adapter could not even build the wrapped layer from the raw config (Keras 3 needs the
            # serialization envelope): nothing about the drawn parameter was checked, so no pass is recorded
            rec.add_invalid(config, shape, "error", f"{name} could not build the layer to judge {drawn}: {observed}",
                            observed=observed)
            broken.append(f"{config} on input {shape}: {observed}")
            return
        if documented(exc):
            rec.add_invalid(config, shape, "pass", None, observed=observed)
            return
        known = match("error", lambda d: d.explains_error(exc))
        rec.add_invalid(config, shape, "known-divergence" if known else "fail",
                        known.reason if known else
                        f"{name} rejected {drawn} with {observed[:300]}, not the {DOCUMENTED_NAMES} the "
                        "documentation implies",
                        divergence_id=known.id if known else None, observed=observed)
        if not known:
            failures.append(f"rejected {drawn} with {observed[:200]}: {config} on input {shape}")

    try:
        for family, strategy in FAMILIES:
            settings(max_examples=MORE_DRAWS.get(family, DRAWS))(given(strategy)(lambda case: judge(case)))()
    finally:
        rec.flush(results_path(request.config))
    assert not failures and not broken, (
        f"{name}: {len(failures)} invalid configs accepted or rejected with an undocumented exception, "
        f"{len(broken)} not buildable by the adapter: {(failures + broken)[:8]}")
