from __future__ import annotations

from datetime import datetime, timedelta

from orchestrate_helpers import engine, ev, journeys, outbox, timers

from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.spec import Cap, QuietHours

HOOK = "http://127.0.0.1:9/hook"

FLOW = f"""
id: onboarding
trigger: {{event: Signed Up, where: 'channel in ["web", "app"]'}}
goal: {{event: Order Completed, within: 30d}}
steps:
  - id: hello
    action: webhook
    url: {HOOK}
  - id: pause
    wait: 2d
  - id: gold
    branch:
      if: 'traits.tier == "gold"'
      then:
        - {{id: vip, action: webhook, url: "{HOOK}/vip", body: {{tier: "{{{{ traits.tier }}}}"}}}}
      else:
        - {{id: std, action: set_trait, trait: nudged, value: true}}
  - id: bye
    action: webhook
    url: {HOOK}/bye
"""


def test_trigger_wait_branch_complete(sqlite_url: str, clock: ManualClock) -> None:
    e = engine(FLOW, sqlite_url, clock)
    r = e.handle_batch(
        [
            ev("ann", "Signed Up", channel="web", traits={"tier": "gold"}),
            ev("bob", "Signed Up", channel="app"),
            ev("cat", "Signed Up", channel="store"),  # filtered out by where
            ev("dan", "Page Viewed", channel="web"),
        ]
    )
    assert (r.events, r.entered, r.queued) == (4, 2, 2)
    assert [t["due_at"] for t in timers(e)] == [clock.now() + timedelta(days=2)] * 2
    assert e.fire_due_timers().fired == 0  # not due yet
    clock.advance(timedelta(days=2))
    r = e.fire_due_timers()
    assert (r.fired, r.completed, r.queued) == (2, 2, 3)
    sent = {(m["person_id"], m["step_id"]) for m in outbox(e)}
    assert sent == {
        ("ann", "hello"),
        ("bob", "hello"),
        ("ann", "vip"),
        ("ann", "bye"),
        ("bob", "bye"),
    }
    [vip] = outbox(e, step_id="vip")
    assert vip["payload"]["json"] == {"tier": "gold"}
    assert vip["payload"]["url"] == f"{HOOK}/vip"
    assert e.profile("bob")["traits"]["nudged"] is True
    assert {j["person_id"]: j["status"] for j in journeys(e)} == {
        "ann": "completed",
        "bob": "completed",
    }
    # each action has its own idempotency key, and keys never repeat
    assert len({m["idem_key"] for m in outbox(e)}) == 5


def test_a_resent_event_is_handled_once(sqlite_url: str, clock: ManualClock) -> None:
    e = engine(FLOW, sqlite_url, clock)
    first = ev("ann", "Signed Up", channel="web")
    assert e.handle(first).entered == 1
    again = e.handle_batch([first, first])
    assert (again.duplicates, again.entered) == (2, 0)
    assert len(outbox(e)) == 1


def test_goal_ends_the_journey_mid_wait(sqlite_url: str, clock: ManualClock) -> None:
    e = engine(FLOW, sqlite_url, clock)
    e.handle(ev("ann", "Signed Up", channel="web"))
    clock.advance(timedelta(hours=5))
    r = e.handle(ev("ann", "Order Completed"))
    assert (r.converted, r.exited) == (1, 0)
    [j] = journeys(e)
    assert j["status"] == "converted" and j["converted_at"] == clock.now()
    assert [t["status"] for t in timers(e)] == ["cancelled"]
    clock.advance(timedelta(days=10))
    assert e.fire_due_timers().fired == 0
    assert [m["step_id"] for m in outbox(e)] == ["hello"]


LONG_WAIT = f"""
id: winback
trigger: {{segment: lapsed}}
exit:
  mode: trigger_unmatched
  when: 'event == "Unsubscribed"'
steps:
  - {{action: email, to: "{{{{ traits.email }}}}", subject: Hi, text: We miss you}}
  - wait: 30d
  - {{id: last, action: webhook, url: {HOOK}}}
"""


def test_exit_criteria_take_effect_during_a_long_wait(sqlite_url: str, clock: ManualClock) -> None:
    e = engine(LONG_WAIT, sqlite_url, clock)
    people = ["ann", "bob", "cat"]
    e.handle_batch(
        [
            ev(
                p,
                "Segment Entered",
                properties={"segment": "lapsed"},
                traits={"email": f"{p}@x.org"},
            )
            for p in people
        ]
    )
    assert len(outbox(e)) == 3 and len(timers(e, status="pending")) == 3
    clock.advance(timedelta(days=1))
    e.handle(ev("ann", "Unsubscribed"))  # exit criteria
    e.handle(ev("bob", "Segment Exited", properties={"segment": "lapsed"}))  # trigger unmatched
    status = {j["person_id"]: (j["status"], j["exit_reason"]) for j in journeys(e)}
    assert status["ann"] == ("exited", 'exit criteria: event == "Unsubscribed"')
    assert status["bob"] == ("exited", "trigger no longer matches")
    assert status["cat"] == ("waiting", None)
    clock.advance(timedelta(days=30))
    assert e.fire_due_timers().fired == 1
    assert [(m["person_id"], m["step_id"]) for m in outbox(e, step_id="last")] == [("cat", "last")]


def test_exit_cancels_messages_held_for_quiet_hours(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 6, 1, 22, 0))
    e = engine(LONG_WAIT, sqlite_url, clock, quiet_hours=QuietHours(start="21:00", end="08:00"))
    e.handle(
        ev("ann", "Segment Entered", properties={"segment": "lapsed"}, traits={"email": "a@x.org"})
    )
    [m] = outbox(e)
    assert m["status"] == "pending" and m["next_attempt_at"] == datetime(2026, 6, 2, 8, 0)
    e.handle(ev("ann", "Unsubscribed"))
    assert outbox(e)[0]["status"] == "cancelled"


def test_at_end_mode_records_conversion_and_keeps_going(
    sqlite_url: str, clock: ManualClock
) -> None:
    text = FLOW.replace("goal:", "exit: {mode: at_end}\ngoal:")
    e = engine(text, sqlite_url, clock)
    e.handle(ev("ann", "Signed Up", channel="web"))
    e.handle(ev("ann", "Order Completed"))
    [j] = journeys(e)
    assert j["status"] == "waiting" and j["converted_at"] is not None
    clock.advance(timedelta(days=2))
    e.fire_due_timers()
    assert journeys(e)[0]["status"] == "completed"
    # the entry event is never its own conversion
    e2 = engine(
        FLOW.replace("Signed Up", "Order Completed").replace("onboarding", "o2"), "sqlite://", clock
    )
    e2.handle(ev("bob", "Order Completed", channel="web"))
    assert journeys(e2)[0]["converted_at"] is None


WAIT_EVENT = f"""
id: cart
trigger: {{event: Checkout Started}}
steps:
  - id: wait-order
    wait: {{event: Order Completed, where: 'properties.order_total > 0', timeout: 1h}}
  - branch:
      if: journey.matched
      then: [{{id: thanks, action: webhook, url: {HOOK}}}]
      else: [{{id: remind, action: webhook, url: {HOOK}}}]
"""


def test_wait_for_event_or_timeout(sqlite_url: str, clock: ManualClock) -> None:
    e = engine(WAIT_EVENT, sqlite_url, clock)
    e.handle_batch([ev("ann", "Checkout Started"), ev("bob", "Checkout Started")])
    clock.advance(timedelta(minutes=10))
    e.handle(ev("ann", "Order Completed", properties={"order_total": 0}))  # does not match where
    e.handle(ev("ann", "Order Completed", properties={"order_total": 30}))
    assert [(m["person_id"], m["step_id"]) for m in outbox(e)] == [("ann", "thanks")]
    clock.advance(timedelta(hours=1))
    assert e.fire_due_timers().fired == 1  # ann's timeout was cancelled
    assert [(m["person_id"], m["step_id"]) for m in outbox(e)][1:] == [("bob", "remind")]


def test_wait_until_time_of_day_in_the_persons_zone(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 6, 5, 15, 0))  # a Friday, 15:00 UTC
    text = f"""
id: morning
trigger: {{event: Signed Up}}
steps:
  - wait: {{until: "09:00", weekdays: [mon, tue, wed, thu, fri]}}
  - {{action: webhook, url: {HOOK}}}
"""
    e = engine(text, sqlite_url, clock)
    e.handle_batch(
        [
            ev("ny", "Signed Up", traits={"timezone": "America/New_York"}),
            ev("tokyo", "Signed Up", traits={"timezone": "Asia/Tokyo"}),
            ev("utc", "Signed Up", traits={"timezone": "Not/AZone"}),
        ]
    )
    due = {t["person_id"]: t["due_at"] for t in timers(e)}
    assert due["ny"] == datetime(2026, 6, 8, 13, 0)  # Monday 09:00 EDT (weekend skipped)
    assert due["tokyo"] == datetime(2026, 6, 8, 0, 0)  # Monday 09:00 JST
    assert due["utc"] == datetime(2026, 6, 8, 9, 0)  # unknown zone: the automation's (UTC)


def test_reentry_policies(sqlite_url: str, clock: ManualClock) -> None:
    base = """
id: {id}
trigger: {{event: Visit}}
reentry: {{policy: {policy}, cooldown: {cooldown}}}
steps:
  - wait: 1d
"""
    text = "\n---\n".join(
        base.format(id=i, policy=p, cooldown=c)
        for i, p, c in [
            ("never", "never", "0s"),
            ("after", "after_end", "3d"),
            ("restart", "restart", "0s"),
        ]
    )
    e = engine(text, sqlite_url, clock)
    e.handle(ev("ann", "Visit"))
    clock.advance(timedelta(hours=1))
    e.handle(ev("ann", "Visit"))  # restart ends entry 1 and starts entry 2
    clock.advance(timedelta(days=2))
    e.fire_due_timers()
    e.handle(ev("ann", "Visit"))  # after_end: still inside the 3-day cooldown
    clock.advance(timedelta(days=2))
    e.handle(ev("ann", "Visit"))
    entries = {}
    for j in journeys(e):
        entries.setdefault(j["automation_id"], []).append(
            (j["entry"], j["status"], j["exit_reason"])
        )
    assert entries["never"] == [(1, "completed", None)]
    assert entries["after"] == [(1, "completed", None), (2, "waiting", None)]
    assert entries["restart"][:2] == [(1, "exited", "entered again"), (2, "completed", None)]
    assert len(entries["restart"]) == 4


CAPPED = """
id: {id}
priority: {priority}
trigger: {{event: Visit}}
reentry: {{policy: after_end}}
caps: [{{channel: email, max: 2, per: 7d}}]
steps:
  - {{action: email, to: a@x.org, subject: "{id}", text: hi}}
"""


def test_frequency_caps_per_automation_and_global_with_priority(
    sqlite_url: str, clock: ManualClock
) -> None:
    text = CAPPED.format(id="low", priority=1) + "\n---\n" + CAPPED.format(id="high", priority=9)
    e = engine(text, sqlite_url, clock, global_caps=(Cap(channel="email", max=3, per="1d"),))
    e.handle(ev("ann", "Visit"))  # both compete: high then low
    clock.advance(timedelta(hours=1))
    e.handle(ev("ann", "Visit"))  # high (2nd) fits; low would be the 4th today: global cap
    clock.advance(timedelta(hours=1))
    e.handle(ev("ann", "Visit"))  # high: its own cap (2 per 7d)
    rows = [(m["automation_id"], m["status"]) for m in outbox(e)]
    assert rows.count(("high", "pending")) == 2 and rows.count(("low", "pending")) == 1
    assert rows.count(("low", "capped")) == 2 and rows.count(("high", "capped")) == 1
    reasons = {m["last_error"] for m in outbox(e, status="capped")}
    assert any(r.startswith("global frequency cap") for r in reasons)
    assert any(r.startswith("frequency cap: 2 per") for r in reasons)
    clock.advance(timedelta(days=8))
    e.handle(ev("ann", "Visit"))  # windows have passed
    assert [m["status"] for m in outbox(e)][-2:] == ["pending", "pending"]


def test_quiet_hours_hold_messages_in_local_time(sqlite_url: str) -> None:
    clock = ManualClock(datetime(2026, 6, 1, 5, 30))  # 06:30 in London (BST)
    text = f"""
id: q
trigger: {{event: Visit}}
quiet_hours: {{start: "21:00", end: "08:00", channels: [email]}}
steps:
  - {{action: email, to: a@x.org, subject: s, text: t}}
  - {{action: webhook, url: {HOOK}}}
"""
    e = engine(text, sqlite_url, clock)
    e.handle_batch(
        [
            ev("ldn", "Visit", traits={"timezone": "Europe/London"}),
            ev("syd", "Visit", traits={"timezone": "Australia/Sydney"}),
        ]
    )
    due = {(m["person_id"], m["kind"]): m["next_attempt_at"] for m in outbox(e)}
    assert due[("ldn", "email")] == datetime(2026, 6, 1, 7, 0)  # 08:00 BST
    assert due[("ldn", "webhook")] == clock.now()  # other channels are not held
    assert due[("syd", "email")] == clock.now()  # 15:30 in Sydney


def test_tags_emit_and_segment_triggers_chain(sqlite_url: str, clock: ManualClock) -> None:
    text = f"""
id: buyer
trigger: {{event: Order Completed}}
steps:
  - {{action: add_tag, tag: customer}}
  - {{action: emit, event: Buyer Tagged, properties: {{total: "{{{{ properties.total }}}}"}}}}
---
id: welcome-customer
trigger: {{segment: customer}}
steps:
  - {{action: webhook, url: {HOOK}}}
---
id: on-emit
trigger: {{event: Buyer Tagged, where: properties.total > 10}}
steps:
  - {{action: remove_tag, tag: customer}}
  - {{action: unset_trait, trait: temp}}
"""
    e = engine(text, sqlite_url, clock)
    r = e.handle(ev("ann", "Order Completed", properties={"total": 50}, traits={"temp": 1}))
    assert r.entered == 3
    kinds = sorted((m["automation_id"], m["kind"]) for m in outbox(e))
    assert kinds == [("buyer", "emit"), ("welcome-customer", "webhook")]
    profile = e.profile("ann")
    assert profile["tags"] == [] and "temp" not in profile["traits"]
    assert profile["counts"]["Buyer Tagged"] == 1 and profile["counts"]["Segment Exited"] == 1


def test_metric_alerts_and_schedules_enter_audiences(sqlite_url: str, clock: ManualClock) -> None:
    text = f"""
id: notify-team
trigger: {{metric_alert: checkout_conversion}}
steps: [{{action: webhook, url: {HOOK}}}]
---
id: apologise
trigger: {{metric_alert: checkout_conversion, conditions: '"Payment Failed" in events'}}
steps: [{{action: add_tag, tag: apology}}]
---
id: daily
trigger: {{schedule: {{at: "09:00"}}, conditions: 'traits.tier == "gold"'}}
steps: [{{action: add_tag, tag: daily}}]
"""
    e = engine(text, sqlite_url, clock)
    e.handle_batch(
        [
            ev("ann", "Payment Failed"),
            ev("bob", "Page Viewed", traits={"tier": "gold"}),
            ev("cat", "Page Viewed"),
        ]
    )
    alert = {
        "event_id": "alert-1",
        "event": "Metric Alert",
        "properties": {"metric": "checkout_conversion"},
    }
    r = e.handle(alert)
    assert r.entered == 2
    assert [m["person_id"] for m in outbox(e)] == ["metric:checkout_conversion"]
    assert e.profile("ann")["tags"] == ["apology"]
    assert e.handle(alert).entered == 0  # the same alert enters no one twice
    assert e.run_schedules().entered == 0  # next run is 09:00 tomorrow
    clock.set(datetime(2026, 6, 2, 9, 0))
    assert e.run_schedules().entered == 1
    assert e.profile("bob")["tags"] == ["daily"]
    assert e.run_schedules().entered == 0


def test_render_failure_is_dead_lettered_with_reason(sqlite_url: str, clock: ManualClock) -> None:
    text = "id: m\ntrigger: {event: A}\nsteps:\n  - {action: email, subject: s, text: t}\n"
    e = engine(text, sqlite_url, clock)
    e.handle(ev("ann", "A"))
    [m] = outbox(e)
    assert m["status"] == "dead" and "no e-mail address" in m["last_error"]
