"""A small, safe expression language for triggers, branches, goals, exits and templates.

Expressions read like Python but are parsed by a tokenizer and a recursive-descent parser into
closures; nothing is ever passed to ``eval``. What is allowed:

* literals: ``"text"`` / ``'text'``, numbers, ``true``/``false``/``null`` (or ``True``/``False``/
  ``None``), lists ``["ios", "android"]``;
* paths from a fixed set of roots: ``event``, ``channel``, ``ts``, ``person_id``, ``revenue``,
  ``properties.platform``, ``traits.tier``, ``traits["home city"]``, ``events["Loan Opened"]``
  (how many times the person did it), ``segments``, ``stage``, ``journey.matched``, ``now``;
* comparisons ``== != < <= > >=``, ``in`` / ``not in`` (a list ``[...]`` or a tuple ``(...)``),
  ``contains``, ``is null`` / ``is not null``, ``and`` / ``or`` / ``not``, parentheses,
  arithmetic ``+ - * /`` on numbers;
* functions ``lower upper len exists startswith endswith coalesce``.

The syntax matches the segment filters of :mod:`journeykit.analytics.filters` where they
overlap, but this module stands alone: automations evaluate one event at a time in memory,
below the analytics layer. A missing key reads as ``null``; comparing ``null`` (or mismatched types) with ``<`` is false,
never an error, so one odd event cannot stop an automation.

>>> cond = parse('properties.platform == "ios" and traits.tier in ["gold", "silver"]')
>>> cond.evaluate({"properties": {"platform": "ios"}, "traits": {"tier": "gold"}})
True
>>> parse('"Loan Opened" in events').evaluate({"events": {"Loan Opened": 1}})
True
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from journeykit.errors import InvalidFilter

#: Names an expression may start a path with.
ROOTS: frozenset[str] = frozenset(
    {
        "event",
        "channel",
        "ts",
        "person_id",
        "revenue",
        "properties",
        "traits",
        "events",
        "segments",
        "stage",
        "journey",
        "trigger",
        "now",
    }
)

#: what ``journey.`` offers (``journey.matched`` after a wait for an event, …)
JOURNEY_FIELDS: frozenset[str] = frozenset(
    {"matched", "entry", "variant", "group", "automation_id"}
)
#: what ``trigger.`` offers: the event that started the journey
TRIGGER_FIELDS: frozenset[str] = frozenset(
    {"event", "channel", "ts", "properties", "revenue", "event_id"}
)

Scope = Mapping[str, Any]


def did_you_mean(name: str, known: list[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of a fixed set of names (language words; event
    names of a workspace go through :mod:`journeykit.analytics.names`), else ``""``.

    >>> did_you_mean("journey.mached", ["journey.matched", "journey.entry"])
    " (did you mean 'journey.matched'?)"
    """
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.7)
    return f" (did you mean {close[0]!r}?)" if close else ""


Fn = Callable[[Scope], Any]

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<number>\d+\.\d*|\.\d+|\d+)
  | (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,|\.|\+|-|\*|/)
    """,
    re.VERBOSE,
)
_ESCAPES = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
_CONSTANTS = {
    "true": True,
    "True": True,
    "false": False,
    "False": False,
    "null": None,
    "None": None,
}
_KEYWORDS = {"and", "or", "not", "in", "is", "contains"}


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str
    pos: int
    value: Any = None


def _tokenize(text: str) -> list[_Tok]:
    out: list[_Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise InvalidFilter(f"unexpected character {text[pos]!r}", text=text, position=pos)
        kind = m.lastgroup or ""
        raw = m.group()
        if kind == "number":
            out.append(_Tok("lit", raw, pos, float(raw) if "." in raw else int(raw)))
        elif kind == "string":
            body = re.sub(r"\\(.)", lambda e: _ESCAPES.get(e[1], e[1]), raw[1:-1])
            out.append(_Tok("lit", raw, pos, body))
        elif kind == "name":
            if raw in _CONSTANTS:
                out.append(_Tok("lit", raw, pos, _CONSTANTS[raw]))
            elif raw in _KEYWORDS:
                out.append(_Tok("kw", raw, pos))
            else:
                out.append(_Tok("name", raw, pos))
        elif kind == "op":
            out.append(_Tok("op", raw, pos))
        pos = m.end()
    out.append(_Tok("end", "", len(text)))
    return out


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _order(op: str) -> Callable[[Any, Any], bool]:
    import operator

    fn = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge}[op]

    def compare(a: Any, b: Any) -> bool:
        if (_is_num(a) and _is_num(b)) or (isinstance(a, str) and isinstance(b, str)):
            return bool(fn(a, b))
        return False

    return compare


def _contains(item: Any, container: Any) -> bool:
    if isinstance(container, str):
        return isinstance(item, str) and item in container
    if isinstance(container, list | tuple | set | frozenset | dict):
        try:
            return item in container
        except TypeError:  # unhashable item against a dict/set
            return False
    return False


def _arith(op: str) -> Callable[[Any, Any], Any]:
    def apply(a: Any, b: Any) -> Any:
        if not (_is_num(a) and _is_num(b)):
            return None
        if op == "+":
            return a + b
        if op == "-":
            return a - b
        if op == "*":
            return a * b
        return a / b if b != 0 else None

    return apply


def _fn_len(v: Any) -> Any:
    return len(v) if isinstance(v, str | list | tuple | dict) else None


def _str_fn(f: Callable[..., Any]) -> Callable[..., Any]:
    def apply(*args: Any) -> Any:
        return f(*args) if all(isinstance(a, str) for a in args) else None

    return apply


_FUNCTIONS: dict[str, tuple[int, int, Callable[..., Any]]] = {
    "lower": (1, 1, _str_fn(str.lower)),
    "upper": (1, 1, _str_fn(str.upper)),
    "len": (1, 1, _fn_len),
    "exists": (1, 1, lambda v: v is not None),
    "startswith": (2, 2, _str_fn(str.startswith)),
    "endswith": (2, 2, _str_fn(str.endswith)),
    "coalesce": (1, 99, lambda *vs: next((v for v in vs if v is not None), None)),
}


def _either(a: Fn, b: Fn) -> Fn:
    return lambda s: a(s) or b(s)


def _both(a: Fn, b: Fn) -> Fn:
    return lambda s: a(s) and b(s)


def _apply2(f: Callable[[Any, Any], Any], a: Fn, b: Fn) -> Fn:
    return lambda s: f(a(s), b(s))


def _get(container: Any, key: Any) -> Any:
    if type(container) is dict:  # the common case, without the slower ABC check
        return container.get(key)
    if isinstance(container, Mapping):
        return container.get(key)
    if isinstance(container, list | tuple) and isinstance(key, int) and not isinstance(key, bool):
        return container[key] if -len(container) <= key < len(container) else None
    return None


class _Parser:
    def __init__(self, text: str, roots: frozenset[str]) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.roots = roots
        self.used: set[str] = set()
        self.paths: set[tuple[Any, ...]] = set()
        self.events: set[str] = set()  # event names it compares with (for validation)

    # -- helpers -------------------------------------------------------------------------
    def peek(self) -> _Tok:
        return self.toks[self.i]

    def take(self) -> _Tok:
        tok = self.toks[self.i]
        self.i += 1
        return tok

    def at(self, kind: str, text: str | None = None) -> bool:
        tok = self.peek()
        return tok.kind == kind and (text is None or tok.text == text)

    def expect(self, kind: str, text: str) -> _Tok:
        if not self.at(kind, text):
            self.fail(f"expected {text!r}")
        return self.take()

    def fail(self, reason: str, tok: _Tok | None = None) -> None:
        tok = tok or self.peek()
        found = "the end" if tok.kind == "end" else repr(tok.text)
        raise InvalidFilter(f"{reason}, found {found}", text=self.text, position=tok.pos)

    # -- grammar -------------------------------------------------------------------------
    def parse(self) -> Fn:
        if self.at("end"):
            self.fail("empty expression")
        fn = self.or_()
        if not self.at("end"):
            self.fail("expected an operator or the end")
        return fn

    def or_(self) -> Fn:
        fn = self.and_()
        while self.at("kw", "or"):
            self.take()
            fn = _either(fn, self.and_())
        return fn

    def and_(self) -> Fn:
        fn = self.not_()
        while self.at("kw", "and"):
            self.take()
            fn = _both(fn, self.not_())
        return fn

    def not_(self) -> Fn:
        if self.at("kw", "not"):
            self.take()
            inner = self.not_()
            return lambda s: not inner(s)
        return self.comparison()

    def _strings(self, start: int, end: int) -> list[str] | None:
        """The strings of a token span that is one string literal or a list/tuple of them."""
        toks = self.toks[start:end]
        if len(toks) == 1 and toks[0].kind == "lit" and isinstance(toks[0].value, str):
            return [toks[0].value]
        if len(toks) >= 2 and toks[0].text in "([" and toks[-1].text in ")]":
            inner = [t for t in toks[1:-1] if not (t.kind == "op" and t.text == ",")]
            if inner and all(t.kind == "lit" and isinstance(t.value, str) for t in inner):
                return [t.value for t in inner]
        return None

    def _is_name(self, start: int, end: int, name: str) -> bool:
        toks = self.toks[start:end]
        return len(toks) == 1 and toks[0].kind == "name" and toks[0].text == name

    def _mention(self, ls: int, le: int, op: str, rs: int, re_: int) -> None:
        if op in ("==", "!="):
            for a, b in (((ls, le), (rs, re_)), ((rs, re_), (ls, le))):
                names = self._strings(*b)
                if names and self._is_name(*a, "event"):
                    self.events.update(names)
        elif op in ("in", "not in"):
            names = self._strings(ls, le) if self._is_name(rs, re_, "events") else None
            if names is None and self._is_name(ls, le, "event"):
                names = self._strings(rs, re_)
            self.events.update(names or ())

    def comparison(self) -> Fn:
        ls = self.i
        left = self.sum_()
        le = self.i
        if self.at("kw", "is"):
            self.take()
            negate = self.at("kw", "not")
            if negate:
                self.take()
            tok = self.peek()
            if tok.kind != "lit" or tok.value is not None:
                self.fail("expected 'null' after 'is'")
            self.take()
            if negate:
                return lambda s: left(s) is not None
            return lambda s: left(s) is None
        if self.at("kw", "contains"):
            self.take()
            needle = self.sum_()
            return lambda s: _contains(needle(s), left(s))
        op = self.comparison_op()
        if op is None:
            return left
        rs = self.i
        right = self.sum_()
        self._mention(ls, le, op, rs, self.i)
        if self.comparison_op(peek_only=True) is not None:
            self.fail("compare one pair at a time (join comparisons with 'and')")
        if op == "==":
            return lambda s: left(s) == right(s)
        if op == "!=":
            return lambda s: left(s) != right(s)
        if op == "in":
            return lambda s: _contains(left(s), right(s))
        if op == "not in":
            return lambda s: not _contains(left(s), right(s))
        cmp = _order(op)
        return lambda s: cmp(left(s), right(s))

    def comparison_op(self, peek_only: bool = False) -> str | None:
        tok = self.peek()
        if tok.kind == "op" and tok.text in ("==", "!=", "<", "<=", ">", ">="):
            if not peek_only:
                self.take()
            return tok.text
        if tok.kind == "kw" and tok.text == "in":
            if not peek_only:
                self.take()
            return "in"
        nxt = self.toks[self.i + 1] if self.i + 1 < len(self.toks) else None
        if tok.kind == "kw" and tok.text == "not" and nxt and nxt.kind == "kw" and nxt.text == "in":
            if not peek_only:
                self.i += 2
            return "not in"
        return None

    def sum_(self) -> Fn:
        fn = self.product()
        while self.at("op", "+") or self.at("op", "-"):
            f = _arith(self.take().text)
            fn = _apply2(f, fn, self.product())
        return fn

    def product(self) -> Fn:
        fn = self.unary()
        while self.at("op", "*") or self.at("op", "/"):
            f = _arith(self.take().text)
            fn = _apply2(f, fn, self.unary())
        return fn

    def unary(self) -> Fn:
        if self.at("op", "-"):
            self.take()
            inner = self.unary()
            return lambda s: -v if _is_num(v := inner(s)) else None
        return self.primary()

    def primary(self) -> Fn:
        tok = self.peek()
        if tok.kind == "lit":
            self.take()
            value = tok.value
            return lambda s: value
        if self.at("op", "("):
            self.take()
            fn = self.or_()
            if self.at("op", ","):  # a tuple, as in the segment filter language: x in ("a", "b")
                items = [fn]
                while self.at("op", ","):
                    self.take()
                    if self.at("op", ")"):
                        break
                    items.append(self.or_())
                self.expect("op", ")")
                return lambda s: [f(s) for f in items]
            self.expect("op", ")")
            return fn
        if self.at("op", "["):
            return self.list_()
        if tok.kind == "name":
            self.take()
            if self.at("op", "("):
                return self.call(tok)
            return self.path(tok)
        self.fail("expected a value, a path or '('")
        raise AssertionError  # unreachable

    def list_(self) -> Fn:
        self.expect("op", "[")
        items: list[Fn] = []
        while not self.at("op", "]"):
            items.append(self.or_())
            if not self.at("op", "]"):
                self.expect("op", ",")
        self.take()
        return lambda s: [f(s) for f in items]

    def call(self, name: _Tok) -> Fn:
        if name.text not in _FUNCTIONS:
            known = ", ".join(sorted(_FUNCTIONS))
            self.fail(f"unknown function {name.text!r} (known: {known})", name)
        lo, hi, f = _FUNCTIONS[name.text]
        self.expect("op", "(")
        args: list[Fn] = []
        while not self.at("op", ")"):
            args.append(self.or_())
            if not self.at("op", ")"):
                self.expect("op", ",")
        self.take()
        if not lo <= len(args) <= hi:
            self.fail(
                f"{name.text}() takes {lo}" + (f" to {hi}" if hi != lo else "") + " argument(s)",
                name,
            )
        return lambda s: f(*(a(s) for a in args))

    def path(self, root: _Tok) -> Fn:
        if root.text not in self.roots:
            known = ", ".join(sorted(self.roots))
            self.fail(f"unknown name {root.text!r} (paths start with one of: {known})", root)
        self.used.add(root.text)
        keys: list[Any] = []
        while True:
            if self.at("op", "."):
                self.take()
                tok = self.peek()
                if tok.kind not in ("name", "kw") and not (
                    tok.kind == "lit" and tok.text.isalpha()
                ):
                    self.fail("expected a field name after '.'")
                self.take()
                if tok.text.startswith("_"):
                    self.fail("field names cannot start with '_'", tok)
                keys.append(tok.text)
            elif self.at("op", "["):
                self.take()
                tok = self.peek()
                if tok.kind != "lit" or isinstance(tok.value, bool) or tok.value is None:
                    self.fail("expected a quoted key or a whole number inside [ ]")
                self.take()
                keys.append(tok.value)
                self.expect("op", "]")
            else:
                break
        name = root.text
        fields = {"journey": JOURNEY_FIELDS, "trigger": TRIGGER_FIELDS}.get(name)
        if fields is not None and keys and keys[0] not in fields:
            bad = f"{name}.{keys[0]}"
            hint = did_you_mean(bad, [f"{name}.{f}" for f in sorted(fields)])
            raise InvalidFilter(
                f"unknown name {bad!r}{hint}; {name} has: {', '.join(sorted(fields))}",
                text=self.text,
                position=root.pos,
            )
        if name == "events" and keys and isinstance(keys[0], str):
            self.events.add(keys[0])
        self.paths.add((name, *keys))
        if not keys:
            return lambda s: s.get(name)
        if len(keys) == 1:
            key = keys[0]
            return lambda s: _get(s.get(name), key)

        def walk(s: Scope) -> Any:
            value = s.get(name)
            for key in keys:
                value = _get(value, key)
                if value is None:
                    return None
            return value

        return walk


@dataclass(frozen=True)
class Condition:
    """A parsed expression: ``evaluate`` gives a bool, ``value`` the raw result."""

    text: str
    roots: frozenset[str]
    _fn: Fn = field(repr=False, compare=False)
    paths: frozenset[tuple[Any, ...]] = field(default=frozenset(), repr=False, compare=False)
    event_names: frozenset[str] = field(default=frozenset(), repr=False, compare=False)

    def value(self, scope: Scope) -> Any:
        """The expression's value in ``scope`` (a mapping of root names to values)."""
        return self._fn(scope)

    def evaluate(self, scope: Scope) -> bool:
        """Whether the expression holds in ``scope``.

        >>> parse("traits.age >= 18").evaluate({"traits": {}})
        False
        """
        return bool(self._fn(scope))


@lru_cache(maxsize=4096)
def _parse_cached(text: str, roots: frozenset[str]) -> Condition:
    parser = _Parser(text, roots)
    fn = parser.parse()
    return Condition(
        text, frozenset(parser.used), fn, frozenset(parser.paths), frozenset(parser.events)
    )


def parse(text: str, roots: frozenset[str] | None = None) -> Condition:
    """Parse ``text`` into a :class:`Condition`; :class:`~journeykit.errors.InvalidFilter` if bad.

    >>> parse("event == 'Account Created'").evaluate({"event": "Account Created"})
    True
    >>> parse("__import__('os')")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    ...
    journeykit.errors.InvalidFilter: field 'filter': unknown function '__import__' ...
    """
    if not isinstance(text, str):
        raise InvalidFilter(f"an expression must be text, not {type(text).__name__}")
    return _parse_cached(text, roots or ROOTS)
