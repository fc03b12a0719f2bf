"""The analysis commands run end to end on a small demo workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import journeykit
from journeykit.cli.main import app
from journeykit.demo import generate
from journeykit.ingest import load, load_spend
from journeykit.journey import demo_spec_path, set_spec

runner = CliRunner()
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("cli-demo")
    ws = journeykit.open(folder / "ws")
    files = generate(folder / "files", people=1500, seed=11)
    load(ws, list(files.events))
    load_spend(ws, files.spend)
    set_spec(ws, demo_spec_path(), by="demo")
    ws.close()
    return str(folder / "ws")


@pytest.mark.parametrize(
    ("args", "expect"),
    [
        (["clv", "--by", "first_touch_referral"], "first_touch_referral=1"),
        (["attribution"], "markov"),
        (["drivers"], "had Store visit"),
        (["predict", "churn"], "AUC"),
        (["personas"], "people ("),
        (["voc", "nps", "--by", "channel"], "nps"),
        (["voc", "themes", "--segment", "negative"], "themes"),
        (["alerts"], ""),
        (
            [
                "funnel",
                "Product Viewed",
                "Checkout Started",
                "Order Completed",
                "--window",
                "7d",
                "--by",
                "channel",
            ],
            "Checkout Started",
        ),
        (["paths", "--what", "variants", "--goal", "Order Completed"], "variant"),
        (["paths", "--what", "next", "--anchor", "Checkout Started"], "Order Completed"),
        (["retention", "--periods", "4"], "retention"),
        (["churn", "--lifecycle"], "lifecycle"),
        (["kpis"], "average_order_value"),
        (
            ["compare", 'app=first_channel == "ads"', 'web=first_channel == "search"'],
            "revenue by segment",
        ),
    ],
)
def test_command_runs(demo_ws: str, args: list[str], expect: str, tmp_path: Path) -> None:
    result = runner.invoke(
        app, [*args, "-w", demo_ws], catch_exceptions=False, env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0, result.output
    assert expect in result.output


def test_init_spec_writes_a_valid_spec(demo_ws: str, tmp_path: Path) -> None:
    out = tmp_path / "journey.yaml"
    result = runner.invoke(
        app, ["init-spec", "-w", demo_ws, "--out", str(out), "--dry-run"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    spec = journeykit.load_spec(out)
    assert len(spec.stages) == 5


def test_automations_validate_and_backtest(demo_ws: str, tmp_path: Path) -> None:
    spec = tmp_path / "welcome.yaml"
    spec.write_text(
        "automations:\n"
        "  - id: welcome\n"
        "    trigger:\n"
        "      event: Signed Up\n"
        "    holdout: 0.2\n"
        "    goal: {event: Order Completed, within: 14d}\n"
        "    steps:\n"
        "      - {action: add_tag, tag: welcomed}\n"
        "      - wait: 2d\n"
        "      - {action: emit, event: Welcome Nudge}\n"
    )
    result = runner.invoke(app, ["automations", "validate", str(spec)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert "welcome" in result.output
    result = runner.invoke(
        app,
        ["automations", "backtest", str(spec), "--as-of", "2026-09-01", "-w", demo_ws],
        catch_exceptions=False,
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "welcome" in result.output
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "automations:\n  - id: x\n    trigger: {event: A}\n    steps:\n      - {action: teleport}\n"
    )
    result = runner.invoke(app, ["automations", "validate", str(bad)])
    assert result.exit_code != 0
