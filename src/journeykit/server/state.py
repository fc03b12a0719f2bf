"""What a running server holds, and the checks every endpoint shares: keys, limits, errors."""

from __future__ import annotations

import base64
import binascii
import math
import threading
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from journeykit.server.messages import Bounds

if TYPE_CHECKING:
    from journeykit.server.keys import ApiKey, KeyRing, RateLimits
    from journeykit.server.live import LiveOrchestrator
    from journeykit.server.loader import Loader
    from journeykit.server.settings import ServerSettings
    from journeykit.server.spool import Spool
    from journeykit.store import Workspace


class ApiError(Exception):
    """An error answered as JSON: status, a stable code, a sentence, and the field at fault."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        field: str | None = None,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.errors = errors or []
        self.headers = headers

    def body(self) -> dict[str, Any]:
        """The JSON body (see :class:`journeykit.server.models.ErrorResponse`)."""
        return {
            "error": self.code,
            "message": self.message,
            "field": self.field,
            "errors": self.errors,
        }


@dataclass
class Counters:
    """Collector counters since start."""

    requests: int = 0
    accepted: int = 0
    rejected: int = 0


@dataclass
class ServerState:
    """The open workspace and the parts around it, for one running app."""

    ws: Workspace
    settings: ServerSettings
    spool: Spool
    loader: Loader
    keys: KeyRing
    limits: RateLimits
    bounds: Bounds
    orchestrator: LiveOrchestrator | None = None
    counters: Counters = field(default_factory=Counters)
    # Ibis expressions share the store's one connection: one query at a time runs through it
    query_lock: threading.RLock = field(default_factory=threading.RLock)


def bounds_for(ws: Workspace, settings: ServerSettings) -> Bounds:
    """The time window at receipt: the stricter of the server's and the loader's.

    The loader checks the past bound again when it stores the message, later; a day of
    margin keeps a message accepted at the edge from being refused then.
    """
    ingest = ws.settings.ingest
    future = ingest.max_future_hours
    if settings.max_future_hours is not None:
        future = min(future, settings.max_future_hours)
    past = ingest.max_past_years * 365.25 - 1.0
    if settings.max_past_days is not None:
        past = min(past, settings.max_past_days)
    return Bounds(
        max_future=timedelta(hours=future),
        max_past=timedelta(days=max(past, 0.0)),
        max_depth=settings.max_json_depth,
    )


#: Sent with every answer that is not a page: nothing in it may run, load or be framed.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: Sent with pages (the dashboard, the API docs) that set no policy of their own: scripts,
#: styles and images from the server itself only (inline ones too: the pages embed their
#: data and charts), nothing from elsewhere, framed only by the server's own pages.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'"
)
#: The security headers of a JSON answer, as ASGI header pairs.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    (b"content-security-policy", API_POLICY.encode()),
)

UNAUTHORIZED_HEADERS = {"WWW-Authenticate": 'Basic realm="journeykit"'}

_FOR = {
    "write": "collect events (the /v1/track family)",
    "read": "query",
    "admin": "manage keys, export or erase people",
}


def presented_key(headers: Any) -> str | None:
    """The key in an ``Authorization`` header: HTTP Basic (user, else password) or Bearer."""
    auth = headers.get("authorization")
    if not auth:
        return None
    scheme, _, credentials = auth.partition(" ")
    scheme = scheme.lower()
    credentials = credentials.strip()
    if scheme == "bearer":
        return credentials or None
    if scheme == "basic":
        try:
            decoded = base64.b64decode(credentials, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        user, _, password = decoded.partition(":")
        return user or password or None
    return None


def authenticate(state: ServerState, token: str | None, kinds: tuple[str, ...]) -> ApiKey:
    """The key behind ``token`` if it is of one of ``kinds``.

    Raises:
        ApiError: 401 without a valid key, 403 for a key of the wrong kind.
    """
    if not token:
        raise ApiError(
            401,
            "unauthorized",
            "a key is required: send it as the HTTP Basic user name or as a Bearer token",
            headers=UNAUTHORIZED_HEADERS,
        )
    key = state.keys.verify(token)
    if key is None:
        raise ApiError(401, "unauthorized", "unknown or revoked key", headers=UNAUTHORIZED_HEADERS)
    if key.kind not in kinds:
        raise ApiError(
            403,
            "forbidden",
            f"a {key.kind} key may only {_FOR[key.kind]}; this needs a {' or '.join(kinds)} key",
        )
    return key


def throttle(state: ServerState, key: ApiKey, cost: float) -> None:
    """Spend ``cost`` from the key's token bucket.

    Raises:
        ApiError: 429 with ``Retry-After`` when the bucket is empty.
    """
    wait = state.limits.check(key, cost)
    if wait > 0:
        raise ApiError(
            429,
            "rate_limited",
            f"the key's rate limit is reached; retry in {wait:.2f} s",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
