"""The value and analytics commands on data named by its own spec, and on a table of paths."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest

import journeykit
from journeykit.analytics.value import attribution as at
from journeykit.analytics.value.paths import paths_from_table
from journeykit.cli.main import main
from journeykit.ingest import load
from journeykit.journey import set_spec

SPEC = """
stages:
  - name: awareness
    touchpoints: [{name: Ad, event: ad_click}, {name: Newsletter, event: newsletter_click}]
  - name: consideration
    touchpoints: [{name: Product, event: product_view}, {name: Cart, event: add_to_cart}]
  - name: purchase
    touchpoints: [{name: Buy, event: purchase}]
goals: [purchase]
conversions: {events: [purchase], revenue: properties.amount}
marketing: {events: [ad_click, newsletter_click], channel: properties.utm_source}
"""


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Callable[..., tuple[int, str]]:
    """Run the command as the ``journeykit`` script does: (exit status, stdout + stderr)."""

    def invoke(*args: str) -> tuple[int, str]:
        try:
            main(list(args))
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return code, captured.out + captured.err

    return invoke


@pytest.fixture
def shop(tmp_path: Path) -> str:
    """Three people in snake_case names: a and b buy (a twice), c only looks."""
    start = datetime(2026, 3, 2, 9)
    rows = [
        ("a", "ad_click", 0, {"utm_source": "google"}),
        ("a", "product_view", 1, {}),
        ("a", "add_to_cart", 1.1, {}),
        ("a", "purchase", 2, {"amount": 50}),
        ("a", "newsletter_click", 20, {"utm_source": "newsletter"}),
        ("a", "purchase", 21, {"amount": 30}),
        ("b", "newsletter_click", 3, {"utm_source": "newsletter"}),
        ("b", "purchase", 4, {"amount": 20}),
        ("c", "ad_click", 5, {"utm_source": "google"}),
        ("c", "product_view", 9, {}),
    ]
    ws = journeykit.open(tmp_path / "ws")
    load(
        ws,
        [
            {
                "ts": (start + timedelta(days=d)).isoformat(),
                "event": ev,
                "user_id": user,
                "channel": "web",
                "properties": props,
            }
            for user, ev, d, props in rows
        ],
    )
    ws.close()
    return str(tmp_path / "ws")


def test_commands_without_a_spec_say_how_to_make_one(shop: str, run) -> None:
    for args in (["kpis"], ["clv"], ["attribution"], ["retention", "--cohort", "first_purchase"]):
        code, out = run(*args, "-w", shop)
        assert code == 1, (args, out)
        assert "Error: this workspace has no journey spec" in out
        assert "spec infer" in out and "Order Completed" not in out


def test_commands_read_the_spec_of_the_workspace(shop: str, tmp_path: Path, run) -> None:
    ws = journeykit.open(shop)
    set_spec(ws, SPEC, by="test")
    ws.close()
    code, out = run("kpis", "-w", shop)
    assert code == 0, out
    rows = [[c.strip() for c in line.split("│")[1:-1]] for line in out.splitlines()]
    kpi = {
        r[0]: float(r[1].replace(",", ""))
        for r in rows
        if r and r[0] in ("orders", "revenue", "customers")
    }
    assert kpi == {"customers": 2, "orders": 3, "revenue": 100}
    code, out = run("retention", "--cohort", "first_purchase", "--grain", "day", "-w", shop)
    assert code == 0 and "2026-03-04" in out  # a's first purchase opens a cohort
    code, out = run(
        "attribution", "--metric", "revenue", "--csv", str(tmp_path / "a.csv"), "-w", shop
    )
    assert code == 0, out
    table = pd.read_csv(tmp_path / "a.csv", index_col="key")
    # a's first order follows google, the second the newsletter; b's follows the newsletter
    assert table.loc["google", "last"] == 50.0 and table.loc["newsletter", "last"] == 50.0
    # every model's column holds money on the terminal, shapley_rate too (never a percentage)
    assert "%" not in out
    assert out.count("50.00") >= 2


def test_attribution_names_the_touches_and_the_channel_field(
    shop: str, tmp_path: Path, run
) -> None:
    code, out = run(
        "attribution",
        "--touch-events", "ad_click, newsletter_click",
        "--channel-field", "properties.utm_source",
        "--conversion-events", "purchase",
        "--csv", str(tmp_path / "a.csv"),
        "-w", shop,
    )  # fmt: skip
    assert code == 0, out
    table = pd.read_csv(tmp_path / "a.csv", index_col="key")
    assert table["first"].to_dict() == {"google": 1.0, "newsletter": 2.0}
    code, out = run(
        "attribution", "--touch-events", "ad_click", "--conversion-events", "purchase",
        "--channel-field", "utm_source", "-w", shop,
    )  # fmt: skip
    assert code == 1 and "Error:" in out and "properties.<key>" in out


def test_attribution_of_a_table_of_paths(tmp_path: Path, run) -> None:
    paths_csv = tmp_path / "paths.csv"
    table = pd.DataFrame(
        {
            "channel_path": ["search > email > direct", "email", "search > direct", "direct"],
            "conv": [30, 10, 12, 5],
            "value": [3000.0, 400.0, 1500.0, 100.0],
            "nulls": [70, 90, 40, 200],
        }
    )
    table.to_csv(paths_csv, index=False)
    code, out = run(
        "attribution", "--paths", str(paths_csv), "--path-column", "channel_path",
        "--conversions-column", "conv", "--value-column", "value", "--nulls-column", "nulls",
        "--metric", "revenue", "--csv", str(tmp_path / "out.csv"),
    )  # fmt: skip
    assert code == 0, out
    assert "markov" in out and "time_decay" not in out  # a path table has no touch times
    got = pd.read_csv(tmp_path / "out.csv", index_col="key")
    paths = paths_from_table(
        table,
        path_column="channel_path",
        conversions_column="conv",
        value_column="value",
        nulls_column="nulls",
    )
    expected = at.compare_models(paths, metric="revenue").round(1)
    pd.testing.assert_frame_equal(got.sort_index(), expected.sort_index(), check_names=False)
    assert got["markov"].sum() == pytest.approx(5000.0, abs=0.5)
    code, out = run("attribution", "--paths", str(paths_csv))
    assert code == 1 and "Error:" in out and "path" in out  # no column called "path"
    code, out = run("attribution", "--paths", str(tmp_path / "missing.csv"))
    assert code == 1 and "Error: field 'paths': cannot read" in out
