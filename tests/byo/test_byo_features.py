"""Every analytic on the bring-your-own travel export, after ``journeykit spec infer``.

The names (``booking_confirmed``, ``properties.total_price``, ``properties.utm_medium``,
``trip_review``) come from the inferred spec, not from constants; each number is checked
against :data:`byo_data.TRAVEL_REF`, worked out by hand from the design.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from byo_cli import Byo, jk

from byo_data import TRAVEL_REF
from journeykit.store import Workspace

R = TRAVEL_REF


@pytest.fixture(scope="module")
def ws(byo_spec: Byo) -> Iterator[Workspace]:
    workspace = byo_spec.open()
    yield workspace
    workspace.close()


def kpi(table, name: str) -> float:  # type: ignore[no-untyped-def]
    return float(table.set_index("metric").loc[name, "value"])


def test_spec_infer_reads_the_export(ws: Workspace) -> None:
    from journeykit.journey import current_spec

    spec = current_spec(ws)
    assert spec.conversion_events == ("booking_confirmed",)
    assert spec.goal_events == ("booking_confirmed",)
    assert spec.revenue_field == "properties.total_price"
    assert spec.currency_code == R["currency"]
    assert spec.touch_events == ("campaign_click",)
    assert spec.touch_channel_field == "properties.utm_medium"
    assert spec.contact_events == ("support_chat",)
    assert [s.event for s in spec.surveys] == ["trip_review"]


def test_funnel(ws: Workspace) -> None:
    from journeykit.analytics import funnel

    table = funnel(ws, ["hotel_search", "booking_started", "booking_confirmed"]).table
    assert tuple(table.units) == R["funnel"]


def test_funnel_through_the_cli(byo_spec: Byo) -> None:
    out = jk(
        "funnel", "hotel_search", "booking_started", "booking_confirmed", "-w", str(byo_spec.folder)
    )
    assert out.exit_code == 0, out.output
    assert "Warning" not in out.output
    assert " 300 " in out.output and " 180 " in out.output and " 150 " in out.output


def test_paths(ws: Workspace) -> None:
    from journeykit.analytics import next_steps

    nxt = next_steps(ws, "booking_started")
    first = nxt[nxt.offset == 1].set_index("event").units.to_dict()
    # the first booking_started of each of 180 people: 120 book at once, 60 fail to pay
    assert first == {"booking_confirmed": 120, "payment_failed": 60}


def test_retention_from_the_first_booking(ws: Workspace) -> None:
    from journeykit.analytics import retention

    table = retention(ws, cohort="first_purchase", grain="week").table
    assert table[table.period == 0].cohort_size.sum() == R["bookers"]
    # the 30 repeat bookers come back exactly 35 days (5 weeks) after their first booking
    assert table[table.period == 5].retained.sum() == R["repeat_bookers"]


def test_kpis(ws: Workspace) -> None:
    from journeykit.analytics import kpis

    table = kpis(ws).table
    assert kpi(table, "active_people") == R["people"]
    assert kpi(table, "customers") == R["bookers"]
    assert kpi(table, "orders") == R["bookings"]
    assert kpi(table, "revenue") == pytest.approx(R["revenue"])
    assert kpi(table, "conversion_rate") == pytest.approx(R["bookers"] / R["people"])
    assert kpi(table, "average_order_value") == pytest.approx(R["revenue"] / R["bookings"])


def test_clv(ws: Workspace) -> None:
    from journeykit.analytics.value import predict_clv, rfm_summary_from_workspace

    summary = rfm_summary_from_workspace(ws)
    customers = summary[summary.frequency > 0]
    assert len(customers) == R["repeat_bookers"]
    # repeat bookings cost 90, 100 or 110: ten of each
    assert sorted(customers.monetary_value.round(2)) == [90.0] * 10 + [100.0] * 10 + [110.0] * 10
    clv = predict_clv(summary, horizon=365)
    assert len(clv) == R["bookers"] and clv.clv.notna().all() and (clv.clv > 0).all()
    # spend per booking is 90-110 for everyone: the model's expected spend stays there
    assert clv.expected_avg_spend.between(90, 110).all()


def test_attribution(ws: Workspace) -> None:
    from journeykit.analytics.value import attribute, paths_from_workspace

    paths = paths_from_workspace(ws)
    assert set(paths.touches.channel) == set(R["touches_by_medium"])
    credit = attribute(paths, "first")
    # utm_medium is independent of booking by design: every medium earns the same
    assert credit.conversions.nunique() == 1 and credit.conversions.sum() > 0
    assert set(credit.index) == set(R["touches_by_medium"])


def test_drivers(ws: Workspace) -> None:
    from journeykit.analytics.value import driver_features_from_workspace

    flags = driver_features_from_workspace(ws)
    assert len(flags) == R["people"]
    assert flags.converted.sum() == R["bookers"]
    assert flags.sum().gt(0).sum() >= 4  # contacts, payment errors, app use, conversion


def test_propensity(ws: Workspace) -> None:
    from journeykit.analytics.value import propensity_from_workspace

    report = propensity_from_workspace(ws, "conversion")
    scores = report.scores
    assert len(scores) > 0 and scores.iloc[:, 0].nunique() > 1


def test_personas(ws: Workspace) -> None:
    from journeykit.analytics.value import persona_features_from_workspace

    features = persona_features_from_workspace(ws)
    assert len(features) == R["people"]
    assert features.conversions.sum() == R["bookings"]
    assert features.revenue.sum() == pytest.approx(R["revenue"])
    assert features.share_chat.gt(0).sum() == R["chat_people"]
    # everyone is active on the web or in the app (the channel mix of the export)
    assert (features.share_web + features.share_app).gt(0).sum() == R["people"]


def test_voc(ws: Workspace) -> None:
    from journeykit.voc import survey_responses

    answers = survey_responses(ws, surveys=None)  # the trip review is a 1-5 rating: a review
    assert len(answers) == R["reviews"]
    assert set(answers.survey) == {"review"}
    assert answers.comment.notna().all()
    assert answers.score.mean() == pytest.approx(R["mean_rating"])


def test_the_map(ws: Workspace) -> None:
    from journeykit.journey import build_map

    jm = build_map(ws, replicates=20)
    assert jm.people == R["people"]
    assert jm.converters == R["bookers"]
    assert jm.revenue == pytest.approx(R["revenue"])
    assert jm.spec.currency_symbol == "CHF "
