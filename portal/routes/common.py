"""What pages, engineer pages and the API share: the portal, who is asking, figures and downloads."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi import HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, Response

from portal import adapter, auth, figures
from portal.app import Portal
from portal.store import ACCEPTED, REPUBLISH_QUEUED, Submission
from portal.submissions import receive, status_of

MEDIA_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "parquet": "application/vnd.apache.parquet",
}
TABLE_FORMATS = ("csv", "parquet")


def get_portal(request: Request) -> Portal:
    return request.app.state.portal


def page_principal(request: Request) -> auth.Principal:
    portal = get_portal(request)
    principal = auth.session_principal(request, portal.store, portal.settings, portal.agreement)
    if principal is None:
        raise auth.RedirectTo(f"/sign-in?next={request.url.path}")
    if principal.user.must_change_password and request.url.path not in ("/account/password", "/sign-out"):
        raise auth.RedirectTo("/account/password")
    return principal


def api_principal(request: Request) -> auth.Principal:
    portal = get_portal(request)
    return auth.token_principal(request, portal.store, portal.agreement)


def valid_code(old_la_code: str) -> str:
    if not (len(old_la_code) == 3 and old_la_code.isdigit()):
        raise HTTPException(404, "Not found.")
    return old_la_code


def council_view(portal: Portal, principal: auth.Principal, code: str, year: int | None):
    """(version, viewer, council, unit code, years, chosen year) for a council's figures; 404 if unknown."""
    with portal.reader.cursor() as (version, cur):
        published = portal.facts(version, cur)
        councils = published.councils
        if code not in councils:
            raise HTTPException(404, "Not found.")
        unit = figures.reporting_unit(councils, code)
        available = published.years.get(unit, [])
    if not available:
        raise HTTPException(404, f"No figures are published for {councils[code].name} yet.")
    chosen = year if year in available else available[0]
    if year is not None and year not in available:
        raise HTTPException(404, f"No figures for {year}: the years published are {', '.join(map(str, available))}.")
    viewer_code = principal.old_la_code if principal.role == "council" else None
    viewer = figures.Viewer(portal.agreement, viewer_code, published)
    return version, viewer, councils[code], unit, available, chosen


def acting_for(viewer: figures.Viewer) -> str:
    """Whom a read of figures is for, as the server's row policies take it: a council, or every council."""
    return viewer.old_la_code or adapter.EVERY_COUNCIL


def benchmarks_rows(portal: Portal, principal: auth.Principal, code: str, year: int | None) -> dict[str, Any]:
    version, viewer, council, unit, available, chosen = council_view(portal, principal, code, year)

    def compute() -> list[figures.MeasureRow]:
        with portal.reader.cursor(acting_for(viewer)) as (_, cur):
            return figures.overview(cur, viewer, unit, chosen)

    rows = portal.shaped((version, "overview", viewer.old_la_code, unit, chosen), compute)
    return {
        "version": version,
        "council": council,
        "unit": unit,
        "years": available,
        "year": chosen,
        "rows": rows,
        "viewer": viewer,
    }


BENCHMARK_COLUMNS = (
    "measure",
    "label",
    "unit",
    "council",
    "neighbours",
    "region",
    "england",
    "change_from_previous_year",
)


def benchmarks_json(data: dict[str, Any]) -> dict[str, Any]:
    council = data["council"]
    return {
        "old_la_code": council.code,
        "name": council.name,
        "reporting_unit": data["unit"],
        "year": data["year"],
        "published_version": data["version"],
        "measures": [
            {
                "measure": r.measure,
                "label": r.label,
                "unit": r.unit,
                "polarity": r.polarity,
                "council": r.council.as_json(),
                "neighbours": {**r.neighbours.as_json(), "neighbours_pooled": r.neighbour_count},
                "region": r.region.as_json(),
                "england": r.england.as_json(),
                "rank": r.rank,
                "ranked_units": r.ranked_units,
                "quartile_band": r.band,
                "change_from_previous_year": r.change.as_json(),
            }
            for r in data["rows"]
        ],
    }


def benchmarks_csv(data: dict[str, Any]) -> str:
    """Tidy: one row per measure and comparator, with value or DfE symbol."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        [
            "time_period",
            "old_la_code",
            "measure",
            "comparator",
            "value",
            "symbol",
            "symbol_meaning",
            "provisional",
            "rank",
            "ranked_units",
            "quartile_band",
        ]
    )
    for r in data["rows"]:
        for comparator, cell in (
            ("council", r.council),
            ("statistical_neighbours", r.neighbours),
            ("region", r.region),
            ("england", r.england),
            ("change", r.change),
        ):
            shown = cell.as_json()
            council_row = comparator == "council"
            writer.writerow(
                [
                    data["year"],
                    data["council"].code,
                    r.measure,
                    comparator,
                    shown["value"],
                    shown["symbol"] or "",
                    shown["symbol_meaning"] or "",
                    str(shown["provisional"]).lower(),
                    r.rank if council_row else "",
                    r.ranked_units if council_row else "",
                    r.band if council_row else "",
                ]
            )
    return out.getvalue()


def pack_response(portal: Portal, code: str, year: int | None, fmt: str, part: str = "pack") -> FileResponse:
    if fmt not in adapter.PACK_FORMATS:
        raise HTTPException(404, f"Packs come as {', '.join(adapter.PACK_FORMATS)}.")
    files = adapter.pack_files(
        code, year, fmt, portal.cache_dir / "packs", portal.pack_views, portal.pack_sharing_key()
    )
    chosen = files[1] if part == "notes" and len(files) > 1 else files[0]
    return FileResponse(chosen, media_type=MEDIA_TYPES[fmt], filename=chosen.name)


def table_response(portal: Portal, table: str, fmt: str) -> FileResponse:
    if table not in adapter.PUBLISHED_TABLES or fmt not in TABLE_FORMATS:
        raise HTTPException(404, "Not found.")
    version, path = adapter.published_table_file(table, fmt, portal.cache_dir / "tables", portal.reader)
    return FileResponse(path, media_type=MEDIA_TYPES[fmt], filename=f"{table}_{version}.{fmt}")


def take_submission(
    request: Request, principal: auth.Principal, code: str, upload: UploadFile, *, year: int | None, channel: str
) -> Submission:
    """Validate an upload at once, keep it and its report, audit it, and queue the republish it asks for."""
    portal = get_portal(request)
    received = receive(
        portal.settings,
        stream=upload.file,
        given_name=upload.filename,
        old_la_code=code,
        year=year,
        user_id=principal.user.id,
    )
    portal.store.add_submission(received)
    detail = f"{received.id} {received.outcome} {received.sha256[:12]}"
    auth.audit(portal.store, request, principal, "upload", old_la_code=code, detail=f"{channel} {detail}".strip())
    if portal.republisher and received.republish_state == REPUBLISH_QUEUED:
        portal.republisher.request(code, received.collection_year)
    return received


def with_status(submissions: list[Submission]) -> list[tuple[Submission, tuple[str, str, str]]]:
    """Each submission with its status now; the newest accepted one per year is the one that counts."""
    latest: dict[int, str] = {}
    for s in submissions:  # newest first
        if s.outcome == ACCEPTED:
            latest.setdefault(s.collection_year, s.id)
    return [
        (s, status_of(s, newer_accepted=s.outcome == ACCEPTED and latest.get(s.collection_year) != s.id))
        for s in submissions
    ]


def submission_json(submission: Submission, status: tuple[str, str, str], *, with_report: bool) -> dict[str, Any]:
    body = {
        "id": submission.id,
        "old_la_code": submission.old_la_code,
        "collection_year": submission.collection_year or None,
        "file_name": submission.file_name,
        "sha256": submission.sha256 or None,
        "size_bytes": submission.size_bytes,
        "received_at": submission.received_at.isoformat(),
        "outcome": submission.outcome,
        "errors": submission.errors,
        "queries": submission.queries,
        "status": status[0],
        "status_label": status[1],
        "status_explanation": status[2],
    }
    if with_report:
        body["findings"] = submission.report.get("findings", [])
        body["report_text"] = submission.report.get("text", "")
    return body


def text_download(text: str, name: str) -> Response:
    return Response(
        text, media_type="text/plain; charset=utf-8", headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )
