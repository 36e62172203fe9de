"""Pages for the warehouse's engineers: runs, the quarantine, publications and rollback, alerts, audit."""

from __future__ import annotations

import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from portal import adapter, auth
from portal.routes import common
from portal.routes.pages import render
from portal.store import ROLE_ENGINEER

router = APIRouter(prefix="/engineer", include_in_schema=False)


def engineer(request: Request) -> auth.Principal:
    principal = common.page_principal(request)
    auth.require_role(principal, ROLE_ENGINEER)
    return principal


Engineer = Annotated[auth.Principal, Depends(engineer)]


@router.get("")
def runs(request: Request, principal: Engineer) -> Response:
    portal = common.get_portal(request)
    submissions = common.with_status(portal.store.recent_submissions(50))
    return render(
        request,
        "engineer/runs.html",
        principal,
        dagster_runs=adapter.dagster_runs(),
        logs=adapter.run_logs(),
        submissions=submissions,
        publications=adapter.publications()[:5],
        mode=portal.settings.republish,
    )


@router.get("/quarantine")
def quarantine(request: Request, principal: Engineer) -> Response:
    entries = adapter.quarantined()
    by_council: dict[str, list[adapter.QuarantineEntry]] = {}
    for entry in entries:
        by_council.setdefault(entry.old_la_code, []).append(entry)
    auth.audit(common.get_portal(request).store, request, principal, "page", detail="quarantine")
    return render(request, "engineer/quarantine.html", principal, by_council=dict(sorted(by_council.items())))


@router.get("/quarantine/{code}/{year}/{entry}")
def quarantine_report(request: Request, principal: Engineer, code: str, year: int, entry: str) -> Response:
    common.valid_code(code)
    found = next(
        (q for q in adapter.quarantined(code) if q.year == year and q.folder.name == entry),
        None,
    )
    if found is None:
        raise HTTPException(404, "Not found.")
    auth.audit(
        common.get_portal(request).store, request, principal, "page", old_la_code=code, detail=f"quarantine {entry}"
    )
    return render(request, "engineer/quarantine_entry.html", principal, entry=found)


@router.get("/publications")
def publications(request: Request, principal: Engineer) -> Response:
    return render(request, "engineer/publications.html", principal, publications=adapter.publications())


@router.get("/publications/{version}")
def publication(request: Request, principal: Engineer, version: str) -> Response:
    found = next((p for p in adapter.publications() if p.version == version), None)
    if found is None:
        raise HTTPException(404, "Not found.")
    manifest = dict(found.manifest)
    inputs = manifest.pop("inputs", {})
    checks = manifest.pop("checks", [])
    return render(
        request,
        "engineer/publication.html",
        principal,
        publication=found,
        summary=manifest,
        inputs=inputs,
        checks=checks,
        manifest_json=json.dumps(found.manifest, indent=2, default=str)[:200_000],
    )


@router.post("/rollback")
def rollback(request: Request, principal: Engineer, csrf_token: Annotated[str, Form()] = "") -> Response:
    portal = common.get_portal(request)
    auth.check_csrf(principal, csrf_token)
    try:
        restored = adapter.rollback()
    except adapter.PublishError as exc:
        raise HTTPException(409, str(exc)) from exc
    auth.audit(portal.store, request, principal, "rollback", detail=f"now {restored.version}")
    return RedirectResponse("/engineer/publications", status_code=303)


@router.get("/alerts")
def alerts(request: Request, principal: Engineer) -> Response:
    return render(request, "engineer/alerts.html", principal, settings=adapter.alert_settings())


@router.get("/audit")
def audit_log(request: Request, principal: Engineer, council: str | None = None) -> Response:
    portal = common.get_portal(request)
    events = portal.store.audit_events(500, old_la_code=council)
    return render(request, "engineer/audit.html", principal, events=events, council=council)
