"""Typed settings, loaded once from ``JOURNEYKIT_*`` variables and an optional journeykit.toml.

Settings are frozen dataclasses, one per concern; callers pass them explicitly.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class StoreSettings:
    """Where the workspace lives and how the engine is tuned."""

    workspace: str = "./journeykit-data"
    memory_limit: str = "2GB"
    threads: int | None = None


@dataclass(frozen=True)
class IngestSettings:
    """How loads validate and stitch.

    ``extra_identifiers`` names further identifier keys (in ``other_ids``) used for stitching.
    ``max_future`` is how far ahead of now a timestamp may lie before the row is rejected.
    """

    extra_identifiers: tuple[str, ...] = ()
    max_future_hours: float = 24.0
    max_past_years: float = 30.0


@dataclass(frozen=True)
class Settings:
    """All settings, one group per concern."""

    store: StoreSettings = field(default_factory=StoreSettings)
    ingest: IngestSettings = field(default_factory=IngestSettings)


def _coerce(value: str, default: Any) -> Any:
    if isinstance(default, bool):
        return value.lower() in ("1", "true", "yes", "on")
    if isinstance(default, int) and not isinstance(default, bool):
        return int(value)
    if isinstance(default, float):
        return float(value)
    if isinstance(default, tuple):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return value


def _group(cls: type, section: dict[str, Any], prefix: str) -> Any:
    values: dict[str, Any] = {}
    defaults = cls()
    for f in fields(cls):
        default = getattr(defaults, f.name)
        if f.name in section:
            raw = section[f.name]
            values[f.name] = tuple(raw) if isinstance(default, tuple) else raw
        env = os.environ.get(f"JOURNEYKIT_{prefix}{f.name.upper()}")
        if env is not None:
            values[f.name] = _coerce(env, default if default is not None else "")
    return cls(**values)


def load_settings(toml_path: str | Path | None = None) -> Settings:
    """Read settings from ``journeykit.toml`` (if present) and ``JOURNEYKIT_*`` variables.

    Environment variables win over the file. ``JOURNEYKIT_WORKSPACE`` sets the workspace,
    ``JOURNEYKIT_INGEST_EXTRA_IDENTIFIERS=loyalty_id,iban`` the extra identifiers.

    >>> load_settings("/nonexistent.toml").store.memory_limit
    '2GB'
    """
    path = Path(toml_path or os.environ.get("JOURNEYKIT_CONFIG", "journeykit.toml"))
    data: dict[str, Any] = {}
    if path.is_file():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    return Settings(
        store=_group(StoreSettings, data.get("store", {}), ""),
        ingest=_group(IngestSettings, data.get("ingest", {}), "INGEST_"),
    )
