"""The pages councils and analysts use: sign in, figures, submitting a return, history, downloads."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlparse

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from portal import adapter, auth, figures, security
from portal.routes import common
from portal.store import ROLE_ANALYST, ROLE_COUNCIL, ROLE_ENGINEER
from portal.submissions import WORKING

router = APIRouter(include_in_schema=False)
Principal = Annotated[auth.Principal, Depends(common.page_principal)]


def render(request: Request, template: str, principal: auth.Principal | None, http_status: int = 200, **context: Any):
    portal = common.get_portal(request)
    return portal.templates.TemplateResponse(
        request,
        template,
        {
            "principal": principal,
            "csrf_token": principal.csrf_token if principal else "",
            "csp_nonce": getattr(request.state, "csp_nonce", ""),
            "nav": _navigation(principal, request.url.path),
            "symbols": adapter.DFE_SYMBOLS,
            **context,
        },
        status_code=http_status,
    )


def _navigation(principal: auth.Principal | None, path: str) -> list[dict[str, Any]]:
    if principal is None or principal.user.must_change_password:
        return []
    items: list[tuple[str, str]] = []
    if principal.role == ROLE_COUNCIL:
        code = principal.old_la_code
        items = [
            (f"/councils/{code}", "Your figures"),
            (f"/councils/{code}/submit", "Submit a return"),
            (f"/councils/{code}/submissions", "Submissions"),
            ("/councils", "All councils"),
        ]
    elif principal.role == ROLE_ANALYST:
        items = [("/tables", "Published tables"), ("/councils", "Councils")]
    elif principal.role == ROLE_ENGINEER:
        items = [
            ("/engineer", "Runs"),
            ("/engineer/quarantine", "Quarantine"),
            ("/engineer/publications", "Publications"),
            ("/engineer/alerts", "Alerts"),
            ("/engineer/audit", "Audit log"),
        ]
    items.append(("/api", "API"))
    return [{"href": href, "text": text, "active": path == href} for href, text in items]


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    portal = common.get_portal(request)
    principal = auth.session_principal(request, portal.store, portal.settings, portal.agreement)
    titles = {403: "You cannot see this page", 404: "Page not found", 413: "File too large", 429: "Too many attempts"}
    return render(
        request,
        "error.html",
        principal,
        http_status=status,
        title=titles.get(status, "There is a problem"),
        message=message,
    )


def _home_of(principal: auth.Principal) -> str:
    if principal.role == ROLE_COUNCIL:
        return f"/councils/{principal.old_la_code}"
    return "/tables" if principal.role == ROLE_ANALYST else "/engineer"


def _local(target: str | None) -> str | None:
    """Only a path on this site may follow sign-in (never another host)."""
    if not target:
        return None
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


# -- signing in and out -----------------------------------------------------------------------------


@router.get("/")
def home(principal: Principal) -> RedirectResponse:
    return RedirectResponse(_home_of(principal), status_code=303)


def _sign_in_form(request: Request, status: int = 200, **context: Any) -> Response:
    form_token = security.new_secret()
    response = render(request, "sign_in.html", None, http_status=status, form_token=form_token, **context)
    portal = common.get_portal(request)
    response.set_cookie(
        auth.SIGN_IN_COOKIE,
        form_token,
        httponly=True,
        samesite="strict",
        secure=portal.settings.secure_cookies,
        max_age=3600,
    )
    return response


@router.get("/sign-in")
def sign_in_page(request: Request, next: str | None = None) -> Response:
    return _sign_in_form(request, next=_local(next))


@router.post("/sign-in")
def sign_in(
    request: Request,
    email: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    form_token: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    portal = common.get_portal(request)
    if not security.same(request.cookies.get(auth.SIGN_IN_COOKIE), form_token):
        raise HTTPException(403, "The sign-in form has expired. Go back, reload the page and sign in again.")
    errors = {}
    if not email.strip():
        errors["email"] = "Enter your email address"
    if not password:
        errors["password"] = "Enter your password"
    if errors:
        return _sign_in_form(request, 400, errors=errors, email=email, next=_local(next))
    outcome = auth.sign_in(portal.store, portal.settings, portal.agreement, email, password, auth.client_of(request))
    if outcome == "throttled":
        minutes = portal.settings.login_window_minutes
        message = f"There have been too many failed attempts to sign in. Wait {minutes} minutes and try again."
        return _sign_in_form(request, 429, errors={"email": message}, email=email, next=_local(next))
    if outcome is None:
        message = "Enter a correct email address and password (an account also needs its council to take part)"
        return _sign_in_form(request, 400, errors={"email": message}, email=email, next=_local(next))
    user = outcome
    secret, _session = auth.start_session(portal.store, user)
    principal = auth.Principal(user)
    auth.audit(portal.store, request, principal, "sign_in", old_la_code=user.old_la_code)
    target = "/account/password" if user.must_change_password else (_local(next) or _home_of(principal))
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        auth.SESSION_COOKIE,
        secret,
        httponly=True,
        samesite="lax",
        secure=portal.settings.secure_cookies,
    )
    response.delete_cookie(auth.SIGN_IN_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, principal: Principal, csrf_token: Annotated[str, Form()] = "") -> Response:
    portal = common.get_portal(request)
    auth.check_csrf(principal, csrf_token)
    portal.store.delete_session(principal.session.id_hash)  # type: ignore[union-attr]
    auth.audit(portal.store, request, principal, "sign_out", old_la_code=principal.old_la_code)
    response = RedirectResponse("/signed-out", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE)
    return response


@router.get("/signed-out")
def signed_out(request: Request) -> Response:
    return render(request, "signed_out.html", None)


@router.get("/account/password")
def password_page(request: Request, principal: Principal) -> Response:
    return render(request, "password.html", principal)


@router.post("/account/password")
def change_password(
    request: Request,
    principal: Principal,
    csrf_token: Annotated[str, Form()] = "",
    current: Annotated[str, Form()] = "",
    new: Annotated[str, Form()] = "",
    confirm: Annotated[str, Form()] = "",
) -> Response:
    portal = common.get_portal(request)
    auth.check_csrf(principal, csrf_token)
    errors = {}
    if not security.verify_password(principal.user.password_hash, current):
        errors["current"] = "Enter your current password"
    elif problem := security.password_problem(new):
        errors["new"] = problem
    elif new != confirm:
        errors["confirm"] = "The two new passwords are different"
    if errors:
        return render(request, "password.html", principal, http_status=400, errors=errors)
    portal.store.set_password(principal.user.id, security.hash_password(new), must_change=False)
    # Every other session of this account ends; this one goes on with a fresh id.
    portal.store.delete_sessions_of(principal.user.id)
    user = portal.store.user_by_id(principal.user.id)
    secret, _ = auth.start_session(portal.store, user)  # type: ignore[arg-type]
    response = RedirectResponse(_home_of(auth.Principal(user)), status_code=303)  # type: ignore[arg-type]
    response.set_cookie(
        auth.SESSION_COOKIE, secret, httponly=True, samesite="lax", secure=portal.settings.secure_cookies
    )
    return response


# -- figures ---------------------------------------------------------------------------------------


@router.get("/councils")
def council_list(request: Request, principal: Principal) -> Response:
    portal = common.get_portal(request)
    auth.require_role(principal, ROLE_COUNCIL, ROLE_ANALYST)
    with portal.reader.cursor() as (version, cur):
        councils = portal.facts(version, cur).councils
    listed = sorted((c for c in councils.values() if c.members == (c.code,)), key=lambda c: (c.region_name, c.name))
    return render(request, "councils.html", principal, councils=listed, agreement=portal.agreement)


@router.get("/councils/{code}")
def council_page(request: Request, principal: Principal, code: str, year: int | None = None) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.FIGURES)
    data = common.benchmarks_rows(portal, principal, code, year)
    auth.audit(portal.store, request, principal, "page", old_la_code=code, detail=f"figures {data['year']}")
    own = principal.role == ROLE_COUNCIL and principal.old_la_code == code
    may_pack = own or principal.role == ROLE_ANALYST
    return render(
        request,
        "council.html",
        principal,
        own=own,
        may_pack=may_pack,
        pack_formats=adapter.PACK_FORMATS,
        **data,
    )


@router.get("/councils/{code}/measures/{measure}")
def measure_page(request: Request, principal: Principal, code: str, measure: str, year: int | None = None) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.FIGURES)
    version, viewer, council, unit, available, chosen = common.council_view(portal, principal, code, year)

    def compute() -> figures.MeasureDetail | None:
        with portal.reader.cursor(common.acting_for(viewer)) as (_, cur):
            return figures.measure_detail(cur, viewer, unit, measure, chosen)

    detail = portal.shaped((version, "measure", viewer.old_la_code, unit, measure, chosen), compute)
    if detail is None:
        raise HTTPException(404, "Not found.")
    auth.audit(portal.store, request, principal, "page", old_la_code=code, detail=f"{measure} {chosen}")
    return render(
        request,
        "measure.html",
        principal,
        council=council,
        unit=unit,
        years=available,
        year=chosen,
        detail=detail,
        chart=_trend_chart(detail.trend),
    )


def _trend_chart(trend: list[dict[str, Any]]) -> dict[str, Any] | None:
    """Polylines for the council, neighbours, region and England over the years (inline SVG)."""
    series = ("council", "neighbours", "region", "england")
    points = [(t["year"], s, t[s].value) for t in trend for s in series if t[s].value is not None and not t[s].symbol]
    if len({p[0] for p in points}) < 2:
        return None
    years = sorted({p[0] for p in points})
    low = min(p[2] for p in points)
    high = max(p[2] for p in points)
    span = (high - low) or 1.0
    width, height, pad = 640, 240, 40

    def x(year: int) -> float:
        return pad + (width - 2 * pad) * (years.index(year) / (len(years) - 1))

    def y(value: float) -> float:
        return height - pad - (height - 2 * pad) * ((value - low) / span)

    lines = {s: " ".join(f"{x(yr):.1f},{y(v):.1f}" for yr, name, v in points if name == s) for s in series}
    return {
        "width": width,
        "height": height,
        "lines": lines,
        "years": [(yr, x(yr)) for yr in years],
        "ticks": [(round(low, 1), y(low)), (round(high, 1), y(high))],
        "bottom": height - pad,
        "pad": pad,
    }


@router.get("/councils/{code}/pack")
def pack_download(
    request: Request, principal: Principal, code: str, year: int | None = None, format: str = "xlsx", part: str = "pack"
) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.PACKS)
    response = common.pack_response(portal, code, year, format, part)
    auth.audit(portal.store, request, principal, "download", old_la_code=code, detail=f"pack {format} {year or ''}")
    return response


# -- submitting a return ----------------------------------------------------------------------------


@router.get("/councils/{code}/submit")
def submit_page(request: Request, principal: Principal, code: str) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.RESTRICTED)
    return render(
        request,
        "submit.html",
        principal,
        code=code,
        max_mb=portal.settings.max_upload_bytes / (1024 * 1024),
    )


@router.post("/councils/{code}/submit")
def submit(
    request: Request,
    principal: Principal,
    code: str,
    csrf_token: Annotated[str, Form()] = "",
    return_file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.RESTRICTED)
    auth.check_csrf(principal, csrf_token)
    if return_file is None or not return_file.filename:
        return render(
            request,
            "submit.html",
            principal,
            http_status=400,
            code=code,
            max_mb=portal.settings.max_upload_bytes / (1024 * 1024),
            errors={"return_file": "Select your CSWW return (the .xml file your system exported)"},
        )
    submission = common.take_submission(request, principal, code, return_file, year=None, channel="")
    return RedirectResponse(f"/councils/{code}/submissions/{submission.id}", status_code=303)


@router.get("/councils/{code}/submissions")
def submissions_page(request: Request, principal: Principal, code: str) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.RESTRICTED)
    listed = common.with_status(portal.store.submissions_of(code))
    quarantined = adapter.quarantined(code)
    auth.audit(portal.store, request, principal, "page", old_la_code=code, detail="submissions")
    return render(request, "submissions.html", principal, code=code, submissions=listed, quarantined=quarantined)


@router.get("/councils/{code}/submissions/{submission_id}")
def submission_page(request: Request, principal: Principal, code: str, submission_id: str) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.RESTRICTED)
    listed = dict((s.id, (s, st)) for s, st in common.with_status(portal.store.submissions_of(code, limit=1000)))
    if submission_id not in listed:
        raise HTTPException(404, "Not found.")
    submission, status = listed[submission_id]
    refused = (
        adapter.refused_by_warehouse(code, submission.collection_year, submission.sha256) if submission.sha256 else None
    )
    auth.audit(portal.store, request, principal, "page", old_la_code=code, detail=f"submission {submission_id}")
    return render(
        request,
        "submission.html",
        principal,
        code=code,
        submission=submission,
        status=status,
        refresh=status[0] == WORKING,
        findings=submission.report.get("findings", []),
        refused=refused,
    )


@router.get("/councils/{code}/submissions/{submission_id}/report.txt")
def submission_report(request: Request, principal: Principal, code: str, submission_id: str) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.RESTRICTED)
    submission = portal.store.submission(code, submission_id)
    if submission is None:
        raise HTTPException(404, "Not found.")
    auth.audit(portal.store, request, principal, "download", old_la_code=code, detail=f"report {submission_id}")
    return common.text_download(submission.report.get("text", ""), f"validation_report_{code}_{submission_id[:8]}.txt")


# -- analysts' downloads ----------------------------------------------------------------------------


@router.get("/tables")
def tables_page(request: Request, principal: Principal) -> Response:
    portal = common.get_portal(request)
    auth.require_role(principal, ROLE_ANALYST)
    with portal.reader.cursor() as (version, cur):
        counts = {t: cur.execute(f"select count(*) from {t}").fetchone()[0] for t in adapter.PUBLISHED_TABLES}
    manifest = next((p.manifest for p in adapter.publications() if p.version == version), {})
    return render(
        request,
        "tables.html",
        principal,
        counts=counts,
        version=version,
        manifest=manifest,
        formats=common.TABLE_FORMATS,
    )


@router.get("/tables/{table}.{fmt}")
def table_download(request: Request, principal: Principal, table: str, fmt: str) -> Response:
    portal = common.get_portal(request)
    auth.require_role(principal, ROLE_ANALYST)
    response = common.table_response(portal, table, fmt)
    auth.audit(portal.store, request, principal, "download", detail=f"table {table}.{fmt}")
    return response


@router.get("/api")
def api_docs(request: Request, principal: Principal) -> Response:
    schema = request.app.openapi()
    operations = [
        {
            "method": method.upper(),
            "path": path,
            "summary": op.get("summary", ""),
            "description": op.get("description", ""),
        }
        for path, item in schema["paths"].items()
        for method, op in item.items()
    ]
    return render(request, "api.html", principal, operations=operations, openapi_url=request.app.openapi_url)


@router.get("/health")
def health(request: Request) -> dict[str, Any]:
    portal = common.get_portal(request)
    return {"ok": True, "published_version": portal.reader.current_version()}
