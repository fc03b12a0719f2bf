"""Prometheus metrics of a running server: the spool, the loader's lag, the collector's counts.

Read at each scrape from the server's own counters (nothing is kept twice); served at
``GET /metrics`` in Prometheus' text format by ``prometheus_client``.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from prometheus_client.core import Metric

    from journeykit.server.state import ServerState


class _StateCollector:
    """A ``prometheus_client`` collector over one server's state."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def collect(self) -> Iterator[Metric]:
        from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

        state = self.state
        loader = state.loader.status()
        stats = state.loader.stats

        def gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
            return GaugeMetricFamily(f"journeykit_{name}", doc, value=value)

        def counter(name: str, doc: str, value: float) -> CounterMetricFamily:
            return CounterMetricFamily(f"journeykit_{name}", doc, value=value)

        lag = loader.lag_events
        yield gauge(
            "loader_lag_events",
            "Messages acknowledged and not yet in the store.",
            math.nan if lag is None else lag,
        )
        yield gauge(
            "loader_lag_seconds",
            "Age of the oldest message acknowledged and not yet in the store.",
            loader.lag_seconds,
        )
        yield gauge(
            "loader_up",
            "1 when the loader runs and its last load did not fail.",
            1.0 if loader.alive and not loader.failing else 0.0,
        )
        yield gauge(
            "loader_failures",
            "Loads in a row that failed as a whole (0 once one succeeds).",
            stats.failures,
        )
        yield counter("loader_messages", "Messages the loader handed to the store.", stats.messages)
        yield counter("loader_stored", "New events stored by the loader.", stats.loaded)
        yield counter(
            "loader_dead_letters",
            "Messages (or unreadable records) set aside with their reason.",
            stats.dead_letters,
        )
        yield gauge(
            "spool_backlog_bytes",
            "Spooled bytes not yet in the store.",
            state.spool.backlog_bytes(),
        )
        yield gauge(
            "spool_quota_bytes", "Backlog at which collection answers 429.", state.spool.quota_bytes
        )
        yield counter(
            "collector_accepted", "Messages acknowledged (on disk).", state.counters.accepted
        )
        yield counter("collector_refused", "Messages refused at receipt.", state.counters.rejected)


def exposition(state: ServerState) -> tuple[bytes, str]:
    """The metrics as Prometheus text, and its content type."""
    from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

    registry = CollectorRegistry(auto_describe=False)
    registry.register(_StateCollector(state))  # type: ignore[arg-type]
    return generate_latest(registry), CONTENT_TYPE_LATEST
