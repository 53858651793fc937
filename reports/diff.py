"""Compare two runs (backend regression checks): `python -m reports diff OLD NEW [--html FILE] [--drift F]`.

Examples are matched by (layer, adapter, device, dtype, check, config, input shape, seed): the ci profile is
derandomized, so two runs draw the same examples. Categories:
- regression: the status got worse (pass/known-divergence/unsupported/discarded -> fail/error/crash, or a new
  example that fails);
- fixed: a failing example now passes (or is a known divergence, unsupported or discarded: like those, a
  discarded example, drawn but not judged because a known divergence makes it uninformative, does not fail);
- changed: any other status change (e.g. pass -> known-divergence, pass -> unsupported, pass -> discarded);
- drift: both runs compared the example and its error/bound moved by more than a factor `--drift` (default
  10; only where the larger of the two is >= DRIFT_FLOOR, below which both are rounding noise);
- added / removed: examples present in one run only.
The exit status is 1 when there is a regression (or, with --fail-on-drift, an upward drift), else 0.
"""
from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from .aggregate import Record, error_in_bounds, is_failing, result_key, severity
from .inputs import load_results

DRIFT_FACTOR = 10.0
# error/bound below this is a few ulps on a typical element: moving between two such values is not drift.
DRIFT_FLOOR = 0.01


@dataclass
class Change:
    """One example whose outcome differs between the two runs."""
    kind: str                   # regression, fixed, changed, drift, added, removed
    key: tuple
    old: Record | None
    new: Record | None

    @property
    def layer(self) -> str:
        return self.key[0]

    def describe(self) -> str:
        """One text line: what changed, where, and how to replay the new outcome."""
        rec = self.new or self.old
        where = f"{self.key[0]} {'/'.join(self.key[1:4])} {self.key[4]}"
        case = f"config={json.dumps(rec.get('config'), sort_keys=True)} input_shape={rec.get('input_shape')} " \
               f"seed={rec.get('seed')}"
        old = _outcome(self.old)
        new = _outcome(self.new)
        line = f"{self.kind:10} {where}: {old} -> {new}  {case}"
        if self.new and self.new.get("replay") and self.kind in ("regression", "drift", "changed"):
            line += f"\n           replay: {self.new['replay']}"
        return line


@dataclass
class Diff:
    changes: list[Change] = field(default_factory=list)
    unchanged: int = 0
    factor: float = DRIFT_FACTOR

    def of(self, kind: str) -> list[Change]:
        return [c for c in self.changes if c.kind == kind]

    def counts(self) -> dict[str, int]:
        return {k: len(self.of(k)) for k in ("regression", "fixed", "changed", "drift", "added", "removed")}

    def upward_drift(self) -> list[Change]:
        return [c for c in self.of("drift") if _ratio(c.new) > _ratio(c.old)]


def _outcome(rec: Record | None) -> str:
    if rec is None:
        return "(absent)"
    e = error_in_bounds(rec)
    return rec["status"] + (f" {e:.3g}x" if e is not None else "")


def _ratio(rec: Record | None) -> float:
    e = error_in_bounds(rec) if rec else None
    return 0.0 if e is None else e


def _key(rec: Record) -> tuple:
    return result_key(rec)


def _index(records: list[Record]) -> dict[tuple, Record]:
    """One record per example; where a run holds several (e.g. merged shards), the most severe wins."""
    out: dict[tuple, Record] = {}
    for r in records:
        k = _key(r)
        if k not in out or severity(r["status"]) > severity(out[k]["status"]):
            out[k] = r
    return out


def _kind(old: Record | None, new: Record | None, factor: float) -> str | None:
    if old is None:
        return "regression" if is_failing(new["status"]) else "added"
    if new is None:
        return "removed"
    if old["status"] != new["status"]:
        if is_failing(new["status"]) and severity(new["status"]) > severity(old["status"]):
            return "regression"
        if is_failing(old["status"]) and not is_failing(new["status"]):
            return "fixed"
        return "changed"
    a, b = error_in_bounds(old), error_in_bounds(new)
    if a is not None and b is not None and max(a, b) >= DRIFT_FLOOR:
        lo, hi = sorted((a, b))
        if lo == 0.0 or hi / lo > factor:
            return "drift"
    return None


def diff(old: list[Record], new: list[Record], factor: float = DRIFT_FACTOR) -> Diff:
    """Every example whose outcome differs between `old` and `new`, by kind."""
    a, b = _index(old), _index(new)
    result = Diff(factor=factor)
    for k in sorted(set(a) | set(b)):
        kind = _kind(a.get(k), b.get(k), factor)
        if kind is None:
            result.unchanged += 1
        else:
            result.changes.append(Change(kind, k, a.get(k), b.get(k)))
    return result


def text(d: Diff, old_name: str, new_name: str) -> str:
    """The plain-text diff for a CI log."""
    counts = d.counts()
    lines = [f"diff {old_name} -> {new_name}: " + ", ".join(f"{n} {k}" for k, n in counts.items())
             + f", {d.unchanged} unchanged (drift factor {d.factor:g})"]
    for kind in ("regression", "fixed", "changed", "drift"):  # added/removed: counts only, they are many
        lines += [c.describe() for c in d.of(kind)]
    return "\n".join(lines) + "\n"


def html(d: Diff, old_name: str, new_name: str) -> str:
    """A self-contained HTML page of the diff."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    return env.get_template("diff.html.j2").render(diff=d, counts=d.counts(), old_name=old_name,
                                                   new_name=new_name, outcome=_outcome,
                                                   kinds=("regression", "fixed", "changed", "drift"))


def main_diff(old: str, new: str, html_path: str | None, factor: float, fail_on_drift: bool) -> int:
    """CLI entry for 'diff'. Exit 1 on regressions (and on upward drift with fail_on_drift), 2 on unreadable input."""
    runs = []
    for path in (old, new):
        loaded = load_results([path])
        if not loaded.records:
            print(f"diff: no records in {path}: {'; '.join(loaded.warnings)}", file=sys.stderr)
            return 2
        runs.append(loaded.records)
    d = diff(runs[0], runs[1], factor)
    sys.stdout.write(text(d, old, new))
    if html_path:
        Path(html_path).parent.mkdir(parents=True, exist_ok=True)
        Path(html_path).write_text(html(d, old, new), encoding="utf-8")
    bad = bool(d.of("regression")) or (fail_on_drift and bool(d.upward_drift()))
    return 1 if bad else 0
