"""Command line: python -m reports build --results PATH [PATH ...] --out DIR."""
from __future__ import annotations

import argparse
import sys

from .build import main_build


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m reports",
                                     description="Build conformance reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write index.html, results.json and junit.xml")
    build.add_argument("--results", nargs="+", required=True, metavar="PATH",
                       help="results.jsonl file(s), concatenated in order")
    build.add_argument("--out", required=True, metavar="DIR", help="output directory")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the requested command and return its exit status."""
    args = parse_args(argv)
    return main_build(args.results, args.out)


if __name__ == "__main__":
    sys.exit(main())
