"""The HTML validation report as a council data officer sees it, in headless Chromium.

Debian's chromium, driven by Playwright (its own browsers cannot be downloaded here; .ci/run
installs chromium when it is missing). The screenshot in docs/ is made by this module:

    .venv/bin/python -m tests.integration.test_validate_report_browser
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from orchestration.lib import paths
from orchestration.lib.sources.csww.report import render
from orchestration.lib.sources.csww.validate import validate_file
from orchestration.pack_screens import CHROMIUM, CHROMIUM_ARGS

SAMPLE = paths.PROJECT_ROOT / "tests" / "fixtures" / "returns" / "social_work_workforce_2022_sample.xml"
SCREENSHOT = paths.PROJECT_ROOT / "docs" / "validate_report.png"
A4_LANDSCAPE_POINTS = (842, 595)


def sample_page(folder: Path) -> Path:
    page = folder / "sample_validation.html"
    report = validate_file(SAMPLE, check_continuity=False)
    page.write_bytes(render(report, "html"))
    return page


@pytest.fixture
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.skip("needs Debian's chromium at /usr/bin/chromium (.ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def test_the_report_reads_as_a_council_expects(browser, workspace: Path, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 1600})
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(sample_page(tmp_path).as_uri())

    assert page.title() == "Validation report: social_work_workforce_2022_sample.xml"
    summary = page.get_by_role("alert")
    assert summary.is_visible() and "There is a problem" in summary.inner_text()
    links = summary.get_by_role("link")
    assert links.count() == 5 and links.first.inner_text() == "Role ends after the reference date (11)"
    links.first.click()
    assert page.url.endswith("#rule-role-end-after-reference")
    heading = page.locator("#rule-role-end-after-reference")
    assert heading.is_visible() and heading.bounding_box()["y"] < 100, "the link scrolls to the rule's issues"
    table = page.get_by_role("table", name=re.compile("^Role ends after the reference date: 11 listed"))
    assert table.locator("tbody tr").count() == 11
    assert page.get_by_role("columnheader", name="SWE number").count() == 10, "one per rule table"
    font = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert font.startswith("system-ui") and "GDS" not in font
    assert all(url.startswith("file://") for url in requests), requests

    page.emulate_media(media="print")
    pdf = page.pdf(prefer_css_page_size=True)
    width, height = (round(float(v)) for v in re.search(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf).groups())
    assert (width, height) == A4_LANDSCAPE_POINTS


def write_screenshot(folder: Path) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        page = launched.new_page(viewport={"width": 1280, "height": 2300})
        page.goto(sample_page(folder).as_uri())
        page.screenshot(path=str(SCREENSHOT))
        launched.close()
    print(SCREENSHOT)


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as scratch:
        write_screenshot(Path(scratch))
