"""A council data officer's journey in a real headless browser (Debian's chromium via Playwright).

Sign in; upload a return with errors and read them on the page; upload a corrected return, see it
accepted, wait for the portal's own republish and see the new figure; download the pack in every
format; sign out. The server runs in this process on a free port, over a private copy of the test
warehouse, and republishes with `workforce run` exactly as `workforce serve` does.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import uvicorn

from orchestration.pack_screens import CHROMIUM, CHROMIUM_ARGS
from tests.portal.conftest import PASSWORD, a_return, make_portal

A = "301"
REPUBLISH_TIMEOUT_S = 420

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason=".ci/run installs Debian's chromium")


@pytest.fixture(scope="module")
def server(portal_root: Path) -> Iterator[str]:
    portal = make_portal(republish="run")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    uv = uvicorn.Server(uvicorn.Config(portal.app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not uv.started:
        assert time.monotonic() < deadline, "the portal did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    uv.should_exit = True
    thread.join(30)


@pytest.fixture(scope="module")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def without_first_leaver(xml: bytes) -> bytes:
    """The return with one leaver's record removed: a valid return whose turnover differs."""
    leaver = re.search(rb"\s*<CSWWWorker>(?:(?!</CSWWWorker>).)*<RoleEndDate>.*?</CSWWWorker>", xml, re.S)
    assert leaver
    return xml[: leaver.start()] + xml[leaver.end() :]


def published_turnover(root: Path) -> float:
    with duckdb.connect(str(root / "data" / "published" / "benchmarks.duckdb"), read_only=True) as con:
        return con.execute(
            "select la_value from fct_workforce_benchmarks "
            "where old_la_code = ? and time_period = 2024 and measure = 'turnover_rate_fte'",
            [A],
        ).fetchone()[0]


def council_figure(page) -> str:
    cell = page.locator('td[data-measure="turnover_rate_fte"][data-role="council"]')
    return cell.inner_text().split()[0]


def test_a_council_officer_signs_in_submits_sees_the_new_figure_downloads_and_signs_out(
    server: str, browser, portal_root: Path, tmp_path: Path
) -> None:
    page = browser.new_page(accept_downloads=True)

    # Sign in.
    page.goto(f"{server}/councils/{A}")
    assert page.url.startswith(f"{server}/sign-in")
    page.fill("#email", "officer@301.test")
    page.fill("#password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(f"{server}/councils/{A}")
    assert "Barking and Dagenham" in page.locator("h1").inner_text()
    before = council_figure(page)
    assert before == f"{published_turnover(portal_root):.1f}"

    # A return with an error: refused, the error readable on the page, nothing changed.
    original = a_return(portal_root, A, 2024)
    bad = tmp_path / "csww_2024.xml"
    bad.write_bytes(original.replace(b"<AgencyWorker>0</AgencyWorker>", b"<AgencyWorker>yes</AgencyWorker>", 1))
    page.goto(f"{server}/councils/{A}/submit")
    page.set_input_files("#return_file", str(bad))
    page.click("button:has-text('Upload and check')")
    page.wait_for_selector("h1:has-text('Your return was not accepted')")
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "AgencyWorker" in summary or "yes" in summary
    errors = page.locator("#errors").inner_text()
    assert "AgencyWorker" in errors and "yes" in errors

    # A corrected return: accepted, republished by the portal, then live with the new figure.
    good = tmp_path / "corrected" / "csww_2024.xml"
    good.parent.mkdir()
    good.write_bytes(without_first_leaver(original))
    page.goto(f"{server}/councils/{A}/submit")
    page.set_input_files("#return_file", str(good))
    page.click("button:has-text('Upload and check')")
    page.wait_for_selector("h1:has-text('Return accepted')")
    deadline = time.monotonic() + REPUBLISH_TIMEOUT_S
    while "Live" not in page.locator("#status").inner_text():
        status = page.locator("#status").inner_text()
        assert "failed" not in status.lower() and "Refused" not in status, status
        assert time.monotonic() < deadline, f"not live after {REPUBLISH_TIMEOUT_S} s: {status}"
        time.sleep(3)
        page.reload()
    page.click("text=See your 2024 figures")
    after = council_figure(page)
    assert after == f"{published_turnover(portal_root):.1f}"
    assert after != before

    # Every pack format, downloaded as a person would.
    downloads = {}
    for label in ("XLSX", "HTML", "CSV"):
        with page.expect_download() as download:
            page.click(f"text=Pack for 2024 ({label})")
        target = tmp_path / download.value.suggested_filename
        download.value.save_as(target)
        downloads[label] = target
    assert zipfile.is_zipfile(downloads["XLSX"])
    assert "Barking and Dagenham" in downloads["HTML"].read_text(encoding="utf-8")
    csv_text = downloads["CSV"].read_text(encoding="utf-8")
    assert csv_text.startswith("time_period,") and "turnover_rate_fte" in csv_text
    assert f",{float(after)}," in csv_text or f",{after}," in csv_text

    # Sign out: the session ends and council pages need signing in again.
    page.click("button:has-text('Sign out')")
    page.wait_for_selector("h1:has-text('You have signed out')")
    page.goto(f"{server}/councils/{A}")
    assert page.url.startswith(f"{server}/sign-in")
    page.close()
    shutil.rmtree(tmp_path, ignore_errors=True)
