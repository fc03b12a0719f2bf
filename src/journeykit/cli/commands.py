"""Commands of the layers above ingest (analytics, voc, server, orchestration), registered on
the app when they exist. Each imports its layer lazily inside the command."""

from __future__ import annotations
