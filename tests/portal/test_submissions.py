"""Uploads: what is refused at the door, what is judged, and where an accepted return lands.

However the file is named (`../`, absolute paths, odd characters), it lands only at the layout's
fixed path for the sender's own council and the year its Header gives, replacing that LA-year's
return in one rename; a file too big, not XML or in another encoding is refused with a message
saying what to do; nothing is written anywhere else.
"""

from __future__ import annotations

import codecs
import hashlib
import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from portal.submissions import door_problem, shown_name
from tests.portal.conftest import a_return, csrf_of, make_portal, sign_in, token_for

A = "301"
OFFICER_A = "officer@301.test"


def files_under(*roots: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for root in roots for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def officer(portal) -> TestClient:
    with TestClient(portal.app, follow_redirects=False) as client:
        assert sign_in(client, OFFICER_A).status_code == 303
        yield client


def upload(client: TestClient, name: str, content: bytes) -> tuple[int, str]:
    form = client.get(f"/councils/{A}/submit")
    response = client.post(
        f"/councils/{A}/submit",
        data={"csrf_token": csrf_of(form.text)},
        files={"return_file": (name, content, "application/octet-stream")},
    )
    if response.status_code != 303:
        return response.status_code, response.text
    return response.status_code, client.get(response.headers["location"]).text


@pytest.mark.parametrize(
    "name",
    ["../../../../etc/csww.xml", "/tmp/absolute.xml", "..\\..\\windows\\csww.xml", "ret\x00urn.xml", "çsww 2024 ✓.XML"],
)
def test_an_upload_lands_only_at_the_layouts_path_whatever_its_name(officer, portal_root, name) -> None:
    software = hashlib.sha256(name.encode()).hexdigest()[:12].encode()
    software = b"<SoftwareCode>portal-test-" + software + b"</SoftwareCode>"
    content = re.sub(rb"<SoftwareCode>[^<]*</SoftwareCode>", software, a_return(portal_root, A, 2024))
    target = portal_root / "raw" / "returns" / A / "2024" / "csww_2024.xml"
    before = files_under(portal_root / "raw", portal_root.parent)
    status, page = upload(officer, name, content)
    assert status == 303
    assert "Return accepted" in page
    assert target.read_bytes() == content
    after = files_under(portal_root / "raw", portal_root.parent)
    state = portal_root / "data" / "portal"  # the portal's own database records the submission
    # Anything changed in the module's folders, and anywhere else in the worker's any file holding
    # the upload (other modules' folders are theirs: a background writer there is not the upload).
    changed = {
        p
        for p in after
        if before.get(p) != after[p]
        and not p.is_relative_to(state)
        and (p.is_relative_to(portal_root) or after[p] == content)
    }
    assert changed == {target}
    # The name is shown, cleaned, never used as a path.
    assert "etc/" not in page and "\\" not in re.sub(r"<[^>]+>", "", page).split("File")[1][:200]


def test_a_file_over_the_cap_is_refused_before_it_is_stored(portal_root) -> None:
    portal = make_portal(max_upload_bytes=64 * 1024)
    with TestClient(portal.app, follow_redirects=False) as client:
        assert sign_in(client, OFFICER_A).status_code == 303
        before = files_under(portal_root / "raw")
        huge = b"<Message>" + b" " * (2 * 1024 * 1024) + b"</Message>"
        status, text = upload(client, "csww_2024.xml", huge)
        assert status == 413
        assert "larger than" in text
        # Just over the cap but within the form's allowance: judged, refused and recorded.
        status, page = upload(client, "csww_2024.xml", b"<Message>" + b" " * (64 * 1024) + b"</Message>")
        assert status == 303 and "larger than" in page and "not accepted" in page
        assert files_under(portal_root / "raw") == before


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("return.xlsx", b"PK\x03\x04 spreadsheet", "not an XML file"),
        ("return.xml", b"%PDF-1.7 not xml", "does not look like XML"),
        ("return.xml", b"", "empty"),
        ("return.xml", codecs.BOM_UTF32_LE + "<Message/>".encode("utf-32-le"), "UTF-32"),
        ("return.xml", b"<Message><Header></Message>", "not accepted"),
    ],
)
def test_what_is_not_a_return_is_refused_with_a_reason(officer, portal_root, name, content, words) -> None:
    before = files_under(portal_root / "raw")
    status, page = upload(officer, name, content)
    assert status == 303
    assert "Your return was not accepted" in page
    assert words in page
    assert files_under(portal_root / "raw") == before


def test_a_utf16_return_passes_the_door_and_is_judged_by_the_validator(portal, officer, portal_root) -> None:
    """UTF-16 is a valid encoding for XML: the portal's type check lets it through, and whether the
    return is accepted is the validator's decision (issue 9 makes it accept UTF-16)."""
    text = a_return(portal_root, A, 2023).decode("utf-8").replace('encoding="UTF-8"', 'encoding="UTF-16"')
    status, _ = upload(officer, "csww_2023.xml", codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    assert status == 303
    latest = portal.store.submissions_of(A, limit=1)[0]
    assert {f["rule"] for f in latest.report["findings"]}.isdisjoint({"upload-type", "upload-size"})
    assert latest.report["header_year"] == 2023 or latest.errors


def test_errors_are_listed_with_where_and_what_to_fix(officer, portal_root) -> None:
    bad = a_return(portal_root, A, 2024).replace(
        b"<AgencyWorker>0</AgencyWorker>", b"<AgencyWorker>7</AgencyWorker>", 1
    )
    _, page = upload(officer, "csww_2024.xml", bad)
    assert "Your return was not accepted" in page
    errors = page.split('id="errors"')[1].split("</table>")[0]
    assert "AgencyWorker" in errors and "<code>7</code>" in errors
    assert re.search(r"<td class=\"govuk-table__cell\">\d+</td>", errors), "the line number is shown"


def test_the_api_takes_a_return_and_answers_with_the_report(portal, portal_root) -> None:
    with TestClient(portal.app) as client:
        headers = {"Authorization": f"Bearer {token_for(portal, OFFICER_A)}"}
        good = client.post(
            f"/api/v1/councils/{A}/returns",
            headers=headers,
            files={"file": ("csww_2023.xml", a_return(portal_root, A, 2023), "text/xml")},
        )
        assert good.status_code == 201, good.text
        body = good.json()
        assert body["outcome"] == "accepted" and body["collection_year"] == 2023 and body["errors"] == 0
        bad = client.post(
            f"/api/v1/councils/{A}/returns",
            headers=headers,
            files={"file": ("csww_2023.xml", b"<Message><Header/></Message>", "text/xml")},
        )
        assert bad.status_code == 422
        assert bad.json()["findings"][0]["severity"] == "error"
        listed = client.get(f"/api/v1/councils/{A}/submissions", headers=headers).json()
        ids = [s["id"] for s in listed]
        assert body["id"] in ids and bad.json()["id"] in ids
        one = client.get(f"/api/v1/councils/{A}/submissions/{body['id']}", headers=headers).json()
        assert one["sha256"] == body["sha256"] and "findings" in one


def test_display_names_and_door_checks() -> None:
    assert shown_name("../../etc/passwd.xml") == "passwd.xml"
    assert shown_name("C:\\Users\\me\\csww.xml") == "csww.xml"
    assert shown_name("a\x00b<script>.xml") == "a_b_script_.xml"
    assert shown_name("") == "return.xml"
    assert door_problem(b"<?xml version='1.0'?><Message/>", "x.XML") is None
    assert door_problem(codecs.BOM_UTF16_BE + "<Message/>".encode("utf-16-be"), "x.xml") is None
    assert door_problem("<Message/>".encode("utf-16-le"), "x.xml") is None
    assert "not an XML file" in door_problem(b"<Message/>", "x.csv")
