"""Backend adapters: one file per backend, found through this small registry.

Importing this package imports no framework; each adapter imports its framework on first use.
"""
from __future__ import annotations

import importlib
import os

from .base import Adapter

# name -> module path (the module exports ADAPTER). No module is named after the framework it wraps
# (adapters/torch.py would shadow torch whenever adapters/ lands on sys.path): *_adapter modules, and the
# torch_backend package.
BUILT_IN = {
    "tf_keras": "adapters.tf_keras_adapter",
    "keras": "adapters.keras3_adapter",
    "torch": "adapters.torch_backend",
}
# More adapters without editing this file: CONFORMANCE_ADAPTERS="name=package.module[,name=package.module]"
# (a backend under development, the minimal adapter of suites/test_backend_contract.py). Their known divergences
# are adapters/known_divergences/<name>.toml, when it exists.
EXTRA_VARIABLE = "CONFORMANCE_ADAPTERS"
# CONFORMANCE_ISOLATE=1: every adapter's backend calls run in a worker process of its own (adapters/workers.py),
# so a crash or hang is one record; `make report` sets it.
ISOLATE_VARIABLE = "CONFORMANCE_ISOLATE"


def _extra(value: str) -> dict[str, str]:
    out = {}
    for item in filter(None, (part.strip() for part in value.split(","))):
        name, sep, module = item.partition("=")
        if not sep or not name.strip() or not module.strip():
            raise ValueError(f"{EXTRA_VARIABLE}={value!r}: {item!r} is not allowed: expected name=package.module")
        if name.strip() in BUILT_IN:
            raise ValueError(f"{EXTRA_VARIABLE}={value!r}: {name.strip()!r} is a built-in adapter")
        out[name.strip()] = module.strip()
    return out


MODULES = {**BUILT_IN, **_extra(os.environ.get(EXTRA_VARIABLE, ""))}

_instances: dict[str, Adapter] = {}


def get(name: str) -> Adapter:
    """The adapter registered under `name` (created once)."""
    if name not in MODULES:
        raise ValueError(f"adapter={name!r} is not allowed: expected one of {', '.join(MODULES)}")
    if name not in _instances:
        adapter = importlib.import_module(MODULES[name]).ADAPTER
        if adapter.name != name:
            raise ValueError(f"adapter module {MODULES[name]} is registered as {name!r} but names itself "
                             f"{adapter.name!r}")
        if os.environ.get(ISOLATE_VARIABLE) == "1":  # its backend calls in a worker process (adapters/workers.py)
            from .workers import IsolatedAdapter
            adapter = IsolatedAdapter(name, MODULES[name])
        _instances[name] = adapter
    return _instances[name]


def names() -> list[str]:
    """Every registered adapter, in registration order."""
    return list(MODULES)


def with_ability(ability: str) -> list[str]:
    """The registered adapters that declare `ability` (adapters/base.py ABILITIES), in registration order. Reads
    each adapter's class attribute only: no framework is imported."""
    return [name for name in MODULES if get(name).lacks(ability) is None]
