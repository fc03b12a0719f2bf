from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd
import pytest

from journeykit.errors import InputError
from journeykit.monitor import Watch, check, check_all, expected_range, scan

WEEK = np.array([1.0, 1.05, 1.1, 1.0, 0.95, 0.7, 0.6])  # Monday first: weekends are quiet


def series(seed: int, days: int = 140, noise: float = 0.04, trend: float = 0.002) -> pd.Series:
    rng = np.random.default_rng(seed)
    index = pd.date_range("2026-01-05", periods=days, freq="D")  # a Monday
    base = 1000 * WEEK[index.day_of_week] * (1 + trend * np.arange(days))
    return pd.Series(base * (1 + rng.normal(0, noise, days)), index=index)


def test_finds_the_planted_drop_and_spike_and_nothing_else() -> None:
    s = series(seed=11)
    s[pd.Timestamp(2026, 3, 17)] *= 0.65  # a Tuesday: orders fall by a third
    s[pd.Timestamp(2026, 4, 25)] *= 1.3  # a Saturday that looks like a weekday
    alerts = scan(s, Watch("orders", seasonality="multiplicative"))
    assert [(a.date, a.direction) for a in alerts] == [
        (date(2026, 3, 17), "low"),
        (date(2026, 4, 25), "high"),
    ]
    drop = alerts[0]
    assert drop.value < drop.low < drop.expected < drop.high and drop.z < -3.5
    assert drop.history == 56  # eight trailing weeks
    # the Saturday spike is still below an ordinary weekday: only weekday seasonality sees it
    assert s[pd.Timestamp(2026, 4, 25)] < s[pd.Timestamp(2026, 4, 21)]


def test_direction_and_minimum_change() -> None:
    s = series(seed=3)
    s[pd.Timestamp(2026, 3, 10)] *= 0.6
    s[pd.Timestamp(2026, 3, 12)] *= 1.5
    days = {a.date: a.direction for a in scan(s, Watch("m", seasonality="multiplicative"))}
    assert days[date(2026, 3, 10)] == "low" and days[date(2026, 3, 12)] == "high"
    low_only = scan(s, Watch("m", direction="low", seasonality="multiplicative"))
    assert date(2026, 3, 10) in {a.date for a in low_only}
    assert {a.direction for a in low_only} == {"low"}
    assert scan(s, Watch("m", min_change=10_000)) == []


@pytest.mark.parametrize("seasonality", ["additive", "multiplicative"])
def test_detection_and_false_alarm_rates(seasonality: str) -> None:
    found, false_alarms, days_watched = 0, 0, 0
    for seed in range(40):
        s = series(seed)
        rng = np.random.default_rng(1000 + seed)
        planted = s.index[int(rng.integers(60, 140))]
        s[planted] *= 0.7
        alerts = {pd.Timestamp(a.date) for a in scan(s, Watch("m", seasonality=seasonality))}
        found += planted in alerts
        false_alarms += len(alerts - {planted})
        days_watched += len(s) - 28
    assert found >= 38  # a 30% drop is caught
    assert false_alarms / days_watched < 0.015  # about one false alarm in a hundred days at most


def test_gaps_flat_series_and_timezones() -> None:
    s = series(seed=5, days=70)
    s = s.drop(s.index[40:43])  # missing days
    s.iloc[10] = np.nan
    frame = expected_range(s, Watch("m"))
    assert len(frame) == 70 and frame["value"].isna().sum() == 4
    assert frame["expected"].iloc[:28].isna().all() and frame["expected"].iloc[30:].notna().all()
    flat = pd.Series(50.0, index=pd.date_range("2026-01-01", periods=60, freq="D"))
    flat.iloc[-1] = 50.5  # a 1% wobble on a flat line is not an incident
    assert scan(flat, Watch("m")) == []
    flat.iloc[-1] = 60.0
    assert [a.direction for a in scan(flat, Watch("m"))] == ["high"]
    aware = flat.copy()
    aware.index = aware.index.tz_localize("Europe/London")
    assert len(scan(aware, Watch("m"))) == 1


def test_check_one_day_and_many_metrics() -> None:
    s = series(seed=7, days=80)
    s.iloc[-1] *= 0.5
    alert = check(s, Watch("orders"))
    assert alert is not None and alert.date == s.index[-1].date()
    assert check(s.iloc[:-1], Watch("orders")) is None
    assert check(s, Watch("orders"), as_of=s.index[-2]) is None
    got = check_all(
        {"orders": s, "visits": series(seed=8, days=80)}, [Watch("orders"), Watch("visits")]
    )
    assert [a.metric for a in got] == ["orders"]
    with pytest.raises(InputError, match="no series for metric"):
        check_all({}, [Watch("orders")])


def test_alert_event_layout() -> None:
    s = series(seed=7, days=80)
    s.iloc[-1] *= 0.5
    alert = check(s, Watch("orders"))
    assert alert is not None
    event = alert.to_event()
    assert event["event"] == "Metric Alert" and event["person_id"] is None
    assert event["event_id"] == f"alert:orders:{alert.date.isoformat()}"
    assert event["properties"]["metric"] == "orders" and event["properties"]["direction"] == "low"
    assert event["properties"]["date"] == alert.date.isoformat()


def test_bad_input() -> None:
    with pytest.raises(InputError, match="min_history"):
        Watch("m", min_history=1)
    with pytest.raises(InputError, match="Series"):
        scan([1, 2, 3], Watch("m"))  # type: ignore[arg-type]
    dup = pd.Series([1.0, 2.0], index=pd.to_datetime(["2026-01-01", "2026-01-01"]))
    with pytest.raises(InputError, match="more than one value"):
        scan(dup, Watch("m"))
