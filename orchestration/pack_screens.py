"""`make pack-screens`: one council's peer-comparison pack as printed, page by page, for docs/.

From the published warehouse of `make run`, writes the council's pack as HTML and XLSX (as
`workforce extract` does), prints the HTML with Debian's chromium through Playwright (the page's
own A4 landscape @page; Playwright cannot download its browsers here), converts the XLSX to PDF
with LibreOffice (each sheet with its own page setup) and turns every PDF page into a PNG with
pdftoppm, all under data/pack_screens/. Then the HTML pack's pages and the first printed page of
each XLSX sheet replace docs/pack_html_*.png and docs/pack_xlsx_*.png.

The default council, Sunderland (394), shows the hard cases on paper: a value DfE published as u
(shown, flagged, not ranked), figures the pack withholds as c, and a flag on a count. LibreOffice
prints the workbook as Excel would only with Calibri's metrics: install fonts-crosextra-carlito.
The tests in tests/integration/test_packs.py print a pack the same way and check the pages.

    python -m orchestration.pack_screens [--la 394] [--year 2024] [--dpi 100] [--no-docs]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from orchestration.lib import paths

if TYPE_CHECKING:
    from playwright.sync_api import Browser

# Debian's chromium (Playwright cannot download browsers here), and how every headless use here starts it.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SOFFICE = "soffice"
DEFAULT_COUNCIL = "394"
DOCS = paths.PROJECT_ROOT / "docs"
# How long LibreOffice may take to convert one workbook (its first start builds a profile).
SOFFICE_TIMEOUT_S = 300


def screens_dir() -> Path:
    return paths.data_dir() / "pack_screens"


@contextmanager
def chromium() -> Iterator[Browser]:
    """Debian's chromium, headless, driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def print_html(browser: Browser, page: Path, pdf: Path) -> Path:
    """The HTML page printed as a reader's browser prints it: print media, the page's own @page size
    and margins, backgrounds (the banner, bands, highlighted rows) included."""
    tab = browser.new_page()
    try:
        tab.goto(page.resolve().as_uri())
        tab.emulate_media(media="print")
        tab.pdf(path=str(pdf), prefer_css_page_size=True, print_background=True)
    finally:
        tab.close()
    return pdf


def print_xlsx(workbook: Path, pdf: Path) -> Path:
    """The workbook printed by LibreOffice: every sheet, each with its own page setup, in one PDF.

    A private, throwaway LibreOffice profile keeps the conversion from touching (or waiting on) a
    desktop LibreOffice of the same user."""
    with tempfile.TemporaryDirectory(prefix="pack_screens_lo_") as scratch:
        profile, converted = Path(scratch) / "profile", Path(scratch) / "pdf"
        subprocess.run(
            [
                SOFFICE,
                f"-env:UserInstallation={profile.as_uri()}",
                "--headless",
                "--convert-to",
                "pdf",
                "--outdir",
                str(converted),
                str(workbook),
            ],
            check=True,
            capture_output=True,
            timeout=SOFFICE_TIMEOUT_S,
        )
        shutil.move(converted / f"{workbook.stem}.pdf", pdf)
    return pdf


def page_texts(pdf: Path) -> list[str]:
    """Each page's text in reading order (a wrapped cell's lines stay together); pdftotext
    separates pages with form feeds."""
    text = subprocess.run(["pdftotext", str(pdf), "-"], check=True, capture_output=True, text=True).stdout
    return text.split("\f")[:-1]


def page_sizes(pdf: Path) -> list[tuple[int, int]]:
    """Each page's width and height in points, rounded."""

    def info(*options: str) -> str:
        return subprocess.run(["pdfinfo", *options, str(pdf)], check=True, capture_output=True, text=True).stdout

    pages = re.search(r"^Pages: +(\d+)", info(), re.MULTILINE).group(1)
    sizes = re.findall(r"^Page +\d+ size: +([\d.]+) x ([\d.]+)", info("-f", "1", "-l", pages), re.MULTILINE)
    return [(round(float(width)), round(float(height))) for width, height in sizes]


def sheet_of_each_page(texts: list[str], sheets: list[str], footer_prefix: str) -> list[str]:
    """Which sheet each printed page comes from, read from the footer every sheet prints
    ("<council>, <year>: <sheet>"); a page without it is an error (a clipped or missing footer)."""
    found = []
    for number, text in enumerate(texts, start=1):
        names = [s for s in sheets if re.search(rf"{re.escape(footer_prefix)}{re.escape(s)}(\s|$)", text)]
        if len(names) != 1:
            raise RuntimeError(f"Page {number} of the printed workbook has no single sheet footer: {names}")
        found.append(names[0])
    return found


def to_png(pdf: Path, prefix: Path, dpi: int) -> list[Path]:
    """One PNG per page, <prefix>-<n>.png (pdftoppm pads n to the page count's width)."""
    for old in prefix.parent.glob(f"{prefix.name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), str(pdf), str(prefix)], check=True)
    return sorted(prefix.parent.glob(f"{prefix.name}-*.png"))


def _slug(sheet: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", sheet.lower()).strip("_")


def render(asked: str, year: int | None, dpi: int) -> tuple[list[Path], dict[str, list[Path]]]:
    """The HTML pack's pages, and each XLSX sheet's pages in workbook order, as PNGs under data/."""
    import openpyxl

    from orchestration.lib.publish.packs import content, write_pack
    from portal.figures import configured_pack_views

    views = configured_pack_views()
    pack = content.build_pack(asked, year, views)
    folder = screens_dir()
    folder.mkdir(parents=True, exist_ok=True)
    (page,) = write_pack(asked, pack.year, "html", views, folder / "pack.html")
    (workbook,) = write_pack(asked, pack.year, "xlsx", views, folder / "pack.xlsx")
    with chromium() as browser:
        html_pages = to_png(print_html(browser, page, folder / "pack_html.pdf"), folder / "pack_html", dpi)

    printed = print_xlsx(workbook, folder / "pack_xlsx.pdf")
    sheets = openpyxl.load_workbook(workbook, read_only=True).sheetnames
    owners = sheet_of_each_page(page_texts(printed), sheets, f"{pack.unit.name}, {pack.year}: ")
    pngs = to_png(printed, folder / "pack_xlsx", dpi)
    sheet_pages: dict[str, list[Path]] = {sheet: [] for sheet in sheets}
    for sheet, png in zip(owners, pngs, strict=True):
        sheet_pages[sheet].append(png)
    return html_pages, sheet_pages


def copy_to_docs(html_pages: list[Path], sheet_pages: dict[str, list[Path]]) -> list[Path]:
    """docs/pack_html_<n>.png for every HTML page; docs/pack_xlsx_<sheet>.png, each sheet's first page."""
    for old in [*DOCS.glob("pack_html*.png"), *DOCS.glob("pack_xlsx*.png")]:
        old.unlink()
    copied = [shutil.copyfile(png, DOCS / f"pack_html_{n}.png") for n, png in enumerate(html_pages, start=1)]
    for position, (sheet, pages) in enumerate(sheet_pages.items(), start=1):
        if pages:
            copied.append(shutil.copyfile(pages[0], DOCS / f"pack_xlsx_{position}_{_slug(sheet)}.png"))
    return [Path(p) for p in copied]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m orchestration.pack_screens", description=__doc__.split("\n")[0])
    parser.add_argument("--la", default=DEFAULT_COUNCIL, help=f"council code or name (default {DEFAULT_COUNCIL})")
    parser.add_argument("--year", type=int, help="collection year (default: the latest with figures)")
    parser.add_argument("--dpi", type=int, default=100, help="PNG resolution (default 100)")
    parser.add_argument("--no-docs", action="store_true", help="render under data/ only; leave docs/ alone")
    args = parser.parse_args(argv)
    html_pages, sheet_pages = render(args.la, args.year, args.dpi)
    print(f"HTML pack: {len(html_pages)} pages")
    for sheet, pages in sheet_pages.items():
        print(f"XLSX {sheet}: {len(pages)} page{'s' if len(pages) != 1 else ''}")
    print(f"Pages as PNG: {screens_dir()}")
    if not args.no_docs:
        for path in copy_to_docs(html_pages, sheet_pages):
            print(path.relative_to(paths.PROJECT_ROOT))
    return 0


if __name__ == "__main__":
    sys.exit(main())
