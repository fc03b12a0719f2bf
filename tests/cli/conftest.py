"""CLI tests read Rich tables: give the consoles a wide, fixed width."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from journeykit.cli import main


@pytest.fixture(autouse=True)
def wide_console() -> Iterator[None]:
    widths = (main.console.width, main.err.width)
    main.console.width = main.err.width = 220
    yield
    main.console.width, main.err.width = widths
