"""A worker you can restart and throttle: half-sent messages retried at start, global caps and
send rates from the automation file, replays whose outcome does not depend on batching."""

from __future__ import annotations

import json
import random
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa
from orchestrate_helpers import ev
from orchestrate_parts import START, Receiver

from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.dispatch import Dispatcher
from journeykit.orchestrate.engine import Engine, EngineSettings
from journeykit.orchestrate.loader import read_file, reads
from journeykit.orchestrate.state import StateStore, journeys_t, outbox_t
from journeykit.orchestrate.transports import WebhookTransport
from journeykit.orchestrate.worker import IterableSource, OrchestrateSettings, run_worker


def _outbox(store: StateStore) -> list[dict]:
    with store.begin() as conn:
        return [
            dict(r._mapping)
            for r in conn.execute(sa.select(outbox_t).order_by(outbox_t.c.outbox_id))
        ]


def test_a_message_left_sending_by_a_crash_goes_out_at_restart(
    tmp_path: Path, receiver: Receiver
) -> None:
    [automation] = reads(
        f"""
automations:
  - id: hello
    trigger: {{event: Signed Up}}
    steps: [{{id: hi, action: webhook, url: "{receiver.url}/hi"}}]
"""
    ).automations
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    store = StateStore(url)
    Engine([automation], store).handle(ev("ann", "Signed Up"))
    # a worker claims the message and dies before it records anything: the row is `sending`
    # under a five-minute lease
    crashed = Dispatcher(store, {}, lease=timedelta(minutes=5))
    claimed = store.run(lambda conn: crashed._claim(conn, 10))
    assert len(claimed) == 1 and _outbox(store)[0]["status"] == "sending"

    started = time.monotonic()
    stats = run_worker(
        url,
        [automation],
        IterableSource([]),
        settings=OrchestrateSettings(poll_interval=0.01),
        stop_when_idle=True,
    )
    assert time.monotonic() - started < 10  # not after the lease
    assert (stats.recovered, stats.sent) == (1, 1)
    assert list(receiver.accepted.values()) == [1]
    [row] = _outbox(store)
    assert row["status"] == "sent" and row["attempts"] == 2
    # the same idempotency key both times
    assert list(receiver.accepted) == [row["idem_key"]]


FILE = """
caps:
  - {channel: webhook, max: 1, per: 1d}
send_rates:
  webhook: 4/s
automations:
  - id: first
    priority: 5
    trigger: {event: Signed Up}
    steps: [{id: a, action: webhook, url: "RECEIVER/a"}]
  - id: second
    trigger: {event: Signed Up}
    steps: [{id: b, action: webhook, url: "RECEIVER/b"}]
"""


def test_global_caps_and_send_rates_come_from_the_automation_file(
    tmp_path: Path, receiver: Receiver
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text(FILE.replace("RECEIVER", receiver.url))
    spec = read_file(path)
    assert spec.send_rates == {"webhook": 4.0}
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    people = [f"p{i}" for i in range(12)]
    started = time.monotonic()
    stats = run_worker(
        url,
        spec.automations,
        IterableSource([ev(p, "Signed Up") for p in people]),
        settings=OrchestrateSettings(poll_interval=0.01, concurrency=4),
        engine_settings=EngineSettings(global_caps=spec.caps),
        rates=spec.send_rates,
        transports={"webhook": WebhookTransport()},
        stop_when_idle=True,
    )
    elapsed = time.monotonic() - started
    # one webhook a day per person across both automations: the higher priority wins
    assert stats.sent == 12
    assert sorted(receiver.paths.values()) == ["/a"] * 12
    rows = _outbox(StateStore(url, create=False))
    assert sorted(r["status"] for r in rows) == ["capped"] * 12 + ["sent"] * 12
    # 4 a second, with a burst of 4: the other 8 take at least 2 s
    assert elapsed >= 1.9, elapsed


REPLAY = """
id: nurture
trigger: {event: Signed Up}
goal: {event: Order Completed, within: 2d}
caps: [{channel: webhook, max: 2, per: 1d}]
steps:
  - {id: hello, action: webhook, url: "http://127.0.0.1:9/hello", body: {n: "{{ events['Visit'] }}"}}
  - id: visit
    wait: {event: Visit, timeout: 1d}
  - id: check
    branch:
      if: journey.matched
      then: [{id: welcome-back, action: webhook, url: "http://127.0.0.1:9/back"}]
      else:
        - wait: 12h
        - {id: nudge, action: webhook, url: "http://127.0.0.1:9/nudge"}
"""


def _replay(events: list[dict], batch_size: int) -> tuple[list, list]:
    from journeykit.orchestrate.loader import loads

    clock = ManualClock(events[0]["ts"])
    engine = Engine(
        loads(REPLAY),
        "sqlite://",
        clock=clock,
        settings=EngineSettings(event_time=True, batch_size=batch_size),
    )
    for start in range(0, len(events), batch_size):
        engine.handle_batch(events[start : start + batch_size])
    engine.fire_until(events[-1]["ts"] + timedelta(days=5))
    with engine.state.begin() as conn:
        sends = [
            (r.idem_key, r.status, r.next_attempt_at, json.loads(r.payload))
            for r in conn.execute(sa.select(outbox_t).order_by(outbox_t.c.idem_key))
        ]
        runs = [
            tuple(r)
            for r in conn.execute(
                sa.select(
                    journeys_t.c.journey_id,
                    journeys_t.c.status,
                    journeys_t.c.entered_at,
                    journeys_t.c.converted_at,
                ).order_by(journeys_t.c.journey_id)
            )
        ]
    return sends, runs


def test_a_replay_sends_the_same_whatever_the_batch_size() -> None:
    rng = random.Random(7)
    events = []
    for i in range(40):
        t = START + timedelta(hours=rng.uniform(0, 96))
        events.append(ev(f"p{i}", "Signed Up", ts=t))
        for _ in range(rng.randint(0, 3)):
            name = rng.choice(["Visit", "Visit", "Order Completed", "Signed Up"])
            events.append(ev(f"p{i}", name, ts=t + timedelta(hours=rng.uniform(0, 72))))
    events.sort(key=lambda e: e["ts"])
    one = _replay(events, 1)
    assert one == _replay(events, 7) == _replay(events, 500)
    sends, runs = one
    assert len(sends) > 40 and {s[1] for s in sends} >= {"pending", "capped"}
    # conversions in event time: an order counts only within two days of entering
    converted = [r for r in runs if r[3] is not None]
    assert converted
    assert all(
        timedelta(0) <= conv - entered <= timedelta(days=2) for *_, entered, conv in runs if conv
    )
    late_orders = {(e["person_id"], e["ts"]) for e in events if e["event"] == "Order Completed"}
    missed = [
        r
        for r in runs
        if r[3] is None
        and any(p == r[0].split("|")[2] and t - r[2] > timedelta(days=2) for p, t in late_orders)
    ]
    assert missed  # people who ordered, but too late to count


def test_the_documented_global_caps_and_rates_load() -> None:
    import re

    doc = (Path(__file__).parents[2] / "docs" / "orchestrate.md").read_text(encoding="utf-8")
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", doc, re.DOTALL) if "send_rates" in b]
    spec = reads(block)
    assert [(c.channel, c.max, c.per) for c in spec.caps] == [("email", 3, timedelta(days=1))]
    assert spec.send_rates == {"email": 10.0, "sms": 10.0}
    assert [a.id for a in spec.automations] == ["welcome"]
