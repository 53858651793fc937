"""Backend adapters: one file per backend, found through this small registry.

Importing this package imports no framework; each adapter imports its framework on first use.
"""
from __future__ import annotations

import importlib

from .base import Adapter

# name -> module path. No module is named after the framework it wraps (adapters/torch.py would shadow torch
# whenever adapters/ lands on sys.path): *_adapter modules, and the torch_backend package.
MODULES = {
    "tf_keras": "adapters.tf_keras_adapter",
    "keras": "adapters.keras3_adapter",
    "torch": "adapters.torch_backend",
}

_instances: dict[str, Adapter] = {}


def get(name: str) -> Adapter:
    """The adapter registered under `name` (created once)."""
    if name not in MODULES:
        raise ValueError(f"adapter={name!r} is not allowed: expected one of {', '.join(MODULES)}")
    if name not in _instances:
        _instances[name] = importlib.import_module(MODULES[name]).ADAPTER
    return _instances[name]


def names() -> list[str]:
    return list(MODULES)
