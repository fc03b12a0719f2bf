"""Fixtures of the journey tests: the demo workspace and map, and hand-built journeys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from journey_demo import DemoWorkspace, demo_map_of, demo_workspace

from journeykit.ingest import load
from journeykit.journey.model import JourneyMap
from journeykit.store import Workspace

T0 = datetime(2026, 3, 2, 9, 0, 0)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoWorkspace:
    """The demo retailer's data (3,000 people), loaded once."""
    return demo_workspace(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def demo_map(demo: DemoWorkspace) -> JourneyMap:
    """The journey map of the demo data under the shipped spec."""
    return demo_map_of(demo)


@pytest.fixture
def journeys(ws: Workspace) -> Callable[..., Workspace]:
    """Load hand-built journeys: ``journeys({"ann": ["A", "B"], "bob": [("A", {...})]})``.

    Each person's events are an hour apart from T0 (plus a minute per person), in order; an
    event is a name or (name, extra fields such as channel, properties, revenue).
    """

    def build(people: dict[str, list[Any]], *, gap: timedelta = timedelta(hours=1)) -> Workspace:
        rows = []
        for k, (person, events) in enumerate(people.items()):
            for i, item in enumerate(events):
                name, extra = (item, {}) if isinstance(item, str) else item
                row = {
                    "ts": (T0 + timedelta(minutes=k) + i * gap).isoformat(),
                    "event": name,
                    "user_id": person,
                    "channel": "web",
                }
                row.update(extra)
                rows.append(row)
        load(ws, rows)
        return ws

    return build


def spec_path(tmp_path: Path, text: str) -> Path:
    """Write spec text to a file and return its path."""
    path = tmp_path / "spec.yaml"
    path.write_text(text)
    return path
