"""python -m content_packs validate PATH | build DIR -o OUT.zip | checksums DIR

Prints every problem as `file:pointer: severity: message`; exits 0 when there are no errors.
"""
from __future__ import annotations

import argparse
import sys

from .build import build, write_checksums
from .report import PackError, Report
from .validate import validate


def _print(report: Report, ok_message: str) -> int:
    for problem in report:
        print(problem.format())
    print(ok_message if report.ok else f"failed: {report.summary()}", file=sys.stderr)
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m content_packs", description="Check and build content packs.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("validate", help="check a pack folder or .zip")
    p.add_argument("path")
    p = sub.add_parser("build", help="checksum, validate and zip a pack folder")
    p.add_argument("dir")
    p.add_argument("-o", "--output", required=True, help="the .zip to write")
    p = sub.add_parser("checksums", help="fill sha256 and size in a folder's pack.json")
    p.add_argument("dir")
    args = parser.parse_args(argv)
    if args.command == "validate":
        report = validate(args.path)
        return _print(report, f"valid: {report.summary()}")
    if args.command == "build":
        try:
            report = build(args.dir, args.output)
        except PackError as exc:
            return _print(exc.report, "")
        return _print(report, f"built {args.output}: {report.summary()}")
    report = write_checksums(args.dir)
    return _print(report, "checksums filled in")


if __name__ == "__main__":
    sys.exit(main())
