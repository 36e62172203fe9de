"""Who is asking, and may they: sessions and CSRF for pages, bearer tokens for the API, roles and
per-council access, sign-in throttling, and the audit log.

Every route that shows or takes council data calls `council_access` with the code from its URL;
a council user asking for another council's restricted data gets 404, exactly as for a code
that does not exist, so the answer says nothing about the other council.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from fastapi import HTTPException, Request

from portal import security
from portal.agreement import Agreement
from portal.settings import Settings
from portal.store import (
    ROLE_ANALYST,
    ROLE_COUNCIL,
    ROLE_ENGINEER,
    AuditEvent,
    Session,
    Store,
    User,
    now,
)

SESSION_COOKIE = "workforce_session"
SIGN_IN_COOKIE = "workforce_sign_in"
"""Before sign-in there is no session: this cookie carries the sign-in form's CSRF value (double submit)."""
CLIENT_FACTOR = 4
"""A client address may fail this many times more than one account before it is held back too."""


@dataclass(frozen=True)
class Principal:
    user: User
    session: Session | None = None
    via_token: bool = False

    @property
    def role(self) -> str:
        return self.user.role

    @property
    def old_la_code(self) -> str | None:
        return self.user.old_la_code

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""


class RedirectTo(Exception):
    """A page cannot be shown yet (not signed in, or the password must be changed first): go here."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def audit(
    store: Store,
    request: Request,
    principal: Principal | None,
    action: str,
    *,
    old_la_code: str | None = None,
    detail: str = "",
) -> None:
    user = principal.user if principal else None
    store.record(
        AuditEvent(
            action=action,
            path=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
            user_id=user.id if user else None,
            email=user.email if user else None,
            role=user.role if user else None,
            old_la_code=old_la_code,
            detail=detail,
            client=client_of(request),
        )
    )


def usable(user: User | None, agreement: Agreement) -> bool:
    """An account works while it is enabled and, for a council, while the council takes part."""
    if user is None or user.disabled_at is not None:
        return False
    if user.role == ROLE_COUNCIL:
        return user.old_la_code is not None and agreement.participant(user.old_la_code) is not None
    return user.role in (ROLE_ANALYST, ROLE_ENGINEER)


# -- sessions ---------------------------------------------------------------------------------------


def session_principal(request: Request, store: Store, settings: Settings, agreement: Agreement) -> Principal | None:
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        return None
    id_hash = security.digest(secret)
    session = store.session(id_hash)
    if session is None:
        return None
    moment = now()
    idle = dt.timedelta(minutes=settings.session_idle_minutes)
    if moment - session.last_seen_at > idle or moment - session.created_at > dt.timedelta(
        hours=settings.session_max_hours
    ):
        store.delete_session(id_hash)
        return None
    user = store.user_by_id(session.user_id)
    if not usable(user, agreement):
        return None
    if moment - session.last_seen_at > dt.timedelta(minutes=1):
        store.touch_session(id_hash)
    return Principal(user, session)  # type: ignore[arg-type]


def start_session(store: Store, user: User) -> tuple[str, Session]:
    """A new session (a fresh id at every sign-in, so a planted id is useless): (cookie value, session)."""
    secret = security.new_secret()
    moment = now()
    session = Session(security.digest(secret), user.id, security.new_secret(), moment, moment)
    store.add_session(session)
    return secret, session


def check_csrf(principal: Principal, submitted: str | None) -> None:
    if not security.same(principal.csrf_token, submitted):
        raise HTTPException(
            403, "This form has expired or did not come from this portal. Go back, reload the page and try again."
        )


# -- sign-in throttling ---------------------------------------------------------------------------


def throttled(store: Store, settings: Settings, email: str, client: str) -> bool:
    since = now() - dt.timedelta(minutes=settings.login_window_minutes)
    allowed = settings.login_failures_allowed
    return (
        store.failed_sign_ins(since, email=email) >= allowed
        or store.failed_sign_ins(since, client=client) >= allowed * CLIENT_FACTOR
    )


def sign_in(
    store: Store, settings: Settings, agreement: Agreement, email: str, password: str, client: str
) -> User | str | None:
    """The user, None for wrong details, or "throttled" when there have been too many failures."""
    email = email.strip().lower()
    if throttled(store, settings, email, client):
        return "throttled"
    user = store.user_by_email(email)
    good = security.verify_password(user.password_hash if user else None, password)
    ok = good and usable(user, agreement)
    store.record_sign_in(email, client, ok)
    return user if ok else None


# -- API tokens -------------------------------------------------------------------------------------


def token_principal(request: Request, store: Store, agreement: Agreement) -> Principal:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise HTTPException(401, "Send an API token: Authorization: Bearer <token>.", {"WWW-Authenticate": "Bearer"})
    token = store.token_by_hash(security.digest(value.strip()))
    user = store.user_by_id(token.user_id) if token else None
    if token is None or token.revoked_at is not None or not usable(user, agreement):
        raise HTTPException(
            401,
            "The token is not valid: it may have been revoked.",
            {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        )
    if token.last_used_at is None or now() - token.last_used_at > dt.timedelta(minutes=1):
        store.touch_token(token.id)
    return Principal(user, via_token=True)  # type: ignore[arg-type]


# -- roles and councils -----------------------------------------------------------------------------


def require_role(principal: Principal, *roles: str) -> None:
    if principal.role not in roles:
        raise HTTPException(403, "Your account does not give access to this page.")


FIGURES, PACKS, RESTRICTED = "figures", "packs", "restricted"


def council_access(principal: Principal, old_la_code: str, what: str) -> None:
    """May the principal see this council's published figures, its packs, or its restricted data?

    - FIGURES: every council user and analyst (the figures module applies the agreement to
      provisional ones); engineers run the warehouse and do not read council figures.
    - PACKS: a council its own; analysts any council's (built from published tables only).
    - RESTRICTED (submissions, validation reports, uploads): the council's own users only.
    """
    role = principal.role
    if role == ROLE_COUNCIL:
        if what != FIGURES and principal.old_la_code != old_la_code:
            raise HTTPException(404, "Not found.")
        return
    if role == ROLE_ANALYST:
        if what == RESTRICTED:
            raise HTTPException(404, "Not found.")
        return
    raise HTTPException(403, "Your account does not give access to council figures.")
