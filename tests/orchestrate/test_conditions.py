from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeykit.errors import InvalidFilter
from journeykit.orchestrate.conditions import parse
from journeykit.orchestrate.templates import render_text, render_value

SCOPE = {
    "event": "Order Completed",
    "channel": "app",
    "properties": {"platform": "ios", "revenue": 120.5, "items": ["a", "b"], "home city": "Leeds"},
    "traits": {"tier": "gold", "age": 41, "email": "ann@example.com"},
    "events": {"Loan Opened": 1, "Order Completed": 3},
    "segments": ["vip"],
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('properties.platform == "ios"', True),
        ("properties.platform == 'android'", False),
        ('event == "Order Completed" and channel in ["app", "web"]', True),
        ("traits.tier in ['gold', 'silver'] and not traits.age < 18", True),
        ("traits.age >= 41 and traits.age <= 41", True),
        ('"Loan Opened" in events', True),
        ('"Card Opened" not in events', True),
        ('events["Order Completed"] > 2', True),
        ("properties.revenue * 2 > 240", True),
        ("properties.missing.deeper == null", True),
        ("properties.missing > 3", False),  # null never orders
        ("traits.tier > 3", False),  # mismatched types never order
        ('"vip" in segments', True),
        ('properties["home city"] == "Leeds"', True),
        ("properties.items[1] == 'b'", True),
        ("len(properties.items) == 2 and exists(traits.tier)", True),
        ('lower(traits.tier) == "gold" and startswith(traits.email, "ann")', True),
        ("(traits.age > 50 or traits.tier == 'gold') and channel != 'web'", True),
        ("coalesce(traits.nickname, traits.tier) == 'gold'", True),
        ("-traits.age < 0", True),
        ("'ios' in properties.platform", True),
        ("1 in null", False),
        ("properties.revenue / 0 == null", True),
        ('properties.platform in ("ios", "android")', True),
        ("properties.items contains 'b'", True),
        ("traits.email contains '@example'", True),
        ("traits.nickname is null and traits.tier is not null", True),
    ],
)
def test_evaluates(text: str, expected: bool) -> None:
    assert parse(text).evaluate(SCOPE) is expected


@pytest.mark.parametrize(
    ("text", "position", "fragment"),
    [
        ("__import__('os').system('true')", 0, "unknown function"),
        ("traits.__class__", 7, "cannot start with '_'"),
        ("open('x')", 0, "unknown function"),
        ("user.name == 1", 0, "unknown name"),
        ("traits.tier ==", 14, "expected a value"),
        ("traits.tier = 'gold'", 12, "unexpected character"),
        ("1 < traits.age < 3", 15, "one pair at a time"),
        ("traits.tier == 'gold' extra", 22, "expected an operator"),
        ("", 0, "empty expression"),
        ("lambda: 1", 6, "unexpected character"),
        ("traits[traits.x]", 7, "quoted key"),
    ],
)
def test_rejects_with_position(text: str, position: int, fragment: str) -> None:
    with pytest.raises(InvalidFilter) as err:
        parse(text)
    assert err.value.position == position
    assert fragment in str(err.value)
    assert err.value.field == "filter"


def test_templates_render_safely() -> None:
    scope = {"traits": {"name": "<b>Ann</b>"}, "events": {"Order Completed": 2}}
    assert render_text("Hi {{ traits.name }}", scope) == "Hi <b>Ann</b>"
    assert (
        render_text("Hi {{ traits.name }}", scope, escape_html=True) == "Hi &lt;b&gt;Ann&lt;/b&gt;"
    )
    assert render_text("{{ traits.nick or 'there' }}!", scope) == "there!"
    assert render_value({"n": "{{ events['Order Completed'] }}", "l": ["{{ 1 + 1 }}"]}, scope) == {
        "n": 2,
        "l": [2],
    }


# ---- property test against Python itself as the slow, obvious reference ---------------------

_ints = st.integers(-5, 5).map(str)
_names = st.sampled_from(["traits.a", "traits.b", "properties.c"])
_VALUES = {"traits": {"a": 2, "b": -3}, "properties": {"c": 0}}


def _numeric(draw_depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(_ints, _names)
    if draw_depth <= 0:
        return leaf
    sub = _numeric(draw_depth - 1)
    return st.one_of(
        leaf,
        st.tuples(sub, st.sampled_from(["+", "-", "*"]), sub).map(
            lambda t: f"({t[0]} {t[1]} {t[2]})"
        ),
    )


_cmp = st.tuples(_numeric(2), st.sampled_from(["==", "!=", "<", "<=", ">", ">="]), _numeric(2)).map(
    lambda t: f"{t[0]} {t[1]} {t[2]}"
)
_member = st.tuples(
    _numeric(1), st.sampled_from(["in", "not in"]), st.lists(_ints, max_size=4)
).map(lambda t: f"{t[0]} {t[1]} [{', '.join(t[2])}]")


def _boolean(depth: int) -> st.SearchStrategy[str]:
    leaf = st.one_of(_cmp, _member, st.sampled_from(["true", "false"]))
    if depth <= 0:
        return leaf
    sub = _boolean(depth - 1)
    return st.one_of(
        leaf,
        sub.map(lambda s: f"not ({s})"),
        st.tuples(sub, st.sampled_from(["and", "or"]), sub).map(
            lambda t: f"({t[0]}) {t[1]} ({t[2]})"
        ),
    )


class _Obj:
    def __init__(self, d: dict[str, int]) -> None:
        self.__dict__.update(d)


@settings(max_examples=300, deadline=None)
@given(_boolean(3))
def test_agrees_with_python(text: str) -> None:
    ref_scope = {"traits": _Obj(_VALUES["traits"]), "properties": _Obj(_VALUES["properties"])}
    python_text = text.replace("true", "True").replace("false", "False")
    expected = bool(eval(python_text, {"__builtins__": {}}, ref_scope))  # reference only
    assert parse(text).evaluate(_VALUES) is expected
