"""journeykit: customer journeys end to end — collect, stitch, map, measure, act.

>>> import journeykit, tempfile
>>> ws = journeykit.open(tempfile.mkdtemp())
>>> ws.summary().events
0
"""

from __future__ import annotations

from journeykit.__about__ import __version__
from journeykit.errors import JourneykitError
from journeykit.store import Workspace
from journeykit.store import open_workspace as open

__all__ = ["JourneySpec", "JourneykitError", "Workspace", "__version__", "load_spec", "open"]


def __getattr__(name: str) -> object:
    # the journey spec (pydantic models) loads on first use, so `import journeykit` stays light
    if name in ("JourneySpec", "load_spec"):
        from journeykit import journey

        return getattr(journey, name)
    raise AttributeError(f"module 'journeykit' has no attribute {name!r}")
