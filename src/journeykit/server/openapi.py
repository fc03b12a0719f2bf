"""The OpenAPI document: FastAPI's, plus the collector's bodies and the key schemes."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from journeykit.server.models import (
    AliasMessage,
    Batch,
    GroupMessage,
    IdentifyMessage,
    PageMessage,
    ScreenMessage,
    TrackMessage,
)

BODIES = (
    TrackMessage,
    IdentifyMessage,
    PageMessage,
    ScreenMessage,
    AliasMessage,
    GroupMessage,
    Batch,
)

SECURITY_SCHEMES = {
    "basicAuth": {
        "type": "http",
        "scheme": "basic",
        "description": "The key as the user name, no password (Segment's libraries do this).",
    },
    "bearerAuth": {"type": "http", "scheme": "bearer", "description": "The key as a token."},
}


def build_openapi(app: FastAPI) -> dict[str, Any]:
    """The complete document for ``app``."""
    doc = get_openapi(
        title=app.title,
        version=app.version,
        description=app.description,
        routes=app.routes,
    )
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for model in BODIES:
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[model.__name__] = schema
    components["securitySchemes"] = SECURITY_SCHEMES
    # validation errors are answered 400 with ErrorResponse (see app._install_errors)
    for path in doc.get("paths", {}).values():
        for operation in path.values():
            responses = operation.get("responses", {})
            if responses.pop("422", None) is not None and "400" not in responses:
                responses["400"] = {
                    "description": "A parameter is missing or malformed.",
                    "content": {
                        "application/json": {
                            "schema": {"$ref": "#/components/schemas/ErrorResponse"}
                        }
                    },
                }
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    return doc


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` return (and cache) :func:`build_openapi`."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
