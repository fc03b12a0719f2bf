"""Admin endpoints (admin key): keys, a person's export and erasure, the spool."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from pydantic import BaseModel, Field

from journeykit.server.models import ErrorResponse, ForgetResponse, KeyCreate, KeyCreated, KeyInfo
from journeykit.server.models import SpoolStatus as SpoolStatusModel
from journeykit.server.state import ApiError, authenticate, presented_key, throttle

if TYPE_CHECKING:
    from journeykit.server.keys import ApiKey
    from journeykit.server.state import ServerState

SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"basicAuth": []}]

RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "A parameter is missing or malformed."},
    401: {"model": ErrorResponse, "description": "No key, or an unknown or revoked one."},
    403: {"model": ErrorResponse, "description": "The key is not an admin key."},
    404: {"model": ErrorResponse, "description": "No such person or key."},
    429: {"model": ErrorResponse, "description": "The key's rate limit is reached."},
    500: {"model": ErrorResponse, "description": "An internal error (logged)."},
    503: {"model": ErrorResponse, "description": "The spool could not be loaded in time."},
}


def admin_key(request: Request) -> ApiKey:
    """Dependency: the request's admin key."""
    state: ServerState = request.app.state.jk
    key = authenticate(state, presented_key(request.headers), ("admin",))
    request.state.key_id = key.key_id
    throttle(state, key, 1.0)
    return key


def _state(request: Request) -> ServerState:
    return request.app.state.jk  # type: ignore[no-any-return]


class ForgetRequest(BaseModel):
    """Whom to erase."""

    identifier: str = Field(
        min_length=1,
        max_length=1000,
        description="kind:value (email:ann@example.com), a bare value, or a person id.",
    )


class PersonExport(BaseModel):
    """Everything the workspace keeps about one person (rows as stored)."""

    person_id: str
    profile: list[dict[str, Any]]
    identities: list[dict[str, Any]]
    links: list[dict[str, Any]]
    merges: list[dict[str, Any]]
    traits: list[dict[str, Any]]
    events: list[dict[str, Any]]


def _key_info(key: Any) -> dict[str, Any]:
    return {
        "key_id": key.key_id,
        "kind": key.kind,
        "name": key.name,
        "created_at": key.created_at,
        "revoked_at": key.revoked_at,
        "rate": key.rate,
        "burst": key.burst,
    }


def spool_status(state: ServerState, flushed: bool | None = None) -> dict[str, Any]:
    """The spool and loader counters."""
    spool, stats = state.spool, state.loader.stats
    return {
        "requests": state.counters.requests,
        "accepted": state.counters.accepted,
        "refused": state.counters.rejected,
        "backlog_bytes": spool.backlog_bytes(),
        "committed": f"{spool.committed.segment}:{spool.committed.offset}",
        "durable": f"{spool.durable.segment}:{spool.durable.offset}",
        "records_appended": spool.appended_records,
        "flushes": spool.flushes,
        "loads": stats.loads,
        "messages_loaded": stats.loaded,
        "duplicates": stats.duplicates,
        "rejected_by_loader": stats.rejected,
        "dead_letters": stats.dead_letters,
        "last_error": stats.last_error,
        "store_memory_bytes": int(
            state.ws.store.scalar(
                "SELECT coalesce(sum(memory_usage_bytes), 0) FROM duckdb_memory()"
            )
            or 0
        ),
        "flushed": flushed,
    }


def _flush(state: ServerState, *, rotate: bool = False, timeout: float | None = None) -> None:
    if rotate:
        state.spool.rotate()
    if not state.loader.flush(timeout or state.settings.shutdown_timeout_seconds):
        raise ApiError(503, "unavailable", "the spool could not be loaded in time; retry")


def router() -> APIRouter:
    """The admin routes."""
    api = APIRouter(
        prefix="/v1/admin",
        tags=["admin"],
        dependencies=[Depends(admin_key)],
        responses=RESPONSES,
    )
    extra = {"security": SECURITY}

    @api.get("/keys", response_model=list[KeyInfo], openapi_extra=extra)
    def keys_list(request: Request) -> list[dict[str, Any]]:
        """All keys, oldest first (never their secrets)."""
        from journeykit.server.keys import list_keys

        return [_key_info(k) for k in list_keys(_state(request).ws)]

    @api.post("/keys", response_model=KeyCreated, status_code=201, openapi_extra=extra)
    def keys_create(request: Request, spec: KeyCreate) -> dict[str, Any]:
        """Make a key; its plain text is in the answer, only this once."""
        from journeykit.server.keys import create_key, list_keys

        state = _state(request)
        plain = create_key(state.ws, spec.kind, spec.name, rate=spec.rate, burst=spec.burst)
        key_id = plain.split("_", 2)[1]
        made = next(k for k in list_keys(state.ws) if k.key_id == key_id)
        return {**_key_info(made), "key": plain}

    @api.delete("/keys/{key_id}", response_model=KeyInfo, openapi_extra=extra)
    def keys_revoke(request: Request, key_id: str) -> dict[str, Any]:
        """Revoke a key; it is refused from its next request on."""
        from journeykit.server.keys import revoke_key

        state = _state(request)
        key = revoke_key(state.ws, key_id)
        state.keys.forget_cache()
        return _key_info(key)

    @api.get("/people/export", response_model=PersonExport, openapi_extra=extra)
    def person_export(
        request: Request,
        identifier: str = Query(
            min_length=1,
            max_length=1000,
            description=ForgetRequest.model_fields["identifier"].description,
        ),
    ) -> Response:
        """Everything kept about one person (GDPR access), including messages still spooled."""
        from journeykit.ingest import export_person_json

        state = _state(request)
        _flush(state)
        # stored JSON goes out as stored: no depth of properties can fail the answer
        return Response(export_person_json(state.ws, identifier), media_type="application/json")

    @api.post("/people/forget", response_model=ForgetResponse, openapi_extra=extra)
    def person_forget(request: Request, spec: ForgetRequest) -> dict[str, Any]:
        """Erase a person everywhere (GDPR erasure), spooled messages included."""
        from journeykit.ingest import forget

        state = _state(request)
        # load what is spooled and let the spool files that held it go, then erase
        _flush(state, rotate=True)
        with state.query_lock:  # the store's file is rewritten: no analysis runs meanwhile
            report = forget(state.ws, spec.identifier)
        return {
            "person_id": report.person_id,
            "identifiers": report.identifiers,
            "removed": report.removed,
            "files_rewritten": report.files_rewritten,
            "store_rewritten": report.store_rewritten,
        }

    @api.get("/spool", response_model=SpoolStatusModel, openapi_extra=extra)
    def spool(request: Request) -> dict[str, Any]:
        """The spool's backlog and the loader's counters."""
        return spool_status(_state(request))

    @api.post("/spool/flush", response_model=SpoolStatusModel, openapi_extra=extra)
    def spool_flush(
        request: Request,
        timeout: float | None = Query(
            None, gt=0, le=3600, description="Seconds to wait (default: the shutdown timeout)."
        ),
    ) -> dict[str, Any]:
        """Load everything spooled now; answers when it is in the store (503 on timeout)."""
        state = _state(request)
        _flush(state, timeout=timeout)
        return spool_status(state, flushed=True)

    return api
