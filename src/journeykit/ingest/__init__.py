"""Getting data in: file loaders, Segment-spec messages, validation, identity stitching."""

from __future__ import annotations

from journeykit.ingest.load import LoadReport, load, load_spend
from journeykit.ingest.readers import Reject

__all__ = ["LoadReport", "Reject", "load", "load_spend"]
