"""Getting data in: file loaders, Segment-spec messages, validation, identity stitching."""

from __future__ import annotations

from journeykit.ingest.load import LoadReport, load, load_spend
from journeykit.ingest.readers import Reject
from journeykit.ingest.segment import load_segment, message_to_row

__all__ = ["LoadReport", "Reject", "load", "load_segment", "load_spend", "message_to_row"]
