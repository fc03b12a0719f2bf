"""The syntax of journeykit filters: tokens, the tree, and the recursive-descent parser.

See :mod:`journeykit.analytics.filters` for the language and its meaning; this module only
reads text into a checked tree (no engine, no Ibis).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from journeykit.analytics._common import parse_duration
from journeykit.errors import InvalidFilter

#: Event columns a filter may name, with their kind.
EVENT_FIELDS: dict[str, str] = {
    "event": "string",
    "channel": "string",
    "type": "string",
    "source": "string",
    "revenue": "number",
    "ts": "time",
    "seq": "number",
    "prev_event": "string",
    "person_id": "string",
    "event_id": "string",
}
#: Person columns a filter may name: filter name -> (people column, kind).
PERSON_FIELDS: dict[str, tuple[str, str]] = {
    "first_channel": ("first_channel", "string"),
    "last_channel": ("last_channel", "string"),
    "first_seen": ("first_seen", "time"),
    "last_seen": ("last_seen", "time"),
    "n_events": ("n_events", "number"),
    "lifetime_revenue": ("revenue", "number"),
}
_PREFIXED = {"properties": "event", "traits": "person"}
_KEYWORDS = {"and", "or", "not", "in", "is", "null", "true", "false", "contains"}
_OPS = ("==", "!=", "<=", ">=", "<", ">")

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<duration>\d+(?:\.\d+)?[smhdw])(?![A-Za-z0-9_])
  | (?P<number>-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?)(?![A-Za-z_0-9])
  | (?P<badnum>\d+(?:\.\d+)?[A-Za-z_]\w*)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_\-]*)
  | (?P<op>==|!=|<=|>=|<|>)
  | (?P<punct>[(),.])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True)
class Token:
    """One token: its kind, text (strings unquoted) and position in the filter text."""

    kind: str
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    """Split a filter into tokens; an unknown character raises :class:`InvalidFilter`.

    >>> [t.text for t in tokenize('channel == "app"')]
    ['channel', '==', 'app', '']
    """
    tokens: list[Token] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            bad = text[pos]
            hint = " (use == to compare)" if bad == "=" else ""
            raise InvalidFilter(f"unexpected character {bad!r}{hint}", text=text, position=pos)
        kind = m.lastgroup or ""
        if kind == "badnum":
            raise InvalidFilter(
                f"{m.group()!r} is neither a number nor a duration (30m, 12h, 7d, 2w)",
                text=text,
                position=pos,
            )
        if kind == "op" and m.group() == "=":
            raise InvalidFilter("use == to compare", text=text, position=pos)
        if kind == "string":
            raw = m.group()[1:-1]
            value = re.sub(r"\\(.)", r"\1", raw)
            tokens.append(Token("string", value, pos))
        elif kind == "name" and m.group().lower() in _KEYWORDS:
            tokens.append(Token("kw", m.group().lower(), pos))
        elif kind != "ws":
            tokens.append(Token(kind, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# --- the tree -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Node:
    """A node of the parsed filter; ``pos`` is where it starts in the text."""

    pos: int


@dataclass(frozen=True)
class Literal(Node):
    value: Any  # str, float, bool or None


@dataclass(frozen=True)
class Field(Node):
    name: str  # "channel", "properties.platform", "traits.plan", ...
    level: str  # "event" or "person"
    kind: str  # "string", "number", "time" or "json"


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class InList(Node):
    operand: Node
    values: tuple[Literal, ...]
    negate: bool


@dataclass(frozen=True)
class IsNull(Node):
    operand: Node
    negate: bool


@dataclass(frozen=True)
class Contains(Node):
    operand: Node
    needle: str


@dataclass(frozen=True)
class BoolOp(Node):
    op: str  # "and" / "or"
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    item: Node


@dataclass(frozen=True)
class Count(Node):
    cond: Node | None
    window: timedelta | None


@dataclass(frozen=True)
class Cohort(Node):
    name: str


def walk(node: Node) -> Iterator[Node]:
    """Every node of a tree, parents first."""
    yield node
    children: tuple[Node | None, ...] = ()
    if isinstance(node, Compare):
        children = (node.left, node.right)
    elif isinstance(node, InList | IsNull | Contains):
        children = (node.operand,)
    elif isinstance(node, BoolOp):
        children = node.items
    elif isinstance(node, Not):
        children = (node.item,)
    for child in children:
        if child is not None:
            yield from walk(child)


# --- the parser -----------------------------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, reason: str, pos: int | None = None) -> InvalidFilter:
        return InvalidFilter(reason, text=self.text, position=self.tok.pos if pos is None else pos)

    def take(self, kind: str, text: str | None = None) -> Token:
        tok = self.tok
        if tok.kind != kind or (text is not None and tok.text != text):
            want = repr(text) if text else kind
            got = "the end" if tok.kind == "end" else repr(tok.text)
            raise self.error(f"expected {want}, found {got}")
        self.i += 1
        return tok

    def accept(self, kind: str, text: str | None = None) -> Token | None:
        if self.tok.kind == kind and (text is None or self.tok.text == text):
            self.i += 1
            return self.tokens[self.i - 1]
        return None

    def parse(self) -> Node:
        if self.tok.kind == "end":
            raise self.error("empty filter")
        node = self.parse_or()
        if self.tok.kind != "end":
            raise self.error(f"unexpected {self.tok.text!r}; expected and, or or the end")
        return node

    def parse_or(self) -> Node:
        first = self.parse_and()
        items = [first]
        while self.accept("kw", "or"):
            items.append(self.parse_and())
        return first if len(items) == 1 else BoolOp(first.pos, "or", tuple(items))

    def parse_and(self) -> Node:
        first = self.parse_not()
        items = [first]
        while self.accept("kw", "and"):
            items.append(self.parse_not())
        return first if len(items) == 1 else BoolOp(first.pos, "and", tuple(items))

    def parse_not(self) -> Node:
        tok = self.accept("kw", "not")
        if tok:
            return Not(tok.pos, self.parse_not())
        return self.parse_comparison()

    def parse_comparison(self) -> Node:
        left = self.parse_value()
        tok = self.tok
        if tok.kind == "op":
            self.i += 1
            right = self.parse_value()
            return self.check_compare(Compare(tok.pos, tok.text, left, right))
        if tok.kind == "kw" and tok.text in ("in", "not") and self._is_in():
            negate = bool(self.accept("kw", "not"))
            self.take("kw", "in")
            return InList(tok.pos, self.check_operand(left), self.parse_list(), negate)
        if self.accept("kw", "is"):
            negate = bool(self.accept("kw", "not"))
            self.take("kw", "null")
            return IsNull(tok.pos, self.check_operand(left), negate)
        if self.accept("kw", "contains"):
            needle = self.take("string")
            return Contains(tok.pos, self.check_operand(left), needle.text)
        if isinstance(left, Field | Count) or (
            # only true / false stand alone (1 == True in Python, so test the type)
            isinstance(left, Literal) and not isinstance(left.value, bool)
        ):
            raise self.error(
                "a value alone is not a condition; compare it (==, !=, <, >, in, is null)",
                left.pos,
            )
        return left

    def _is_in(self) -> bool:
        if self.tok.text == "in":
            return True
        nxt = self.tokens[self.i + 1]
        return nxt.kind == "kw" and nxt.text == "in"

    def parse_list(self) -> tuple[Literal, ...]:
        self.take("punct", "(")
        values = [self.parse_literal()]
        while self.accept("punct", ","):
            values.append(self.parse_literal())
        self.take("punct", ")")
        return tuple(values)

    def parse_literal(self) -> Literal:
        node = self.parse_value()
        if not isinstance(node, Literal):
            raise self.error("expected a literal value (text, number, true, false)", node.pos)
        return node

    def parse_value(self) -> Node:
        tok = self.tok
        if tok.kind == "string":
            self.i += 1
            return Literal(tok.pos, tok.text)
        if tok.kind == "number":
            self.i += 1
            return Literal(tok.pos, float(tok.text))
        if tok.kind == "kw" and tok.text in ("true", "false", "null"):
            self.i += 1
            return Literal(tok.pos, {"true": True, "false": False, "null": None}[tok.text])
        if tok.kind == "duration":
            raise self.error("a duration is only allowed as the window of count(...)")
        if tok.kind == "punct" and tok.text == "(":
            self.i += 1
            inner = self.parse_or()
            self.take("punct", ")")
            return inner
        if tok.kind == "name":
            if self.tokens[self.i + 1].text == "(" and self.tokens[self.i + 1].kind == "punct":
                return self.parse_call()
            return self.parse_field()
        got = "the end" if tok.kind == "end" else repr(tok.text)
        raise self.error(f"expected a field, a value or '(', found {got}")

    def parse_field(self) -> Field:
        tok = self.take("name")
        name = tok.text
        if name in _PREFIXED:
            if not self.accept("punct", "."):
                raise self.error(f"name a key: {name}.<key>", tok.pos)
            key = self.take("name")
            kind = "json"
            return Field(tok.pos, f"{name}.{key.text}", _PREFIXED[name], kind)
        if self.tok.kind == "punct" and self.tok.text == ".":
            raise self.error(f"{name!r} has no sub-fields", self.tok.pos)
        if name in EVENT_FIELDS:
            return Field(tok.pos, name, "event", EVENT_FIELDS[name])
        if name in PERSON_FIELDS:
            return Field(tok.pos, name, "person", PERSON_FIELDS[name][1])
        known = sorted([*EVENT_FIELDS, *PERSON_FIELDS, "properties.<key>", "traits.<key>"])
        raise self.error(f"unknown field {name!r}; known fields: {', '.join(known)}", tok.pos)

    def parse_call(self) -> Node:
        tok = self.take("name")
        func = tok.text.lower()
        self.take("punct", "(")
        if func == "count":
            cond: Node | None = None
            window: timedelta | None = None
            if not (self.tok.kind == "punct" and self.tok.text == ")"):
                if self.tok.kind == "duration":
                    window = parse_duration(self.take("duration").text)
                else:
                    cond = self.parse_or()
                    for node in walk(cond):
                        if isinstance(node, Field) and node.level == "person":
                            raise self.error(
                                "count(...) takes a condition on events only", node.pos
                            )
                        if isinstance(node, Count | Cohort):
                            raise self.error("count(...) cannot be nested", node.pos)
                    if self.accept("punct", ","):
                        dur = self.take("duration")
                        window = parse_duration(dur.text)
            self.take("punct", ")")
            return Count(tok.pos, cond, window)
        if func == "cohort":
            name = self.take("string")
            self.take("punct", ")")
            return Cohort(tok.pos, name.text)
        raise self.error(f"unknown function {tok.text!r}; functions: count, cohort", tok.pos)

    # --- checks ---------------------------------------------------------------------------

    def check_operand(self, node: Node) -> Node:
        if isinstance(node, BoolOp | Not | Compare | InList | IsNull | Contains | Cohort):
            raise self.error("expected a field here, not a condition", node.pos)
        return node

    def check_compare(self, node: Compare) -> Compare:
        left, right = self.check_operand(node.left), self.check_operand(node.right)
        kinds = [_kind(left), _kind(right)]
        if "literal-none" in kinds and node.op not in ("==", "!="):
            raise self.error("null can only be compared with == or !=", node.pos)
        if isinstance(left, Literal) and isinstance(right, Literal):
            raise self.error("compare a field with a value, not two values", node.pos)
        for a, b in ((left, right), (right, left)):
            if isinstance(a, Field) and a.kind == "time" and isinstance(b, Literal):
                if not isinstance(b.value, str):
                    raise self.error(f"compare {a.name} with a date text", b.pos)
                try:
                    datetime.fromisoformat(b.value.replace("Z", "+00:00"))
                except ValueError:
                    raise self.error(f"{b.value!r} is not a date (ISO 8601)", b.pos) from None
            if isinstance(a, Field | Count) and isinstance(b, Literal):
                want = "number" if isinstance(a, Count) else a.kind
                if want == "number" and isinstance(b.value, str | bool):
                    raise self.error(f"expected a number here (for {_label(a)})", b.pos)
                if want == "string" and isinstance(b.value, float | bool):
                    raise self.error(f"expected text in quotes here (for {_label(a)})", b.pos)
        return node


def _kind(node: Node) -> str:
    if isinstance(node, Literal):
        return "literal-none" if node.value is None else "literal"
    return "value"


def _label(node: Node) -> str:
    return node.name if isinstance(node, Field) else "count(...)"
