"""`journeykit demo --scenario bank`: generated, loaded, its spec stored; the retailer stays default."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

import journeykit
from journeykit.cli.main import app
from journeykit.journey import current_spec

runner = CliRunner()


def _run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result.exit_code, " ".join(result.output.split())


def test_demo_bank_loads_and_summary_shows_it(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    code, out = _run("demo", "--scenario", "bank", "--people", "300", "--workspace", ws)
    assert code == 0, out
    truth = json.loads((tmp_path / "ws" / "demo" / "ground_truth.json").read_text())
    n = truth["generator"]["events"]
    assert f"demo (bank): 300 people, {n:,} events" in out and f"{n:,} loaded, 0 rejected" in out
    for effect in truth["effects"]:
        assert effect["name"] in out
    code, out = _run("summary", "--workspace", ws)
    assert code == 0, out
    assert "€" in out  # the ad spend, in the spec's currency
    result = runner.invoke(app, ["summary", "--workspace", ws, "--json"], catch_exceptions=False)
    tables = {t["table"]: t["rows"] for t in map(json.loads, result.stdout.splitlines())}
    overview = {r["metric"]: r["value"] for r in tables["workspace"]}
    assert (overview["people"], overview["events"]) == (300, n)
    channels = {r["channel"]: r["events"] for r in tables["events by channel"]}
    assert set(channels) >= {"branch", "phone", "letter", "email", "comparison", "app", "web"}
    assert sum(channels.values()) == n
    workspace = journeykit.open(ws)
    spec = current_spec(workspace)
    assert spec.currency_code == "EUR" and spec.currency_symbol == "€"
    assert spec.goal_events == ("loan_contract_signed", "card_account_opened")
    workspace.close()


def test_retail_stays_the_default(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    code, out = _run("demo", "--people", "100", "--workspace", ws)
    assert code == 0, out
    assert "demo (retail): 100 people" in out
    truth = json.loads((tmp_path / "ws" / "demo" / "ground_truth.json").read_text())
    assert "scenario" not in truth["generator"]
    assert truth["effects"][0]["name"] == "ios_payment_failure"


def test_an_unknown_scenario_is_a_one_line_error(tmp_path: Path) -> None:
    ws = str(tmp_path / "ws")
    proc = subprocess.run(
        [sys.executable, "-m", "journeykit.cli", "demo", "--scenario", "insurer", "-w", ws],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Error: field 'scenario': unknown scenario 'insurer'; use retail or bank" in proc.stderr
    assert "Traceback" not in proc.stderr
