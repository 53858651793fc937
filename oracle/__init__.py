"""The float64 NumPy oracle: the documented Keras layers, exactly. No framework imports here.

Public API (DESIGN.md): normalize, forward, output_shape, weight_shapes, vjp, LAYERS; and for report rows
ROWS (every layer name the suite knows: the Keras 2 classes, then the Keras 1 names of seed 000 as
"keras1.<Name>"), row_name and row_target.
Configs are Keras serialization dicts {"class_name": ..., "config": {...}}. Keras 1 configs (oracle/keras1.py)
are accepted everywhere and translated to Keras 2 by `normalize`.

The functions are defined in oracle/api.py and re-exported here. Import layers, bottom up (suites/test_imports.py
checks there is no cycle): params.py and registry.py (leaves); initializers.py, regularizers.py, constraints.py and
weight_objects.py (the serialized-object parsers); the families; api.py (over the registry, keras1.py and
recurrent.py); nested.py and weight_parameters.py (over api.py); the layers that nest layers (wrappers.py,
time_distributed.py, gated.py) and activity.py; this package, which imports every family to register it.

Weight parameters (oracle/weight_parameters.py; initializers.py, regularizers.py, constraints.py):
    weight_params(config) -> ['kernel', 'bias', ...]: the prefix of each weight's *_initializer/_regularizer/
        _constraint parameters, in get_weights() order;
    initializer_facts(config, input_shape) -> [Facts]: per weight, exact values or the distribution (support,
        mean, variance, fourth moment, CDF) or orthogonality its initializer promises;
    regularization_losses(config, weights, inputs) -> {'kernel': loss, 'bias': ..., 'activity': ...};
    constrain(config, weights) -> [weights after their constraints].
Multi-input layers (the merge layers, `Layer.multi_input`) take a list of input shapes wherever a shape is asked
for and a list of arrays as `inputs`; their vjp returns the list of the inputs' gradients.
"""
from __future__ import annotations

from typing import Any, Mapping

# importing a family registers its layers
from . import activations, conv_transpose, convolution, core, locally_connected  # noqa: F401
from . import keras1, merge, merge_axes, pooling, reshaping, separable  # noqa: F401
from . import activity, advanced_activations, core_functions, core_shapes, noise, normalization  # noqa: F401
from . import recurrent, recurrent_layers  # noqa: F401
from . import embedding, time_distributed  # noqa: F401
from . import wrappers  # noqa: F401
from . import gated  # noqa: F401
from . import conv_recurrent  # noqa: F401
# the public functions live in oracle/api.py, below the layers that call them (the wrappers import it directly)
from .api import (compute_mask, forward, input_shapes, layer_of, normalize, output_shape, stateful_run,  # noqa: F401
                  train_step, vjp, vjp_reference, weight_shapes)
from .registry import LAYERS, Layer  # noqa: F401
from .weight_parameters import constrain, initializer_facts, regularization_losses, weight_params  # noqa: F401

__all__ = ["LAYERS", "ROWS", "normalize", "forward", "output_shape", "weight_shapes", "vjp", "vjp_reference",
           "layer_of", "row_name", "row_target", "compute_mask", "weight_params", "initializer_facts",
           "regularization_losses", "constrain", "input_shapes", "train_step", "stateful_run"]

# Report rows: the Keras 2 classes, then the Keras 1 signatures of seed 000 (keras1.Convolution2D ...).
ROWS: tuple[str, ...] = tuple(sorted(LAYERS)) + tuple(sorted(keras1.ROWS))


def row_name(config: Mapping[str, Any]) -> str:
    """The report row of a raw config: its class, or keras1.<class> when it is written in the Keras 1 API."""
    return keras1.LAYERS[config["class_name"]].row if keras1.is_keras1(config) else config["class_name"]


def row_target(row: str) -> str:
    """The Keras 2 class a report row runs as (itself, or what a Keras 1 name translates to)."""
    return keras1.ROWS[row].target if row in keras1.ROWS else row
