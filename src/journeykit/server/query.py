"""Query endpoints (read or admin key): summary, a person's timeline, and the analytics.

Endpoints run in the thread pool; each thread reads through its own DuckDB cursor, and
analytics (Ibis over the store's one connection) run one at a time.
"""

from __future__ import annotations

import math
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query, Request, Response

from journeykit.server.models import ErrorResponse, SummaryResponse, TimelineResponse
from journeykit.server.state import ApiError, authenticate, presented_key, throttle

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.server.keys import ApiKey
    from journeykit.server.state import ServerState

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"basicAuth": []}]

RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A parameter or filter is malformed."},
    401: {"model": ErrorResponse, "description": "No key, or an unknown or revoked one."},
    403: {"model": ErrorResponse, "description": "The key is not a read or admin key."},
    404: {"model": ErrorResponse, "description": "No such person, event or step."},
    409: {
        "model": ErrorResponse,
        "description": "The workspace has no journey spec yet; the message says how to make one.",
    },
    429: {"model": ErrorResponse, "description": "The key's rate limit is reached."},
    500: {"model": ErrorResponse, "description": "An internal error (logged)."},
    501: {"model": ErrorResponse, "description": "This analysis is not in this installation."},
}

IDENTIFIER_DOC = "kind:value (user_id:u1, email:ann@example.com), a bare value, or a person id."


def read_key(request: Request) -> ApiKey:
    """Dependency: the request's read (or admin) key."""
    state: ServerState = request.app.state.jk
    key = authenticate(state, presented_key(request.headers), ("read", "admin"))
    request.state.key_id = key.key_id
    throttle(state, key, 1.0)
    return key


def state_of(request: Request) -> ServerState:
    """The running server's state."""
    return request.app.state.jk  # type: ignore[no-any-return]


def plain(value: Any) -> Any:
    """A cell of a DataFrame as a JSON-ready value (NaN and NaT as null, arrays as lists)."""
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if type(value).__name__ in ("NaTType", "NAType"):
        return None
    if hasattr(value, "to_pydatetime"):
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if hasattr(value, "total_seconds"):  # durations as seconds
        return plain(value.total_seconds())
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return plain(value.tolist())
    return value


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as a list of JSON-ready dicts."""
    cols = list(frame.columns)
    return [
        {str(c): plain(v) for c, v in zip(cols, row, strict=True)}
        for row in frame.itertuples(index=False, name=None)
    ]


def _day(value: Any) -> date:
    return value.date() if isinstance(value, datetime) else value  # type: ignore[no-any-return]


def unavailable(what: str, exc: ImportError) -> ApiError:
    """The 501 answered when an analysis module is not installed or not written yet."""
    return ApiError(501, "not_available", f"{what} is not available in this installation ({exc})")


def router() -> APIRouter:
    """The query routes."""
    from journeykit.server.analytics_api import add_analytics_routes

    api = APIRouter(
        prefix="/v1",
        tags=["query"],
        dependencies=[Depends(read_key)],
        responses=RESPONSES,
    )
    extra = {"security": SECURITY}

    @api.get("/summary", response_model=SummaryResponse, openapi_extra=extra)
    def summary(request: Request) -> dict[str, Any]:
        """What the workspace holds: counts, date range, events by channel and by day."""
        s = state_of(request).ws.summary()
        return {
            "people": s.people,
            "events": s.events,
            "identities": s.identities,
            "merges": s.merges,
            "first_event": s.first_event,
            "last_event": s.last_event,
            "rejects": s.rejects,
            "loads": s.loads,
            "spend": s.spend,
            "by_channel": records(s.by_channel),
            "by_day": [{**r, "day": _day(r["day"])} for r in records(s.by_day)],
        }

    @api.get("/people/timeline", response_model=TimelineResponse, openapi_extra=extra)
    def person_timeline(
        request: Request,
        identifier: str = Query(min_length=1, max_length=1000, description=IDENTIFIER_DOC),
        limit: int = Query(1000, ge=1, le=10_000, description="Events in this page."),
        offset: int = Query(0, ge=0, description="Events to skip (journey order)."),
    ) -> Response:
        """Every event of the person behind an identifier, across channels, in journey order."""
        import orjson

        from journeykit.ingest import timeline
        from journeykit.ingest.identity import resolve

        ws = state_of(request).ws
        person = resolve(ws.store, identifier)
        frame = timeline(ws, person)
        page = records(frame.iloc[offset : offset + limit])
        for row in page:
            # stored JSON goes out as stored: no depth of properties can fail the answer
            if isinstance(row.get("properties"), str):
                row["properties"] = orjson.Fragment(row["properties"])
        body = {"person_id": person, "total": len(frame), "events": page}
        return Response(orjson.dumps(body, option=orjson.OPT_UTC_Z), media_type="application/json")

    add_analytics_routes(api, extra)
    return api
