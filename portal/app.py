"""The portal's web application: `create_app()` builds it; `workforce serve` runs it with uvicorn."""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import threading
from collections import OrderedDict
from collections.abc import Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, PrefixLoader, select_autoescape
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from portal import adapter, agreement, figures
from portal.auth import RedirectTo
from portal.republish import Republisher
from portal.settings import REPUBLISH_RUN, Settings, load_settings
from portal.store import Store, open_store

log = logging.getLogger("portal")

PACKAGE_DIR = Path(__file__).parent
FRONTEND_DIR = PACKAGE_DIR / "frontend"
GOVUK_DIST = FRONTEND_DIR / "node_modules" / "govuk-frontend" / "dist" / "govuk"
BUILD_DIR = PACKAGE_DIR / "static" / "build"
SHAPED_KEPT = 2048
API_PREFIX = "/api/v1"


def assets_installed() -> bool:
    return (BUILD_DIR / "portal.css").exists() and (GOVUK_DIST / "govuk-frontend.min.js").exists()


@dataclass
class Portal:
    """Everything a request needs, built once per application."""

    settings: Settings
    store: Store
    agreement: agreement.Agreement
    reader: adapter.PublishedReader | adapter.ServerPublishedReader
    templates: Jinja2Templates
    pack_views: adapter.PackViews
    """Where packs read the published tables, as the council each is for may see them."""
    republisher: Republisher | None = None
    _facts: tuple[str, figures.Facts] | None = None
    _shaped: OrderedDict[tuple[Any, ...], Any] = field(default_factory=OrderedDict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def cache_dir(self) -> Path:
        return self.settings.state_dir / "cache"

    def pack_sharing_key(self) -> str:
        """Packs show what the agreement lets their council see, which changes with the agreement's
        text and with the day (a council joins or leaves on a date): cached packs are kept apart by both."""
        text = self.settings.agreement_path.read_bytes()
        return hashlib.sha256(text + dt.date.today().isoformat().encode()).hexdigest()[:16]

    def facts(self, version: str, cur: Any) -> figures.Facts:
        """Councils and year facts of the published version, read once per version."""
        with self._lock:
            if self._facts is None or self._facts[0] != version:
                self._facts = (version, figures.facts(cur))
                self._shaped.clear()
                for kind in ("packs", "tables"):
                    adapter.prune_caches(self.cache_dir / kind)
            return self._facts[1]

    def shaped(self, key: tuple[Any, ...], compute: Callable[[], Any]) -> Any:
        """Figures shaped for one viewer, kept for the published version: a version never changes,
        and the day is in the key because the agreement's dates decide who sees what."""
        key = (*key, dt.date.today())
        with self._lock:
            if key in self._shaped:
                self._shaped.move_to_end(key)
                return self._shaped[key]
        value = compute()
        with self._lock:
            self._shaped[key] = value
            while len(self._shaped) > SHAPED_KEPT:
                self._shaped.popitem(last=False)
        return value


class BodyLimit:
    """Refuses request bodies beyond the upload cap (plus room for the form) before they are stored."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.limit:
            await _too_large(scope, send, self.limit)
            return
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _BodyTooLarge()
            return message

        try:
            await self.app(scope, counted, send)
        except _BodyTooLarge:
            await _too_large(scope, send, self.limit)


class _BodyTooLarge(Exception):
    pass


async def _too_large(scope: Scope, send: Send, limit: int) -> None:
    megabytes = limit / (1024 * 1024)
    body = f"The upload is larger than {megabytes:.0f} MB, the most the portal accepts.".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """A fresh CSP nonce per response (the template's one inline script carries it) and headers
    that keep pages out of frames, caches and other sites' referrers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(16)
        scope.setdefault("state", {})["csp_nonce"] = nonce
        static = scope["path"].startswith(("/assets/", "/static/"))

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault(
                    "Content-Security-Policy",
                    f"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self'; img-src 'self' data:; "
                    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
                )
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "DENY")
                headers.setdefault("Referrer-Policy", "same-origin")
                if not static:
                    headers.setdefault("Cache-Control", "no-store")
            await send(message)

        await self.app(scope, receive, with_headers)


def _templates() -> Jinja2Templates:
    environment = Environment(
        loader=ChoiceLoader(
            [
                FileSystemLoader(PACKAGE_DIR / "templates"),
                PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
            ]
        ),
        autoescape=select_autoescape(["html"]),
        # Templates ship with the package and change only with it: no stat of every template on
        # every render (a fifth of a page's time under load).
        auto_reload=False,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return Jinja2Templates(env=environment)


def create_app(settings: Settings | None = None, *, store: Store | None = None) -> FastAPI:
    settings = settings or load_settings()
    terms = agreement.load(settings.agreement_path)
    portal = Portal(
        settings=settings,
        store=store or open_store(settings),
        agreement=terms,
        # With the portal's state on the server, its figures come from there too, under the policies.
        reader=(
            adapter.ServerPublishedReader(settings.database_url) if settings.database_url else adapter.PublishedReader()
        ),
        templates=_templates(),
        pack_views=figures.pack_views(settings, terms),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.republish == REPUBLISH_RUN:
            portal.republisher = Republisher(portal.store)
            portal.republisher.start()
        yield
        if portal.republisher:
            portal.republisher.stop()
        portal.reader.close()

    app = FastAPI(
        title="Social work workforce benchmarks API",
        version="1",
        description="Council returns, validation reports, benchmarks and packs. Every call needs a bearer "
        "token (`workforce tokens create --email …`); a council's token reaches its own council only.",
        docs_url=None,
        redoc_url=None,
        openapi_url=f"{API_PREFIX}/openapi.json",
        lifespan=lifespan,
    )
    app.state.portal = portal

    from portal.routes import api, engineer, pages

    app.include_router(pages.router)
    app.include_router(engineer.router)
    app.include_router(api.router)
    app.mount("/assets", StaticFiles(directory=GOVUK_DIST / "assets", check_dir=False), name="assets")
    app.mount("/static", StaticFiles(directory=BUILD_DIR, check_dir=False), name="static")

    @app.exception_handler(RedirectTo)
    async def redirect(request: Request, exc: RedirectTo):
        return RedirectResponse(exc.location, status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
        return pages.error_page(request, exc.status_code, str(exc.detail))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        problems = "; ".join(f"{'.'.join(map(str, e['loc'][1:]))}: {e['msg']}" for e in exc.errors())
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": problems}, status_code=422)
        return pages.error_page(request, 400, f"The request was not understood: {problems}.")

    @app.exception_handler(adapter.PackError)
    async def no_figures(request: Request, exc: adapter.PackError):
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": str(exc)}, status_code=404)
        return pages.error_page(request, 404, str(exc))

    app.add_middleware(SecurityHeaders)
    # Outermost, so an oversized body is refused before anything reads it.
    app.add_middleware(BodyLimit, limit=settings.max_upload_bytes + 64 * 1024)
    return app
