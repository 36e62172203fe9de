"""`workforce`: the command-line entry point.

Each sub-command imports what it needs when it runs, so `workforce --help` stays instant and a
command never pays for Dagster or Great Expectations unless it uses them.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from orchestration.defs.automation.job_names import FULL_REBUILD, JOBS


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
    from orchestration.lib import landing, paths

    if args.partition and not landing.LA_YEAR.match(args.partition):
        print(f"--partition takes one LA-year as <LA code>|<year>, e.g. '301|2022', not {args.partition!r}.")
        return 2
    if args.nice:
        # Batch work yields the CPU to what people are waiting for (the portal's pages) on a shared
        # machine; the run itself is no different.
        os.nice(args.nice)
    runner.show_progress()
    runner.prepare_environment()
    report = None
    if paths.warehouse_server_url() and not args.here:
        try:
            report = runner.queue_job(args.job, la_year=args.partition)
        except runner.QueueError as exc:
            print(exc, file=sys.stderr)
            return runner.EXIT_FAILED
        if report is None:
            print(
                "No dagster-daemon is running for this deployment, so a queued run would never start: running "
                "here instead (recorded in the shared run history). Start the daemon (docs/deployment.md).",
                file=sys.stderr,
            )
    report = report or runner.run_job(args.job, la_year=args.partition)
    summary = runner.finish(report)
    print(report.describe())
    print(f"Run summary: {summary} (exit status {report.exit_code})")
    return report.exit_code


def _landing(args: argparse.Namespace) -> int:
    from orchestration.lib import landing

    zone = landing.decide()
    shown = zone.decisions if args.all else [d for d in zone.decisions if d.action != landing.IGNORE]
    for decision in shown:
        print(decision.describe())
    counts = {action: len(zone.with_action(action)) for action in (landing.LOAD, landing.REFUSE, landing.IGNORE)}
    print(
        f"{zone.root}: {counts[landing.LOAD]} to load, {counts[landing.REFUSE]} refused, "
        f"{counts[landing.IGNORE]} ignored" + ("" if args.all else " (--all lists the ignored files)")
    )
    return 3 if counts[landing.REFUSE] else 0


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
    from orchestration import runner
    from orchestration.lib import paths
    from orchestration.lib.transform import dbt_project

    runner.prepare_environment()
    target = paths.data_dir() / "dbt_docs"
    manifest = dbt_project.load_manifest(dbt_project.prepare())
    result = dbt_project.invoke(["docs", "generate", "--static"], manifest=manifest, target=target)
    if not result.success:
        print(f"dbt docs generate failed: {result.exception or 'see the dbt log in data/dbt/logs'}", file=sys.stderr)
        return 1
    print(f"dbt docs: {target / 'static_index.html'}")
    return 0


def _extract(args: argparse.Namespace) -> int:
    from orchestration.lib.publish import packs
    from portal.agreement import AgreementError
    from portal.figures import configured_pack_views

    try:
        # A pack shows what its council may see under the data-sharing agreement, whoever makes it.
        views = configured_pack_views()
        written = packs.write_pack(args.la, args.year, args.format, views, out=Path(args.out) if args.out else None)
    except packs.PackError as exc:
        print(exc, file=sys.stderr)
        return exc.exit_code
    except AgreementError as exc:
        print(exc, file=sys.stderr)
        return 2
    for path in written:
        print(path)
    return 0


def _validate(args: argparse.Namespace) -> int:
    import re

    from orchestration.lib.private_files import write_private_bytes
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
        write_private_bytes(out, content)
        print(result.verdict)
        print(out)
    return 0 if result.accepted else 1


def _quarantine(args: argparse.Namespace) -> int:
    from orchestration.lib.load import outcomes

    try:
        if args.action == "list":
            found = outcomes.entries()
            for entry in found:
                print(f"{entry.folder}  {entry.describe()}")
            print(f"{len(found)} kept; each is removed {outcomes.retention_days()} days after it was written.")
            return 0
        removed = outcomes.purge(older_than_days=args.older_than, dry_run=args.dry_run, progress=print)
    except outcomes.RetentionError as exc:
        print(exc, file=sys.stderr)
        return 2
    days = args.older_than if args.older_than is not None else outcomes.retention_days()
    verb = "would be removed" if args.dry_run else "removed"
    print(f"{len(removed)} entries older than {days} days {verb}.")
    return 0


def _days(text: str) -> int:
    days = int(text)
    if days < 0:
        raise argparse.ArgumentTypeError("give a number of days, 0 or more")
    return days


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
        help="load, validate, build and publish through Dagster",
        description="Run a Dagster job: by default the full rebuild of everything in the landing zone (files "
        "already loaded are skipped). On the embedded default it runs in this process. On the shared "
        "deployment (WORKFORCE_WAREHOUSE_URL) it waits in Dagster's run queue on the server with the runs from "
        "the UI, the sensor and the schedule, and the dagster-daemon starts it; with no daemon running, or "
        "with --here, it runs in this process (recorded in the same history). Prints progress and a summary, "
        "writes the summary as JSON under data/reports/runs/ and sends alerts if configured. Exit status: 0 "
        "published and every file loaded; 3 published, but files were refused or quarantined; 1 failed or not "
        "published.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="jobs:\n" + "\n".join(f"  {name:<27} {what}" for name, what in JOBS.items()),
    )
    run.add_argument("--job", default=FULL_REBUILD, choices=list(JOBS))
    run.add_argument("--partition", help="load only this LA-year's return, as <LA code>|<year>, e.g. '301|2022'")
    run.add_argument(
        "--nice",
        type=int,
        default=0,
        choices=range(20),
        metavar="N",
        help="lower this run's CPU priority by N (0-19), so a portal on the same machine stays responsive "
        "(a queued run has the daemon's priority)",
    )
    run.add_argument(
        "--here",
        action="store_true",
        help="on the shared deployment, run in this process instead of through the daemon's run queue",
    )
    run.set_defaults(handler=_run)

    landing_zone = commands.add_parser(
        "landing",
        help="say what a run would do with each file in the landing zone (load, ignore, refuse)",
        description="List the landing zone's decisions without loading anything: every file to load, every "
        "file refused with the reason and, with --all, every file ignored. Exits 3 if any file is refused.",
    )
    landing_zone.add_argument("--all", action="store_true", help="also list ignored files")
    landing_zone.set_defaults(handler=_landing)

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

    from portal.cli import add_commands as add_portal_commands

    add_portal_commands(commands)

    from portal.server_access import add_commands as add_server_commands

    add_server_commands(commands)

    quarantine = commands.add_parser(
        "quarantine",
        help="list or purge quarantined files and return reports (they hold personal data)",
        description="Quarantined files (as sent, with their reports) and reports on returns that loaded with "
        "warnings are kept for WORKFORCE_QUARANTINE_RETENTION_DAYS days (default 90) after they were first "
        "written; every load removes what has expired, and `purge` does so now.",
    )
    quarantine.add_argument("action", choices=["list", "purge"])
    quarantine.add_argument("--older-than", type=_days, metavar="DAYS", help="purge: this many days, not the setting")
    quarantine.add_argument("--dry-run", action="store_true", help="purge: say what would be removed, remove nothing")
    quarantine.set_defaults(handler=_quarantine)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
