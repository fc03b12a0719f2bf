"""The dashboard's routes: pages, sign-in, static files and CSV downloads.

:func:`dashboard_router` returns a FastAPI router to mount at ``/``. Every page is rendered on
the server (HTML with its figures as inline JSON) so the first chart draws as soon as
``plotly.min.js`` (served from the installed plotly package, never a CDN) has loaded.
"""

from __future__ import annotations

import gzip
import hashlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from functools import cache
from importlib import import_module
from importlib.resources import files
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlencode

import anyio.to_thread
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from journeykit.__about__ import __version__
from journeykit.errors import JourneykitError, NotFound
from journeykit.server.dashboard.auth import COOKIE, KeyCheck, Verifier, presented_key
from journeykit.server.dashboard.cache import WorkspaceCache
from journeykit.server.dashboard.context import PageContext
from journeykit.server.dashboard.html import esc, notice, page
from journeykit.server.dashboard.warm import Warmer

if TYPE_CHECKING:
    from journeykit.store import Workspace

log = logging.getLogger("journeykit.server.dashboard")

#: path -> (title, module under journeykit.server.dashboard.pages)
PAGES: dict[str, tuple[str, str]] = {
    "/": ("Overview", "overview"),
    "/journey": ("Journey map", "journey"),
    "/funnels": ("Funnels", "funnels"),
    "/flows": ("Flows", "flows"),
    "/retention": ("Retention", "retention"),
    "/segments": ("Segments and personas", "segments"),
    "/voc": ("Voice of the customer", "voc"),
    "/people": ("People", "people"),
    "/automations": ("Automations and alerts", "automations"),
}

_STATIC_TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8"}
_FAVICON = (
    b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" '
    b'rx="3" fill="#111827"/><path d="M3 11 L6 7 L9 9 L13 4" stroke="#60a5fa" stroke-width="2" '
    b'fill="none"/></svg>'
)
#: Pages hold people's data: never stored by a cache, framed only by the dashboard itself.
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
_LONG_CACHE = "public, max-age=31536000, immutable"


@dataclass
class _State:
    keys: KeyCheck
    cache: WorkspaceCache
    version: str


@cache
def _plotly_js() -> tuple[bytes, bytes]:
    """plotly.min.js from the installed plotly package, plain and gzipped."""
    from plotly.offline import get_plotlyjs

    raw = get_plotlyjs().encode("utf-8")
    return raw, gzip.compress(raw, compresslevel=6, mtime=0)


@cache
def _static(name: str) -> bytes:
    return (files("journeykit.server.dashboard") / "static" / name).read_bytes()


@cache
def _asset_version() -> str:
    from importlib.metadata import version

    # a new plotly or a new stylesheet gets a new URL, so browsers drop their long-cached copy
    digest = hashlib.sha256(f"{__version__} {version('plotly')}".encode())
    for name in ("dashboard.css", "dashboard.js"):
        digest.update(_static(name))
    return digest.hexdigest()[:12]


def _no_lock() -> None:
    return None


def _params(request: Request) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        if key != "key":
            out.setdefault(key, []).append(value)
    return out


def dashboard_router(
    get_workspace: Callable[..., Any],
    *,
    verify_key: Verifier | None = None,
    cache: WorkspaceCache | None = None,
    get_lock: Callable[..., Any] | None = None,
    warm: bool = True,
) -> APIRouter:
    """The dashboard as a FastAPI router, to mount at ``/``.

    Args:
        get_workspace: a FastAPI dependency returning the :class:`~journeykit.store.Workspace`.
        verify_key: ``verify_key(ws, token) -> bool`` deciding whether a key may read; default
            the workspace's key ring (read and admin keys may, write keys may not).
        cache: the result cache (one per router by default).
        get_lock: a FastAPI dependency returning the lock that serialises queries on the
            workspace's shared connection (pass the server's, so dashboard and query API never
            use it at once); default a lock per workspace owned by the dashboard.
        warm: after the first page of a workspace, compute the other pages' default views in
            a background thread (see :mod:`journeykit.server.dashboard.warm`); it stops when
            the app shuts down, before the workspace closes.

    Returns:
        The router: ``/`` (overview), ``/journey``, ``/funnels``, ``/flows``, ``/retention``,
        ``/segments``, ``/voc``, ``/people``, ``/automations``, ``/login``, ``/logout``,
        ``/static/...`` and CSV downloads.

    >>> import journeykit, tempfile
    >>> ws = journeykit.open(tempfile.mkdtemp())
    >>> router = dashboard_router(lambda: ws)
    >>> "/funnels" in {r.path for r in router.routes}
    True
    """
    state = _State(KeyCheck(verify_key), cache or WorkspaceCache(), _asset_version())
    warmer = Warmer(state.cache) if warm else None

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        yield
        # before the app closes the workspace: no warming query may still be running
        if warmer is not None:
            await anyio.to_thread.run_sync(warmer.stop, 60.0)

    router = APIRouter(include_in_schema=False, lifespan=lifespan)
    workspace = Depends(get_workspace)
    engine_lock = Depends(get_lock or _no_lock)

    def guard(request: Request, ws: Workspace) -> Response | None:
        """None when the request may read; else where to go (sign in, or a clean URL)."""
        token = presented_key(request)
        if not state.keys(ws, token):
            if request.url.path.endswith(".csv") or request.url.path.startswith("/journey/pain"):
                return Response("a read key is needed", status_code=401, media_type="text/plain")
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            bad = "&bad=1" if token else ""
            return RedirectResponse(f"/login?{urlencode({'next': target})}{bad}", status_code=303)
        if request.query_params.get("key"):
            # keep the key out of the address bar and history: move it into the cookie
            rest = [(k, v) for k, v in request.query_params.multi_items() if k != "key"]
            clean = request.url.path + (f"?{urlencode(rest)}" if rest else "")
            response = RedirectResponse(clean, status_code=303)
            _set_cookie(response, token or "", request)
            return response
        return None

    @router.get("/static/plotly.min.js")
    def plotly_js(request: Request) -> Response:
        raw, packed = _plotly_js()
        headers = {"Cache-Control": _LONG_CACHE, "Vary": "Accept-Encoding"}
        if "gzip" in request.headers.get("accept-encoding", ""):
            headers["Content-Encoding"] = "gzip"
            return Response(packed, media_type=_STATIC_TYPES[".js"], headers=headers)
        return Response(raw, media_type=_STATIC_TYPES[".js"], headers=headers)

    @router.get("/static/{name}")
    def static(name: str) -> Response:
        suffix = name[name.rfind(".") :] if "." in name else ""
        if name not in ("dashboard.css", "dashboard.js"):
            return Response("not found", status_code=404, media_type="text/plain")
        return Response(
            _static(name),
            media_type=_STATIC_TYPES[suffix],
            headers={"Cache-Control": _LONG_CACHE},
        )

    @router.get("/favicon.ico")
    def favicon() -> Response:
        return Response(
            _FAVICON, media_type="image/svg+xml", headers={"Cache-Control": "public, max-age=86400"}
        )

    @router.get("/login")
    def login_form(request: Request) -> Response:
        return HTMLResponse(
            _login_html(
                request.query_params.get("next", "/"), bool(request.query_params.get("bad"))
            )
        )

    @router.post("/login")
    async def login(request: Request, ws: Any = workspace) -> Response:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        token = (form.get("key") or [""])[0].strip()
        target = _safe_next((form.get("next") or ["/"])[0])
        if not state.keys(ws, token):
            return HTMLResponse(_login_html(target, True), status_code=401)
        response = RedirectResponse(target, status_code=303)
        _set_cookie(response, token, request)
        return response

    @router.get("/logout")
    def logout() -> Response:
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    def add_page(path: str, title: str, module: str) -> None:
        def handler(request: Request, ws: Any = workspace, lock: Any = engine_lock) -> Response:
            denied = guard(request, ws)
            if denied is not None:
                return denied
            ctx = PageContext(ws=ws, params=_params(request), cache=state.cache, lock=lock)
            if warmer is not None:
                warmer.start(ws, lock, skip=module)
            try:
                body = render_page(ctx, module)
            except JourneykitError as exc:
                body = notice(str(exc), kind="error")
            except Exception:
                # a page must never show a traceback: log it, say what failed
                log.exception("dashboard page %s failed", path)
                body = notice(
                    "This page could not be built; the server log has the details.", kind="error"
                )
            return HTMLResponse(
                page(title, body, active=path, version=state.version), headers=PAGE_HEADERS
            )

        handler.__name__ = f"page_{module}"
        router.add_api_route(path, handler, methods=["GET"], response_class=HTMLResponse)

    for path, (title, module) in PAGES.items():
        add_page(path, title, module)

    def add_fragment(path: str, module: str, function: str, media_type: str) -> None:
        def handler(request: Request, ws: Any = workspace, lock: Any = engine_lock) -> Response:
            denied = guard(request, ws)
            if denied is not None:
                return denied
            ctx = PageContext(ws=ws, params=_params(request), cache=state.cache, lock=lock)
            build = getattr(import_module(f"journeykit.server.dashboard.pages.{module}"), function)
            try:
                result = build(ctx)
            except NotFound as exc:
                return Response(esc(str(exc)), status_code=404, media_type="text/plain")
            except JourneykitError as exc:
                if media_type == "text/html":
                    return HTMLResponse(notice(str(exc), kind="error"), status_code=400)
                return Response(str(exc), status_code=400, media_type="text/plain")
            response = (
                result if isinstance(result, Response) else Response(result, media_type=media_type)
            )
            response.headers.update(PAGE_HEADERS)
            return response

        handler.__name__ = f"{module}_{function}"
        router.add_api_route(path, handler, methods=["GET"])

    add_fragment("/funnels/dropoffs.csv", "funnels", "dropoffs_csv", "text/csv")
    add_fragment("/journey/pain", "journey", "pain_detail", "text/html")
    add_fragment("/journey/map", "journey", "map_page", "text/html")
    add_fragment("/segments/members.csv", "segments", "members_csv", "text/csv")
    return router


def render_page(ctx: PageContext, module: str) -> str:
    """A page's body, cached per workspace and parameters until the data changes."""
    build = import_module(f"journeykit.server.dashboard.pages.{module}").render
    args = tuple(sorted((k, tuple(v)) for k, v in ctx.params.items()))
    # unlocked: the page only assembles results that are computed (and locked) one by one
    return ctx.cached(f"page:{module}", args, lambda: build(ctx), engine=False)


def _set_cookie(response: Response, token: str, request: Request) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
        path="/",
        max_age=30 * 86400,
    )


def _safe_next(target: str) -> str:
    """Only paths on this site (no ``//host`` or ``scheme:``) are followed after sign-in."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _login_html(target: str, bad: bool) -> str:
    from journeykit.server.dashboard.html import attr

    error = notice("That key is not a read key of this workspace.", kind="warn") if bad else ""
    return f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Sign in · journeykit</title><link rel="stylesheet" href="/static/dashboard.css?v={_asset_version()}">
<link rel="icon" href="/favicon.ico" type="image/svg+xml"></head><body>
<div class="login"><h1>journeykit</h1>
<p class="muted">Sign in with a read key of this workspace (an admin key works too).</p>
{error}<form method="post" action="/login">
<input type="hidden" name="next" value="{attr(_safe_next(target))}">
<label class="field"><span>Read key</span>
<input type="password" name="key" autocomplete="current-password" required autofocus></label>
<button class="primary" type="submit">Sign in</button></form></div></body></html>"""
