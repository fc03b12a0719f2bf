from __future__ import annotations

import random
from datetime import datetime, timedelta

import pandas as pd
import pytest

from journeykit.orchestrate.backtest import backtest
from journeykit.orchestrate.loader import loads

AUTOMATION = """
id: welcome
trigger: {event: Signed Up}
goal: {event: Order Completed, within: 7d}
steps:
  - {action: email, to: "x@y.org", subject: Hi, text: Welcome}
  - wait: 2d
  - {action: webhook, url: "http://127.0.0.1:9/nudge", channel: sms}
"""
AS_OF = datetime(2026, 9, 1)


def _events() -> tuple[list[dict], dict]:
    rng = random.Random(1)
    rows, truth = [], {"entered": set(), "messages": 0, "mature": 0, "converted": 0}
    start = AS_OF - timedelta(days=28)
    for i in range(150):
        p = f"p{i}"
        signup = AS_OF - timedelta(days=rng.uniform(0, 40), minutes=rng.randint(0, 59))
        rows.append(
            {
                "event_id": f"s{i}",
                "ts": signup,
                "person_id": p,
                "event": "Signed Up",
                "channel": "web",
            }
        )
        order = signup + timedelta(days=rng.uniform(0.5, 12)) if rng.random() < 0.5 else None
        if order is not None and order < AS_OF:
            rows.append(
                {
                    "event_id": f"o{i}",
                    "ts": order,
                    "person_id": p,
                    "event": "Order Completed",
                    "channel": "web",
                }
            )
        if not start <= signup < AS_OF:
            continue  # history: builds the profile, never enters
        truth["entered"].add(p)
        truth["messages"] += 1  # the e-mail at entry
        converted_early = order is not None and order < signup + timedelta(days=2)
        if signup + timedelta(days=2) <= AS_OF and not converted_early:
            truth["messages"] += 1  # the nudge after two days, unless the goal ended the journey
        if signup + timedelta(days=7) <= AS_OF:
            truth["mature"] += 1
            truth["converted"] += order is not None and order <= signup + timedelta(days=7)
    rows.append(
        {
            "event_id": "late",
            "ts": AS_OF + timedelta(days=1),
            "person_id": "p0",
            "event": "Signed Up",
        }
    )
    rng.shuffle(rows)
    return rows, truth


def test_backtest_counts_entries_messages_and_baseline_conversion() -> None:
    rows, truth = _events()
    [report] = backtest(
        loads(AUTOMATION), pd.DataFrame(rows), as_of=AS_OF, lookback=timedelta(days=28)
    )
    assert report.entered == report.treatment == report.people == len(truth["entered"])
    assert report.messages == truth["messages"]
    assert dict(report.by_channel) == {
        "email": len(truth["entered"]),
        "sms": truth["messages"] - len(truth["entered"]),
    }
    assert report.messages_per_person_per_week == pytest.approx(
        truth["messages"] / len(truth["entered"]) / 4
    )
    assert report.mature == truth["mature"]
    assert report.expected_conversion == pytest.approx(truth["converted"] / truth["mature"])


def test_backtest_uses_history_for_profile_conditions() -> None:
    text = """
id: returning
trigger: {event: Visit, conditions: '"Order Completed" in events'}
steps: [{action: webhook, url: "http://127.0.0.1:9/x"}]
"""
    t0 = datetime(2026, 1, 1)
    rows = [
        {"event_id": "1", "ts": t0, "person_id": "a", "event": "Order Completed"},
        {"event_id": "2", "ts": t0 + timedelta(days=40), "person_id": "a", "event": "Visit"},
        {"event_id": "3", "ts": t0 + timedelta(days=40), "person_id": "b", "event": "Visit"},
    ]
    [report] = backtest(
        loads(text), rows, as_of=t0 + timedelta(days=41), lookback=timedelta(days=7)
    )
    assert (report.entered, report.messages) == (1, 1)
