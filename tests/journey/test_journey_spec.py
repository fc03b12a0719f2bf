"""Journey specs: YAML and the builder, and every refusal naming its line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from journeykit.errors import InvalidSpec, NotFound
from journeykit.journey.spec import JourneySpec, SpecBuilder, demo_spec_path, load_spec
from journeykit.journey.touches import compile_plan

GOOD = """\
name: Shop
stages:
  - name: browse
    touchpoints:
      - {name: Visit, events: [Session Started], channel: [web, app]}
      - {name: Product, event: Product Viewed}
  - name: buy
    touchpoints:
      - {name: Checkout, events: [Checkout Started]}
      - {name: Failure, events: [Payment Failed], kind: error}
    kpis:
      - {name: Checkout conversion, metric: conversion, touchpoint: Checkout, target: 0.7}
goals: [Order Completed]
personas:
  - {name: iOS, where: 'properties.platform == "ios"'}
"""


def invalid(text: str) -> InvalidSpec:
    with pytest.raises(InvalidSpec) as info:
        JourneySpec.from_yaml(text)
    return info.value


def test_a_good_spec_reads_and_round_trips() -> None:
    spec = JourneySpec.from_yaml(GOOD)
    assert spec.stage_names == ("browse", "buy")
    assert [tp.name for tp in spec.all_touchpoints()] == ["Visit", "Product", "Checkout", "Failure"]
    assert spec.touchpoint("Visit").channels == ("web", "app")
    assert spec.touchpoint("Product").events == ("Product Viewed",)
    assert spec.touchpoint("Failure").moves and spec.touchpoint("Failure").kind != "action"
    assert spec.goal_events == ("Order Completed",)
    assert JourneySpec.from_yaml(spec.to_yaml()) == spec


def test_the_builder_makes_the_same_spec_as_yaml() -> None:
    built = (
        SpecBuilder("Shop")
        .stage("browse")
        .touchpoint("Visit", events=["Session Started"], channel=["web", "app"])
        .touchpoint("Product", events="Product Viewed")
        .stage("buy")
        .touchpoint("Checkout", events=["Checkout Started"])
        .touchpoint("Failure", events=["Payment Failed"], kind="error")
        .kpi("Checkout conversion", "conversion", touchpoint="Checkout", target=0.7)
        .goal("Order Completed")
        .persona("iOS", 'properties.platform == "ios"')
        .build()
    )
    assert built == JourneySpec.from_yaml(GOOD)


def test_bad_yaml_names_its_line() -> None:
    err = invalid("name: x\nstages:\n  - {name: a, touchpoints: [\n")
    assert err.line == 4
    assert "not valid YAML" in str(err)


def test_a_spec_must_be_a_mapping() -> None:
    err = invalid("- just\n- a list\n")
    assert err.line == 1


def test_unknown_stage_names_line_and_field() -> None:
    text = GOOD + "touchpoints:\n  - {name: Refund, events: [Refund Issued], stage: aftercare}\n"
    err = invalid(text)
    assert "unknown stage 'aftercare'" in str(err)
    assert err.field == "touchpoints[0].stage"
    assert (
        err.line
        == text.splitlines().index("  - {name: Refund, events: [Refund Issued], stage: aftercare}")
        + 1
    )


def test_top_level_touchpoints_join_their_stage() -> None:
    spec = JourneySpec.from_yaml(
        GOOD + "touchpoints:\n  - {name: Refund, events: [Refund Issued], stage: buy}\n"
    )
    assert spec.touchpoint("Refund").stage == "buy"
    assert [tp.name for tp in spec.all_touchpoints()][-1] == "Refund"


def test_overlapping_touchpoints_are_refused() -> None:
    text = """\
stages:
  - name: a
    touchpoints:
      - {name: Web visit, events: [Session Started], channel: web}
  - name: b
    touchpoints:
      - {name: Any visit, events: [Session Started]}
goals: [Order]
"""
    err = invalid(text)
    assert "overlapping touchpoints 'Web visit' and 'Any visit'" in str(err)
    assert "channel web" in str(err)
    assert err.field == "stages[1].touchpoints[0].events[0]"
    assert err.line == 7


def test_a_filtered_touchpoint_may_come_before_a_catch_all() -> None:
    spec = JourneySpec.from_yaml(
        """\
stages:
  - name: a
    touchpoints:
      - {name: iOS visit, events: [Session Started], where: 'properties.platform == "ios"'}
      - {name: Other visit, events: [Session Started]}
goals: [Order]
"""
    )
    assert len(spec.all_touchpoints()) == 2


def test_disjoint_channels_do_not_overlap() -> None:
    spec = JourneySpec.from_yaml(
        """\
stages:
  - name: a
    touchpoints:
      - {name: Web, events: [Session Started], channel: web}
      - {name: App, events: [Session Started], channel: app}
goals: [Order]
"""
    )
    assert compile_plan(spec).certain == {}


@pytest.mark.parametrize(
    ("text", "reason", "field", "line"),
    [
        (
            "stages:\n  - {name: a, touchpoints: [{name: A, event: X}]}\n"
            "  - {name: a, touchpoints: [{name: B, event: Y}]}\ngoals: [X]\n",
            "duplicate stage name 'a'",
            "stages[1].name",
            3,
        ),
        (
            "stages:\n  - {name: a, touchpoints: [{name: A, event: X}, {name: A, event: Y}]}\n"
            "goals: [X]\n",
            "duplicate touchpoint name 'A'",
            "stages[0].touchpoints[1].name",
            2,
        ),
        (
            "stages:\n  - name: a\n    touchpoints:\n      - {name: A, event: X, colour: red}\n"
            "goals: [X]\n",
            "unknown field 'colour'",
            "stages[0].touchpoints[0].colour",
            4,
        ),
        (
            "stages:\n  - name: a\n    touchpoints:\n      - {name: A, event: X, kind: mood}\n"
            "goals: [X]\n",
            "Input should be",
            "stages[0].touchpoints[0].kind",
            4,
        ),
        (
            "stages:\n  - name: a\n    touchpoints:\n      - {name: A, events: []}\ngoals: [X]\n",
            "at least 1 item",
            "stages[0].touchpoints[0].events",
            4,
        ),
        (
            "stages:\n  - {name: a, touchpoints: [{name: A, event: X}]}\n  - {name: b}\ngoals: [X]\n",
            "stage 'b' has no touchpoints",
            "stages[1].name",
            3,
        ),
        (
            "stages:\n  - {name: a, touchpoints: [{name: A, event: X}]}\n",
            "Field required",
            "goals",
            1,
        ),
        (
            "stages:\n  - name: a\n    touchpoints: [{name: A, event: X}]\n"
            "    kpis: [{name: K, metric: conversion, touchpoint: Nope}]\ngoals: [X]\n",
            "unknown touchpoint 'Nope'",
            "stages[0].kpis[0].touchpoint",
            4,
        ),
        (
            "stages:\n  - name: a\n    touchpoints:\n      - {name: A, event: X, where: 'channel = 1'}\n"
            "goals: [X]\n",
            "bad filter",
            "stages[0].touchpoints[0].where",
            4,
        ),
        (
            "stages:\n  - name: a\n    touchpoints:\n      - {name: A, event: X, where: 'n_events > 2'}\n"
            "goals: [X]\n",
            "person field",
            "stages[0].touchpoints[0].where",
            4,
        ),
        (
            "stages:\n  - {name: a, touchpoints: [{name: A, event: X}]}\ngoals: [X]\n"
            "personas:\n  - {name: P, where: 'count(event == \"X\" >= 2'}\n",
            "bad filter",
            "personas[0].where",
            5,
        ),
    ],
)
def test_refusals_name_reason_field_and_line(text: str, reason: str, field: str, line: int) -> None:
    err = invalid(text)
    assert reason in str(err)
    assert err.field == field
    assert err.line == line
    assert f"(line {line})" in str(err)


def test_personas_may_use_person_fields_and_counts() -> None:
    spec = JourneySpec.from_yaml(
        "stages:\n  - {name: a, touchpoints: [{name: A, event: X}]}\ngoals: [X]\n"
        'personas:\n  - {name: P, where: \'count(event == "X") >= 2 and first_channel == "ads"\'}\n'
    )
    assert spec.personas[0].name == "P"


def test_load_spec_reads_files_and_says_which(tmp_path: Path) -> None:
    path = tmp_path / "spec.yaml"
    path.write_text(GOOD)
    assert load_spec(path).name == "Shop"
    assert load_spec(str(path)).name == "Shop"
    path.write_text(GOOD.replace("kind: error", "kind: oops"))
    with pytest.raises(InvalidSpec) as info:
        load_spec(path)
    assert info.value.file == str(path)
    assert str(path) in str(info.value)
    with pytest.raises(InvalidSpec, match="cannot read"):
        load_spec(tmp_path / "missing.yaml")


def test_the_builder_checks_like_yaml() -> None:
    with pytest.raises(InvalidSpec, match="add a stage"):
        SpecBuilder().touchpoint("A", events=["X"])
    with pytest.raises(InvalidSpec, match="duplicate touchpoint"):
        SpecBuilder().stage("a").touchpoint("A", events=["X"]).touchpoint("A", events=["Y"]).goal(
            "X"
        ).build()


def test_lookups_say_what_exists() -> None:
    spec = JourneySpec.from_yaml(GOOD)
    with pytest.raises(NotFound, match="Known: Visit, Product"):
        spec.touchpoint("Nope")
    assert spec.stage_index("buy") == 1


def test_the_shipped_demo_spec_covers_the_demo_vocabulary() -> None:
    from journeykit.demo.vocab import EVENTS

    spec = load_spec(demo_spec_path())
    listed = {e for tp in spec.all_touchpoints() for e in tp.events}
    assert listed == set(EVENTS)
    assert spec.stage_names == ("awareness", "consideration", "purchase", "retention", "advocacy")
    assert spec.goal_events == ("Order Completed",)
    kinds = {tp.name: tp.kind for tp in spec.all_touchpoints()}
    assert kinds["Payment failure"] == "error" and kinds["Chat"] == "contact"
    assert not spec.touchpoint("E-mail sent").moves


def test_the_spec_in_the_docs_reads() -> None:
    import re

    text = (Path(__file__).resolve().parents[2] / "docs" / "journey.md").read_text()
    block = re.search(r"```yaml\n(.*?)```", text, re.S)
    assert block is not None
    spec = load_spec(block.group(1))
    assert spec.touchpoint("iOS order").where == 'properties.platform == "ios"'
    assert spec.settings.currency == "£"
