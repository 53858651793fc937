"""Command line:
python -m reports build --results PATH [PATH ...] --out DIR
python -m reports diff OLD NEW [--html FILE] [--drift FACTOR] [--fail-on-drift]"""
from __future__ import annotations

import argparse
import sys

from .build import main_build
from .diff import DRIFT_FACTOR, main_diff


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m reports",
                                     description="Build conformance reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write index.html, results.json and junit.xml")
    build.add_argument("--results", nargs="+", required=True, metavar="PATH",
                       help="results.jsonl file(s), concatenated in order")
    build.add_argument("--out", required=True, metavar="DIR", help="output directory")
    d = sub.add_parser("diff", help="compare two results files; exit 1 on regressions")
    d.add_argument("old", metavar="OLD", help="results.jsonl of the reference run")
    d.add_argument("new", metavar="NEW", help="results.jsonl of the run under test")
    d.add_argument("--html", metavar="FILE", help="also write the diff as a self-contained HTML page")
    d.add_argument("--drift", type=float, default=DRIFT_FACTOR, metavar="FACTOR",
                   help=f"flag an example whose error/bound moved by more than FACTOR (default {DRIFT_FACTOR:g})")
    d.add_argument("--fail-on-drift", action="store_true", help="exit 1 on an upward drift too")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the requested command and return its exit status."""
    args = parse_args(argv)
    if args.command == "diff":
        return main_diff(args.old, args.new, args.html, args.drift, args.fail_on_drift)
    return main_build(args.results, args.out)


if __name__ == "__main__":
    sys.exit(main())
