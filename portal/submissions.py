"""A council's upload, from the bytes received to a judged, recorded and (if accepted) landed return.

The same for the page and the API. The bytes go to a private temporary file (never a name the
sender chose), capped in size while they arrive, checked to be XML in UTF-8 or UTF-16, validated
at once as the loader will judge them, and only an accepted return is placed in the landing zone,
under the council's own code and the year its Header gives.
"""

from __future__ import annotations

import codecs
import hashlib
import os
import re
import tempfile
import unicodedata
import uuid
from dataclasses import asdict
from pathlib import Path
from typing import BinaryIO

from portal import adapter
from portal.settings import REPUBLISH_OFF, REPUBLISH_RUN, REPUBLISH_SENSOR, Settings
from portal.store import (
    ACCEPTED,
    REJECTED,
    REPUBLISH_FAILED,
    REPUBLISH_FINISHED,
    REPUBLISH_NOT_REQUESTED,
    REPUBLISH_QUEUED,
    REPUBLISH_RUNNING,
    REPUBLISH_WAITING_FOR_SENSOR,
    Submission,
    now,
)

_CHUNK = 1 << 20
_SHOWN_NAME = re.compile(r"[^\w .()\-]+")


class UploadTooLarge(Exception):
    pass


def shown_name(given: str | None) -> str:
    """The sender's file name, for display only: last path part, printable, at most 100 characters."""
    name = (given or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = unicodedata.normalize("NFKC", name)
    name = _SHOWN_NAME.sub("_", name).strip(" .") or "return.xml"
    return name[:100]


def door_problem(head: bytes, name: str) -> str | None:
    """Why the file is not an XML return in UTF-8 or UTF-16, judged on its name and first bytes."""
    if not name.lower().endswith(".xml"):
        return (
            f"The file {name!r} is not an XML file. Choose the CSWW return your system exported, "
            "which ends in .xml (not a spreadsheet, PDF or zip)."
        )
    if not head:
        return "The file is empty. Export the return again and choose the new file."
    if head.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)):
        return "The file is encoded as UTF-32. Export it as UTF-8 (or UTF-16) XML and send it again."
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        text = head[2:].decode("utf-16-le" if head.startswith(codecs.BOM_UTF16_LE) else "utf-16-be", errors="ignore")
    elif head[:2] in (b"<\x00", b"\x00<"):
        text = head.decode("utf-16-le" if head[0:1] == b"<" else "utf-16-be", errors="ignore")
    else:
        text = head.removeprefix(codecs.BOM_UTF8).decode("utf-8", errors="replace")
    if not text.lstrip().startswith("<"):
        return (
            "The file does not look like XML: an XML return starts with '<?xml' or '<Message'. "
            "Check you chose the return your system exported, not a report or a spreadsheet."
        )
    return None


def _receive(stream: BinaryIO, folder: Path, limit: int) -> tuple[Path, str, int, bytes]:
    """Copy the upload to a private temporary file: (path, sha256, size, first bytes)."""
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    handle, name = tempfile.mkstemp(prefix="upload-", suffix=".xml", dir=folder)
    digest, size, head = hashlib.sha256(), 0, b""
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := stream.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise UploadTooLarge()
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                digest.update(chunk)
                out.write(chunk)
    except BaseException:
        Path(name).unlink(missing_ok=True)
        raise
    return Path(name), digest.hexdigest(), size, head


def _door_report(message: str, rule: str) -> dict:
    finding = adapter.Finding(adapter.ERROR_SEVERITY, None, None, None, None, rule, message)
    return {"workers": 0, "findings": [asdict(finding)], "text": message + "\n", "header_year": None}


def receive(
    settings: Settings,
    *,
    stream: BinaryIO,
    given_name: str | None,
    old_la_code: str,
    year: int | None,
    user_id: int,
) -> Submission:
    """Judge one upload for `old_la_code` (already authorised) and record it; lands it if accepted."""
    name = shown_name(given_name)
    received_at = now()
    submission_id = uuid.uuid4().hex
    limit = settings.max_upload_bytes
    try:
        path, sha, size, head = _receive(stream, settings.state_dir / "incoming", limit)
    except UploadTooLarge:
        megabytes = limit / (1024 * 1024)
        message = f"The file is larger than {megabytes:g} MB, the most the portal accepts. Check it is one return."
        report = _door_report(message, "upload-size")
        return Submission(
            submission_id, old_la_code, year or 0, user_id, name, "", limit, received_at, REJECTED, 1, 0, report
        )
    try:
        problem = door_problem(head, name)
        if problem:
            report = _door_report(problem, "upload-type")
            return Submission(
                submission_id, old_la_code, year or 0, user_id, name, sha, size, received_at, REJECTED, 1, 0, report
            )
        validation = adapter.validate_return(path, old_la_code=old_la_code, year=year, shown_name=name)
        errors, queries = validation.count(adapter.ERROR_SEVERITY), validation.count(adapter.QUERY_SEVERITY)
        accepted = errors == 0 and validation.year is not None
        report = {
            "workers": validation.workers,
            "findings": [asdict(f) for f in validation.findings],
            "text": validation.text_report,
            "header_year": validation.year,
        }
        landed_as, state = None, REPUBLISH_NOT_REQUESTED
        collection_year = validation.year or year or 0
        if accepted:
            landed_as = adapter.land_return(path, old_la_code, collection_year)
            state = {
                REPUBLISH_RUN: REPUBLISH_QUEUED,
                REPUBLISH_SENSOR: REPUBLISH_WAITING_FOR_SENSOR,
                REPUBLISH_OFF: REPUBLISH_NOT_REQUESTED,
            }[settings.republish]
        return Submission(
            id=submission_id,
            old_la_code=old_la_code,
            collection_year=collection_year,
            user_id=user_id,
            file_name=name,
            sha256=sha,
            size_bytes=size,
            received_at=received_at,
            outcome=ACCEPTED if accepted else REJECTED,
            errors=errors,
            queries=queries,
            report=report,
            landed_as=landed_as,
            republish_state=state,
        )
    finally:
        path.unlink(missing_ok=True)


# -- status, as a council data officer reads it --------------------------------------------------

LIVE, REPLACED, REFUSED, FAILED, WORKING, NOT_ACCEPTED, WAITING = (
    "live",
    "replaced",
    "refused",
    "failed",
    "working",
    "not_accepted",
    "waiting",
)


def status_of(submission: Submission, newer_accepted: bool) -> tuple[str, str, str]:
    """(status, label, explanation) of a submission now, from the published manifest and the quarantine."""
    if submission.outcome == REJECTED:
        return NOT_ACCEPTED, "Not accepted", "The return has errors. Fix them and upload it again."
    code, year, sha = submission.old_la_code, submission.collection_year, submission.sha256
    if adapter.is_live(code, year, sha):
        return LIVE, "Live", "Your published figures are built from this return."
    if newer_accepted:
        return REPLACED, "Replaced", "A later upload for the same year replaced this one."
    if adapter.refused_by_warehouse(code, year, sha):
        return (
            REFUSED,
            "Refused by the warehouse",
            "The warehouse's load checks refused this return; the report below says why.",
        )
    state = submission.republish_state
    if state == REPUBLISH_FAILED:
        return FAILED, "Republish failed", "The warehouse could not republish; its engineers have the log."
    if state in (REPUBLISH_QUEUED, REPUBLISH_RUNNING):
        return WORKING, "Republishing", "Your return is being loaded and the figures rebuilt. This page updates itself."
    if state == REPUBLISH_FINISHED:
        return WAITING, "Accepted", "The republish finished without publishing this return; ask the warehouse team."
    return WAITING, "Accepted", "Your return is in the landing zone and will be published at the next run."
