"""Messages held for quiet hours never go out after an unsubscribe, a conversion or a suppression,
even when the journey that queued them has already ended. Real SMTP server, real HTTP receiver."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from orchestrate_helpers import engine, ev, journeys, outbox
from orchestrate_parts import Mailbox, Receiver

from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.dispatch import Dispatcher
from journeykit.orchestrate.suppression import erase, is_suppressed, suppress, unsuppress
from journeykit.orchestrate.transports import SmtpTransport, WebhookTransport

LATE = datetime(2026, 6, 1, 22, 0)  # inside quiet hours 21:00-08:00 UTC
MORNING = datetime(2026, 6, 2, 8, 1)

HELD_MAIL = """
id: welcome
trigger: {event: Signed Up}
exit: {when: 'event == "Unsubscribed"'}
quiet_hours: {start: "21:00", end: "08:00"}
steps:
  - {id: hello, action: email, subject: Welcome, text: Hello}
"""


def _send_all(e, clock: ManualClock, transports: dict) -> None:
    clock.set(MORNING)
    d = Dispatcher(e.state, transports, clock=clock)
    while d.dispatch_due().claimed:
        pass


def test_unsubscribe_after_the_journey_completed_stops_a_held_mail(
    sqlite_url: str, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    clock = ManualClock(LATE)
    e = engine(HELD_MAIL, sqlite_url, clock)
    e.handle_batch(
        [
            ev("ann", "Signed Up", traits={"email": "ann@x.org"}),
            ev("bob", "Signed Up", traits={"email": "bob@x.org"}),
        ]
    )
    # the journeys are over (nothing after the mail), the mails wait for 08:00
    assert [j["status"] for j in journeys(e)] == ["completed", "completed"]
    assert {m["next_attempt_at"] for m in outbox(e)} == {datetime(2026, 6, 2, 8, 0)}
    clock.advance(timedelta(hours=1))
    e.handle(ev("ann", "Unsubscribed"))
    mail = SmtpTransport("127.0.0.1", port)
    _send_all(e, clock, {"email": mail})
    mail.close()
    assert [m["To"] for m in box.messages] == ["bob@x.org"]
    status = {m["person_id"]: (m["status"], m["last_error"]) for m in outbox(e)}
    assert status["ann"][0] == "cancelled" and "Unsubscribed" in status["ann"][1]
    assert status["bob"] == ("sent", None)


def test_a_later_reentry_in_the_same_batch_keeps_its_own_message(
    sqlite_url: str, clock: ManualClock
) -> None:
    text = HELD_MAIL.replace('quiet_hours: {start: "21:00", end: "08:00"}\n', "")
    e = engine(text, sqlite_url, clock)
    e.handle(ev("ann", "Signed Up", traits={"email": "ann@x.org"}))
    e.handle_batch([ev("ann", "Unsubscribed"), ev("ann", "Signed Up")])
    assert [(m["journey_id"], m["status"]) for m in outbox(e)] == [
        ("welcome|1|ann", "cancelled"),
        ("welcome|2|ann", "pending"),
    ]


def test_conversion_after_the_journey_completed_stops_a_held_webhook(
    sqlite_url: str, receiver: Receiver
) -> None:
    clock = ManualClock(LATE)
    text = f"""
id: cart
trigger: {{event: Checkout Started}}
goal: {{event: Purchase, within: 2d}}
quiet_hours: {{start: "21:00", end: "08:00"}}
steps:
  - {{id: nudge, action: webhook, url: "{receiver.url}/nudge"}}
"""
    e = engine(text, sqlite_url, clock)
    e.handle_batch([ev("ann", "Checkout Started"), ev("bob", "Checkout Started")])
    assert [j["status"] for j in journeys(e)] == ["completed", "completed"]
    clock.advance(timedelta(minutes=30))
    e.handle(ev("ann", "Purchase"))
    assert journeys(e, person_id="ann")[0]["converted_at"] == clock.now()
    web = WebhookTransport()
    _send_all(e, clock, {"webhook": web})
    web.close()
    sent = {m["person_id"] for m in outbox(e, status="sent")}
    assert sent == {"bob"} and len(receiver.accepted) == 1
    [ann] = outbox(e, person_id="ann")
    assert (ann["status"], ann["last_error"]) == (
        "cancelled",
        "the person converted before it was sent",
    )


def test_the_global_suppression_list_is_checked_at_send_time(
    sqlite_url: str, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    clock = ManualClock(LATE)
    two = """
automations:
  - id: news
    trigger: {event: Signed Up}
    quiet_hours: {start: "21:00", end: "08:00"}
    steps: [{id: n, action: email, subject: News, text: news}]
  - id: promo
    trigger: {event: Browsed}
    steps: [{id: p, action: email, subject: Promo, text: promo}]
"""
    e = engine(two, sqlite_url, clock, suppress_events={"Unsubscribed": "email"})
    people = ["ann", "bob", "cy", "di"]
    e.handle_batch([ev(p, "Signed Up", traits={"email": f"{p}@x.org"}) for p in people])
    # ann unsubscribes: no automation names the event, the engine's setting does
    e.handle(ev("ann", "Unsubscribed"))
    assert is_suppressed(e.state, person_id="ann", channel="email") is not None
    # bob is erased, cy's address bounces: both listed through the API
    assert suppress(e.state, person_id="bob", reason="erased", now=clock.now()) == 1
    suppress(e.state, address="CY@x.org", channel="email", reason="hard bounce")
    # messages queued after the listing are stopped at send time too
    e.handle_batch([ev(p, "Browsed") for p in people])
    mail = SmtpTransport("127.0.0.1", port)
    _send_all(e, clock, {"email": mail})
    mail.close()
    assert sorted(m["To"] for m in box.messages) == ["di@x.org", "di@x.org"]
    stopped = {(m["person_id"], m["automation_id"]): m for m in outbox(e) if m["person_id"] != "di"}
    assert {m["status"] for m in stopped.values()} == {"suppressed"}
    assert "erased" in stopped[("bob", "promo")]["last_error"]
    assert "hard bounce" in stopped[("cy", "news")]["last_error"]
    # a person who subscribes again can be reached again
    assert unsuppress(e.state, person_id="ann", channel="email") == 1
    assert is_suppressed(e.state, person_id="ann", channel="email") is None


def test_an_erased_person_is_forgotten_and_never_messaged(
    sqlite_url: str, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    clock = ManualClock(LATE)
    text = HELD_MAIL.replace("steps:", "steps:\n  - wait: 1h").replace(
        "id: hello,", "id: hello, to: '{{ traits.email }}',"
    )
    e = engine(
        text + "  - {id: again, action: email, subject: Again, text: x}\n", sqlite_url, clock
    )
    e.handle_batch(
        [
            ev("ann", "Signed Up", traits={"email": "ann@x.org"}, properties={"plan": "gold"}),
            ev("bob", "Signed Up", traits={"email": "bob@x.org"}),
        ]
    )
    clock.advance(timedelta(minutes=61))
    e.fire_due_timers()  # the first mail is held for quiet hours, the journey waits no more
    done = erase(e.state, "ann", now=clock.now())
    assert done == {
        "messages_stopped": 2,
        "messages_redacted": 2,
        "timers_cancelled": 0,
        "journeys_ended": 0,
        "profiles_cleared": 1,
    }
    assert set(e.profile("ann")) == {"entries"}
    assert all(m["payload"] == {} for m in outbox(e, person_id="ann"))
    assert journeys(e, person_id="ann")[0]["context"] is None
    # a later event from the same id enters nobody into a message
    e.handle(ev("ann", "Signed Up", traits={"email": "ann@x.org"}))
    mail = SmtpTransport("127.0.0.1", port)
    _send_all(e, clock, {"email": mail})
    mail.close()
    assert sorted(m["To"] for m in box.messages) == ["bob@x.org", "bob@x.org"]


def test_suppression_events_come_from_the_automation_file(
    sqlite_url: str, clock: ManualClock
) -> None:
    from journeykit.errors import InvalidSpec
    from journeykit.orchestrate.engine import Engine, EngineSettings
    from journeykit.orchestrate.loader import reads

    text = """
suppress_on: {Unsubscribed: email, Account Closed: "*"}
automations:
  - id: news
    trigger: {event: Browsed}
    steps: [{id: n, action: email, to: a@x.org, subject: News, text: news}]
"""
    spec = reads(text)
    assert spec.suppress_on == {"Unsubscribed": "email", "Account Closed": "*"}
    e = Engine(
        spec.automations,
        sqlite_url,
        clock=clock,
        settings=EngineSettings(suppress_events=spec.suppress_on),
    )
    e.handle(ev("ann", "Unsubscribed"))
    e.handle(ev("ann", "Browsed"))
    assert is_suppressed(e.state, person_id="ann", channel="email") is not None
    assert is_suppressed(e.state, person_id="ann", channel="sms") is None
    from journeykit.orchestrate.transports import NullTransport

    null = NullTransport()
    Dispatcher(e.state, {"email": null}, clock=clock).dispatch_due()
    assert null.sent == 0 and [m["status"] for m in outbox(e)] == ["suppressed"]
    with pytest.raises(InvalidSpec) as err:
        reads("suppress_on: {Unsubscribed: [email]}\nautomations: []\n")
    assert err.value.field == "suppress_on.Unsubscribed" and err.value.line == 1
