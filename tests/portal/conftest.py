"""One published warehouse for every portal test, built once per test session.

The scenario: DfE has published up to 2023 (its release is cut at 2023), and four councils sent
returns for 2023 and 2024, so their 2024 figures are *provisional*. Councils 301, 316, 203 and 202
take part in the test agreement (301 shares with its neighbours, 316 with nobody, 203 with every
participant), 302 joins only in the future, and 330 (Birmingham) does not take part.

The pipeline runs once (under a file lock, so parallel test workers share it); each test module
works on its own copy of the data folder and landing zone, so uploads and republishes in one module
never touch another's.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from orchestration.lib import paths
from tests.integration.helpers import built_once, private_copy, publish_scenario

HERE = Path(__file__).parent
AGREEMENT = HERE / "agreement.toml"
RETURN_COUNCILS = ["301", "316", "203", "330"]
YEARS = [2023, 2024]
DFE_LAST_YEAR = 2023
PASSWORD = "a long test password"
ACCOUNTS = {
    # email: (role, council)
    "officer@301.test": ("council", "301"),
    "officer@316.test": ("council", "316"),
    "officer@203.test": ("council", "203"),
    "officer@202.test": ("council", "202"),
    "officer@302.test": ("council", "302"),
    "analyst@region.test": ("analyst", None),
    "engineer@region.test": ("engineer", None),
}


def _cut_release_at_last_year() -> None:
    for release in paths.dfe_releases_dir().glob("*.csv"):
        with release.open(encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        with release.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle).writerows([rows[0], *(r for r in rows[1:] if int(r[0]) <= DFE_LAST_YEAR)])


def _build(root: Path) -> None:
    publish_scenario(
        root, AGREEMENT, councils=RETURN_COUNCILS, years=YEARS, edit_landing_zone=_cut_release_at_last_year
    )


@pytest.fixture(scope="session")
def portal_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The published scenario, built once and shared by every worker of the test session."""
    return built_once(tmp_path_factory, "portal_base", _build)


@pytest.fixture(scope="module")
def portal_root(portal_base: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private copy of the scenario for one test module, with the environment pointing at it."""
    with private_copy(portal_base, tmp_path_factory, AGREEMENT, "portal") as root:
        yield root


@dataclass
class Portal:
    app: object
    settings: object

    @property
    def store(self):
        return self.app.state.portal.store


def make_portal(**overrides) -> Portal:
    from portal import security
    from portal.app import create_app
    from portal.settings import load_settings
    from portal.store import open_store

    settings = load_settings(**{"republish": "off", **overrides})
    store = open_store(settings)
    for email, (role, council) in ACCOUNTS.items():
        if store.user_by_email(email) is None:
            user = store.add_user(email, role, council, security.hash_password(PASSWORD))
            store.set_password(user.id, user.password_hash, must_change=False)
    return Portal(create_app(settings, store=store), settings)


@pytest.fixture(scope="module")
def portal(portal_root: Path) -> Portal:
    return make_portal()


def sign_in(client: TestClient, email: str, password: str = PASSWORD) -> object:
    page = client.get("/sign-in")
    token = re.search(r'name="form_token" value="([^"]+)"', page.text).group(1)
    return client.post(
        "/sign-in", data={"email": email, "password": password, "form_token": token}, follow_redirects=False
    )


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


@pytest.fixture
def client_for(portal: Portal) -> Iterator:
    """Signed-in clients: client_for(email) -> a TestClient with that person's session."""
    clients = []

    def make(email: str | None = None) -> TestClient:
        client = TestClient(portal.app, follow_redirects=False)
        client.__enter__()
        clients.append(client)
        if email:
            response = sign_in(client, email)
            assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def token_for(portal: Portal, email: str) -> str:
    from portal import security

    user = portal.store.user_by_email(email)
    secret = security.new_api_token()
    portal.store.add_token(user.id, security.digest(secret), "test")
    return secret


def a_return(root: Path, code: str, year: int) -> bytes:
    """The council's generated return for the year, as it sits in the scenario's landing zone."""
    return (root / "raw" / "returns" / code / str(year) / f"csww_{year}.xml").read_bytes()
