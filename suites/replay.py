"""Replay one example outside pytest: python -m suites.replay '{"config": ..., "input_shape": ..., ...}'.

Prints the outcome and both sides' worst element; exits 1 while the disagreement exists.
"""
from __future__ import annotations

import json
import sys

from adapters.base import conformance_environment


def main(argv: list[str]) -> int:
    conformance_environment()
    import adapters
    from suites import checks
    from suites.strategies import Case
    spec = json.loads(argv[0])
    case = Case.from_spec(spec)
    out = checks.run(spec["check"], case, adapters.get(spec["adapter"]), spec["device"], spec["dtype"])
    print(f"{out.status}: {out.message or spec['check'] + ' within bounds'}")
    if out.metrics:
        print(json.dumps(out.metrics, indent=1))
    if out.reason:
        print(f"reason: {out.reason}")
    return 0 if out.status in ("pass", "unsupported") else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
