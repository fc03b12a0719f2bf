"""Fixtures shared by every test package: a fresh workspace and an event factory."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import journeykit
from journeykit.store import Workspace

START = datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    """An empty workspace in a temporary folder."""
    workspace = journeykit.open(tmp_path / "ws")
    yield workspace
    workspace.close()


@pytest.fixture
def make_events() -> Callable[..., list[dict[str, Any]]]:
    """Build raw event rows: ``make_events(("u1", "Signed Up"), ("u1", "Order Completed"))``.

    Each tuple is (user_id, event[, minutes after START[, extra fields]]); without minutes the
    events are an hour apart in the given order.
    """

    def build(*specs: tuple[Any, ...], start: datetime = START) -> list[dict[str, Any]]:
        rows = []
        for i, spec in enumerate(specs):
            user, event = spec[0], spec[1]
            minutes = spec[2] if len(spec) > 2 and spec[2] is not None else i * 60
            extra = spec[3] if len(spec) > 3 else {}
            rows.append(
                {
                    "ts": (start + timedelta(minutes=minutes)).isoformat(),
                    "event": event,
                    "user_id": user,
                    "channel": "web",
                    **extra,
                }
            )
        return rows

    return build
