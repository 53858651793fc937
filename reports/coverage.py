"""Coverage: per layer, the parameter values a run exercised, so a user sees what was not tested.

Counted over distinct examples (config, input shape, seed) of the conformance checks. Values are taken from the
canonical config (`oracle.normalize`: defaults filled in, ints expanded), and each parameter also counts how often
it was left out of the raw config, i.e. how often its documented default was exercised.
"""
from __future__ import annotations

import json
from collections import Counter, defaultdict
from typing import Any

from .aggregate import Record, example_key

MAX_VALUES = 12  # distinct values listed per parameter; the rest are counted


def _canonical(config: dict) -> dict | None:
    try:
        import oracle
        return oracle.normalize(config)["config"]
    except Exception:  # an unknown layer or an invalid config (older results): no canonical form
        return None


def _show(value: Any) -> str:
    return json.dumps(value, default=str) if not isinstance(value, str) else value


def coverage(records: list[Record]) -> list[dict[str, Any]]:
    """[{layer, examples, params: [{name, seen: [(value, count)], more, defaulted}], ranks}] sorted by layer."""
    seen: dict[str, dict] = defaultdict(dict)
    for r in records:
        if r.get("check") in ("shape", "forward", "gradient") and isinstance(r.get("config"), dict):
            seen[r["layer"]].setdefault(example_key(r), r)
    out = []
    for layer in sorted(seen):
        values: dict[str, Counter] = defaultdict(Counter)
        defaulted: Counter = Counter()
        ranks: Counter = Counter()
        for r in seen[layer].values():
            raw = r["config"].get("config", {})
            canonical = _canonical(r["config"]) or raw
            for name, value in canonical.items():
                values[name][_show(value)] += 1
                defaulted[name] += name not in raw
            shape = r.get("input_shape")
            if shape:  # a multi-input (merge) record lists one shape per input: count the first one's rank
                ranks[len(shape[0]) if isinstance(shape[0], list) else len(shape)] += 1
        params = []
        for name in values:
            common = values[name].most_common()
            params.append({"name": name, "seen": common[:MAX_VALUES], "more": max(len(common) - MAX_VALUES, 0),
                           "defaulted": defaulted[name]})
        out.append({"layer": layer, "examples": len(seen[layer]), "params": params,
                    "ranks": sorted(ranks.items())})
    return out
