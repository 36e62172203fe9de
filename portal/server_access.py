"""The data-sharing agreement on the warehouse server: whose provisional rows each council may read.

The server's row policies (orchestration/lib/server/access.py) decide from two tables, written
here in one transaction from the agreement and the published version, with the very rule the
pages apply (`figures.Viewer.may_see_provisional`), so the database and the portal cannot
disagree. Every run that publishes writes them (the `server_sharing` asset); run `workforce server
access` after a rollback and after the agreement changes (a council joining, leaving or changing
what it shares). Until then the server keeps the previous answer, and a year it does not yet know
DfE has published stays restricted.
"""

from __future__ import annotations

import argparse
import secrets
import sys

from portal import adapter, agreement, figures
from portal.agreement import Agreement


def sync(url: str, agreement: Agreement) -> tuple[int, int]:
    """Write the agreement's sharing and the published version's DfE years; (pairs, years) written."""
    reader = adapter.PublishedReader()
    try:
        with reader.cursor() as (_, cur):
            pairs, years = figures.sharing(agreement)(cur)
    finally:
        reader.close()
    adapter.write_server_sharing(url, pairs, years)
    return len(pairs), len(years)


def _server_url() -> str | None:
    try:
        url = adapter.server_url()
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return None
    if not url:
        print(
            "WORKFORCE_WAREHOUSE_URL is not set: these commands act on the shared deployment's server "
            "(postgresql://...), and the embedded default has none.",
            file=sys.stderr,
        )
    return url


def _access(args: argparse.Namespace) -> int:
    from portal.settings import load_settings

    url = _server_url()
    if not url:
        return 2
    terms = agreement.load(load_settings().agreement_path)
    pairs, years = sync(url, terms)
    print(f"Server access updated: {pairs} council pairs may see provisional figures; DfE has published {years} years.")
    return 0


def _council_login(args: argparse.Namespace) -> int:
    from portal.settings import load_settings

    url = _server_url()
    if not url:
        return 2
    terms = agreement.load(load_settings().agreement_path)
    if terms.participant(args.council) is None:
        print(f"Council {args.council} does not take part in the data-sharing agreement today.", file=sys.stderr)
        return 2
    role = args.role or f"council_{args.council}"
    one_time = not args.password_stdin
    password = secrets.token_urlsafe(18) if one_time else sys.stdin.readline().rstrip("\n")
    try:
        adapter.add_server_council_login(url, role, args.council, password)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(f"Login role {role} reads the published schema as council {args.council}.")
    if one_time:
        print(f"Its password (shown once; keep it in the council's secret store): {password}")
    return 0


def _portal_login(args: argparse.Namespace) -> int:
    url = _server_url()
    if not url:
        return 2
    one_time = not args.password_stdin
    password = secrets.token_urlsafe(18) if one_time else sys.stdin.readline().rstrip("\n")
    try:
        adapter.add_server_portal_login(url, args.role, password)
    except ValueError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    print(
        f"Login role {args.role} keeps the portal's accounts, submissions and audit log in the server's "
        "`portal` schema, under its row policies: serve the portal with WORKFORCE_PORTAL_DATABASE_URL "
        f"naming this login (e.g. postgresql://{args.role}@host/database, password in PGPASSWORD or ~/.pgpass)."
    )
    if one_time:
        print(f"Its password (shown once; keep it in the portal's secret store): {password}")
    return 0


def add_commands(commands: argparse._SubParsersAction) -> None:
    server = commands.add_parser(
        "server", help="the shared deployment's PostgreSQL server: council logins and who sees what"
    ).add_subparsers(dest="server_command", required=True)
    server.add_parser(
        "access",
        help="write the agreement's sharing of provisional figures to the server (each publishing run does; "
        "run it after a rollback or an agreement change)",
    ).set_defaults(handler=_access)
    login = server.add_parser("council-login", help="create or update a council's database login (read-only)")
    login.add_argument("--council", required=True, help="the council's 3-digit DfE code")
    login.add_argument("--role", help="the role name (default council_<code>)")
    login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    login.set_defaults(handler=_council_login)
    portal_login = server.add_parser(
        "portal-login",
        help="make the portal's tables on the server and create or update the portal's own login",
    )
    portal_login.add_argument("--role", default="workforce_portal_app", help="the role name")
    portal_login.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    portal_login.set_defaults(handler=_portal_login)
