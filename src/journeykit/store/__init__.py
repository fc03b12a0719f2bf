"""Opening a workspace: an embedded DuckDB file by default, any Ibis backend by URL."""

from __future__ import annotations

from journeykit.store.workspace import Store, Summary, Workspace, first_value, open_workspace

__all__ = ["Store", "Summary", "Workspace", "first_value", "open_workspace"]
