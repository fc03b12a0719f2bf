"""Fixtures of the render tests: the demo workspace (shared with tests/journey) and its map."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "journey"))

from journey_demo import DemoWorkspace, demo_map_of, demo_workspace

from journeykit.journey.model import JourneyMap


@pytest.fixture(scope="session")
def render_demo(tmp_path_factory: pytest.TempPathFactory) -> DemoWorkspace:
    """The demo retailer's data (3,000 people), loaded once per session."""
    return demo_workspace(tmp_path_factory.getbasetemp())


@pytest.fixture(scope="session")
def render_map_of_demo(render_demo: DemoWorkspace) -> JourneyMap:
    """The demo's journey map under the shipped spec."""
    return demo_map_of(render_demo)
