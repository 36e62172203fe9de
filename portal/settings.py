"""The portal's settings, read from the environment when asked for (never at import)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from orchestration.lib import paths
from portal import agreement

REPUBLISH_RUN, REPUBLISH_SENSOR, REPUBLISH_OFF = "run", "sensor", "off"
REPUBLISH_MODES = (REPUBLISH_RUN, REPUBLISH_SENSOR, REPUBLISH_OFF)


@dataclass(frozen=True)
class Settings:
    state_dir: Path
    """Accounts, sessions, tokens, submissions and the audit log (data/portal)."""
    agreement_path: Path
    max_upload_bytes: int
    secure_cookies: bool
    """Set when the portal is served over HTTPS (behind a TLS proxy): cookies are then never sent in clear."""
    republish: str
    """After an accepted upload: `run` starts `workforce run --job republish_returns` itself (one at a time),
    `sensor` leaves it to the landing-zone sensor of `make dev`, `off` only lands the file."""
    database_url: str | None = None
    """WORKFORCE_PORTAL_DATABASE_URL: keep the portal's state on the warehouse server (the shared
    deployment) as this login, under row-level security; unset: the SQLite file under state_dir."""
    session_idle_minutes: int = 30
    session_max_hours: int = 10
    login_failures_allowed: int = 5
    """Failed sign-ins per account (and 4x that per client address) in `login_window_minutes`."""
    login_window_minutes: int = 15

    @property
    def database_path(self) -> Path:
        return self.state_dir / "portal.sqlite"


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in {"1", "true", "yes", "on"}


def load_settings(**overrides: object) -> Settings:
    republish = os.environ.get("WORKFORCE_PORTAL_REPUBLISH", REPUBLISH_RUN)
    if republish not in REPUBLISH_MODES:
        raise ValueError(f"WORKFORCE_PORTAL_REPUBLISH must be one of {REPUBLISH_MODES}, not {republish!r}.")
    values: dict[str, object] = {
        "state_dir": paths.portal_dir(),
        "agreement_path": Path(os.environ.get("WORKFORCE_PORTAL_AGREEMENT", agreement.DEFAULT_PATH)),
        "max_upload_bytes": int(float(os.environ.get("WORKFORCE_PORTAL_MAX_UPLOAD_MB", "50")) * 1024 * 1024),
        "secure_cookies": _flag("WORKFORCE_PORTAL_SECURE_COOKIES"),
        "republish": republish,
        "database_url": os.environ.get("WORKFORCE_PORTAL_DATABASE_URL", "").strip() or None,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
