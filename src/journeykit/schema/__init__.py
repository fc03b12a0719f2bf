"""The event model: the canonical columns of every table in a workspace."""

from __future__ import annotations

from journeykit.schema.events import (
    EVENT_COLUMNS,
    IDENTIFIER_KINDS,
    TABLES,
    Channel,
    events_arrow_schema,
    normalise_identifier,
)

__all__ = [
    "EVENT_COLUMNS",
    "IDENTIFIER_KINDS",
    "TABLES",
    "Channel",
    "events_arrow_schema",
    "normalise_identifier",
]
