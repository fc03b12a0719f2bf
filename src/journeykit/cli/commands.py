"""Commands of the layers above ingest, registered on the app (each imports lazily)."""

from __future__ import annotations

from journeykit.cli import analytics, messages, orchestrate, server, spec, value, voc

__all__ = ["analytics", "messages", "orchestrate", "server", "spec", "value", "voc"]
