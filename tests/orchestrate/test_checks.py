"""Typos caught before launch: durations without units, unknown events, properties and traits."""

from __future__ import annotations

import pytest

from journeykit.errors import InvalidSpec
from journeykit.orchestrate.checks import check, mentions
from journeykit.orchestrate.loader import loads


@pytest.mark.parametrize(
    ("line", "field"),
    [
        ("goal: {event: Purchase, within: 3}", "goal.within"),
        ("reentry: {cooldown: 7}", "reentry.cooldown"),
        ("steps:\n  - wait: 2", "steps[0].wait"),
        ("steps:\n  - wait: {event: B, timeout: 1.5}", "steps[0].wait.timeout"),
    ],
)
def test_a_duration_needs_a_unit(line: str, field: str) -> None:
    with pytest.raises(InvalidSpec) as err:
        loads(f"id: a\ntrigger: {{event: A}}\n{line}\n")
    assert err.value.field == field
    assert "a duration needs a unit" in str(err.value) and "d, " in str(err.value)
    # zero needs no unit, and units are read as before
    [a] = loads(
        "id: a\ntrigger: {event: A}\nreentry: {cooldown: 0}\ngoal: {event: B, within: 3d}\n"
    )
    assert a.goal is not None and a.goal.within.days == 3


CART = """
id: cart
trigger: {event: Checkout Startd, where: 'properties.value > 0'}
goal: {event: Purchase, where: 'properties.total > 0', within: 2d}
exit: {when: 'event == "Unsubscribd" or event in ["Complained"]'}
steps:
  - wait: {event: Payment Started, timeout: 1h}
  - branch:
      if: '"Loan Opened" in events and traits.tierr == "gold"'
      then: [{action: emit, event: Cart Nudged}]
  - {id: mail, action: email, subject: "{{ properties.valeu }} {{ trigger.properties.value }}", text: "{{ events['Page Viewd'] }}"}
---
id: follow
trigger: {event: Cart Nudged}
steps: []
"""

KNOWN = ["Checkout Started", "Purchase", "Payment Started", "Unsubscribed", "Loan Opened"]


def _closest(name: str, known: list[str]) -> tuple[str, ...]:
    import difflib

    return tuple(difflib.get_close_matches(name, known, n=2, cutoff=0.75))


def test_mentions_list_every_name_with_where_it_is_written() -> None:
    a = loads(CART)[0]
    m = mentions(a)
    assert ("trigger.event", "Checkout Startd") in m.events
    assert ("exit.when", "Unsubscribd") in m.events and ("exit.when", "Complained") in m.events
    assert ("step step2 branch.if", "Loan Opened") in m.events
    assert ("step mail text", "Page Viewd") in m.events
    assert ("step mail subject", ("properties", "valeu")) in m.paths
    assert m.emitted == {"Cart Nudged"} and m.listened == {"Checkout Startd", "Payment Started"}


def test_names_are_checked_against_the_data() -> None:
    automations = loads(CART)
    found = check(
        automations,
        events=KNOWN,
        closest=_closest,
        properties={"Checkout Startd": {"value"}, "Payment Started": {"method"}},
        traits={"tier", "email"},
    )
    got = {(f.level, f.where, f.message) for f in found}
    assert got == {
        (
            "error",
            "trigger.event",
            "event 'Checkout Startd' matches no event in the workspace; "
            "did you mean 'Checkout Started'?",
        ),
        (
            "error",
            "exit.when",
            "event 'Unsubscribd' matches no event in the workspace; did you mean 'Unsubscribed'?",
        ),
        ("warning", "exit.when", "event 'Complained' matches no event in the workspace"),
        ("warning", "step mail text", "event 'Page Viewd' matches no event in the workspace"),
        (
            "warning",
            "step step2 branch.if",
            "traits.tierr is in none of people's traits; did you mean 'tier'? (it would always be empty)",
        ),
        (
            "warning",
            "step mail subject",
            "properties.valeu is in none of the events that start or resume 'cart'; "
            "did you mean 'value'? (it would always be empty)",
        ),
    }
    # an emitted event is known to the automation it triggers; goal.where reads the goal event
    assert not any(f.automation_id == "follow" for f in found)
    assert not any("total" in f.message for f in found)
