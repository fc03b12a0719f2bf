from __future__ import annotations

from datetime import timedelta

from orchestrate_helpers import engine, ev, outbox
from orchestrate_parts import START, Mailbox, Receiver, free_port

from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.dispatch import Dispatcher, RetryPolicy
from journeykit.orchestrate.measure import dead_letters
from journeykit.orchestrate.transports import SmtpTransport, WebhookTransport


def _drain(d: Dispatcher, clock: ManualClock, rounds: int = 40) -> None:
    for _ in range(rounds):
        d.dispatch_due(limit=1000)
        clock.advance(timedelta(minutes=1))


def test_half_the_webhooks_fail_and_none_is_sent_twice(
    sqlite_url: str, clock: ManualClock, flaky_receiver: Receiver
) -> None:
    text = f"""
id: hooks
trigger: {{event: Signed Up}}
steps:
  - {{id: one, action: webhook, url: "{flaky_receiver.url}/one"}}
  - {{id: two, action: crm_task, url: "{flaky_receiver.url}/crm", task: {{title: "Call {{{{ traits.name }}}}"}}, due_in: 2d}}
"""
    e = engine(text, sqlite_url, clock)
    e.handle_batch([ev(f"p{i}", "Signed Up", traits={"name": f"N{i}"}) for i in range(300)])
    web = WebhookTransport()
    d = Dispatcher(
        e.state,
        {"webhook": web, "crm_task": web},
        clock=clock,
        retry=RetryPolicy(max_attempts=20, base=timedelta(seconds=1), jitter=0),
        concurrency=4,
    )
    _drain(d, clock)
    d.close()
    web.close()
    keys = {m["idem_key"] for m in outbox(e)}
    assert len(keys) == 600
    assert set(flaky_receiver.accepted) == keys
    assert max(flaky_receiver.accepted.values()) == 1  # each action delivered exactly once
    assert sum(flaky_receiver.rejected.values()) >= 250  # about half the requests failed
    assert {m["status"] for m in outbox(e)} == {"sent"}
    assert max(m["attempts"] for m in outbox(e)) >= 2
    task = next(b for k, b in flaky_receiver.bodies.items() if flaky_receiver.paths[k] == "/crm")
    assert task["type"] == "task" and task["task"]["title"].startswith("Call N")
    assert task["task"]["due_at"] == (START + timedelta(days=2)).isoformat() + "Z"


def test_terminal_and_exhausted_failures_are_dead_lettered(
    sqlite_url: str, clock: ManualClock
) -> None:
    r = Receiver(status_for={"/gone": 410, "/broken": 503})
    closed = free_port()  # nothing listens here: connection refused
    text = f"""
id: failing
trigger: {{event: Go}}
steps:
  - {{id: gone, action: webhook, url: "{r.url}/gone"}}
  - {{id: broken, action: webhook, url: "{r.url}/broken"}}
  - {{id: refused, action: webhook, url: "http://127.0.0.1:{closed}/x"}}
  - {{id: fine, action: webhook, url: "{r.url}/fine"}}
"""
    e = engine(text, sqlite_url, clock)
    e.handle(ev("ann", "Go"))
    web = WebhookTransport(timeout=2)
    d = Dispatcher(
        e.state,
        {"webhook": web},
        clock=clock,
        retry=RetryPolicy(max_attempts=3, base=timedelta(seconds=1), jitter=0),
    )
    _drain(d, clock, rounds=6)
    web.close()
    r.close()
    status = {m["step_id"]: (m["status"], m["attempts"]) for m in outbox(e)}
    assert status == {
        "gone": ("dead", 1),
        "broken": ("dead", 3),
        "refused": ("dead", 3),
        "fine": ("sent", 1),
    }
    dead = dead_letters(e.state, "failing").set_index("step_id")["last_error"]
    assert "HTTP 410" in dead["gone"] and "attempt 1 of 3" in dead["gone"]
    assert "HTTP 503" in dead["broken"] and "attempt 3 of 3" in dead["broken"]
    assert "ConnectError" in dead["refused"]


def test_backoff_grows_exponentially(sqlite_url: str, clock: ManualClock) -> None:
    r = Receiver(status_for={"/x": 500})
    e = engine(
        f"id: b\ntrigger: {{event: Go}}\nsteps:\n  - {{action: webhook, url: '{r.url}/x'}}\n",
        sqlite_url,
        clock,
    )
    e.handle(ev("ann", "Go"))
    web = WebhookTransport()
    d = Dispatcher(
        e.state,
        {"webhook": web},
        clock=clock,
        retry=RetryPolicy(max_attempts=5, base=timedelta(seconds=10), jitter=0),
    )
    gaps = []
    for _ in range(4):
        d.dispatch_due()
        [m] = outbox(e)
        gaps.append((m["next_attempt_at"] - clock.now()).total_seconds())
        clock.set(m["next_attempt_at"])
    web.close()
    r.close()
    assert gaps == [10, 20, 40, 80]


def test_emails_reach_a_real_smtp_server(
    sqlite_url: str, clock: ManualClock, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    text = """
templates:
  welcome:
    subject: "Welcome {{ traits.first_name or 'friend' }}"
    text: "Hello {{ traits.first_name }}, your tier is {{ traits.tier }}."
    html: "<p>Hello {{ traits.first_name }}</p>"
automations:
  - id: mail
    trigger: {event: Signed Up}
    steps:
      - {action: email, template: welcome, from: team@bank.example}
"""
    e = engine(text, sqlite_url, clock)
    e.handle_batch(
        [
            ev(
                "ann",
                "Signed Up",
                traits={"email": "ann@x.org", "first_name": "<Ann>", "tier": "gold"},
            ),
            ev("bob", "Signed Up", traits={"email": "bob@x.org"}),
        ]
    )
    mail = SmtpTransport("127.0.0.1", port)
    d = Dispatcher(e.state, {"email": mail}, clock=clock)
    assert d.dispatch_due().sent == 2
    mail.close()
    assert sorted(box.keys().values()) == [1, 1]
    by_to = {m["To"]: m for m in box.messages}
    ann = by_to["ann@x.org"]
    assert ann["Subject"] == "Welcome <Ann>" and ann["From"] == "team@bank.example"
    parts = {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in ann.walk()
        if not p.is_multipart()
    }
    assert parts["text/plain"].strip() == "Hello <Ann>, your tier is gold."
    assert "<p>Hello &lt;Ann&gt;</p>" in parts["text/html"]
    assert by_to["bob@x.org"]["Subject"] == "Welcome friend"
    assert ann["Message-ID"] == f"<{ann['X-Journeykit-Idempotency-Key']}@journeykit>"


def test_smtp_down_is_transient(sqlite_url: str, clock: ManualClock) -> None:
    e = engine(
        "id: m\ntrigger: {event: A}\nsteps:\n  - {action: email, to: a@x.org, subject: s, text: t}\n",
        sqlite_url,
        clock,
    )
    e.handle(ev("ann", "A"))
    d = Dispatcher(
        e.state, {"email": SmtpTransport("127.0.0.1", free_port(), timeout=2)}, clock=clock
    )
    result = d.dispatch_due()
    assert (result.retried, result.dead) == (1, 0)
    assert "ConnectionRefusedError" in outbox(e)[0]["last_error"]
