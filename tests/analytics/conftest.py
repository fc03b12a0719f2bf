"""Fixtures of the journey analytics tests: hand-made logs, the demo, one Spark session."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from analytics_reference import rows_of

import journeykit
from journeykit.ingest import load
from journeykit.store import Workspace


@pytest.fixture
def make_ws(tmp_path: Path) -> Iterator[Callable[[list[tuple[Any, ...]]], Workspace]]:
    """Build a workspace from event tuples (see :func:`rows_of`)."""
    opened: list[Workspace] = []

    def build(specs: list[tuple[Any, ...]]) -> Workspace:
        ws = journeykit.open(tmp_path / f"ws{len(opened)}")
        opened.append(ws)
        if specs:
            report = load(ws, rows_of(specs))
            assert report.rejected == 0, report.rejects
        return ws

    yield build
    for ws in opened:
        ws.close()


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Workspace, dict[str, Any]]]:
    """A small demo workspace (2,000 people, about 100k events) and its ground truth."""
    from journeykit.demo import generate
    from journeykit.ingest.load import load_spend
    from journeykit.journey import demo_spec_path, set_spec

    base = tmp_path_factory.mktemp("demo")
    files = generate(base / "data", people=2000, seed=7)
    ws = journeykit.open(base / "ws")
    load(ws, list(files.events))
    load_spend(ws, str(files.spend))
    set_spec(ws, demo_spec_path(), by="demo")
    truth = json.loads(Path(files.ground_truth).read_text())
    yield ws, truth
    ws.close()


@pytest.fixture(scope="session")
def spark_session() -> Iterator[Any]:
    """One local Spark session for every Spark test (local[2], no UI, UTC)."""
    pytest.importorskip("pyspark")
    from journeykit.store.spark import spark_session as make

    session = make("local[2]", shuffle_partitions=2, app_name="journeykit-tests")
    yield session
    session.stop()
