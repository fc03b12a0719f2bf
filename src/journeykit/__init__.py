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

__all__ = ["JourneykitError", "Workspace", "__version__", "open"]
