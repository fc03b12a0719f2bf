"""`journeykit automations stats | preview | test-send` against real state, SMTP and HTTP."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from journeykit.cli.main import app
from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.engine import Engine
from journeykit.orchestrate.loader import loads
from journeykit.orchestrate.runtime import unit_hash

sys.path.insert(0, str(Path(__file__).parents[1] / "orchestrate"))

runner = CliRunner()

PROMO = """
id: promo
trigger: {event: Visit}
holdout: 0.3
goal: {event: Purchase, within: 7d}
steps:
  - split:
      - {name: a, share: 0.5, steps: [{id: tag-a, action: add_tag, tag: a}]}
      - {name: b, share: 0.5, steps: [{id: tag-b, action: add_tag, tag: b}]}
  - {id: pause, wait: 1d}
"""


def _promo_state(tmp_path: Path, people: int) -> str:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    clock = ManualClock(datetime(2026, 6, 1, 12))
    e = Engine(loads(PROMO), url, clock=clock)
    ids = [f"p{i}" for i in range(people)]
    e.handle_batch([{"event_id": f"v{p}", "person_id": p, "event": "Visit"} for p in ids])
    clock.advance(timedelta(hours=3))
    buyers = [p for p in ids if unit_hash("buy", p) < 0.3]
    e.handle_batch([{"event_id": f"b{p}", "person_id": p, "event": "Purchase"} for p in buyers])
    e.state.dispose()
    return url


def test_stats_labels_arms_names_the_interval_and_prints_the_funnel(tmp_path: Path) -> None:
    url = _promo_state(tmp_path, 600)
    result = runner.invoke(app, ["automations", "stats", "promo", "--state", url])
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        "treatment (gets the journey)",
        "holdout (kept out, measured alike)",
        "split step1: arm a",
        "split step1: arm b",
        "Newcombe hybrid score interval (statsmodels)",
        "95% interval",
        "per step (treated people reaching each step)",
        "tag-a",
        "pause",
    ):
        assert text in out, text
    assert "Warning" not in out
    wald = runner.invoke(
        app,
        [
            "automations",
            "stats",
            "promo",
            "--state",
            url,
            "--method",
            "wald",
            "--confidence",
            "0.9",
        ],
    )
    assert wald.exit_code == 0 and "90% interval" in wald.output and "Wald" in wald.output


def test_stats_warns_when_an_arm_is_too_small(tmp_path: Path) -> None:
    url = _promo_state(tmp_path, 20)
    result = runner.invoke(app, ["automations", "stats", "promo", "--state", url])
    assert result.exit_code == 0, result.output
    assert "Warning: holdout has" in result.output and "too few to say anything" in result.output


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journeykit.cli", *args], capture_output=True, text=True
    )


def test_stats_errors_are_one_line(tmp_path: Path) -> None:
    url = _promo_state(tmp_path, 5)
    proc = _cli("automations", "stats", "nope", "--state", url)
    assert proc.returncode == 1 and "Error: No automation 'nope'. Known: promo." in proc.stderr
    missing = tmp_path / "missing.sqlite"
    proc = _cli("automations", "stats", "promo", "--state", str(missing))
    assert proc.returncode == 1 and "Error: No orchestration state" in proc.stderr
    assert not missing.exists()
    proc = _cli("automations", "stats", "promo", "--state", url, "--method", "x")
    assert proc.returncode == 1 and "unknown method 'x'" in proc.stderr
    assert "Traceback" not in proc.stderr
