from __future__ import annotations

from datetime import time, timedelta

import pytest

from journeykit.errors import InvalidSpec
from journeykit.orchestrate.loader import loads, validate_file
from journeykit.orchestrate.spec import Automation, BranchStep, Trigger, WaitForEvent
from journeykit.orchestrate.timeutil import parse_duration

GOOD = """\
templates:
  hello:
    subject: "Hello {{ traits.first_name or 'there' }}"
    text: "Welcome aboard."
automations:
  - id: welcome
    priority: 5
    trigger:
      event: Signed Up
      conditions: 'traits.country == "GB"'
    goal: {event: Order Completed, within: 14d}
    holdout: 0.1
    steps:
      - action: email
        template: hello
      - wait: 2d
      - wait: {until: "09:00", weekdays: [mon, tue, wed, thu, fri]}
      - id: bought
        wait: {event: Order Completed, timeout: 3d}
      - branch:
          if: journey.matched
          then:
            - {action: add_tag, tag: buyer}
          else:
            - {action: webhook, url: "http://127.0.0.1:9/hook"}
"""


def test_loads_a_full_file() -> None:
    [a] = loads(GOOD)
    assert a.id == "welcome" and a.priority == 5 and a.holdout == 0.1
    assert a.goal is not None and a.goal.within == timedelta(days=14)
    assert [sid for sid, _ in a.walk()] == [
        "step1",
        "step2",
        "step3",
        "bought",
        "step5",
        "step5.then1",
        "step5.else1",
    ]
    assert isinstance(a.steps[3].wait, WaitForEvent)
    assert a.steps[2].wait.until == time(9, 0)
    assert isinstance(a.steps[4], BranchStep)
    assert a.templates["hello"].text == "Welcome aboard."


def test_python_and_yaml_build_the_same_thing() -> None:
    [from_yaml] = loads("id: t\ntrigger: {segment: vip}\nsteps:\n  - wait: 1h\n")
    from_python = Automation(
        id="t", trigger=Trigger(segment="vip"), steps=[{"wait": timedelta(hours=1)}]
    )
    assert from_yaml == from_python
    assert from_yaml.version == from_python.version


@pytest.mark.parametrize(
    ("text", "line", "field", "fragment"),
    [
        (
            GOOD.replace("timeout: 3d", "timeout: 3x"),
            19,
            "steps[3].wait.timeout",
            "invalid duration",
        ),
        (
            GOOD.replace("template: hello", "template: helo"),
            15,
            "steps[0].template",
            "unknown e-mail template",
        ),
        (GOOD.replace("priority: 5", "priorty: 5"), 7, "priorty", "unknown field"),
        (
            GOOD.replace('traits.country == "GB"', 'traits.country = "GB"'),
            10,
            "trigger.conditions",
            "unexpected",
        ),
        (GOOD.replace("holdout: 0.1", "holdout: 1.5"), 12, "holdout", "less than 1"),
        (
            GOOD.replace("if: journey.matched", "iff: journey.matched"),
            21,
            "steps[4].branch.iff",
            "unknown field",
        ),
        (GOOD.replace("      event: Signed Up\n", ""), 8, "trigger", "exactly one of"),
        (
            GOOD.replace("weekdays: [mon,", "weekdays: [monday,"),
            17,
            "steps[2].wait.weekdays[0]",
            "'mon'",
        ),
        (
            GOOD.replace('url: "http://127.0.0.1:9/hook"', "url: ftp://x"),
            25,
            "steps[4].branch.else[0].url",
            "http",
        ),
        (
            GOOD.replace("- wait: 2d", "- wait: 2d\n        action: emit"),
            16,
            "steps[1]",
            "exactly one of",
        ),
        (GOOD.replace("      - wait: 2d\n", ""), None, None, None),  # still valid
        (GOOD + "  - id: welcome\n    trigger: {event: X}\n", 26, "id", "defined twice"),
        (
            "id: x\ntrigger: {event: A}\nsteps:\n  - wait: 1d\n  - bad: [\n",
            6,
            None,
            "not valid YAML",
        ),
    ],
)
def test_errors_name_line_and_field(
    text: str, line: int | None, field: str | None, fragment: str | None
) -> None:
    if fragment is None:
        assert loads(text)
        return
    with pytest.raises(InvalidSpec) as err:
        loads(text, file="auto.yaml")
    assert err.value.line == line, str(err.value)
    assert err.value.field == field, str(err.value)
    assert fragment in str(err.value)
    assert "auto.yaml" in str(err.value)


def test_validate_file_reads_a_folder(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD)
    (tmp_path / "b.yml").write_text(
        "id: other\ntrigger: {event: X}\n---\nid: third\ntrigger: {stage: purchase}\n"
    )
    assert [a.id for a in validate_file(tmp_path)] == ["welcome", "other", "third"]
    (tmp_path / "c.yaml").write_text("id: other\ntrigger: {event: Y}\n")
    with pytest.raises(InvalidSpec, match="defined twice"):
        validate_file(tmp_path)


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("15m", 900), ("2h", 7200), ("1d12h", 129600), ("1w", 604800), (45, 45)],
)
def test_durations(text: object, seconds: int) -> None:
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("bad", ["3x", "", "-1d", "d", True])
def test_bad_durations(bad: object) -> None:
    with pytest.raises(ValueError, match="duration"):
        parse_duration(bad)


def test_split_shares_must_add_up() -> None:
    with pytest.raises(InvalidSpec, match="add up to 1") as err:
        loads(
            "id: s\ntrigger: {event: A}\nsteps:\n  - split:\n"
            "      - {name: a, share: 0.5}\n      - {name: b, share: 0.4}\n"
        )
    assert err.value.line == 4
