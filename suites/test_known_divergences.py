"""Every known-divergence entry is well-formed and its witness still diverges; an entry that no longer
diverges is stale and fails here, so the data file cannot silently outlive the bug."""
from __future__ import annotations

import json

import pytest

import adapters
import oracle

from . import checks, divergences
from .strategies import Case

ENTRIES = [d for name in adapters.names() for d in divergences.load(name)]


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{d.adapter}-{d.id}" for d in ENTRIES])
def test_entry_is_well_formed(entry):
    assert entry.reason and "\n" not in entry.reason, f"{entry.id}: the reason must be one line"
    families = {f"family:{layer.family}" for layer in oracle.LAYERS.values()}
    assert set(entry.layers) <= set(oracle.LAYERS) | families | {"*"}, f"{entry.id}: unknown layers {entry.layers}"
    assert "*" not in entry.layers or entry.condition or entry.when, f"{entry.id}: layers = ['*'] needs a condition"
    assert entry.outcome in ("mismatch", "error", "accepts"), f"{entry.id}: outcome={entry.outcome!r}"
    assert all(isinstance(v, list) for v in entry.when.values()), f"{entry.id}: `when` values must be lists"
    assert {"config", "input_shape", "seed", "check", "device", "dtype"} <= set(entry.witness), entry.id


@pytest.mark.parametrize("entry", ENTRIES, ids=[f"{d.adapter}-{d.id}" for d in ENTRIES])
def test_witness_still_diverges(entry):
    """Replays the witness: it must fail in the way the entry says, and the entry must be what explains it."""
    w = dict(entry.witness)
    if isinstance(w["config"], str):  # a JSON string where the config holds None, which TOML cannot write
        w["config"] = json.loads(w["config"])
    adapter = adapters.get(entry.adapter)
    if adapter.installed():
        pytest.skip(adapter.installed())
    if entry.outcome == "accepts":  # an invalid config the backend builds and runs instead of rejecting
        with pytest.raises(ValueError):
            oracle.normalize(w["config"], tuple(w["input_shape"]))
        error = adapter.build_error(w["config"], tuple(w["input_shape"]))
        assert error is None, f"stale known divergence {entry.adapter}:{entry.id}: now rejected with {error!r}"
        return
    if entry.outcome == "error" and w["check"] == "invalid":  # rejected, with another exception than documented
        from .test_invalid import judged
        with pytest.raises(ValueError):
            oracle.normalize(w["config"], tuple(w["input_shape"]))
        error = adapter.build_error(w["config"], tuple(w["input_shape"]))
        assert error is not None, f"stale known divergence {entry.adapter}:{entry.id}: now accepted"
        why = entry.explains_error(judged(error))
        assert why is None, f"stale known divergence {entry.adapter}:{entry.id}: {why}"
        return
    if w["check"] == "mask_chain":  # Masking(mask_value) -> the layer, as a real Keras model (test_mask_consumption)
        _replay_mask_chain(entry, adapter, w)
        return
    case = Case.from_spec(w)
    why = adapter.supports(oracle.normalize(case.config), w["device"], w["dtype"])
    if why:
        pytest.skip(f"{entry.adapter}/{w['device']}/{w['dtype']} cannot run here: {why}")
    outcome = checks.run(w["check"], case, adapter, w["device"], w["dtype"])
    assert outcome.status == "known-divergence" and outcome.divergence_id == entry.id, (
        f"stale known divergence {entry.adapter}:{entry.id}: its witness now gives {outcome.status} "
        f"({outcome.message or 'within bounds'}); remove or update the entry")


def test_keras3_hard_sigmoid_is_relu6_form():
    """The divergence is exactly the Keras 3 definition relu6(x + 3) / 6, not noise."""
    import numpy as np
    adapter = adapters.get("keras")
    if adapter.installed():
        pytest.skip(adapter.installed())
    x = np.array([[-4.0, -2.5, -1.0, 0.0, 1.0, 2.5, 4.0]])
    got = adapter.forward(oracle.normalize({"class_name": "Activation", "config": {"activation": "hard_sigmoid"}}),
                          [], x, device="cpu", dtype="float64")
    np.testing.assert_array_equal(got, np.clip(x + 3.0, 0.0, 6.0) / 6.0)
    keras2 = oracle.forward({"class_name": "Activation", "config": {"activation": "hard_sigmoid"}}, [], x)
    assert keras2[0, 4] == 0.7 and got[0, 4] != 0.7


def test_named_conditions():
    """The cross-parameter conditions entries use, on canonical configs written out by hand."""
    from .divergences import CONDITIONS
    conv = {"kernel_size": (2, 3), "strides": (3, 3), "dilation_rate": (1, 1)}
    assert CONDITIONS["stride_exceeds_kernel_extent"](conv)  # 3 > extent 2 on the first axis
    assert not CONDITIONS["stride_exceeds_kernel_extent"]({**conv, "dilation_rate": (2, 1)})  # extents 3, 3
    assert CONDITIONS["unequal_strides"]({"strides": (1, 2)}) and not CONDITIONS["unequal_strides"]({"strides": (2, 2)})
    assert CONDITIONS["stride_exceeds_pool"]({"pool_size": (2,), "strides": (3,)})
    assert not CONDITIONS["stride_exceeds_pool"]({"pool_size": (2,), "strides": None})  # None means pool_size
    tr = {"kernel_size": (2, 3), "dilation_rate": (1, 1), "output_padding": (0, 0)}
    assert CONDITIONS["even_span_without_output_padding"](tr)
    assert not CONDITIONS["even_span_without_output_padding"]({**tr, "output_padding": (1, 0)})
    assert not CONDITIONS["even_span_without_output_padding"]({**tr, "output_padding": None})


def test_advanced_activation_conditions():
    """The advanced-activation conditions on canonical configs written out by hand."""
    from .divergences import CONDITIONS
    relu = {"max_value": None, "negative_slope": 0.3, "threshold": 0.0}
    assert CONDITIONS["slope_not_float32"](relu) and CONDITIONS["slope_not_float32"]({"alpha": 0.3})
    assert not CONDITIONS["slope_not_float32"]({"alpha": 0.25})
    assert not CONDITIONS["slope_not_float32"]({**relu, "max_value": 6.0})  # not tf.nn.leaky_relu's path
    assert not CONDITIONS["slope_not_float32"]({**relu, "threshold": 0.5})
    assert CONDITIONS["threshold_above_max_value"]({**relu, "max_value": 0.5, "threshold": 1.0})
    assert not CONDITIONS["threshold_above_max_value"]({**relu, "threshold": 1.0})
    assert CONDITIONS["negative_threshold"]({"threshold": -0.5}) and CONDITIONS["positive_threshold"]({"threshold": 1})
    assert CONDITIONS["negative_alpha"]({"alpha": -1.0}) and not CONDITIONS["negative_alpha"]({})



def test_every_named_condition_is_used():
    """A condition no entry names (and no other condition builds on) is dead code: remove it."""
    from pathlib import Path

    from .divergences import CONDITIONS, SHAPE_CONDITIONS
    used = {d.condition for d in ENTRIES}
    source = (Path(__file__).parent / "divergence_conditions.py").read_text()
    unused = [n for n in (*CONDITIONS, *SHAPE_CONDITIONS) if n not in used and source.count(f'"{n}"') < 2]
    assert not unused, f"conditions no entry uses: {unused}"


def _replay_mask_chain(entry, adapter, w) -> None:
    """A mask_chain witness: Masking(mask_value=1.5) in front of the layer; it must fail as the entry says."""
    import numpy as np

    from . import mask_chain
    case = Case.from_spec({**w, "mask": False})
    cfg = oracle.normalize(case.config)
    head = oracle.normalize({"class_name": "Masking", "config": {"mask_value": 1.5}})
    _, w2, _ = mask_chain.arrays(case, w["dtype"])
    x, _ = mask_chain.masked_input(case, w["dtype"], 1.5)
    with np.errstate(all="ignore"):
        mask, y, bound = mask_chain.truth(head, [], cfg, w2, x, w["dtype"])
    got_mask, got = adapter.mask_chain(head, [], cfg, w2, x, dtype=w["dtype"])
    cs = mask_chain.comparisons(mask, got_mask, y, bound, got)
    assert not all(c.ok for c in cs), f"stale known divergence {entry.adapter}:{entry.id}: the chain now agrees"
    why = entry.explains_bounded(cs) if not entry.semantics else None
    assert why is None, f"{entry.adapter}:{entry.id} no longer describes its witness: {why}"
