"""`workforce`: the command-line entry point.

Each sub-command imports what it needs when it runs, so `workforce --help` stays instant and a
command never pays for Dagster or Great Expectations unless it uses them.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _generate(args: argparse.Namespace) -> int:
    from orchestration.lib import paths
    from orchestration.lib.generate import generate_returns

    summary = generate_returns(
        out_dir=Path(args.out) if args.out else paths.returns_dir(),
        seed=args.seed,
        years=args.year or None,
        la_codes=args.la or None,
        scale=args.scale,
        progress=lambda message: print(message, flush=True),
    )
    print(summary.describe())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="workforce",
        description="Children's social work workforce warehouse: synthetic returns, loads, benchmarks.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    generate = commands.add_parser(
        "generate",
        help="write synthetic CSWW returns calibrated to the DfE published figures",
        description="Write one synthetic CSWW XML return per LA per collection year into the landing zone. "
        "Files this command did not write are never overwritten.",
    )
    generate.add_argument("--seed", type=int, default=2017, help="random seed (same seed, same files)")
    generate.add_argument("--year", type=int, action="append", help="only this collection year (repeatable)")
    generate.add_argument("--la", action="append", help="only this old LA code, e.g. 301 (repeatable)")
    generate.add_argument(
        "--scale",
        type=float,
        default=1.0,
        help="multiply every council's workforce (benchmarks only: totals no longer match DfE)",
    )
    generate.add_argument("--out", help="landing zone for returns (default: $WORKFORCE_RAW_DIR/returns)")
    generate.set_defaults(handler=_generate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
