"""Every analytic on DuckDB and on Spark gives the same numbers (one Spark session)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from analytics_reference import rows_of

import journeykit
from journeykit.analytics import (
    Step,
    churn,
    flows,
    funnel,
    kpis,
    lifecycle,
    next_steps,
    retention,
    step_matrix,
    stickiness,
    transition_matrix,
    variants,
)
from journeykit.analytics.filters import parse_filter
from journeykit.errors import WorkspaceError
from journeykit.ingest import load
from journeykit.ingest.load import load_spend
from journeykit.journey import set_spec
from journeykit.store.spark import MANIFEST, SparkWorkspace, export_parquet, parse_spark_url

pytestmark = pytest.mark.spark

DAY = 24 * 60
SPEC = """
stages:
  - {name: reach, touchpoints: [{name: Ad, event: Ad Clicked}]}
  - {name: browse, touchpoints: [{name: Visit, events: [Session Started, Product Viewed]}]}
  - {name: buy, touchpoints: [{name: Checkout, event: Checkout Started},
                              {name: Order, event: Order Completed}]}
goals: [Order Completed]
marketing: {events: [Ad Clicked]}
messages: [Email Sent]
"""


def _log() -> list[tuple[Any, ...]]:
    import random

    rnd = random.Random(3)
    names = [
        "Ad Clicked",
        "Session Started",
        "Product Viewed",
        "Checkout Started",
        "Order Completed",
        "Email Sent",
    ]
    specs = []
    for p in range(40):
        t = rnd.randrange(0, 10 * DAY)
        for _ in range(rnd.randrange(1, 12)):
            t += rnd.choice([0, 1, 5, 45, DAY, 3 * DAY])
            e = rnd.choice(names)
            props = {"platform": rnd.choice(["ios", "android", "web"])}
            rev = float(rnd.randrange(10, 90)) if e == "Order Completed" else None
            specs.append((f"u{p}", e, t, props, rnd.choice(["web", "app", "ads"]), rev))
    return specs


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, spark_session: Any) -> Iterator[tuple[Any, Any]]:
    base = tmp_path_factory.mktemp("parity")
    ws = journeykit.open(base / "ws")
    load(ws, rows_of(_log()))
    # the spec travels with the export: Spark reads the same names
    set_spec(ws, SPEC, by="test")
    load_spend(
        ws,
        pd.DataFrame(
            {
                "date": ["2026-03-03", "2026-03-04"],
                "channel": ["ads", "web"],
                "amount": [30.0, 10.0],
            }
        ),
    )
    folder = export_parquet(ws, base / "export")
    sws = SparkWorkspace(spark_session, folder)
    yield ws, sws
    sws.close()
    ws.close()


def same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    a = a.sort_values(list(a.columns)).reset_index(drop=True) if not a.empty else a
    b = b.sort_values(list(b.columns)).reset_index(drop=True) if not b.empty else b
    pd.testing.assert_frame_equal(a, b, check_dtype=False, check_exact=False, rtol=1e-9)


CASES = {
    "funnel_ordered": lambda ws: (
        funnel(
            ws,
            ["Session Started", "Product Viewed", "Checkout Started", "Order Completed"],
            window="2d",
        ).table
    ),
    "funnel_strict_by": lambda ws: (
        funnel(
            ws, ["Session Started", "Product Viewed"], mode="strict", by="properties.platform"
        ).table
    ),
    "funnel_any_session": lambda ws: (
        funnel(ws, ["Product Viewed", "Ad Clicked"], mode="any", per="session").table
    ),
    "funnel_optional_exclude": lambda ws: (
        funnel(
            ws,
            ["Ad Clicked", Step("Session Started", optional=True), "Order Completed"],
            exclude=["Email Sent"],
            by=["week", "first_channel"],
        ).table
    ),
    "funnel_segments": lambda ws: (
        funnel(
            ws,
            ["Product Viewed", "Order Completed"],
            by={
                "ios": 'properties.platform == "ios"',
                "buyers": 'count(event == "Order Completed", 30d) >= 2',
            },
        ).overall
    ),
    "transitions": lambda ws: transition_matrix(ws, include_ends=True, detail=True).table,
    "transitions_session_other": lambda ws: (
        transition_matrix(ws, per="session", collapse_repeats=True, top_events=3).table
    ),
    "step_matrix": lambda ws: step_matrix(ws, max_steps=5),
    "step_matrix_anchor": lambda ws: step_matrix(
        ws, max_steps=3, anchor="Product Viewed", collapse_repeats=True
    ),
    "next_previous": lambda ws: next_steps(ws, "Checkout Started", steps=2, direction="previous"),
    "variants": lambda ws: variants(ws, goal="Order Completed", collapse_repeats=True, top=None),
    "variants_cut": lambda ws: variants(ws, max_length=3, top=None),
    "flows": lambda ws: flows(ws, steps=3, anchor="Session Started").links,
    "retention": lambda ws: retention(ws, grain="day", periods=5).table,
    "retention_unbounded_by": lambda ws: (
        retention(
            ws,
            cohort="first_purchase",
            returning="Order Completed",
            kind="unbounded",
            periods=3,
            by="channel",
        ).table
    ),
    "retention_month": lambda ws: retention(ws, grain="month", periods=1).table,
    "churn": lambda ws: churn(ws, inactivity="3d", grain="day"),
    "lifecycle": lambda ws: lifecycle(ws, grain="day"),
    "stickiness": lambda ws: stickiness(ws, window_days=7),
    "kpis": lambda ws: (
        kpis(
            ws,
            stages={"a": ["Ad Clicked"], "b": ["Product Viewed"], "c": ["Order Completed"]},
            start="2026-03-04",
        ).table
    ),
    "kpis_cac": lambda ws: kpis(ws, attribution="last_touch").cac,
    "kpis_spec_stages": lambda ws: kpis(ws).stages,
    "filter_people": lambda ws: (
        parse_filter(
            'channel == "app" and properties.platform in ("ios", "web") and count(event == "Order Completed", 5d) >= 1'
        )
        .people(ws)
        .to_pandas()
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_results_on_duckdb_and_spark(pair, name):
    ws, sws = pair
    duck = CASES[name](ws)
    spark = CASES[name](sws)
    assert not duck.empty
    same(duck, spark)


def test_dropped_cohorts_agree(pair):
    ws, sws = pair
    steps = ["Session Started", "Product Viewed", "Order Completed"]
    same(funnel(ws, steps).dropped_at(2), funnel(sws, steps).dropped_at(2))


def test_export_layout_and_urls(pair, tmp_path):
    ws, sws = pair
    days = sorted(p.name for p in (sws.path / "events").iterdir() if p.is_dir())
    assert days and all(d.startswith("date=2026-03-") for d in days)
    assert sws.table("events").count().to_pandas() == ws.table("events").count().execute()
    assert parse_spark_url("spark://local?path=/x") == ("local[*]", {"path": "/x"})
    with pytest.raises(WorkspaceError):
        journeykit.open(f"spark://local?path={tmp_path}")
    (tmp_path / "junk.txt").write_text("x")
    with pytest.raises(WorkspaceError):
        export_parquet(ws, tmp_path)
    assert (sws.path / MANIFEST).exists()


def test_open_by_url(pair, spark_session):
    ws, sws = pair
    opened = journeykit.open(f"spark://local[2]?path={sws.path}")
    try:
        assert opened.session is spark_session  # getOrCreate reuses the running session
        assert opened.table("people").count().to_pandas() == ws.table("people").count().execute()
    finally:
        opened._owns = False  # the shared test session stays up
        opened.close()


def test_export_of_empty_workspace(spark_session, tmp_path: Path):
    ws = journeykit.open(tmp_path / "empty")
    sws = SparkWorkspace(spark_session, export_parquet(ws, tmp_path / "out"))
    assert sws.table("events").count().to_pandas() == 0
    sws.close()
