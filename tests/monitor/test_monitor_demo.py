"""End to end on the demo data: the planted iOS payment incident raises alerts in its weeks."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from journeykit.demo import generate
from journeykit.monitor import Watch, scan

pytestmark = pytest.mark.slow


def test_ios_payment_incident_is_found_in_its_weeks(tmp_path: Path) -> None:
    files = generate(tmp_path, people=4000)
    truth = json.loads((tmp_path / "ground_truth.json").read_text())
    [effect] = [e for e in truth["effects"] if e["name"] == "ios_payment_failure"]
    weeks = [
        (date.fromisoformat(w["start"]), date.fromisoformat(w["end"]))
        for w in effect["where"]["weeks"]
    ]
    del files
    events = pd.concat(
        pd.read_parquet(f, columns=["ts", "event", "properties"])
        for f in sorted(tmp_path.glob("events-*.parquet"))
    )
    events = events[events["event"].isin(["Checkout Started", "Payment Failed"])]
    ios = events[events["properties"].map(lambda p: json.loads(p).get("platform")) == "ios"]
    day = ios["ts"].dt.floor("D")
    checkouts = ios[ios["event"] == "Checkout Started"].groupby(day).size()
    failed = (
        ios[ios["event"] == "Payment Failed"]
        .groupby(day)
        .size()
        .reindex(checkouts.index, fill_value=0)
    )
    rate = failed / checkouts  # the daily iOS payment failure rate

    alerts = scan(rate, Watch("ios_payment_failure_rate", direction="high", min_change=0.3))
    in_weeks = [a for a in alerts if any(s <= a.date <= e for s, e in weeks)]
    assert alerts and len(in_weeks) == len(alerts)  # no alarm outside the incident weeks
    incident_days = sum((e - s).days + 1 for s, e in weeks)
    assert len(in_weeks) >= incident_days // 2  # most incident days are flagged
    assert all(a.direction == "high" and a.value > 0.3 for a in alerts)
