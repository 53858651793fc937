"""Known divergences: one TOML file per adapter under adapters/known_divergences/.

Each entry names the layers and the condition (canonical config values, devices, dtypes, checks), explains the
difference in one line, and carries a witness case that shows it. A matching failure is recorded as
`known-divergence`, not as pass; `suites/test_known_divergences.py` replays every witness and reports an entry
whose witness no longer fails as stale.
"""
from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

DIRECTORY = Path(__file__).resolve().parent.parent / "adapters" / "known_divergences"


def _spans(cfg: dict) -> list[int]:
    """The dilated kernel extent (k-1)*d + 1 per axis."""
    dilation = cfg.get("dilation_rate") or (1,) * len(cfg["kernel_size"])
    return [(k - 1) * d + 1 for k, d in zip(cfg["kernel_size"], dilation)]


# Conditions across parameters that per-key value lists cannot express; an entry names one with `condition`.
CONDITIONS = {
    "unequal_strides": lambda cfg: len(set(cfg["strides"])) > 1,
    "unequal_dilation": lambda cfg: len(set(cfg["dilation_rate"])) > 1,
    "dilated": lambda cfg: any(d > 1 for d in cfg["dilation_rate"]),
    # a stride longer than the window: 'same' padding's total max(..., 0) clamps a negative value
    "stride_exceeds_kernel_extent": lambda cfg: any(s > e for s, e in zip(cfg["strides"], _spans(cfg))),
    "stride_exceeds_pool": lambda cfg: any(s > p for s, p in zip(cfg["strides"] or cfg["pool_size"],
                                                                    cfg["pool_size"])),
    # an axis whose dilated kernel extent is even while its output_padding is 0
    "even_span_without_output_padding": lambda cfg: cfg["output_padding"] is not None and any(
        e % 2 == 0 and op == 0 for e, op in zip(_spans(cfg), cfg["output_padding"])),
    # a noise_shape with a None entry (= that axis of the input)
    "noise_shape_has_none": lambda cfg: cfg.get("noise_shape") is not None and None in cfg["noise_shape"],
}


@dataclass(frozen=True)
class Divergence:
    id: str
    adapter: str
    layers: tuple[str, ...]
    reason: str
    when: dict = field(default_factory=dict)      # canonical config key -> list of the values it covers
    checks: tuple[str, ...] = ("shape", "forward", "gradient")
    devices: tuple[str, ...] = ()                 # empty: every device
    dtypes: tuple[str, ...] = ()                  # empty: every dtype
    outcome: str = "mismatch"                     # "mismatch" (beyond the bound), "error" (it raises) or
    #                                               "accepts" (an invalid config runs instead of being rejected)
    witness: dict = field(default_factory=dict)   # {"config": ..., "input_shape": [...], "seed": n, "check": ...}
    condition: str | None = None                  # a name in CONDITIONS, for what value lists cannot say

    def matches(self, layer: str, config: dict, device: str, dtype: str, check: str, outcome: str) -> bool:
        """Whether a failure of this kind on this case is explained by the entry."""
        if outcome != self.outcome or check not in self.checks or layer not in self.layers:
            return False
        if (self.devices and device not in self.devices) or (self.dtypes and dtype not in self.dtypes):
            return False
        for key, want in self.when.items():
            have = config.get(key)
            if (list(have) if isinstance(have, tuple) else have) not in want:
                return False
        return self.condition is None or CONDITIONS[self.condition](config)


@functools.cache
def load(adapter: str) -> tuple[Divergence, ...]:
    """The entries of one adapter (none if it has no file)."""
    path = DIRECTORY / f"{adapter}.toml"
    if not path.exists():
        return ()
    entries = tomllib.loads(path.read_text())["divergence"]
    unknown = sorted({e["condition"] for e in entries if e.get("condition") not in (None, *CONDITIONS)})
    if unknown:
        raise ValueError(f"{path}: condition={unknown[0]!r} is not allowed: expected one of {', '.join(CONDITIONS)}")
    return tuple(Divergence(adapter=adapter, **{k: tuple(v) if k in ("layers", "checks", "devices", "dtypes")
                                                 else v for k, v in e.items()}) for e in entries)


def match(adapter: str, layer: str, config: dict, device: str, dtype: str, check: str,
          outcome: str) -> Divergence | None:
    """The first entry that explains this failure, or None (then it is a real failure)."""
    return next((d for d in load(adapter) if d.matches(layer, config, device, dtype, check, outcome)), None)
