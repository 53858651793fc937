"""Parsing and validation of layer parameters, shared by every family's `normalize`.

Every parser takes (layer, param, value) and returns the canonical value or raises a ValueError that names
the layer, the parameter, the value and what is allowed, e.g.
``Conv2D: padding='full' is not allowed: expected one of 'valid', 'same'``.

A leaf: it imports no other module of the project, so every module may import it (suites/test_imports.py).
The parsers that need more live above it: serialized objects (initializers, regularizers, constraints) in
oracle/weight_objects.py, nested layer configs in oracle/nested.py.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

Parser = Callable[[str, str, Any], Any]

REQUIRED = object()  # sentinel default: the parameter has no default and must be given

# Keys a Keras `get_config()` carries that do not change the layer's maths; they are accepted and dropped so
# that a model's JSON feeds the suite directly. `input_dim`/`input_shape` only fix the input shape.
FRAMEWORK_KEYS = frozenset({"name", "trainable", "dtype", "batch_input_shape", "batch_size", "input_shape",
                            "input_dim", "autocast"})


def invalid(layer: str, param: str, value: Any, allowed: str) -> ValueError:
    """The one error format of the suite for a bad parameter value."""
    return ValueError(f"{layer}: {param}={value!r} is not allowed: {allowed}")


def positive_int(layer: str, param: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise invalid(layer, param, value, "expected a positive integer")
    return int(value)


def int_tuple(rank: int) -> Parser:
    """An int (repeated `rank` times) or a tuple/list of `rank` positive ints."""
    def parse(layer: str, param: str, value: Any) -> tuple[int, ...]:
        items = [value] * rank if isinstance(value, int) and not isinstance(value, bool) else value
        if not isinstance(items, (list, tuple)) or len(items) != rank or not all(
                isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in items):
            raise invalid(layer, param, value, f"expected a positive integer or a tuple of {rank} positive integers")
        return tuple(int(v) for v in items)
    return parse


def choice(*allowed: str, none_as: str | None = None) -> Parser:
    """One of a fixed set of strings (case-sensitive, as Keras documents); None maps to `none_as` if given."""
    def parse(layer: str, param: str, value: Any) -> str:
        if value is None and none_as is not None:
            return none_as
        if value not in allowed:
            raise invalid(layer, param, value, "expected one of " + ", ".join(repr(a) for a in allowed))
        return value
    return parse


def boolean(layer: str, param: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise invalid(layer, param, value, "expected True or False")
    return value


def parse_config(layer: str, config: Mapping[str, Any], spec: Mapping[str, tuple[Any, Parser]]) -> dict:
    """Fill defaults, parse every value and reject unknown keys. `spec`: param -> (default, parser)."""
    unknown = sorted(set(config) - set(spec) - FRAMEWORK_KEYS)
    if unknown:
        raise ValueError(f"{layer}: unknown parameter {unknown[0]!r}: expected one of {', '.join(spec)}")
    out = {}
    for param, (default, parser) in spec.items():
        if param in config:
            out[param] = parser(layer, param, config[param])
        elif default is REQUIRED:
            raise ValueError(f"{layer}: missing required parameter {param!r}")
        else:
            out[param] = parser(layer, param, default)  # defaults go through the parser too (None -> 'linear' ...)
    return out
