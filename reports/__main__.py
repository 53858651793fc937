"""Command line:
python -m reports build --results PATH [PATH ...] --out DIR [--benchmarks FILE]
python -m reports diff OLD NEW [--html FILE] [--drift FACTOR] [--fail-on-drift]
python -m reports merge PATH [PATH ...] -o OUT
python -m reports validate FILE [FILE ...]
python -m reports run --out DIR [--benchmarks FILE] -- PYTEST_ARGS   (pytest, then the report, even when interrupted)
PATH, OLD and NEW are results.jsonl files (with their sibling environment.json) or results.json documents."""
from __future__ import annotations

import argparse
import sys

from .build import main_build
from .diff import DRIFT_FACTOR, main_diff
from .merge import main_merge


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(prog="python -m reports",
                                     description="Build conformance reports.")
    sub = parser.add_subparsers(dest="command", required=True)
    build = sub.add_parser("build", help="write index.html, results.json and junit.xml")
    build.add_argument("--results", nargs="+", required=True, metavar="PATH",
                       help="results.jsonl / results.json file(s), one run each (or several, for a merged file)")
    build.add_argument("--out", required=True, metavar="DIR", help="output directory")
    build.add_argument("--benchmarks", metavar="FILE", help="pytest-benchmark JSON: adds the benchmark section")
    d = sub.add_parser("diff", help="compare two results files; exit 1 on regressions")
    d.add_argument("old", metavar="OLD", help="results.jsonl or results.json of the reference run")
    d.add_argument("new", metavar="NEW", help="results.jsonl or results.json of the run under test")
    d.add_argument("--html", metavar="FILE", help="also write the diff as a self-contained HTML page")
    d.add_argument("--drift", type=float, default=DRIFT_FACTOR, metavar="FACTOR",
                   help=f"flag an example whose error/bound moved by more than FACTOR (default {DRIFT_FACTOR:g})")
    d.add_argument("--fail-on-drift", action="store_true", help="exit 1 on an upward drift too")
    m = sub.add_parser("merge", help="merge runs into one results.jsonl (+ environment.json of every run)")
    m.add_argument("inputs", nargs="+", metavar="PATH", help="results.jsonl or results.json files")
    m.add_argument("-o", "--out", required=True, metavar="OUT", help="the merged results.jsonl to write")
    v = sub.add_parser("validate", help="check files against reports/schema/results-v2.schema.json")
    v.add_argument("files", nargs="+", metavar="FILE", help="results.json or results.jsonl files")
    r = sub.add_parser("run", help="run pytest with --report-dir=DIR, then build the report even if interrupted")
    r.add_argument("--out", required=True, metavar="DIR", help="report directory (pytest's --report-dir)")
    r.add_argument("--benchmarks", metavar="FILE", help="fold this pytest-benchmark JSON in, when it exists")
    r.add_argument("pytest_args", nargs=argparse.REMAINDER, help="after --: pytest's arguments")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the requested command and return its exit status."""
    args = parse_args(argv)
    if args.command == "diff":
        return main_diff(args.old, args.new, args.html, args.drift, args.fail_on_drift)
    if args.command == "merge":
        return main_merge(args.inputs, args.out)
    if args.command == "run":
        from .run import run
        rest = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
        return run(rest, args.out, args.benchmarks)
    if args.command == "validate":
        from .validate import main_validate
        return main_validate(args.files)
    return main_build(args.results, args.out, args.benchmarks)


if __name__ == "__main__":
    sys.exit(main())
