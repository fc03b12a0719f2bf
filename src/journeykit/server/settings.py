"""Settings of the collector and API server (``[server]`` in journeykit.toml, ``JOURNEYKIT_SERVER_*``).

>>> ServerSettings().max_message_bytes
32768
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from journeykit.config import _group


@dataclass(frozen=True)
class ServerSettings:
    """How the server listens, what it accepts, and how it spools and loads.

    Attributes:
        host, port: where ``journeykit serve`` listens.
        max_message_bytes: largest single message (Segment: 32 KB); larger ones are refused.
        max_batch_bytes: largest request body (Segment: 500 KB); larger bodies get 413.
        max_json_depth: how deep a message's objects and arrays may nest (the message is
            level 1); deeper messages are refused with 400 naming the field. At most 200:
            readers of the store cannot write JSON much deeper back out.
        max_future_hours, max_past_days: how far from the time of receipt an event's time may
            lie. ``None`` takes the ingest settings (``[ingest] max_future_hours`` and
            ``max_past_years``); the stricter of the two always applies.
        spool_quota_bytes: spooled bytes not yet loaded beyond which collection answers 429.
        spool_segment_bytes: size at which the spool starts a new segment file.
        load_batch_messages: most messages the loader moves into the store in one load.
        load_linger_seconds: how long the loader waits for more messages before a small load.
        write_rate, write_burst: token bucket per write key, in messages per second.
        read_rate, read_burst: token bucket per read key, in requests per second.
        admin_rate, admin_burst: token bucket per admin key, in requests per second.
            A rate of 0 means unlimited; a key may carry its own rate and burst.
        retry_after_seconds: the ``Retry-After`` sent with 429 when the spool is full.
        shutdown_timeout_seconds: how long shutdown may spend loading what is spooled.
        ready_max_lag_seconds: ``/readyz`` answers 503 while the oldest message not yet in
            the store was received longer ago than this.
        access_log: ``all`` (one JSON line per request), ``errors`` (every request except
            successful collector calls, which the spool counts instead: at thousands of calls
            a second a line each would cost more than the call) or ``off``.
        cors_origins: origins browsers may send from (for analytics.js on your site);
            empty: no CORS headers.
        dashboard: serve the dashboard pages at ``/`` (when installed).
        api_docs: serve the interactive API docs at ``/docs`` (Swagger UI from the
            ``swagger-ui-bundle-v2`` package, extra ``apidocs``); off by default.
        log_level: level of the ``journeykit`` and ``uvicorn`` loggers.
        automations: an automation YAML file or folder to run on the collected events (the
            live path, see :mod:`journeykit.server.live`); empty: none. The state is
            ``JOURNEYKIT_ORCHESTRATE_STATE_URL``, else orchestrate.sqlite in the workspace.
        orchestrate_max_age: events older than this are not acted on without replay.
        orchestrate_replay: act on a backlog of old events in event time at start.
        orchestrate_from_now: only add a backlog of old events to profiles at start.
    """

    host: str = "127.0.0.1"
    port: int = 8000
    max_message_bytes: int = 32 * 1024
    max_batch_bytes: int = 500 * 1024
    max_json_depth: int = 64
    max_future_hours: float | None = None
    max_past_days: float | None = None
    spool_quota_bytes: int = 1024 * 1024 * 1024
    spool_segment_bytes: int = 64 * 1024 * 1024
    load_batch_messages: int = 50_000
    load_linger_seconds: float = 0.5
    write_rate: float = 50_000.0
    write_burst: float = 100_000.0
    read_rate: float = 50.0
    read_burst: float = 100.0
    admin_rate: float = 10.0
    admin_burst: float = 20.0
    retry_after_seconds: int = 1
    shutdown_timeout_seconds: float = 60.0
    ready_max_lag_seconds: float = 60.0
    access_log: str = "errors"
    cors_origins: tuple[str, ...] = ()
    dashboard: bool = True
    api_docs: bool = False
    log_level: str = "info"
    automations: str = ""
    orchestrate_max_age: str = "1h"
    orchestrate_replay: bool = False
    orchestrate_from_now: bool = False


def load_server_settings(toml_path: str | Path | None = None, **overrides: Any) -> ServerSettings:
    """Read ``[server]`` from journeykit.toml and ``JOURNEYKIT_SERVER_*`` variables.

    Environment variables win over the file, and ``overrides`` over both.

    >>> load_server_settings("/nonexistent.toml", port=9000).port
    9000
    """
    path = Path(toml_path or os.environ.get("JOURNEYKIT_CONFIG", "journeykit.toml"))
    data: dict[str, Any] = {}
    if path.is_file():
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    base: ServerSettings = _group(ServerSettings, data.get("server", {}), "SERVER_")
    # optional numbers have no typed default to coerce an environment string by
    fixed = {
        name: (float(value) if str(value).strip() else None)
        for name in ("max_future_hours", "max_past_days")
        if isinstance(value := getattr(base, name), str | int)
    }
    # booleans read naturally too: true is "all", false is "off"
    words = {"true": "all", "1": "all", "yes": "all", "false": "off", "0": "off", "no": "off"}
    access = str(base.access_log).lower()
    fixed["access_log"] = words.get(access, access)  # type: ignore[assignment]
    return replace(base, **{**fixed, **overrides})
