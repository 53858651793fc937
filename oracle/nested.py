"""Parsers of nested layer configs (Bidirectional's `layer`, TimeDistributed's `layer`, RNN's `cell`): a nested
config is canonical when `normalize` made it so, hence these sit above oracle/api.py, not in oracle/params.py."""
from __future__ import annotations

from typing import Any, Mapping

from .api import normalize
from .params import Parser, invalid


def nested_layer(*allowed: str, what: str = "a layer") -> Parser:
    """A nested layer config -> its canonical config through `normalize`; `allowed` restricts the class names
    (empty: any layer the oracle implements)."""
    def parse(layer: str, param: str, value: Any) -> dict:
        if not isinstance(value, Mapping) or "class_name" not in value:
            raise invalid(layer, param, value, f"expected {what} config {{'class_name': ..., 'config': {{...}}}}")
        if allowed and value["class_name"] not in allowed:
            raise invalid(layer, param, value["class_name"], f"expected {what}: one of {', '.join(allowed)}")
        return normalize(value)
    return parse


def nested_layers(*allowed: str, what: str = "a layer") -> Parser:
    """One nested config or a non-empty list of them (RNN's stacked cells): a canonical config or a list."""
    one = nested_layer(*allowed, what=what)

    def parse(layer: str, param: str, value: Any):
        if isinstance(value, (list, tuple)):
            if not value:
                raise invalid(layer, param, value, f"expected {what} config or a non-empty list of them")
            return [one(layer, f"{param}[{i}]", v) for i, v in enumerate(value)]
        return one(layer, param, value)
    return parse
