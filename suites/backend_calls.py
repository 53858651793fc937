"""The adapter as one check sees it: every backend call is recorded, and can be replayed.

- An exception raised inside an adapter call becomes `BackendError`, so `checks.run` tells the backend's failures
  (matched against known divergences) from failures of the oracle, the bounds or the check (never excused).
- The first run of a check records each call's answer; re-running the check with `Calls.replay` hands the same
  answers back in the same order without calling the backend again (the known-divergence entries that model a
  backend's semantics re-run the check against another `Truth` on those answers).
"""
from __future__ import annotations

# The adapter methods that run the backend (adapters/base.py); everything else (name, supports ...) passes through.
from adapters.base import BACKEND_METHODS


class BackendError(Exception):
    """The backend raised `original` (kept, with its type and text, for the record and the matcher)."""

    def __init__(self, original: BaseException):
        super().__init__(f"{type(original).__name__}: {original}")
        self.original = original


class ReplayMismatch(Exception):
    """A re-run asked the backend something the recorded run did not (the alternative cannot be judged)."""


class Calls:
    """Wraps an adapter for one check: records (or replays) its backend calls."""

    def __init__(self, adapter, replay: list | None = None):
        self._adapter = adapter
        self._replaying = replay is not None
        self.log: list[tuple[str, object, BaseException | None]] = list(replay) if replay is not None else []
        self._next = 0

    def replay(self) -> "Calls":
        """A fresh wrapper that answers with this one's recorded results."""
        return Calls(self._adapter, self.log)

    def __getattr__(self, name: str):
        attr = getattr(self._adapter, name)
        if name not in BACKEND_METHODS:
            return attr

        def call(*args, **kwargs):
            if self._replaying:
                if self._next >= len(self.log) or self.log[self._next][0] != name:
                    raise ReplayMismatch(f"call {self._next} is {name}, not what the recorded run called")
                _, result, exc = self.log[self._next]
                self._next += 1
                if exc is not None:
                    raise BackendError(exc)
                return result
            try:
                result = attr(*args, **kwargs)
            except Exception as exc:
                self.log.append((name, None, exc))
                raise BackendError(exc) from exc
            self.log.append((name, result, None))
            return result
        return call
