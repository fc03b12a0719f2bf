"""The demo retailer's data, generated and loaded once per test session, and its journey map.

Shared by tests/journey and tests/render (their conftest files put this folder on the path).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import journeykit
from journeykit.store import Workspace

#: People in the test data set: small enough to load in seconds, big enough for the
#: planted effects to stand out.
DEMO_PEOPLE = 3000


@dataclass(frozen=True)
class DemoWorkspace:
    """A loaded demo workspace and the ground truth of its planted effects."""

    ws: Workspace
    truth: dict[str, Any]
    folder: Path

    def effect(self, name: str) -> dict[str, Any]:
        return next(e for e in self.truth["effects"] if e["name"] == name)


_OPEN: dict[Path, DemoWorkspace] = {}


def demo_workspace(base: Path) -> DemoWorkspace:
    """Generate and load the demo data under ``base`` (once per session and folder)."""
    from journeykit.demo import generate
    from journeykit.ingest import load
    from journeykit.journey import demo_spec_path, set_spec

    if base in _OPEN:
        return _OPEN[base]
    folder = base / "journey-demo"
    done = folder / "loaded"
    if not done.exists():
        files = generate(folder / "data", people=DEMO_PEOPLE, seed=7)
        ws = journeykit.open(folder / "ws")
        for path in files.events:
            load(ws, path)
        set_spec(ws, demo_spec_path(), by="demo")
        done.write_text("ok")
        ws.close()
    truth = json.loads((folder / "data" / "ground_truth.json").read_text())
    _OPEN[base] = DemoWorkspace(ws=journeykit.open(folder / "ws"), truth=truth, folder=folder)
    return _OPEN[base]


_MAPS: dict[Path, Any] = {}


def demo_map_of(demo: DemoWorkspace) -> Any:
    """The journey map of the demo data under the shipped spec (built once per session)."""
    if demo.folder not in _MAPS:
        from journeykit.journey.model import build_map
        from journeykit.journey.spec import demo_spec_path
        from journeykit.render import comment_scorer

        _MAPS[demo.folder] = build_map(
            demo.ws, demo_spec_path(), sentiment=comment_scorer(), replicates=100
        )
    return _MAPS[demo.folder]
