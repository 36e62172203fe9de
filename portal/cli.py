"""`workforce serve`, `workforce users …` and `workforce tokens …`: the portal's commands.

`add_commands` is called by orchestration/cli.py; handlers import what they need when they run.
"""

from __future__ import annotations

import argparse
import sys

from portal.store import ROLE_COUNCIL, ROLES


def _context():
    from portal import agreement
    from portal.settings import load_settings
    from portal.store import open_store

    settings = load_settings()
    return settings, open_store(settings), agreement.load(settings.agreement_path)


def _fail(message: str, code: int = 2) -> int:
    print(message, file=sys.stderr)
    return code


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from portal.app import assets_installed, create_app
    from portal.settings import load_settings

    if not assets_installed():
        return _fail("The GOV.UK Frontend assets are not installed: run `make serve` (or `make portal-assets`).")
    settings = load_settings(**({"republish": args.republish} if args.republish else {}))
    print(f"Portal on http://{args.host}:{args.port} (republish after upload: {settings.republish})", flush=True)
    uvicorn.run(create_app(settings), host=args.host, port=args.port, log_level="warning", access_log=False)
    return 0


def _users_add(args: argparse.Namespace) -> int:
    from portal import security

    settings, store, agreement = _context()
    email = args.email.strip().lower()
    if "@" not in email:
        return _fail(f"{args.email!r} is not an email address.")
    if args.role == ROLE_COUNCIL:
        if not args.council:
            return _fail("A council account needs --council CODE (the council's 3-digit DfE code).")
        if agreement.participant(args.council) is None:
            listed = ", ".join(sorted(agreement.participants)) or "none"
            return _fail(
                f"Council {args.council} does not take part in the data-sharing agreement today "
                f"({settings.agreement_path}); participants: {listed}."
            )
    elif args.council:
        return _fail(f"An {args.role} account belongs to no council: leave out --council.")
    if store.user_by_email(email):
        return _fail(f"There is already an account for {email}.")
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
        if problem := security.password_problem(password):
            return _fail(problem)
        one_time = False
    else:
        password, one_time = security.one_time_password(), True
    user = store.add_user(
        email, args.role, args.council if args.role == ROLE_COUNCIL else None, security.hash_password(password)
    )
    if not one_time:
        store.set_password(user.id, user.password_hash, must_change=False)
    print(f"Added {email} ({args.role}{', council ' + args.council if args.council else ''}).")
    if one_time:
        print(f"One-time password (shown once; they choose their own at first sign-in): {password}")
    return 0


def _users_list(args: argparse.Namespace) -> int:
    _, store, _ = _context()
    for user in store.users():
        state = "disabled" if user.disabled_at else ("must change password" if user.must_change_password else "active")
        print(f"{user.email:<40} {user.role:<9} {user.old_la_code or '-':<5} {state}")
    return 0


def _users_disable(args: argparse.Namespace) -> int:
    _, store, _ = _context()
    user = store.user_by_email(args.email.strip().lower())
    if user is None:
        return _fail(f"There is no account for {args.email}.")
    store.disable_user(user.id)
    store.delete_sessions_of(user.id)
    for token in store.tokens_of(user.id):
        store.revoke_token(token.id)
    print(f"Disabled {user.email}: signed out everywhere, every token revoked.")
    return 0


def _tokens_create(args: argparse.Namespace) -> int:
    from portal import security

    _, store, _ = _context()
    user = store.user_by_email(args.email.strip().lower())
    if user is None or user.disabled_at:
        return _fail(f"There is no active account for {args.email}.")
    secret = security.new_api_token()
    token = store.add_token(user.id, security.digest(secret), args.label or "")
    print(f"Token {token.id} for {user.email} (shown once; only its hash is kept):")
    print(secret)
    return 0


def _tokens_list(args: argparse.Namespace) -> int:
    _, store, _ = _context()
    users = store.users() if not args.email else [u for u in store.users() if u.email == args.email.strip().lower()]
    for user in users:
        for token in store.tokens_of(user.id):
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            used = f"last used {token.last_used_at:%Y-%m-%d %H:%M}" if token.last_used_at else "never used"
            print(f"{token.id:>5}  {user.email:<40} {token.label or '-':<20} {state}, {used}")
    return 0


def _tokens_revoke(args: argparse.Namespace) -> int:
    _, store, _ = _context()
    if store.revoke_token(args.id):
        print(f"Token {args.id} revoked.")
        return 0
    return _fail(f"No active token {args.id}.")


def add_commands(commands: argparse._SubParsersAction) -> None:
    serve = commands.add_parser(
        "serve",
        help="start the council portal (pages and API) on http://127.0.0.1:8000",
        description="Serve the council portal: sign-in, submissions with instant validation, figures against "
        "neighbours, region and England, packs, analysts' tables and engineers' pages; API under /api/v1/.",
    )
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--republish",
        choices=["run", "sensor", "off"],
        help="after an accepted upload: run the republish job here (default), leave it to the sensor of "
        "`make dev`, or only land the file (default from WORKFORCE_PORTAL_REPUBLISH, else run)",
    )
    serve.set_defaults(handler=_serve)

    users = commands.add_parser("users", help="portal accounts: add, list, disable").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser("add", help="add an account; prints a one-time password unless --password-stdin")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--council", help="the council's 3-digit DfE code (council accounts only)")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    add.set_defaults(handler=_users_add)
    users.add_parser("list", help="every account and its state").set_defaults(handler=_users_list)
    disable = users.add_parser("disable", help="disable an account: ends its sessions and revokes its tokens")
    disable.add_argument("--email", required=True)
    disable.set_defaults(handler=_users_disable)

    tokens = commands.add_parser("tokens", help="API tokens: create, list, revoke").add_subparsers(
        dest="tokens_command", required=True
    )
    create = tokens.add_parser("create", help="make an API token for an account and print it once")
    create.add_argument("--email", required=True)
    create.add_argument("--label", help="what the token is for, e.g. 'nightly extract'")
    create.set_defaults(handler=_tokens_create)
    listing = tokens.add_parser("list", help="tokens (never their values) with their state")
    listing.add_argument("--email")
    listing.set_defaults(handler=_tokens_list)
    revoke = tokens.add_parser("revoke", help="revoke a token by its number (see `tokens list`)")
    revoke.add_argument("id", type=int)
    revoke.set_defaults(handler=_tokens_revoke)
