"""Bring-your-own data: the travel site's export, loaded through the CLI as a user would.

``byo`` is a session-wide workspace holding :func:`byo_data.travel_rows` (300 people, names
from neither demo), ingested with ``journeykit ingest``; tests read numbers from it and compare
them with :data:`byo_data.TRAVEL_REF`. Tests that change the workspace make their own copy
with ``byo_copy``.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from byo_cli import Byo, jk

from byo_data import write_travel_csv


@pytest.fixture(scope="session")
def byo_csv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The travel site's export as a CSV file."""
    return write_travel_csv(tmp_path_factory.mktemp("byo-data") / "bookings.csv")


@pytest.fixture(scope="session")
def byo(tmp_path_factory: pytest.TempPathFactory, byo_csv: Path) -> Byo:
    """The travel export ingested into a fresh workspace with ``journeykit ingest``."""
    folder = tmp_path_factory.mktemp("byo") / "ws"
    out = jk("ingest", str(byo_csv), "-w", str(folder))
    assert out.exit_code == 0, out.output
    return Byo(folder=folder, csv=byo_csv)


@pytest.fixture(scope="session")
def byo_spec(byo: Byo) -> Byo:
    """The travel workspace after ``journeykit spec infer``: its spec is the inferred one."""
    out = jk("spec", "infer", "-w", str(byo.folder))
    assert out.exit_code == 0, out.output
    assert "stored the proposed spec as version 1" in out.output
    return byo


@pytest.fixture
def byo_copy(byo: Byo, tmp_path: Path) -> Iterator[Path]:
    """A private copy of the travel workspace folder, for tests that change it."""
    target = tmp_path / "ws"
    shutil.copytree(byo.folder, target)
    yield target
