"""Known divergences: TOML files per adapter under adapters/known_divergences/ (`<adapter>.toml` and
`<adapter>.*.toml`).

Each entry says where it applies (layers, canonical config values, a named condition, checks, devices, dtypes),
what it excuses (an exception type and message, an accepted invalid parameter, a modelled alternative semantics,
or named outputs within a largest error), explains the difference in one line, and carries a witness case that
shows it. A failure is `known-divergence` only when exactly one entry applies and its excuse holds (DESIGN.md,
"Known divergences"); `suites/test_known_divergences.py` replays every witness and reports a stale entry.
"""
from __future__ import annotations

import fnmatch
import functools
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import oracle

from .divergence_conditions import CONDITIONS, SHAPE_CONDITIONS  # noqa: F401 (re-exported for tests)

DIRECTORY = Path(__file__).resolve().parent.parent / "adapters" / "known_divergences"


@dataclass(frozen=True)
class Divergence:
    """One known divergence: where it applies (layers, `when`, condition, checks, devices, dtypes, masked) and
    what it excuses there, which the failure itself must show (`explains`):
    - outcome "error": the backend raised an exception of a type named in `error` whose text matches `message`;
    - outcome "accepts": the invalid config the backend accepted was drawn invalid in a `parameter` it names;
    - outcome "mismatch", modelled (`semantics`): the backend agrees within the normal bound with the named
      alternative semantics of suites/alternatives/ (Keras 3's hard_sigmoid, a slope rounded to float32 ...);
    - outcome "mismatch", bounded (`outputs`, `max_error`): only comparisons whose names match `outputs` fail,
      by at most `max_error` bounds, where no alternative can be modelled."""
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
    masked: bool | None = None                    # true: only calls given a timestep mask; false: only calls without
    error: tuple[str, ...] = ()                   # outcome error: exception class names (any class of its MRO)
    message: str | None = None                    # outcome error: a regular expression its text must contain
    parameter: tuple[str, ...] = ()               # outcome accepts: the invalid parameters it covers
    semantics: str | None = None                  # outcome mismatch: a name in suites/alternatives.SEMANTICS
    outputs: tuple[str, ...] = ()                 # outcome mismatch, bounded: fnmatch patterns of comparison names
    max_error: float | None = None                # outcome mismatch, bounded: the largest error, in bound units

    @property
    def excuse(self) -> str:
        """The kind of evidence the entry asks for: 'error pattern', 'accepted parameter', 'modelled semantics'
        or 'bounded error'."""
        if self.outcome == "error":
            return "error pattern"
        if self.outcome == "accepts":
            return "accepted parameter"
        return "modelled semantics" if self.semantics else "bounded error"

    def applies(self, layer: str, config: dict, device: str, dtype: str, check: str, outcome: str,
                input_shape=None, masked=None) -> bool:
        """Whether the entry is about this case at all (layer, config, device, dtype, check, kind of failure);
        a shape condition needs the case's input_shape. Whether it explains the failure is `explains`."""
        if outcome != self.outcome or check not in self.checks or not self.names(layer):
            return False
        if self.masked is not None and masked is not None and masked != self.masked:
            return False
        if (self.devices and device not in self.devices) or (self.dtypes and dtype not in self.dtypes):
            return False
        for key, want in self.when.items():
            have = config.get(key)
            have = list(have) if isinstance(have, tuple) else have
            # a bool is not the number it equals (True == 1 in Python): implementation=True is not implementation=1
            if not any(have == w and isinstance(have, bool) == isinstance(w, bool) for w in want):
                return False
        if self.condition in SHAPE_CONDITIONS:
            return input_shape is not None and SHAPE_CONDITIONS[self.condition](config, input_shape)
        return self.condition is None or CONDITIONS[self.condition](config)

    def names(self, layer: str) -> bool:
        """Whether `layers` covers the layer: by class name, by its oracle family ("family:convolution"), or
        "*" (every layer: an entry whose condition already says where, e.g. a regularizer factor float32 cannot
        hold, so that a new layer with that parameter needs no edit here)."""
        if layer in self.layers or "*" in self.layers:
            return True
        registered = oracle.LAYERS.get(layer)
        return registered is not None and f"family:{registered.family}" in self.layers

    def explains_error(self, exc: BaseException) -> str | None:
        """None when the exception is the one the entry describes, else why not."""
        # an exception rebuilt from a worker process (adapters/workers.py) carries its original MRO's names
        names = set(getattr(exc, "remote_mro", ())) or {c.__name__ for c in type(exc).__mro__}
        if not names & set(self.error):
            return f"{self.id} excuses {'/'.join(self.error)}, not {type(exc).__name__}"
        text = f"{exc}"
        if not re.search(self.message, text, re.S):
            return f"{self.id} excuses a message matching {self.message!r}, not {_first_line(text)!r}"
        return None

    def explains_parameter(self, parameter: str | None) -> str | None:
        """None when the invalid parameter drawn is one the entry names, else why not."""
        return None if parameter in self.parameter else \
            f"{self.id} excuses an invalid {'/'.join(self.parameter)}, not {parameter}"

    def explains_bounded(self, comparisons) -> str | None:
        """None when only the named outputs fail, by at most max_error bounds, else why not."""
        for c in comparisons:
            if c.ok:
                continue
            if not any(fnmatch.fnmatchcase(c.name, p) for p in self.outputs):
                return f"{self.id} excuses only {', '.join(self.outputs)}, not {c.name}"
            if not c.max_error_in_bounds <= self.max_error:
                return (f"{self.id} excuses at most {self.max_error:.3g} x bound, not {c.name} at "
                        f"{c.max_error_in_bounds:.3g} x bound")
        return None


def _first_line(text: str) -> str:
    return text.strip().splitlines()[0] if text.strip() else ""


_FIELDS = {"mismatch": ("semantics", "outputs", "max_error"), "error": ("error", "message"),
           "accepts": ("parameter",)}


def _problems(path: Path, e: dict) -> list[str]:
    """What is missing or misplaced in one entry's excuse (an entry must state what it excuses)."""
    outcome = e.get("outcome", "mismatch")
    where = f"{path.name}: {e.get('id')}"
    if outcome not in _FIELDS:
        return [f"{where}: outcome={outcome!r} is not allowed: expected one of {', '.join(_FIELDS)}"]
    stray = sorted(k for f in _FIELDS.values() for k in f if k in e and k not in _FIELDS[outcome])
    out = [f"{where}: {k} is not allowed with outcome={outcome!r}" for k in stray]
    if outcome == "error" and not (e.get("error") and e.get("message")):
        out.append(f"{where}: an error entry names the exception (error = [...]) and its message (message = ...)")
    if outcome == "accepts" and not e.get("parameter"):
        out.append(f"{where}: an accepts entry names the invalid parameter it covers (parameter = [...])")
    if outcome == "mismatch" and bool(e.get("semantics")) == bool(e.get("outputs")):
        out.append(f"{where}: a mismatch entry names either its alternative semantics (semantics = ...) or the "
                   "outputs and largest error it covers (outputs = [...], max_error = ...)")
    if any("[" in p for p in e.get("outputs", ())):
        out.append(f"{where}: outputs are fnmatch patterns, where [...] is a character class: write * instead")
    if e.get("outputs") and not isinstance(e.get("max_error"), (int, float)):
        out.append(f"{where}: a bounded entry states max_error (in bound units)")
    return out


@functools.cache
def load(adapter: str) -> tuple[Divergence, ...]:
    """The entries of one adapter: its file and any `{adapter}.*.toml` beside it (none if it has neither)."""
    paths = [p for p in (DIRECTORY / f"{adapter}.toml", *sorted(DIRECTORY.glob(f"{adapter}.*.toml"))) if p.exists()]
    raw = [(p, e) for p in paths for e in tomllib.loads(p.read_text()).get("divergence", [])]
    known = (None, *CONDITIONS, *SHAPE_CONDITIONS)
    problems = [f"{p.name}: {e.get('id')}: condition={e['condition']!r} is not allowed: expected one of "
                f"{', '.join(known[1:])}" for p, e in raw if e.get("condition") not in known]
    problems += [q for p, e in raw for q in _problems(p, e)]
    if problems:
        raise ValueError("\n".join(problems))
    tuples = ("layers", "checks", "devices", "dtypes", "error", "parameter", "outputs", "semantics")
    return tuple(Divergence(adapter=adapter, **{k: tuple([v] if isinstance(v, str) else v) if k in tuples else v
                                                 for k, v in e.items()}) for _, e in raw)


def candidates(adapter: str, layer: str, config: dict, device: str, dtype: str, check: str, outcome: str,
               input_shape=None, masked=None) -> list[Divergence]:
    """The entries about this case (`Divergence.applies`); a wrapper's case also gets the entries of the layer
    it wraps (TimeDistributed(Conv1D(channels_first)) raises where Conv1D(channels_first) does), matched on the
    wrapped config without an input shape."""
    found = [d for d in load(adapter) if d.applies(layer, config, device, dtype, check, outcome, input_shape, masked)]
    inner = config.get("layer") if layer in WRAPPERS else None
    if isinstance(inner, dict) and isinstance(inner.get("config"), dict):
        found += [d for d in candidates(adapter, inner.get("class_name"), inner["config"], device, dtype, check,
                                        outcome, masked=masked) if d not in found]
    return found


def match(adapter: str, layer: str, config: dict, device: str, dtype: str, check: str, outcome: str,
          input_shape=None, masked=None, *, evidence=None) -> Divergence | None:
    """The one entry that applies to this case and whose excuse `evidence(entry)` confirms (None: no reason
    against); None if there is none. Two entries that both explain one failure are an error of the data files
    (`Overlap`): a record may carry one id only."""
    found = [d for d in candidates(adapter, layer, config, device, dtype, check, outcome, input_shape, masked)
             if evidence is None or evidence(d) is None]
    if len(found) > 1:  # an entry of the layer itself is more specific than one inherited from a wrapped layer
        own = [d for d in found if d.applies(layer, config, device, dtype, check, outcome, input_shape, masked)]
        found = own if len(own) == 1 else found
    if len(found) > 1:
        # a composed alternative whose extra part this case cannot show (keras3_hard_sigmoid + zeros at masked
        # steps on a call with no masked step) is not a second explanation: the simplest one that holds is kept
        # and a modelled explanation is more specific than a bound that also holds
        modelled = [d for d in found if d.semantics] or found
        simpler = [d for d in modelled if not any(d.semantics and e.semantics and set(e.semantics) < set(d.semantics)
                                                   for e in modelled)]
        found = simpler if len(simpler) == 1 else found
    if len(found) > 1:
        raise Overlap(f"known-divergence entries {', '.join(d.id for d in found)} of {adapter} all explain one "
                      f"{outcome} of {layer} ({check}): an entry must excuse only what it describes")
    return found[0] if found else None


class Overlap(Exception):
    """Several known-divergence entries explain the same failure."""


WRAPPERS = ("TimeDistributed", "Bidirectional")  # layers whose `layer` parameter is a wrapped layer config
