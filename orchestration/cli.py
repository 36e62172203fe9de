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
    from orchestration.lib.sources.published_csv import FileRejected
    from synthetic import GenerationRefused, generate_returns

    try:
        summary = generate_returns(
            out_dir=Path(args.out) if args.out else paths.returns_dir(),
            seed=args.seed,
            years=args.year or None,
            la_codes=args.la or None,
            scale=args.scale,
            progress=lambda message: print(message, flush=True),
        )
    except FileRejected as refused:
        print(f"workforce generate: a DfE release cannot be read, so nothing was written.\n{refused}", file=sys.stderr)
        return 2
    except GenerationRefused as refused:
        print(f"workforce generate: {refused}", file=sys.stderr)
        return 2
    print(summary.describe())
    return 0


def _run(args: argparse.Namespace) -> int:
    from orchestration import runner

    runner.show_progress()
    runner.prepare_environment()
    report = runner.run_job(args.job, partition_key=args.partition)
    print(report.describe())
    return 0 if report.succeeded else 1


def _dev(args: argparse.Namespace) -> int:
    import os
    import signal

    from orchestration import runner
    from orchestration.lib import paths

    runner.prepare_environment()
    # A shell that starts us in the background ignores SIGINT; dagster dev must not inherit that,
    # or it cannot be stopped cleanly.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    dagster = str(Path(sys.executable).with_name("dagster"))
    workspace = str(paths.PROJECT_ROOT / "workspace.yaml")
    os.execv(dagster, [dagster, "dev", "-w", workspace, "-h", args.host, "-p", str(args.port)])
    return 0


def _rollback(args: argparse.Namespace) -> int:
    from orchestration.lib.publish import publication

    try:
        restored = publication.rollback()
    except publication.PublishError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"Published version is now {restored.version} (published {restored.manifest.get('published_at')}).")
    return 0


def _docs(args: argparse.Namespace) -> int:
    import subprocess

    from orchestration import runner
    from orchestration.lib import paths
    from orchestration.lib.transform import dbt_project

    runner.prepare_environment()
    target = paths.data_dir() / "dbt_docs"
    subprocess.run(
        [
            str(dbt_project.DBT_EXECUTABLE),
            "docs",
            "generate",
            "--static",
            "--target-path",
            str(target),
            "--project-dir",
            str(paths.DBT_PROJECT_DIR),
            "--profiles-dir",
            str(paths.DBT_PROJECT_DIR),
        ],
        check=True,
    )
    print(f"dbt docs: {target / 'static_index.html'}")
    return 0


def _extract(args: argparse.Namespace) -> int:
    from orchestration.lib.publish import packs

    try:
        written = packs.write_pack(args.la, year=args.year, fmt=args.format, out=Path(args.out) if args.out else None)
    except packs.PackError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    for path in written:
        print(path)
    return 0


def _validate(args: argparse.Namespace) -> int:
    import os
    import re

    from orchestration.lib.sources.csww import report
    from orchestration.lib.sources.csww.validate import validate_file

    path = Path(args.path)
    if not path.is_file():
        problem = "does not exist" if not path.exists() else "is not a file"
        print(f"workforce validate: {path} {problem}. Give the path of a CSWW XML return.", file=sys.stderr)
        return 2
    if args.la is not None and not re.fullmatch(r"\d{3}", args.la):
        print(f"workforce validate: --la {args.la!r} is not a 3-digit DfE LA code, e.g. 301.", file=sys.stderr)
        return 2
    result = validate_file(path, old_la_code=args.la, year=args.year)
    content = report.render(result, args.format)
    out = Path(args.out) if args.out else None
    if out is None and args.format in ("html", "xlsx"):
        out = Path.cwd() / f"{path.stem}_validation{Path(report.FORMATS[args.format]).suffix}"
    if out is None:
        sys.stdout.write(content.decode("utf-8"))
    else:
        # The council's copy names workers by SWE number: readable by its owner only.
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        print(result.verdict)
        print(out)
    return 0 if result.accepted else 1


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

    run = commands.add_parser(
        "run",
        help="load, validate, build and publish through Dagster, in this process",
        description="Run a Dagster job in process: by default the full rebuild over every LA-year in the "
        "landing zone. Prints progress and a summary; exits 1 if anything failed.",
    )
    run.add_argument(
        "--job",
        default="full_rebuild",
        choices=["full_rebuild", "republish_returns", "refresh_published_sources"],
    )
    run.add_argument("--partition", help="one LA-year, as <LA code>|<year>, e.g. '301|2022'")
    run.set_defaults(handler=_run)

    dev = commands.add_parser("dev", help="start the Dagster UI (lineage, runs, sensor, schedule)")
    dev.add_argument("--host", default="127.0.0.1")
    dev.add_argument("--port", type=int, default=3000)
    dev.set_defaults(handler=_dev)

    rollback = commands.add_parser("rollback", help="make the previously published version current again")
    rollback.set_defaults(handler=_rollback)

    docs = commands.add_parser("docs", help="build the dbt documentation site under data/dbt_docs")
    docs.set_defaults(handler=_docs)

    from orchestration.lib.publish.packs.formats import DEFAULT_FORMAT, PACK_FORMATS

    extract = commands.add_parser(
        "extract",
        help=f"write a peer-comparison pack for one council ({', '.join(PACK_FORMATS)})",
        description="Compare one council's workforce with its statistical neighbours, region and England, "
        "from the published tables only. Prints the path written; exits 2 for an unknown council or year.",
    )
    extract.add_argument("--la", required=True, help="DfE LA code (e.g. 330), ONS code or council name")
    extract.add_argument("--year", type=int, help="collection year (default: the latest with figures)")
    extract.add_argument(
        "--format",
        default=DEFAULT_FORMAT,
        choices=list(PACK_FORMATS),
        help="; ".join(f"{f.name}: {f.description}" for f in PACK_FORMATS.values()),
    )
    extract.add_argument("--out", help="file to write (default: $WORKFORCE_DATA_DIR/packs/<code>_<year>.<format>)")
    extract.set_defaults(handler=_extract)

    from orchestration.lib.sources.csww.report import FORMATS

    validate = commands.add_parser(
        "validate",
        help="check a CSWW return against the return rules without loading it",
        description="Check one CSWW XML return as the warehouse would, without loading it: errors (which stop "
        "a return from loading), then queries (worth checking), each with its line, worker and how to fix it. "
        "Compares with the council's previous return when the warehouse holds it. Exits 0 when there are no "
        "errors, 1 when there are, 2 when the command cannot run.",
    )
    validate.add_argument("path", help="the return to check (XML)")
    validate.add_argument("--la", help="the council the return is for, as a 3-digit DfE LA code (default: its Header)")
    validate.add_argument("--year", type=int, help="the collection year it is for (default: its Header)")
    validate.add_argument("--format", default="text", choices=list(FORMATS))
    validate.add_argument(
        "--out",
        help="file to write (default: the terminal for text and json; <return>_validation.html or .xlsx here)",
    )
    validate.set_defaults(handler=_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
