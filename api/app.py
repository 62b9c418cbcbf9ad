"""The FastAPI application: heavy objects load once (lifespan), routes stay thin."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request, Response, status
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline

from api.pages import install as install_pages
from api.ratelimit import PortalRateLimiter
from api.routes import router
from api.schemas import HealthPublic
from corpus.store import StoreError
from saring.config import Settings
from saring.jobs import EmbeddedWorker, JobRunner
from saring.service import Saring, saring_version
from screening.errors import InputError

log = logging.getLogger("saring.api")

UPLOAD_PATHS = ("/api/v1/batches", "/api/v1/archive/files", "/halaman/unggah")
ECHO_MAX = 200
"""Characters of an invalid input echoed in a 422 response."""


def _capped(error: Any) -> Any:
    """A validation error with its `input` (and `ctx`) echoed at most ECHO_MAX characters long."""
    e = dict(error)
    if "input" in e:
        text = e["input"] if isinstance(e["input"], str) else json.dumps(jsonable_encoder(e["input"]), default=str)
        if len(text) > ECHO_MAX:
            e["input"] = f"{text[:ECHO_MAX]}… ({len(text):,} characters, cut)"
    if "ctx" in e:
        e["ctx"] = {k: str(v)[:ECHO_MAX] for k, v in e["ctx"].items()}
    return jsonable_encoder(e)


PROPOSAL_PATH = "/api/v1/proposals"


def create_app(
    settings: Settings | None = None,
    *,
    saring: Saring | None = None,
    runner: JobRunner | None = None,
    embedded_worker: bool = True,
) -> FastAPI:
    """The app; `embedded_worker` runs batch jobs in this process (the embedded default)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        s = saring or Saring(settings or Settings())
        app.state.saring = s
        app.state.runner = runner or JobRunner(s)
        app.state.portal_limiter = PortalRateLimiter.from_settings(s.settings)
        app.state.ready = False
        worker = EmbeddedWorker(app.state.runner) if embedded_worker else None
        s.archive_context()  # model loaded and archive indexed before the first request
        app.state.ready = True
        if worker:
            worker.start()
        log.info("saring ready: model %s, %d archive entries", s.embedder.name, s.store.archive_count())
        try:
            yield
        finally:
            if worker:
                worker.stop()

    # FastAPIOffline: /docs and /redoc from assets inside the installed package (no CDN; machines may be offline)
    app: FastAPI = FastAPIOffline(
        title="saring",
        version=saring_version(),
        description="Pre-screening of KIPP innovation proposals: evidence for the panel, never a verdict.",
        lifespan=lifespan,
    )
    app.include_router(router)
    install_pages(app)

    @app.middleware("http")
    async def upload_limit(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        """Refuse an oversized upload or proposal from its Content-Length before reading it."""
        if request.method == "POST" and request.url.path in (*UPLOAD_PATHS, PROPOSAL_PATH):
            settings = request.app.state.saring.settings
            if request.url.path == PROPOSAL_PATH:
                limit, what = (
                    settings.max_proposal_kb * 1024,
                    f"{settings.max_proposal_kb} KiB (SARING_MAX_PROPOSAL_KB)",
                )
            else:
                limit, what = (
                    settings.max_upload_mb * 1024 * 1024,
                    f"{settings.max_upload_mb} MB (SARING_MAX_UPLOAD_MB)",
                )
            length = request.headers.get("content-length")
            if length and length.isdigit() and int(length) > limit:
                kind = "proposal" if request.url.path == PROPOSAL_PATH else "upload"
                return JSONResponse(
                    {"detail": f"{kind} larger than {what}"}, status_code=status.HTTP_413_CONTENT_TOO_LARGE
                )
        return await call_next(request)

    @app.exception_handler(StoreError)
    async def store_error(request: Request, exc: StoreError) -> JSONResponse:
        log.error("store error on %s: %s", request.url.path, exc)
        return JSONResponse({"detail": f"the store is unavailable: {exc}"}, status_code=503)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's 422, with each echoed input cut to ECHO_MAX characters (a 10 MB field is not sent back)."""
        return JSONResponse({"detail": [_capped(e) for e in exc.errors()]}, status_code=422)

    @app.exception_handler(InputError)
    async def input_error(request: Request, exc: InputError) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "reason": exc.reason_id}, status_code=400)

    @app.get("/healthz", response_model=HealthPublic, operation_id="health", tags=["service"])
    def healthz() -> HealthPublic:
        """The process is up."""
        return HealthPublic(status="ok")

    @app.get(
        "/readyz",
        response_model=HealthPublic,
        operation_id="ready",
        tags=["service"],
        responses={503: {"model": HealthPublic, "description": "Still loading."}},
    )
    def readyz(request: Request) -> HealthPublic | JSONResponse:
        """Model and archive index loaded; requests will be served."""
        if not getattr(request.app.state, "ready", False):
            return JSONResponse(HealthPublic(status="loading").model_dump(), status_code=503)
        s: Saring = request.app.state.saring
        return HealthPublic(
            status="ok",
            detail={"model": s.embedder.name, "archive_entries": s.store.archive_count(), "version": saring_version()},
        )

    return app
