"""Training-mode checks of one example on one adapter (checks.CHECKS: 'training', 'seed', 'moving_mean',
'moving_variance'), with the signature of the other checks: (case, adapter, device, dtype) -> (ok, comparisons,
reference).

- Stochastic layers ('training'): one training-mode output drawn with the case's seed, checked against the
  documented distribution (suites/stochastic.py). Their training-mode gradient is the same random multiplier,
  not compared.
- BatchNormalization: 'training' compares the batch-statistics output and its input, gamma and beta gradients
  with the oracle; 'moving_mean' and 'moving_variance' compare the moving statistics after one training call.
  They are separate checks because backends disagree on the variance fed to the moving average (docs/traps.md 19):
  a known divergence can then name exactly that and leave the rest checked.
"""
from __future__ import annotations

import numpy as np

import oracle
from oracle.noise import mask_shape, spatial_mask_shape

from . import stochastic
from .compare import Comparison, compare
from .strategies import Case, arrays
from .truth import DOCUMENTED


def noise_mask_shape(layer: str, cfg: dict, shape: tuple) -> tuple | None:
    """The shape of the documented random mask (None for the Gaussian layers, which have none)."""
    if layer.startswith("SpatialDropout"):
        return spatial_mask_shape(int(layer[-2]), cfg.get("data_format", "channels_last"), shape)
    return mask_shape(cfg, shape) if layer in ("Dropout", "AlphaDropout") else None


def _stochastic(case: Case, adapter, device: str, dtype: str, truth=DOCUMENTED):
    config = oracle.normalize(case.config)
    x, ws, _ = arrays(case, dtype)
    y = adapter.forward(config, ws, x, device=device, dtype=dtype, training=True, seed=case.seed)
    cs = stochastic.check_sample(case.layer, config["config"], x, y, noise_mask_shape(
        case.layer, config["config"], x.shape), dtype)
    return all(c.ok for c in cs), cs, "statistical"


def _state_index(config: dict, name: str) -> int:
    """Where a moving statistic sits in get_weights() order."""
    first = oracle.layer_of(config).state(config["config"])[0]
    return first + (name == "moving_variance")


def training(case: Case, adapter, device: str, dtype: str, truth=DOCUMENTED):
    """The 'training' check: statistical for a noise layer; output and gradients for BatchNormalization."""
    layer = oracle.layer_of(case.config)
    if layer.stochastic:
        return _stochastic(case, adapter, device, dtype, truth)
    if layer.error_model != "batch_statistics":  # the one deterministic training mode with bounds of its own
        raise ValueError(f"training check: {layer.name} has error_model={layer.error_model!r}: no bound for a "
                         "deterministic training mode")
    config = oracle.normalize(case.config)
    x, ws, g = arrays(case, dtype)
    bounds = truth.batch_norm_training_bounds(config["config"], ws, x, g, dtype)
    expected, _ = truth.train_step(config, ws, x, dtype=dtype)
    actual, _ = adapter.train_step(config, ws, x, device=device, dtype=dtype, seed=case.seed)
    cs = [compare("output", actual, expected, bounds["output"])]
    gx, gws = truth.vjp(config, ws, x, g, training=True)
    ax, aws = adapter.vjp(config, ws, x, g, device=device, dtype=dtype, training=True)
    cs.append(compare("input_grad", ax, gx, bounds["input_grad"]))
    names = (["gamma_grad"] if config["config"]["scale"] else []) + (["beta_grad"] if config["config"]["center"] else [])
    if len(aws) < len(names):
        cs.append(Comparison("weight_grads", False, float("inf"), float("inf"),
                             shape_error=f"{len(aws)} weight gradients, but should be at least {len(names)}"))
    cs += [compare(name, a, e, bounds[name]) for name, a, e in zip(names, aws, gws)]
    return all(c.ok for c in cs), cs, oracle.vjp_reference(config)


def _moving(name: str):
    def check(case: Case, adapter, device: str, dtype: str, truth=DOCUMENTED):
        """One moving statistic of BatchNormalization after one training call."""
        config = oracle.normalize(case.config)
        x, ws, g = arrays(case, dtype)
        i = _state_index(config, name)
        _, expected = truth.train_step(config, ws, x, dtype=dtype)
        _, actual = adapter.train_step(config, ws, x, device=device, dtype=dtype, seed=case.seed)
        if len(actual) != len(expected):
            c = Comparison(name, False, float("inf"), float("inf"),
                           shape_error=f"{len(actual)} weights after the step, but should be {len(expected)}")
        else:
            c = compare(name, actual[i], expected[i],
                        truth.batch_norm_training_bounds(config["config"], ws, x, g, dtype)[name])
        return c.ok, [c], "analytic"
    return check


def seed_repeats(case: Case, adapter, device: str, dtype: str, truth=DOCUMENTED):
    """The 'seed' check: a layer built twice with the same `seed` (the case's when the config has none) gives
    the same training-mode sample, bit for bit, on one backend (no call seed, fresh layers)."""
    config = oracle.normalize(case.config)
    cfg = {**config["config"], "seed": config["config"]["seed"] if config["config"]["seed"] is not None
           else case.seed % 2 ** 31}
    seeded = {"class_name": case.layer, "config": cfg}
    x, _, _ = arrays(case, dtype)
    first, second = (adapter.forward(seeded, [], x, device=device, dtype=dtype, training=True) for _ in range(2))
    c = compare("repeat", second, np.asarray(first, dtype=np.float64), np.zeros(x.shape))
    return c.ok, [c], "statistical"


def dropout(case: Case, adapter, device: str, dtype: str, truth=DOCUMENTED):
    """The 'dropout' check of a recurrent layer (probe weights, statistical: suites/recurrent_dropout.py)."""
    from .recurrent_dropout import dropout_check
    return dropout_check(case, adapter, device, dtype)


CHECKS = {"dropout": dropout, "seed": seed_repeats, "training": training, "moving_mean": _moving("moving_mean"), "moving_variance": _moving("moving_variance")}


def checks_of(layer: str) -> tuple[str, ...]:
    """The training checks of a layer: none where training mode is inference mode, 'training' for a stochastic
    layer, and the moving statistics too for a deterministic one (BatchNormalization, the only one with state)."""
    registered = oracle.LAYERS[oracle.row_target(layer)]  # a Keras 1 row runs as its Keras 2 class
    if registered.train is None:
        return ()
    if registered.uses_mask:  # a recurrent layer: its dropout masks, never the noise-layer checks
        return ("dropout",)
    if registered.stochastic:
        return ("training",) + (("seed",) if "seed" in registered.spec else ())
    return ("training", "moving_mean", "moving_variance")
