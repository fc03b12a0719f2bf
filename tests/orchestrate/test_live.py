"""What a live run acts on: new events only; old ones need --replay, and replays use event time.

The runs are the real command (a subprocess), against a workspace with a stored history, a
real webhook receiver and a real SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from orchestrate_parts import Mailbox, Receiver

import journeykit
from journeykit.ingest import load_segment
from journeykit.orchestrate.state import StateStore, journeys_t, outbox_t

NOW = datetime.now(UTC).replace(tzinfo=None)

WELCOME = """
automations:
  - id: welcome
    trigger: {event: Signed Up}
    goal: {event: Order Completed, within: 1d}
    steps:
      - {id: hello, action: webhook, url: "RECEIVER/hello"}
      - wait: 2d
      - {id: nudge, action: webhook, url: "RECEIVER/nudge"}
"""


def track(user: str, event: str, ts: datetime, **properties: Any) -> dict[str, Any]:
    return {
        "type": "track",
        "userId": user,
        "event": event,
        "timestamp": ts.isoformat() + "Z",
        "messageId": f"{user}-{event}-{ts.isoformat()}",
        "properties": properties,
        "channel": "web",
    }


def identify(user: str, ts: datetime, **traits: Any) -> dict[str, Any]:
    return {
        "type": "identify",
        "userId": user,
        "timestamp": ts.isoformat() + "Z",
        "messageId": f"{user}-identify-{ts.isoformat()}",
        "traits": traits,
    }


def load(folder: Path, messages: list[dict[str, Any]], received: datetime) -> None:
    with journeykit.open(folder) as ws:
        report = load_segment(ws, messages, received_at=received)
    assert report.rejected == 0, report.rejects


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journeykit.cli", *args],
        capture_output=True,
        text=True,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        timeout=300,
    )


def automation_file(tmp_path: Path, text: str, receiver: Receiver) -> Path:
    path = tmp_path / "automations.yaml"
    path.write_text(text.replace("RECEIVER", receiver.url))
    return path


def paths(receiver: Receiver) -> list[str]:
    return sorted(receiver.paths.values())


def test_a_live_run_acts_only_on_new_events_and_refuses_old_ones(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "ws"
    spec = automation_file(tmp_path, WELCOME, receiver)
    state = f"sqlite:///{tmp_path / 'state.sqlite'}"
    old = NOW - timedelta(days=60)
    load(folder, [track(f"old{i}", "Signed Up", old + timedelta(hours=i)) for i in range(6)], old)
    base = ["-w", str(folder), "--state", state]

    # a first run, plain or with --since now, replays nothing: no one from two months ago
    for extra in (["--since", "now"], []):
        done = cli("orchestrate", str(spec), *base, *extra)
        assert done.returncode == 0, done.stderr
        assert receiver.requests == 0, paths(receiver)
    assert "profiles built from the stored history" in done.stdout or receiver.requests == 0

    # new events arrive: two fresh sign-ups, and a late file of three from twenty days ago
    late = NOW - timedelta(days=20)
    load(
        folder,
        [
            track("fresh1", "Signed Up", NOW - timedelta(minutes=5)),
            track("fresh2", "Signed Up", NOW - timedelta(minutes=4)),
            track("late1", "Signed Up", late),
            track("late1", "Order Completed", late + timedelta(hours=12)),  # within 1d
            track("late2", "Signed Up", late + timedelta(minutes=1)),
            track("late2", "Order Completed", late + timedelta(days=10)),  # not within 1d
            track("late3", "Signed Up", late + timedelta(minutes=2)),
        ],
        NOW,
    )
    refused = cli("orchestrate", str(spec), *base)
    assert refused.returncode == 1
    assert refused.stderr.startswith("Error: 5 of the 7 events waiting are older than 1h")
    # a dry run, by hand: late1 converts within 12 h (its journey ends before anything is
    # sent), late2 and late3 get hello and, two days later, the nudge; fresh1 and fresh2 get
    # hello and wait
    assert "would touch 5 people: 5 would enter automations and 6 messages" in " ".join(
        refused.stderr.split()
    )
    assert receiver.requests == 0

    replayed = cli("orchestrate", str(spec), *base, "--replay")
    assert replayed.returncode == 0, replayed.stderr
    assert len(receiver.paths) == 6
    people = _people(folder)
    sent = sorted(
        (people[b["person_id"]], receiver.paths[k].rsplit("/", 1)[1])
        for k, b in receiver.bodies.items()
    )
    assert sent == [
        ("fresh1", "hello"),
        ("fresh2", "hello"),
        ("late2", "hello"),
        ("late2", "nudge"),
        ("late3", "hello"),
        ("late3", "nudge"),
    ]
    store = StateStore(state, create=False)
    with store.begin() as conn:
        rows = conn.execute(
            sa.select(journeys_t.c.person_id, journeys_t.c.status, journeys_t.c.converted_at)
        ).all()
        cancelled = conn.execute(
            sa.select(sa.func.count()).where(outbox_t.c.status == "cancelled")
        ).scalar()
    status = {people[p]: (s, c is not None) for p, s, c in rows}
    # event time: an order ten days after signing up is not a conversion "within 1d"
    assert status["late1"] == ("converted", True)
    assert status["late2"] == ("completed", False)
    assert status["fresh1"] == ("waiting", False)
    assert cancelled == 1  # late1's hello: the journey ended in the replay before it went out

    again = cli("orchestrate", str(spec), *base)
    assert again.returncode == 0, again.stderr
    assert len(receiver.paths) == 6


def _people(folder: Path) -> dict[str, str]:
    """person_id -> user id."""
    with journeykit.open(folder) as ws:
        rows = ws.store.fetchall(
            "SELECT DISTINCT person_id, user_id FROM events WHERE user_id IS NOT NULL"
        )
    return dict(rows)


BANK = """
templates:
  existing:
    subject: "{{ traits.first_name }}, your card is pre-approved"
    text: "As a loan customer you skip the paperwork."
  kyc:
    subject: "Finish your application"
    text: "Please upload a photo ID."
automations:
  - id: card-application
    trigger: {event: Credit Card Application Started}
    goal: {event: Credit Card Opened, within: 14d}
    steps:
      - id: existing-customer
        branch:
          if: '"Loan Opened" in events'
          then:
            - {id: existing-mail, action: email, template: existing}
          else:
            - {id: kyc-mail, action: email, template: kyc}
"""


def test_profiles_from_history_recognise_a_loan_customer_on_live_events(
    tmp_path: Path, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    folder = tmp_path / "ws"
    spec = tmp_path / "bank.yaml"
    spec.write_text(BANK)
    state = f"sqlite:///{tmp_path / 'state.sqlite'}"
    year_ago = NOW - timedelta(days=365)
    history = []
    for i in range(3):
        history += [
            identify(f"loan{i}", year_ago, email=f"loan{i}@x.org", first_name=f"L{i}"),
            track(f"loan{i}", "Loan Opened", year_ago + timedelta(minutes=1)),
        ]
    history += [identify("new0", year_ago, email="new0@x.org", first_name="N0")]
    load(folder, history, year_ago)
    env = {"JOURNEYKIT_ORCHESTRATE_SMTP_PORT": str(port)}
    base = ["-w", str(folder), "--state", state]
    first = cli("orchestrate", str(spec), *base, env=env)
    assert first.returncode == 0, first.stderr

    live = [
        track(u, "Credit Card Application Started", NOW - timedelta(seconds=30))
        for u in ("loan0", "loan1", "new0")
    ]
    load(folder, live, NOW)
    run = cli("orchestrate", str(spec), *base, env=env)
    assert run.returncode == 0, run.stderr
    subjects = sorted((m["To"], m["Subject"]) for m in box.messages)
    assert subjects == [
        ("loan0@x.org", "L0, your card is pre-approved"),
        ("loan1@x.org", "L1, your card is pre-approved"),
        ("new0@x.org", "Finish your application"),
    ]


def test_caps_and_rates_on_the_command_line_and_the_state_variable(
    tmp_path: Path, receiver: Receiver
) -> None:
    folder = tmp_path / "ws"
    spec = automation_file(tmp_path, WELCOME, receiver)
    load(folder, [track("a", "Signed Up", NOW - timedelta(days=3))], NOW - timedelta(days=3))
    bad = cli("orchestrate", str(spec), "-w", str(folder), "--cap", "email:many/1d")
    assert bad.returncode == 1 and "not a cap: 'email:many/1d'" in bad.stderr
    bad = cli("orchestrate", str(spec), "-w", str(folder), "--rate", "email=fast")
    assert bad.returncode == 1 and "invalid rate 'fast'" in bad.stderr
    # the variable the docs name, for every command; a read never makes an empty state
    missing = tmp_path / "nowhere.sqlite"
    env = {"JOURNEYKIT_ORCHESTRATE_STATE_URL": f"sqlite:///{missing}"}
    listed = cli("automations", "list", env=env)
    assert listed.returncode == 1 and f"No orchestration state at {missing}" in listed.stderr
    assert not missing.exists()
    ran = cli(
        "orchestrate", str(spec), "-w", str(folder), "--cap", "webhook:1/1d", "--rate", "*=5/s",
        env=env,
    )  # fmt: skip
    assert ran.returncode == 0, ran.stderr
    assert missing.exists() and receiver.requests == 0
    listed = cli("automations", "list", env=env)
    assert listed.returncode == 0 and "welcome" in listed.stdout


def test_a_replay_sends_the_same_to_a_real_receiver_whatever_the_batch_size(
    tmp_path: Path, receiver: Receiver
) -> None:
    import random

    from journeykit.orchestrate.engine import EngineSettings
    from journeykit.orchestrate.loader import read_file
    from journeykit.orchestrate.worker import IterableSource, OrchestrateSettings, run_worker
    from journeykit.server import feed

    folder = tmp_path / "ws"
    rng = random.Random(3)
    start = NOW - timedelta(days=20)
    messages = []
    for i in range(30):
        t = start + timedelta(hours=rng.uniform(0, 96))
        messages.append(track(f"u{i}", "Signed Up", t))
        if rng.random() < 0.5:
            messages.append(
                track(f"u{i}", "Order Completed", t + timedelta(hours=rng.uniform(1, 60)))
            )
    load(folder, messages, NOW)
    spec = read_file(automation_file(tmp_path, WELCOME, receiver))
    seen: list[dict[str, int]] = []
    for size in (1, 7, 500):
        state = StateStore(f"sqlite:///{tmp_path / f'state-{size}.sqlite'}")
        with journeykit.open(folder) as ws:
            plan = feed.start(
                ws.store, state, spec.automations, f"ws-{size}",
                since=start - timedelta(hours=1), replay=True,
                settings=EngineSettings(batch_size=size), now=NOW,
            )  # fmt: skip
        assert plan.events == len(messages)
        before = dict(receiver.accepted)
        run_worker(
            state, spec.automations, IterableSource([]),
            settings=OrchestrateSettings(poll_interval=0.01), stop_when_idle=True,
        )  # fmt: skip
        seen.append({k: n - before.get(k, 0) for k, n in receiver.accepted.items()})
    assert seen[0] == seen[1] == seen[2]
    assert set(seen[0].values()) == {1} and len(seen[0]) > 30


def test_events_loaded_late_from_a_file_are_not_skipped(tmp_path: Path, receiver: Receiver) -> None:
    from journeykit.ingest import load as load_file

    folder = tmp_path / "ws"
    spec = automation_file(tmp_path, WELCOME, receiver)
    base = ["-w", str(folder), "--state", f"sqlite:///{tmp_path / 'state.sqlite'}"]
    load(folder, [track("early", "Visit", NOW - timedelta(days=1))], NOW - timedelta(days=1))
    assert cli("orchestrate", str(spec), *base).returncode == 0
    load(folder, [track("now", "Signed Up", NOW)], NOW)
    assert cli("orchestrate", str(spec), *base).returncode == 0
    assert len(receiver.accepted) == 1
    # a file without received_at, whose events happened before the one already handled: they
    # arrive now (the load stamps its time), so the next run still acts on them
    rows = [
        {"ts": (NOW - timedelta(minutes=20 + i)).isoformat(), "event": "Signed Up",
         "user_id": f"file{i}", "channel": "store"}
        for i in range(3)
    ]  # fmt: skip
    with journeykit.open(folder) as ws:
        assert load_file(ws, rows).loaded == 3
    done = cli("orchestrate", str(spec), *base)
    assert done.returncode == 0, done.stderr
    assert len(receiver.accepted) == 4
