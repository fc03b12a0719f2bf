"""Templates see the trigger after a wait, and render with Jinja2's sandbox (real SMTP and HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta
from email.header import decode_header, make_header

import pytest
from orchestrate_helpers import engine, ev, outbox
from orchestrate_parts import Mailbox, Receiver

from journeykit.errors import InputError, InvalidSpec
from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.dispatch import Dispatcher
from journeykit.orchestrate.loader import loads
from journeykit.orchestrate.templates import paths, render_text, render_value
from journeykit.orchestrate.transports import SmtpTransport, WebhookTransport


def _subject(mail) -> str:
    return str(make_header(decode_header(mail["Subject"])))


def _body(mail) -> dict[str, str]:
    return {
        p.get_content_type(): p.get_payload(decode=True).decode()
        for p in mail.walk()
        if not p.is_multipart()
    }


def test_trigger_data_still_renders_after_a_wait(
    sqlite_url: str, clock: ManualClock, smtp: tuple[Mailbox, int], receiver: Receiver
) -> None:
    box, port = smtp
    text = f"""
id: cart
trigger: {{event: Checkout Started}}
steps:
  - wait: 1h
  - action: email
    to: "{{{{ traits.email }}}}"
    subject: "Your basket of £{{{{ properties.value }}}} is waiting"
    text: "Still thinking about it?"
  - action: webhook
    url: "{receiver.url}/cart"
    body: {{value: "{{{{ properties.value }}}}", cart: "{{{{ trigger.properties.cart_id }}}}"}}
"""
    e = engine(text, sqlite_url, clock)
    e.handle(
        ev(
            "ann",
            "Checkout Started",
            properties={"value": 42.5, "cart_id": "c-1"},
            traits={"email": "ann@x.org"},
        )
    )
    e.handle(ev("ann", "Page Viewed", properties={"value": 1}))  # not the trigger
    clock.advance(timedelta(hours=2))
    assert e.fire_due_timers().fired == 1
    mail = SmtpTransport("127.0.0.1", port)
    web = WebhookTransport()
    Dispatcher(e.state, {"email": mail, "webhook": web}, clock=clock).dispatch_due()
    mail.close()
    web.close()
    [sent] = box.messages
    assert _subject(sent) == "Your basket of £42.5 is waiting"
    [body] = receiver.bodies.values()
    assert body == {"value": 42.5, "cart": "c-1"}


CART = """
id: cart
trigger: {event: Checkout Started}
steps:
  - wait: 30m
  - id: mail
    action: email
    to: "{{ traits.email }}"
    subject: "{{ traits.first_name or 'Hello' }}, {{ properties.total | currency('GBP') }} in your basket"
    text: |
      {% if properties.lines | length > 1 %}Your {{ properties.lines | length }} items:{% else %}Your item:{% endif %}
      {% for line in properties.lines %}- {{ line.name }} x {{ line.qty }} at {{ line.price | currency('EUR', locale='de_DE') }}
      {% endfor %}Saved on {{ trigger.ts | date('d MMMM y') }}; {{ properties.items }} {{ traits.visits | number }}
    html: "<p>{{ traits.first_name }}: {{ properties.total | number(2) }}</p>"
"""


def test_jinja_conditionals_loops_and_formatting(
    sqlite_url: str, smtp: tuple[Mailbox, int]
) -> None:
    box, port = smtp
    clock = ManualClock(datetime(2026, 6, 1, 12))
    e = engine(CART, sqlite_url, clock)
    e.handle(
        ev(
            "ann",
            "Checkout Started",
            ts=datetime(2026, 6, 1, 12),
            properties={
                "total": 1234.5,
                "items": "mugs",  # a property called like a dict method is still the property
                "lines": [
                    {"name": "Mug", "qty": 2, "price": 9.5},
                    {"name": "Tea", "qty": 1, "price": 1215.5},
                ],
            },
            traits={"email": "ann@x.org", "first_name": "<Ann>", "visits": 12345},
        )
    )
    clock.advance(timedelta(hours=1))
    e.fire_due_timers()
    mail = SmtpTransport("127.0.0.1", port)
    Dispatcher(e.state, {"email": mail}, clock=clock).dispatch_due()
    mail.close()
    [sent] = box.messages
    assert _subject(sent) == "<Ann>, £1,234.50 in your basket"
    parts = _body(sent)
    assert parts["text/plain"].strip().splitlines() == [
        "Your 2 items:",
        "- Mug x 2 at 9,50\xa0€",
        "- Tea x 1 at 1.215,50\xa0€",
        "Saved on 1 June 2026; mugs 12,345",
    ]
    assert "<p>&lt;Ann&gt;: 1,234.50</p>" in parts["text/html"]


def test_a_message_that_cannot_render_is_dead_lettered(sqlite_url: str, clock: ManualClock) -> None:
    e = engine(CART, sqlite_url, clock)
    e.handle(ev("bob", "Checkout Started", properties={}, traits={"email": "bob@x.org"}))
    clock.advance(timedelta(hours=1))
    e.fire_due_timers()
    [m] = outbox(e)
    assert m["status"] == "dead" and "currency: the value is empty" in m["last_error"]


def test_the_sandbox_keeps_templates_out_of_python() -> None:
    scope = {"traits": {"name": "Ann"}, "properties": {}}
    leaks = "{{ traits.name.__class__ }}{{ traits.__class__ }}{{ ''.__class__.__mro__ }}"
    assert render_text(leaks + "{{ traits.name.upper.__globals__ }}", scope) == ""
    with pytest.raises(InputError, match="cannot render"):
        render_text("{{ properties.lines.append(1) }}", {"properties": {"lines": []}})
    with pytest.raises(InputError, match="cannot render"):
        render_text("{{ traits.update(name='Bob') }}", scope)
    assert scope["traits"] == {"name": "Ann"}
    assert render_value("{{ traits.missing }}", scope) is None
    assert render_value(["{{ 2 * 3 }}", "n={{ 2 * 3 }}"], scope) == [6, "n=6"]


def test_paths_read_by_a_template() -> None:
    found = set(paths("{% for l in properties.lines %}{{ l.name }}{% endfor %}{{ traits['a b'] }}"))
    assert found == {("properties", "lines"), ("traits", "a b")}


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{{ propertes.value }}", "unknown name 'propertes' (did you mean 'properties'?)"),
        ("{{ journey.mached }}", "unknown name 'journey.mached' (did you mean 'journey.matched'?)"),
        ("{{ trigger.propertys.x }}", "did you mean 'trigger.properties'?"),
        ("{{ properties.value | curency('GBP') }}", "No filter named 'curency'"),
        ("{% if traits.x %}open", "Unexpected end of template"),
    ],
)
def test_validation_names_what_a_template_cannot_resolve(body: str, message: str) -> None:
    text = f'id: a\ntrigger: {{event: A}}\nsteps:\n  - action: email\n    subject: s\n    text: "{body}"\n'
    with pytest.raises(InvalidSpec) as err:
        loads(text)
    assert message in str(err.value) and err.value.line == 6


def test_conditions_name_trigger_fields_too() -> None:
    with pytest.raises(InvalidSpec, match=r"did you mean 'trigger\.properties'"):
        loads("id: a\ntrigger: {event: A}\nsteps:\n  - branch: {if: trigger.propertis.x > 1}\n")
    [a] = loads("id: a\ntrigger: {event: A}\nsteps:\n  - branch: {if: trigger.properties.x > 1}\n")
    assert a.id == "a"


def test_conditions_name_journey_fields_too() -> None:
    with pytest.raises(InvalidSpec, match=r"did you mean 'journey\.matched'"):
        loads(
            "id: a\ntrigger: {event: A}\nsteps:\n  - wait: {event: B, timeout: 1d}\n"
            "  - branch: {if: journey.mached, then: [{action: add_tag, tag: x}]}\n"
        )


def test_an_older_state_file_gains_the_trigger_column(sqlite_url: str, clock: ManualClock) -> None:
    import sqlalchemy as sa

    from journeykit.orchestrate.state import StateStore

    old = StateStore(sqlite_url)
    with old.begin() as conn:
        conn.execute(sa.text("ALTER TABLE jk_journeys DROP COLUMN context"))
    old.dispose()
    simple = """
id: cart
trigger: {event: Checkout Started}
steps:
  - wait: 30m
  - {action: email, subject: "{{ properties.total | currency('GBP') }} left", text: x}
"""
    e = engine(simple, StateStore(sqlite_url), clock)
    e.handle(ev("ann", "Checkout Started", properties={"total": 3}, traits={"email": "a@x.org"}))
    clock.advance(timedelta(hours=1))
    e.fire_due_timers()
    assert outbox(e)[0]["payload"]["subject"] == "£3.00 left"
