"""The FastAPI application: collector, query API, admin API, health, and the OpenAPI document.

``create_app(ws_path, settings)`` builds the app; the workspace, spool, loader and key ring
open when it starts (its lifespan) and close when it stops: the spool is written out and
loaded into the store before the workspace closes. ``serve`` runs it with uvicorn.
"""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from journeykit.errors import InputError, JourneykitError, NoSpec, NotFound, StoreError
from journeykit.server.models import ErrorResponse, Health, Readiness
from journeykit.server.state import ApiError

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from journeykit.server.collector import FastCollector
    from journeykit.server.settings import ServerSettings

log = logging.getLogger("journeykit.server")
access = logging.getLogger("journeykit.server.access")

DESCRIPTION = """\
Segment-compatible event collection, and queries over the journeys it builds.

* **collect** (write key): `/v1/track`, `/v1/identify`, `/v1/page`, `/v1/screen`, `/v1/alias`,
  `/v1/group`, `/v1/batch`. A 200 means the accepted messages are fsynced to disk; re-sent
  messages (same `messageId`) are stored once.
* **query** (read or admin key): the workspace summary, funnels, flows, retention, KPIs, the
  journey map, a person's timeline.
* **admin** (admin key): keys, a person's export and erasure, the spool.

Keys go in `Authorization: Basic <base64(key:)>` (Segment's way) or `Authorization: Bearer <key>`.
Every error is JSON: `{"error": code, "message": ..., "field": ..., "errors": [...]}`.
"""


def _error(exc: ApiError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)


def _install_errors(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(_: Request, exc: ApiError) -> JSONResponse:
        return _error(exc)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        problems = exc.errors()
        first = problems[0] if problems else {}
        where = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path")]
        field = ".".join(where) or "body"
        message = str(first.get("msg", "invalid request"))
        return _error(ApiError(400, "invalid_request", f"{field}: {message}", field=field))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed"}
        return _error(
            ApiError(
                exc.status_code,
                codes.get(exc.status_code, "http_error"),
                str(exc.detail),
                headers=dict(exc.headers or {}),
            )
        )

    @app.exception_handler(InputError)
    async def input_error(_: Request, exc: InputError) -> JSONResponse:
        return _error(ApiError(400, "invalid_request", str(exc), field=exc.field))

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return _error(ApiError(404, "not_found", str(exc)))

    @app.exception_handler(NoSpec)
    async def no_spec(_: Request, exc: NoSpec) -> JSONResponse:
        # the workspace cannot answer until it says what its data means
        return _error(ApiError(409, "no_spec", str(exc)))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.error(
            "request failed",
            exc_info=exc,
            extra={"path": request.url.path, "method": request.method},
        )
        code = "store_error" if isinstance(exc, StoreError) else "internal_error"
        text = "an internal error; it is logged" + (
            f" ({type(exc).__name__})" if isinstance(exc, JourneykitError) else ""
        )
        return _error(ApiError(500, code, text))


class AccessLog:
    """ASGI middleware writing one JSON log line per request (collector calls log their own,
    see :class:`journeykit.server.collector.FastCollector`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_status)
        finally:
            self._log(scope, status, started)

    def _log(self, scope: Scope, status: int, started: float) -> None:
        access.info(
            "request",
            extra={
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
                "key_id": scope.get("state", {}).get("key_id"),
            },
        )


class JourneykitApp(FastAPI):
    """FastAPI, with the collector's calls answered ahead of the middleware stack.

    Collector calls are most of the traffic and the cheapest to answer; FastAPI's middleware
    and routing would cost more than the call itself (see :class:`FastCollector`).
    """

    fast: FastCollector | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fast = self.fast
        if fast is not None and fast.wants(scope):
            scope["app"] = self
            await fast(scope, receive, send)  # sends the security headers itself
            return
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return

        async def secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                _secure(message)
            await send(message)

        await super().__call__(scope, receive, secured)


def _secure(message: Message) -> None:
    """``nosniff`` and a Content-Security-Policy on every answer, errors included (a page
    may set its own policy)."""
    from starlette.datastructures import MutableHeaders

    from journeykit.server.state import API_POLICY, PAGE_POLICY

    headers = MutableHeaders(scope=message)
    headers["x-content-type-options"] = "nosniff"
    if "content-security-policy" not in headers:
        page = headers.get("content-type", "").startswith("text/html")
        headers["content-security-policy"] = PAGE_POLICY if page else API_POLICY


def _lifespan(ws_path: Path, settings: ServerSettings) -> Any:
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = _open_state(ws_path, settings)
        app.state.jk = state
        log.info(
            "collector started",
            extra={
                "workspace": str(ws_path),
                "spool_backlog_bytes": state.spool.backlog_bytes(),
                "committed": str(state.spool.committed),
            },
        )
        try:
            yield
        finally:
            _close_state(state, settings)

    return lifespan


def _open_state(ws_path: Path, settings: ServerSettings) -> Any:
    import journeykit
    from journeykit.server.keys import KeyRing, RateLimits
    from journeykit.server.loader import Loader
    from journeykit.server.spool import Spool
    from journeykit.server.state import ServerState, bounds_for

    ws = journeykit.open(ws_path)
    spool = Spool(
        ws.path / "spool",
        segment_bytes=settings.spool_segment_bytes,
        quota_bytes=settings.spool_quota_bytes,
    )
    spool.start()
    loader = Loader(
        ws,
        spool,
        batch_messages=settings.load_batch_messages,
        # automations want events soon: a shorter wait for company (the live path)
        linger_seconds=(
            min(settings.load_linger_seconds, 0.2)
            if settings.automations
            else settings.load_linger_seconds
        ),
        max_depth=settings.max_json_depth,
    )
    loader.start()
    orchestrator = None
    if settings.automations:
        from journeykit.server.live import LiveOrchestrator

        orchestrator = LiveOrchestrator(ws, settings)
        orchestrator.start()
        loader.listeners.append(orchestrator.notify)
    limits = RateLimits(
        {
            "write": (settings.write_rate, settings.write_burst),
            "read": (settings.read_rate, settings.read_burst),
            "admin": (settings.admin_rate, settings.admin_burst),
        }
    )
    return ServerState(
        ws=ws,
        settings=settings,
        spool=spool,
        loader=loader,
        keys=KeyRing(ws),
        limits=limits,
        bounds=bounds_for(ws, settings),
        orchestrator=orchestrator,
    )


def _close_state(state: Any, settings: ServerSettings) -> None:
    log.info("collector stopping: loading what is spooled")
    state.spool.close()
    flushed = state.loader.stop(settings.shutdown_timeout_seconds)
    if flushed:  # what the spool held is in the store: its raw messages leave the disk
        state.spool.drop_loaded()
    log.info(
        "collector stopped",
        extra={
            "flushed": flushed,
            "spool_backlog_bytes": state.spool.backlog_bytes(),
            "loaded": state.loader.stats.loaded,
        },
    )
    if state.orchestrator is not None:
        # after the loader: the last events stored are handled before the orchestrator stops
        state.orchestrator.stop(settings.shutdown_timeout_seconds)
    state.keys.close()
    state.ws.close()


def _health_routes(app: FastAPI) -> None:
    @app.get("/healthz", response_model=Health, tags=["operations"])
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        response_model=Readiness,
        tags=["operations"],
        responses={503: {"model": Readiness, "description": "Not ready; see the checks."}},
    )
    def readyz(request: Request) -> JSONResponse:
        """Readiness: the spool takes writes and is under 80 % full, the loader runs and keeps
        up (its last load did not fail, the oldest message waiting arrived less than
        ``ready_max_lag_seconds`` ago), the store answers."""
        state = request.app.state.jk
        try:
            store = state.ws.store.scalar("SELECT 1") == 1
        except JourneykitError:
            store = False
        loader = state.loader.status()
        checks = {
            "spool": state.spool.healthy,
            # not ready a little before full, so that balancers send traffic elsewhere first
            "spool_room": state.spool.backlog_bytes() < 0.8 * state.spool.quota_bytes,
            "loader": loader.alive and not loader.failing,
            "loader_lag": loader.lag_seconds <= state.settings.ready_max_lag_seconds,
            "store": store,
        }
        ready = all(checks.values())
        body = {
            "ready": ready,
            "checks": checks,
            "spool_backlog_bytes": state.spool.backlog_bytes(),
            "loader": _loader_body(loader),
        }
        return JSONResponse(body, status_code=200 if ready else 503)

    @app.get(
        "/metrics",
        tags=["operations"],
        response_class=PlainTextResponse,
        responses={
            200: {"content": {"text/plain": {"schema": {"type": "string"}}}},
            500: {
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/ErrorResponse"}}
                },
                "description": "An internal error (logged).",
            },
        },
    )
    def metrics(request: Request) -> PlainTextResponse:
        """The collector's and loader's gauges and counters, in Prometheus' text format."""
        from journeykit.server.metrics import exposition

        body, content_type = exposition(request.app.state.jk)
        return PlainTextResponse(body, media_type=content_type)


def _loader_body(status: Any) -> dict[str, Any]:
    def when(value: Any) -> str | None:
        return value.isoformat() + "Z" if value is not None else None

    return {
        "alive": status.alive,
        "failing": status.failing,
        "lag_events": status.lag_events,
        "lag_seconds": round(status.lag_seconds, 3),
        "last_error": status.last_error,
        "last_error_at": when(status.last_error_at),
        "last_progress_at": when(status.last_progress_at),
        "dead_letters": status.dead_letters,
    }


def create_app(ws_path: str | Path, settings: ServerSettings | None = None) -> FastAPI:
    """The server for one workspace (opened when the app starts, closed when it stops).

    Args:
        ws_path: the workspace folder.
        settings: server settings (default: :func:`load_server_settings`).

    >>> import tempfile
    >>> app = create_app(tempfile.mkdtemp())
    >>> "/v1/track" in app.openapi()["paths"]
    True
    """
    from journeykit.server import admin, collector, query
    from journeykit.server.openapi import install_openapi
    from journeykit.server.settings import load_server_settings

    settings = settings or load_server_settings()
    app = JourneykitApp(
        title="journeykit",
        version=_version(),
        description=DESCRIPTION,
        lifespan=_lifespan(Path(ws_path), settings),
        responses={500: {"model": ErrorResponse, "description": "An internal error (logged)."}},
        # FastAPI's pages load their scripts from a CDN: see _api_docs for ours
        docs_url=None,
        redoc_url=None,
        **_no_telemetry(),
    )
    _install_errors(app)
    _health_routes(app)
    app.include_router(collector.router())
    app.include_router(query.router())
    app.include_router(admin.router())
    install_openapi(app)
    if settings.api_docs:
        _api_docs(app)
    if settings.dashboard:
        _mount_dashboard(app)
    if settings.access_log not in ("all", "errors", "off"):
        raise InputError("access_log is one of all, errors, off", field="server.access_log")
    if not 1 <= settings.max_json_depth <= 200:
        raise InputError(
            "max_json_depth is between 1 and 200 (deeper JSON cannot be read back everywhere)",
            field="server.max_json_depth",
        )
    app.fast = collector.FastCollector(settings.access_log, settings.cors_origins)
    if settings.access_log != "off":
        app.add_middleware(AccessLog)  # type: ignore[arg-type]
    if settings.cors_origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(
            CORSMiddleware,  # type: ignore[arg-type]
            allow_origins=list(settings.cors_origins),
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Content-Encoding"],
        )
    return app


def _api_docs(app: FastAPI) -> None:
    """The interactive API docs at ``/docs``: Swagger UI served from the installed
    ``swagger-ui-bundle-v2`` package, so the page loads nothing from another site."""
    try:
        import swagger_ui_bundle
    except ImportError:
        raise InputError(
            "api_docs needs the swagger-ui-bundle-v2 package: pip install 'journeykit[apidocs]'",
            field="server.api_docs",
        ) from None
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from fastapi.staticfiles import StaticFiles

    app.mount(
        "/docs/assets",
        StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
        name="api-docs-assets",
    )

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="journeykit API",
            swagger_js_url="/docs/assets/swagger-ui-bundle.js",
            swagger_css_url="/docs/assets/swagger-ui.css",
            swagger_favicon_url="/docs/assets/favicon-32x32.png",
        )


def _mount_dashboard(app: FastAPI) -> None:
    """The dashboard pages at ``/``, when the dashboard package is installed.

    They share the server's workspace, key ring and query lock.
    """
    try:
        from journeykit.server.dashboard import dashboard_router
    except ImportError:
        return

    def workspace(request: Request) -> Any:
        return request.app.state.jk.ws

    def lock(request: Request) -> Any:
        return request.app.state.jk.query_lock

    def may_read(_ws: Any, token: str) -> bool:
        key = app.state.jk.keys.verify(token)
        return key is not None and key.kind in ("read", "admin")

    app.include_router(dashboard_router(workspace, verify_key=may_read, get_lock=lock))


def _no_telemetry() -> dict[str, Any]:
    """FastAPI's own OpenTelemetry hooks (newer releases) look up providers on every request."""
    import inspect

    if "telemetry" in inspect.signature(FastAPI.__init__).parameters:
        return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    return {}


def _version() -> str:
    from journeykit.__about__ import __version__

    return __version__


def serve(
    ws_path: str | Path,
    host: str = "127.0.0.1",
    port: int = 8000,
    settings: ServerSettings | None = None,
) -> None:
    """Run the server with uvicorn until SIGINT/SIGTERM, then stop gracefully.

    On stop the server takes no new connections, answers the requests in flight, writes out
    the spool and loads it into the store (within ``shutdown_timeout_seconds``).

    Raises:
        WorkspaceError: the workspace cannot be opened (not a folder, or another process
            holds its store).
    """
    import json
    import os
    import sys

    import uvicorn

    import journeykit
    from journeykit.server.logs import configure
    from journeykit.server.settings import load_server_settings

    settings = settings or load_server_settings()
    # fail here, with the reason, rather than inside uvicorn's startup (bad path, store locked,
    # automations that do not validate, old events waiting without replay)
    with journeykit.open(ws_path) as ws:
        if settings.automations:
            from journeykit.server.live import check_start

            check_start(ws, settings)
    log_config = configure(settings.log_level)
    # the loader's Python work shares the GIL with the event loop: hand it over every
    # millisecond instead of every five, so answers do not wait behind a load
    sys.setswitchinterval(0.001)
    # where this server listens, for commands that find the workspace held (the CLI's reads)
    marker = Path(ws_path) / "server.json"
    local = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
    tmp = marker.with_name(marker.name + ".tmp")
    tmp.write_text(json.dumps({"url": f"http://{local}:{port}", "pid": os.getpid()}))
    os.replace(tmp, marker)
    try:
        uvicorn.run(
            create_app(ws_path, settings),
            host=host,
            port=port,
            log_config=log_config,
            access_log=False,
            proxy_headers=False,
            server_header=False,
            timeout_graceful_shutdown=10,
        )
    finally:
        marker.unlink(missing_ok=True)
