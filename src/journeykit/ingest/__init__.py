"""Getting data in: file loaders, Segment-spec messages, validation, identity stitching."""

from __future__ import annotations

from journeykit.ingest.load import LoadReport, load, load_spend
from journeykit.ingest.person import (
    ForgetReport,
    export_person,
    export_person_json,
    forget,
    merges,
    timeline,
    unmerge,
)
from journeykit.ingest.readers import Reject
from journeykit.ingest.segment import load_segment, message_to_row

__all__ = [
    "ForgetReport",
    "LoadReport",
    "Reject",
    "export_person",
    "export_person_json",
    "forget",
    "load",
    "load_segment",
    "load_spend",
    "merges",
    "message_to_row",
    "timeline",
    "unmerge",
]
