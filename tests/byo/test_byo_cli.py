"""The analytics commands on the bring-your-own travel workspace, as a user would run them
after ``journeykit spec infer``: real numbers, in the workspace's currency and names."""

from __future__ import annotations

from pathlib import Path

import pytest
from byo_cli import Byo, jk

from byo_data import TRAVEL_REF

R = TRAVEL_REF


def run(byo: Byo, *args: str) -> str:
    out = jk(*args, "-w", str(byo.folder))
    assert out.exit_code == 0, out.output
    assert "Warning" not in out.output, out.output
    return out.output


def test_kpis(byo_spec: Byo) -> None:
    out = run(byo_spec, "kpis")
    assert "│ orders │ 180 │" in out
    assert "CHF 30,600.00" in out  # revenue, in the spec's currency
    assert "CHF 170.00" in out  # average order value: 30,600 / 180
    assert "50.0%" in out  # conversion: 150 of 300


def test_retention_by_first_booking(byo_spec: Byo) -> None:
    out = run(byo_spec, "retention", "--cohort", "first_purchase", "--grain", "week")
    assert "2026-02-02" in out and "22.7%" in out  # 5 of the first week's 22 bookers repeat


def test_attribution_credits_the_utm_medium(byo_spec: Byo) -> None:
    out = run(byo_spec, "attribution")
    for medium in R["touches_by_medium"]:
        assert f"│ {medium} " in out
    # the 30 repeat bookings come 35 days after the campaign click: outside the 30-day lookback
    assert f"{R['repeat_bookers']} conversions had no touch to credit" in out


def test_predict_conversion(byo_spec: Byo) -> None:
    out = run(byo_spec, "predict", "conversion")
    auc = float(out.split("AUC ", 1)[1].split()[0])
    assert auc > 0.6  # app users and people without a support chat book more, by design


def test_personas(byo_spec: Byo) -> None:
    out = run(byo_spec, "personas")
    assert "conversions" in out and "people (" in out


def test_the_map(byo_spec: Byo, tmp_path: Path) -> None:
    page = tmp_path / "map.html"
    out = run(byo_spec, "map", "--out", str(page))
    assert (
        f"payment_failed: {R['payment_failed_people']} people hit it, 50% never reach booking_confirmed"
        in out
    )
    text = page.read_text(encoding="utf-8")
    assert "booking_confirmed" in text and "CHF" in text


@pytest.mark.xfail(
    strict=True,
    reason="drivers count messages sent after the conversion (the booking reminder) as a "
    "driver of converting: a perfect separation, an overflow and no usable interval",
)
def test_drivers_of_booking(byo_spec: Byo) -> None:
    import warnings

    from journeykit.analytics.value import driver_features_from_workspace, key_drivers

    ws = byo_spec.open()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            analysis = key_drivers(driver_features_from_workspace(ws), "converted")
    finally:
        ws.close()
    table = analysis.drivers
    assert table.odds_ratio.between(1e-3, 1e3).all()
