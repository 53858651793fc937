"""The `serialized_object` parser of the weight parameters: `<weight>_initializer`, `_regularizer`, `_constraint`
and `activity_regularizer` values, by the parameter's suffix, through the module of that kind of object.

It sits above oracle/params.py (a leaf) and the three kinds' modules (which import params.invalid), below every
family that lists such parameters in its spec.
"""
from __future__ import annotations

from typing import Any

from . import constraints, initializers, regularizers
from .params import Parser, invalid

# parameter suffix -> the canonical parser of that kind
PARSERS: dict[str, Parser] = {"initializer": initializers.parse, "regularizer": regularizers.parse,
                              "constraint": constraints.parse}


def serialized_object(layer: str, param: str, value: Any) -> Any:
    """Initializers, regularizers and constraints: None, or a name or Keras serialization dict that the
    family's module (oracle/initializers.py, regularizers.py, constraints.py, by the parameter's suffix)
    validates and expands to its canonical {'class_name', 'config'} form."""
    kind = param.rsplit("_", 1)[-1]
    if value is None and kind != "initializer":
        return None
    if value is None:  # 2.2.x initializers.get(None) raises "Could not interpret initializer identifier"
        raise invalid(layer, param, value, "expected an initializer name or dict (None is not an initializer)")
    if kind not in PARSERS:
        raise invalid(layer, param, value, "is not an initializer, regularizer or constraint parameter")
    return PARSERS[kind](layer, param, value)
