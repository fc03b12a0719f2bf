"""A bank: a loan customer who applies for a credit card is recognised as an existing customer."""

from __future__ import annotations

from datetime import timedelta

from orchestrate_helpers import ev, journeys
from orchestrate_parts import Mailbox, Receiver

from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.loader import loads
from journeykit.orchestrate.measure import funnel
from journeykit.orchestrate.worker import IterableSource, OrchestrateSettings, run_worker

BANK = """
templates:
  existing:
    subject: "{{ traits.first_name }}, your card is pre-approved"
    text: "As a loan customer you skip the paperwork."
  kyc:
    subject: "Finish your application"
    text: "Please upload your ID documents."
automations:
  - id: card-application
    name: Credit card application follow-up
    trigger:
      event: Credit Card Application Started
      where: 'channel in ["web", "app", "branch"]'
    goal: {event: Credit Card Opened, within: 14d}
    steps:
      - id: existing-customer
        branch:
          if: '"Loan Opened" in events or traits.has_loan == true'
          then:
            - id: rm-task
              action: crm_task
              url: "CRM/tasks"
              task: {title: "Pre-approved card for {{ traits.first_name }}", queue: relationship-managers}
              due_in: 1d
            - {id: existing-mail, action: email, template: existing}
          else:
            - {id: kyc-check, action: webhook, url: "KYC/checks", body: {person: "{{ person_id }}"}}
            - {id: kyc-mail, action: email, template: kyc}
      - id: opened
        wait: {event: Credit Card Opened, timeout: 3d}
"""


def test_loan_customer_takes_the_existing_customer_branch(
    sqlite_url: str, clock: ManualClock, receiver: Receiver, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    [automation] = loads(
        BANK.replace("CRM", f"{receiver.url}/crm").replace("KYC", f"{receiver.url}/kyc")
    )
    events = [
        ev(
            "loan-1",
            "Loan Opened",
            channel="branch",
            traits={"email": "l1@x.org", "first_name": "Lena"},
        ),
        ev(
            "new-1",
            "Page Viewed",
            channel="web",
            traits={"email": "n1@x.org", "first_name": "Nils"},
        ),
        ev(
            "loan-2",
            "Signed In",
            channel="app",
            traits={"email": "l2@x.org", "first_name": "Lars", "has_loan": True},
        ),
        ev("loan-1", "Credit Card Application Started", channel="web"),
        ev("new-1", "Credit Card Application Started", channel="web"),
        ev("loan-2", "Credit Card Application Started", channel="app"),
        ev("new-2", "Credit Card Application Started", channel="phone"),  # not an eligible channel
    ]
    settings = OrchestrateSettings(smtp_port=port, poll_interval=0.01, concurrency=2)
    stats = run_worker(
        sqlite_url,
        [automation],
        IterableSource(events),
        settings=settings,
        clock=clock,
        stop_when_idle=True,
    )
    assert (stats.events, stats.entered, stats.sent, stats.dead) == (7, 3, 6, 0)

    crm = {
        b["person_id"]: b for k, b in receiver.bodies.items() if receiver.paths[k] == "/crm/tasks"
    }
    kyc = [b for k, b in receiver.bodies.items() if receiver.paths[k] == "/kyc/checks"]
    assert set(crm) == {"loan-1", "loan-2"}
    assert crm["loan-1"]["task"]["title"] == "Pre-approved card for Lena"
    assert crm["loan-1"]["task"]["queue"] == "relationship-managers"
    assert kyc == [{"person": "new-1"}]
    subjects = {m["To"]: m["Subject"] for m in box.messages}
    assert subjects == {
        "l1@x.org": "Lena, your card is pre-approved",
        "l2@x.org": "Lars, your card is pre-approved",
        "n1@x.org": "Finish your application",
    }

    # loan-1 opens the card while the journey waits: converted, the wait ends at once
    clock.advance(timedelta(hours=20))
    more = [ev("loan-1", "Credit Card Opened", channel="web")]
    run_worker(
        sqlite_url,
        [automation],
        IterableSource(more),
        settings=settings,
        clock=clock,
        stop_when_idle=True,
    )
    status = {j["person_id"]: j["status"] for j in journeys_of(sqlite_url, clock)}
    assert status == {"loan-1": "converted", "loan-2": "waiting", "new-1": "waiting"}

    steps = funnel(sqlite_url, "card-application").set_index("step_id")
    assert steps.loc["existing-customer", "reached"] == 3
    assert steps.loc["rm-task", "reached"] == 2 and steps.loc["kyc-check", "reached"] == 1
    assert steps.loc["rm-task", "converted"] == 1


def journeys_of(url: str, clock: ManualClock) -> list[dict]:
    from journeykit.orchestrate.engine import Engine

    return journeys(Engine([], url, clock=clock, register=False))
