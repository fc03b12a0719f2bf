"""The collector: Segment-compatible HTTP endpoints that spool messages before answering.

``POST /v1/track``, ``/v1/identify``, ``/v1/page``, ``/v1/screen``, ``/v1/alias``,
``/v1/group`` take one message; ``/v1/batch`` takes ``{"batch": [...]}``. The short forms
``/v1/t``, ``/v1/i``, ``/v1/p``, ``/v1/s``, ``/v1/a``, ``/v1/g`` and ``/v1/b`` are the same.
The write key comes as the HTTP Basic user name (as Segment's libraries send it), as a Bearer
token, or as ``writeKey`` in the body (for browsers' ``sendBeacon``). Bodies may be gzipped.

The answer is 200 once every accepted message is in the fsynced spool; refused messages of a
batch are listed by index beside the accepted ones. A request where nothing is acceptable gets
400 naming the field and the reason.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request, Response

from journeykit.errors import InputError, WorkspaceError
from journeykit.server.messages import (
    check_messages,
    encode_record,
    expand,
    read_payload,
)
from journeykit.server.models import (
    AliasMessage,
    Batch,
    CollectResponse,
    ErrorResponse,
    GroupMessage,
    IdentifyMessage,
    PageMessage,
    ScreenMessage,
    TrackMessage,
)
from journeykit.server.state import (
    SECURITY_HEADERS,
    ApiError,
    authenticate,
    presented_key,
    throttle,
)

if TYPE_CHECKING:
    from pydantic import BaseModel
    from starlette.types import Receive, Scope, Send

    from journeykit.server.state import ServerState

log = logging.getLogger("journeykit.server")
access = logging.getLogger("journeykit.server.access")

WRITE_SECURITY: list[dict[str, list[str]]] = [{"basicAuth": []}, {"bearerAuth": []}]

ENDPOINTS: dict[str, tuple[str | None, type[BaseModel], str]] = {
    "track": ("track", TrackMessage, "t"),
    "identify": ("identify", IdentifyMessage, "i"),
    "page": ("page", PageMessage, "p"),
    "screen": ("screen", ScreenMessage, "s"),
    "alias": ("alias", AliasMessage, "a"),
    "group": ("group", GroupMessage, "g"),
    "batch": (None, Batch, "b"),
}

COLLECT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"model": CollectResponse, "description": "Accepted messages are on disk."},
    400: {"model": ErrorResponse, "description": "Malformed JSON or no acceptable message."},
    401: {"model": ErrorResponse, "description": "No key, or an unknown or revoked one."},
    403: {"model": ErrorResponse, "description": "The key is not a write key."},
    413: {"model": ErrorResponse, "description": "The body is over the size limit."},
    415: {
        "model": ErrorResponse,
        "description": "A content type other than JSON (or text/plain), a charset other than "
        "UTF-8, or a content encoding other than gzip.",
    },
    429: {"model": ErrorResponse, "description": "Rate limit reached or the spool is full."},
    503: {"model": ErrorResponse, "description": "The spool cannot be written."},
}

_JSON = "application/json"


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


Reader = Callable[[int], Awaitable[bytes]]


def _inflate(body: bytes, encoding: str, limit: int) -> bytes:
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise ApiError(
            415, "unsupported_encoding", f"content encoding {encoding!r}; send gzip or none"
        )
    inflater = zlib.decompressobj(wbits=47)  # gzip or zlib header
    try:
        plain = inflater.decompress(body, limit + 1)
    except zlib.error as exc:
        raise ApiError(
            400, "invalid_body", f"the gzip body is damaged: {exc}", field="body"
        ) from None
    if len(plain) > limit or inflater.unconsumed_tail:
        raise ApiError(413, "too_large", f"the body inflates to over {limit} bytes", field="body")
    # a stream cut short (no trailer: its checksum and length unchecked) or followed by
    # more bytes is not the body the client meant to send
    if not inflater.eof:
        raise ApiError(400, "invalid_body", "the gzip body ends early (no trailer)", field="body")
    if inflater.unused_data:
        raise ApiError(
            400,
            "invalid_body",
            f"{len(inflater.unused_data)} bytes follow the gzip stream",
            field="body",
        )
    return plain


#: Media types a collector body may be declared as: JSON, and text/plain, which browsers'
#: SDKs send to skip the CORS preflight (analytics.js's fetch, RudderStack's sendBeacon).
#: A request without a Content-Type is read as JSON.
MEDIA_TYPES = ("application/json", "text/plain")


def _check_media_type(value: str | None) -> None:
    if not value:
        return
    kind, _, params = value.partition(";")
    kind = kind.strip().lower()
    if kind not in MEDIA_TYPES and not (kind.startswith("application/") and kind.endswith("+json")):
        raise ApiError(
            415,
            "unsupported_media_type",
            f"content type {kind!r}; send application/json (or text/plain)",
            field="content-type",
        )
    for param in params.split(";"):
        name, _, charset = param.partition("=")
        charset = charset.strip().strip('"').lower()
        if name.strip().lower() == "charset" and charset not in ("utf-8", "utf8"):
            raise ApiError(
                415,
                "unsupported_media_type",
                f"charset {charset!r}; send UTF-8",
                field="content-type",
            )


def _too_large(limit: int, length: str | None = None) -> ApiError:
    size = f"{length} bytes" if length else f"over {limit} bytes"
    return ApiError(
        413, "too_large", f"the body is {size}; at most {limit} are accepted", field="body"
    )


async def handle(
    state: ServerState,
    mtype: str | None,
    headers: Mapping[str, str],
    read: Reader,
    scope_state: dict[str, Any],
) -> tuple[int, bytes, dict[str, str] | None]:
    """One collector request: (status, JSON body, extra headers). Never raises for input."""
    try:
        out = await _collect(state, mtype, headers, read, scope_state)
    except ApiError as exc:
        return exc.status, json.dumps(exc.body()).encode(), exc.headers
    return 200, out, None


async def _collect(
    state: ServerState,
    mtype: str | None,
    headers: Mapping[str, str],
    read: Reader,
    scope_state: dict[str, Any],
) -> bytes:
    settings = state.settings
    token = presented_key(headers)
    # a key in the header is checked before the body is read
    key = authenticate(state, token, ("write",)) if token else None
    _check_media_type(headers.get("content-type"))
    length = headers.get("content-length")
    limit = settings.max_batch_bytes
    if length is not None and length.isdigit() and int(length) > limit:
        raise _too_large(limit, length)
    body = _inflate(await read(limit), headers.get("content-encoding", ""), limit)
    if mtype is not None and len(body) > settings.max_message_bytes:
        raise ApiError(
            413,
            "too_large",
            f"a message is at most {settings.max_message_bytes} bytes; send more in /v1/batch",
            field="body",
        )
    try:
        payload, sizes = read_payload(body, batch=mtype is None)
    except InputError as exc:
        if key is None:  # say what is missing first
            authenticate(state, None, ("write",))
        raise ApiError(400, "invalid_body", exc.reason, field=exc.field) from None
    if key is None:
        written = payload.get("writeKey") if isinstance(payload, dict) else None
        key = authenticate(state, written if isinstance(written, str) else None, ("write",))
    scope_state["key_id"] = key.key_id
    try:
        messages = expand(payload, mtype)
    except InputError as exc:
        raise ApiError(400, "invalid_body", exc.reason, field=exc.field) from None
    throttle(state, key, max(len(messages), 1))
    received = _now()
    checked = check_messages(
        messages,
        received,
        state.bounds,
        body=body,
        max_message_bytes=settings.max_message_bytes,
        sizes=sizes,
    )
    state.counters.rejected += len(checked.errors)
    rejected = [e.as_dict() for e in checked.errors]
    if not checked.accepted:
        first = checked.errors[0] if checked.errors else None
        raise ApiError(
            400,
            "invalid_message",
            (f"message {first.index}: {first.reason}" if first else "the batch is empty"),
            field=first.field if first else "batch",
            errors=rejected,
        )
    record = encode_record(body, mtype, received, checked, key.key_id)
    if not state.spool.has_room(len(record)):
        raise ApiError(
            429,
            "spool_full",
            "the collector is behind loading; retry later",
            headers={"Retry-After": str(settings.retry_after_seconds)},
        )
    try:
        await state.spool.append(record, checked.accepted)
    except WorkspaceError as exc:
        raise ApiError(503, "unavailable", f"cannot accept messages now: {exc}") from None
    state.counters.requests += 1
    state.counters.accepted += checked.accepted
    if not rejected:
        return b'{"success": true, "accepted": %d, "rejected": []}' % checked.accepted
    return json.dumps(
        {"success": True, "accepted": checked.accepted, "rejected": rejected}
    ).encode()


async def _read_request(request: Request, limit: int) -> bytes:
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def collect(request: Request, mtype: str | None) -> Response:
    """Check, spool and acknowledge the messages of one request (the FastAPI route)."""
    scope_state: dict[str, Any] = request.scope.setdefault("state", {})
    status, body, headers = await handle(
        request.app.state.jk,
        mtype,
        request.headers,
        lambda limit: _read_request(request, limit),
        scope_state,
    )
    return Response(body, status_code=status, media_type=_JSON, headers=headers)


class FastCollector:
    """Answers ``POST`` to the collector paths ahead of FastAPI's middleware and routing.

    The same :func:`handle` as the routes (which stay, for the OpenAPI document), minus the
    middleware, routing, dependency and request-object work, which cost more than the rest
    of a one-event request. It writes its own access log lines and CORS headers.

    Args:
        access_log: ``all``, ``errors`` or ``off`` (see :class:`ServerSettings`).
        cors_origins: origins whose browsers may read the answers.
    """

    def __init__(self, access_log: str = "errors", cors_origins: tuple[str, ...] = ()) -> None:
        self.paths = {
            path: mtype
            for name, (mtype, _, short) in ENDPOINTS.items()
            for path in (f"/v1/{name}", f"/v1/{short}")
        }
        self.log_all = access_log == "all"
        self.log_errors = access_log in ("all", "errors")
        self.cors = set(cors_origins)

    def wants(self, scope: Scope) -> bool:
        """Whether this is a request for the collector."""
        return scope["type"] == "http" and scope["method"] == "POST" and scope["path"] in self.paths

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}

        async def read(limit: int) -> bytes:
            chunks: list[bytes] = []
            size = 0
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    raise ApiError(400, "invalid_body", "the client went away", field="body")
                chunk = message.get("body", b"")
                size += len(chunk)
                if size > limit:
                    raise _too_large(limit)
                chunks.append(chunk)
                if not message.get("more_body", False):
                    return b"".join(chunks)

        scope_state = scope.setdefault("state", {})
        try:
            status, body, extra = await handle(
                scope["app"].state.jk, self.paths[scope["path"]], headers, read, scope_state
            )
        except Exception as exc:  # a bug, not the input: logged, answered as JSON
            log.error("request failed", exc_info=exc, extra={"path": scope["path"]})
            error = ApiError(500, "internal_error", "an internal error; it is logged")
            status, body, extra = 500, json.dumps(error.body()).encode(), None
        out = [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(body)),
            *SECURITY_HEADERS,
        ]
        out += [
            (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in (extra or {}).items()
        ]
        origin = headers.get("origin")
        if origin and (origin in self.cors or "*" in self.cors):
            allowed = "*" if "*" in self.cors else origin
            out += [
                (b"access-control-allow-origin", allowed.encode("latin-1")),
                (b"vary", b"Origin"),
            ]
        await send({"type": "http.response.start", "status": status, "headers": out})
        await send({"type": "http.response.body", "body": body})
        if self.log_all or (self.log_errors and status >= 400):
            access.info(
                "request",
                extra={
                    "method": "POST",
                    "path": scope["path"],
                    "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                    "key_id": scope_state.get("key_id"),
                },
            )


def _endpoint(mtype: str | None) -> Any:
    async def endpoint(request: Request) -> Response:
        return await collect(request, mtype)

    return endpoint


def router() -> APIRouter:
    """The collector's routes."""
    api = APIRouter(tags=["collect"])
    for name, (mtype, model, short) in ENDPOINTS.items():
        what = "a batch of messages" if mtype is None else f"one {name} message"
        extra = {
            "security": WRITE_SECURITY,
            "requestBody": {
                "required": True,
                "content": {_JSON: {"schema": {"$ref": f"#/components/schemas/{model.__name__}"}}},
            },
        }
        for path, doc in ((f"/v1/{name}", ""), (f"/v1/{short}", f" (short form of /v1/{name})")):
            api.add_api_route(
                path,
                _endpoint(mtype),
                methods=["POST"],
                summary=f"Collect {what}{doc}",
                description=(model.__doc__ or "").strip()
                + "\n\nAnswered once the accepted messages are fsynced to the spool.",
                response_model=None,
                responses=COLLECT_RESPONSES,
                openapi_extra=extra,
                operation_id=f"collect_{name}" + ("_short" if doc else ""),
            )
    return api
