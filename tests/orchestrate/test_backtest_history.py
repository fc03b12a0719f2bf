"""A backtest over a workspace: history before the window builds profiles; the answer by hand.

Three loan customers opened their loans two months before the window; they and two newcomers
apply for a credit card ten days before the as-of date. By hand, with the automation below:

* existing-mail (pre-approved): L1, L2, L3 = 3; kyc-check (a webhook) and kyc-mail (upload a
  photo ID): N1, N2 = 2 each;
* L1 opens the card a day later (the wait matches, the goal ends the journey): no reminder;
  the others time out after 3 days: reminder for L2, L3, N1, N2 = 4;
* 9 e-mails and 2 webhooks in all; goal windows (7 days) all closed by the as-of date: 5 mature, L1 converted
  (N1 opened after 8 days, too late): 1 of 5, 20 %, 1.0 expected conversion among 5 entrants.

Replaying only the window (the old behaviour of --lookback-days) would ask all five for a photo
ID: 14 messages, 5 of them webhooks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from typer.testing import CliRunner

import journeykit
from journeykit.cli.main import app, console
from journeykit.ingest import load_segment
from journeykit.orchestrate.backtest import backtest
from journeykit.orchestrate.loader import loads
from journeykit.server.feed import backtest_events

AS_OF = datetime(2026, 9, 1)
BANK = """
templates:
  existing:
    subject: "{{ traits.first_name }}, your card is pre-approved"
    text: "As a loan customer you skip the paperwork."
  kyc:
    subject: "Finish your application"
    text: "Please upload a photo ID."
  reminder:
    subject: "Your card application is waiting"
    text: "Pick up where you left off."
automations:
  - id: card
    trigger: {event: Credit Card Application Started}
    goal: {event: Credit Card Opened, within: 7d}
    steps:
      - id: existing-customer
        branch:
          if: '"Loan Opened" in events'
          then: [{id: existing-mail, action: email, template: existing}]
          else:
            - {id: kyc-check, action: webhook, url: "http://127.0.0.1:9/kyc"}
            - {id: kyc-mail, action: email, template: kyc}
      - id: opened
        wait: {event: Credit Card Opened, timeout: 3d}
      - id: reminder-check
        branch:
          if: not journey.matched
          then: [{id: reminder, action: email, template: reminder}]
"""


def msg(user: str, kind: str, ts: datetime, **fields: Any) -> dict[str, Any]:
    return {
        "type": kind,
        "userId": user,
        "timestamp": ts.isoformat() + "Z",
        "messageId": f"{user}-{kind}-{fields.get('event', '')}-{ts.isoformat()}",
        **fields,
    }


def workspace(folder: Path) -> None:
    old = AS_OF - timedelta(days=60)
    apply = AS_OF - timedelta(days=10)
    messages = []
    for i, user in enumerate(["L1", "L2", "L3", "N1", "N2"]):
        traits = {"email": f"{user.lower()}@x.org", "first_name": user}
        messages.append(msg(user, "identify", old - timedelta(days=1), traits=traits))
        if user.startswith("L"):
            messages.append(msg(user, "track", old, event="Loan Opened"))
        messages.append(
            msg(user, "track", apply + timedelta(hours=i), event="Credit Card Application Started")
        )
    messages.append(msg("L1", "track", apply + timedelta(days=1), event="Credit Card Opened"))
    messages.append(msg("N1", "track", apply + timedelta(days=8), event="Credit Card Opened"))
    with journeykit.open(folder) as ws:
        report = load_segment(ws, messages, received_at=AS_OF)
    assert report.rejected == 0, report.rejects


def test_backtest_builds_profiles_from_history_before_the_window(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    workspace(folder)
    with journeykit.open(folder) as ws:
        events = backtest_events(ws.store, AS_OF - timedelta(days=20), AS_OF)
        people = dict(ws.store.fetchall("SELECT DISTINCT person_id, user_id FROM events"))
    [r] = backtest(loads(BANK), events, as_of=AS_OF, lookback=timedelta(days=20))
    assert (r.entered, r.treatment, r.holdout) == (5, 5, 0)
    assert (r.messages, r.by_channel) == (11, (("email", 9), ("webhook", 2)))
    steps = {s.step_id: (s.reached, s.sent) for s in r.steps}
    assert steps["existing-mail"] == (3, 3)
    assert steps["kyc-mail"] == steps["kyc-check"] == (2, 2)
    assert steps["reminder"] == (4, 4)
    assert (r.mature, r.converted, r.expected_conversion) == (5, 1, 0.2)
    assert r.expected_conversions == 1.0
    assert sorted(people[p] for p in r.person_ids) == ["L1", "L2", "L3", "N1", "N2"]
    subjects = {s.step_id: s.payload["subject"] for s in r.samples if s.channel == "email"}
    assert subjects["existing-mail"].endswith(", your card is pre-approved")
    assert subjects["kyc-mail"] == "Finish your application"


def test_the_backtest_command_prints_steps_people_and_samples(tmp_path: Path) -> None:
    folder = tmp_path / "ws"
    workspace(folder)
    spec = tmp_path / "bank.yaml"
    spec.write_text(BANK)
    console.width = 220
    result = CliRunner().invoke(
        app,
        [
            *("automations", "backtest", str(spec), "--as-of", "2026-09-01"),
            *("--lookback-days", "20", "-w", str(folder)),
        ],
        catch_exceptions=False,
    )
    assert result.exit_code == 0, result.output
    out = " ".join(result.output.split())
    assert "entered 5 (5 treatment, 0 holdout)" in out
    assert "messages 11 (email 9, webhook 2)" in out
    assert "goal reached by 1 of 5 entries whose window closed (20.0%)" in out
    assert "expected conversions among entrants 1.0" in out
    assert ", your card is pre-approved" in out and "reminder" in out
    assert "Finish your application" in out and "people: p_" in out
