"""The API under /api/v1/: bearer tokens only (no cookies, so no CSRF), the same rules as the pages."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPBearer

from portal import adapter, auth
from portal.app import API_PREFIX
from portal.routes import common
from portal.store import ACCEPTED, ROLE_ANALYST

# Declares the bearer scheme in the OpenAPI document; `api_principal` does the checking.
bearer = HTTPBearer(auto_error=False, description="An API token from `workforce tokens create --email …`.")
router = APIRouter(prefix=API_PREFIX, tags=["councils"], dependencies=[Depends(bearer)])
Principal = Annotated[auth.Principal, Depends(common.api_principal)]

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or a revoked or unknown one"},
    403: {"description": "The token's role does not give this access"},
    404: {"description": "Unknown council, year or submission, or another council's restricted data"},
}


@router.get(
    "/councils/{code}/benchmarks",
    summary="A council's benchmarks for one year",
    description="Every benchmarked measure: the council, its statistical neighbours (pooled), region and "
    "England, rank (1 = best), quartile band (A = best) and change on the year; DfE's symbols in place "
    "of withheld values; `provisional` marks figures from a return DfE has not published. "
    "`year` defaults to the latest with figures.",
    responses=ERRORS,
)
def benchmarks(
    request: Request,
    principal: Principal,
    code: str,
    year: int | None = None,
    format: Literal["json", "csv"] = "json",
) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.FIGURES)
    data = common.benchmarks_rows(portal, principal, code, year)
    auth.audit(portal.store, request, principal, "download", old_la_code=code, detail=f"api benchmarks {format}")
    if format == "csv":
        return Response(
            common.benchmarks_csv(data),
            media_type=common.MEDIA_TYPES["csv"],
            headers={"Content-Disposition": f'attachment; filename="benchmarks_{code}_{data["year"]}.csv"'},
        )
    return JSONResponse(common.benchmarks_json(data))


@router.get(
    "/councils/{code}/pack",
    summary="A council's peer-comparison pack",
    description="The pack built from the published tables, as XLSX, HTML or CSV (`part=notes` for the CSV's notes). "
    "A council's token gets its own council's pack; an analyst's, any council's.",
    responses={**ERRORS, 200: {"content": {common.MEDIA_TYPES[f]: {} for f in adapter.PACK_FORMATS}}},
)
def pack(
    request: Request,
    principal: Principal,
    code: str,
    year: int | None = None,
    format: Literal["xlsx", "html", "csv"] = "xlsx",
    part: Literal["pack", "notes"] = "pack",
) -> Response:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.PACKS)
    response = common.pack_response(portal, code, year, format, part)
    auth.audit(portal.store, request, principal, "download", old_la_code=code, detail=f"api pack {format}")
    return response


@router.get(
    "/councils/{code}/submissions",
    summary="A council's submissions",
    description="Every return the council uploaded, newest first, with the outcome and its status now "
    "(`live` once the published figures are built from it). The council's own token only.",
    responses=ERRORS,
)
def submissions(request: Request, principal: Principal, code: str) -> list[dict[str, Any]]:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.RESTRICTED)
    auth.audit(portal.store, request, principal, "download", old_la_code=code, detail="api submissions")
    return [
        common.submission_json(s, status, with_report=False)
        for s, status in common.with_status(portal.store.submissions_of(code))
    ]


@router.get(
    "/councils/{code}/submissions/{submission_id}",
    summary="One submission with its validation report",
    description="The findings (errors, then queries) with line, worker, element, value, rule and how to fix it.",
    responses=ERRORS,
)
def submission(request: Request, principal: Principal, code: str, submission_id: str) -> dict[str, Any]:
    portal = common.get_portal(request)
    common.valid_code(code)
    auth.council_access(principal, code, auth.RESTRICTED)
    listed = {s.id: (s, st) for s, st in common.with_status(portal.store.submissions_of(code, limit=1000))}
    if submission_id not in listed:
        raise HTTPException(404, "Not found.")
    auth.audit(portal.store, request, principal, "download", old_la_code=code, detail=f"api submission {submission_id}")
    found, status = listed[submission_id]
    return common.submission_json(found, status, with_report=True)


@router.post(
    "/councils/{code}/returns",
    summary="Submit a return",
    description="Upload the council's CSWW XML return (multipart field `file`). It is validated at once: "
    "201 with the report when accepted (then it is loaded and republished), 422 with the report when it has "
    "errors, 413 when larger than the cap. Stored only under the council's own code and the year its Header gives.",
    status_code=201,
    responses={**ERRORS, 413: {"description": "Larger than the upload cap"}, 422: {"description": "Not accepted"}},
)
def submit_return(
    request: Request,
    principal: Principal,
    code: str,
    file: Annotated[UploadFile, File(description="The CSWW return, XML in UTF-8 or UTF-16")],
    year: Annotated[int | None, Form(description="Optional: the collection year you mean to send")] = None,
) -> JSONResponse:
    common.valid_code(code)
    auth.council_access(principal, code, auth.RESTRICTED)
    if principal.role != "council":
        raise HTTPException(403, "Only a council's own account can submit its return.")
    received = common.take_submission(request, principal, code, file, year=year, channel="api")
    status = common.with_status([received])[0][1]
    body = common.submission_json(received, status, with_report=True)
    return JSONResponse(body, status_code=201 if received.outcome == ACCEPTED else 422)


@router.get(
    "/tables/{table}",
    summary="A whole published table (analysts)",
    description=f"One of {', '.join(adapter.PUBLISHED_TABLES)}, as CSV or Parquet, from the published version.",
    responses=ERRORS,
    tags=["analysts"],
)
def table(request: Request, principal: Principal, table: str, format: Literal["csv", "parquet"] = "csv") -> Response:
    portal = common.get_portal(request)
    auth.require_role(principal, ROLE_ANALYST)
    response = common.table_response(portal, table, format)
    auth.audit(portal.store, request, principal, "download", detail=f"api table {table}.{format}")
    return response
