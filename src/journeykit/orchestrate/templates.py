"""Message templates: Jinja2 in its sandbox, filled from the person, the event and the journey.

Templates see the same names as conditions (``traits``, ``properties``, ``events``, ``journey``,
…) plus ``trigger`` — the event that started the journey, kept for its whole life, so
``{{ trigger.properties.value }}`` (and, after a wait, ``{{ properties.value }}``) still render
days later. They may use conditionals, loops and filters; on top of Jinja's own filters there
are ``number``, ``currency``, ``percent``, ``date`` and ``datetime`` (Babel, by locale).
The sandbox is immutable and reads mappings by key only (``properties.items`` is the
property called ``items``, never a method), so a template cannot reach into Python.

>>> render_text("Hi {{ traits.name or 'there' }}!", {"traits": {}})
'Hi there!'
>>> render_text("{{ properties.total | currency('GBP') }}", {"properties": {"total": 12.5}})
'£12.50'
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Mapping
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, TemplateError, Undefined, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from journeykit.errors import InputError, InvalidFilter

from .conditions import JOURNEY_FIELDS, ROOTS, TRIGGER_FIELDS, Scope, did_you_mean

#: the default locale of the formatting filters (a template may pass ``locale=``)
LOCALE = "en"

_WHOLE = re.compile(r"^\s*\{\{(.*)\}\}\s*$", re.DOTALL)


def _missing(value: Any) -> bool:
    return value is None or isinstance(value, Undefined)


def _need_number(value: Any, what: str) -> float | int:
    if _missing(value):
        raise InputError(f"{what}: the value is empty")
    if isinstance(value, bool):
        raise InputError(f"{what}: {value!r} is not a number")
    if isinstance(value, int | float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what}: {value!r} is not a number") from None


def _when(value: Any, what: str) -> datetime | date:
    if _missing(value) or value == "":
        raise InputError(f"{what}: the value is empty")
    if isinstance(value, datetime | date):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        from .clock import to_utc_naive

        return to_utc_naive(value)
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            pass
    raise InputError(f"{what}: {value!r} is not a date")


def f_number(value: Any, decimals: int | None = None, locale: str | None = None) -> str:
    """``{{ x | number }}``, ``{{ x | number(2) }}``: grouped digits in the locale's style."""
    from babel.numbers import format_decimal

    n = _need_number(value, "number")
    fmt = None if decimals is None else "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(n, format=fmt, locale=locale or LOCALE)


def f_currency(
    value: Any, currency: str, locale: str | None = None, decimals: int | None = None
) -> str:
    """``{{ x | currency('GBP') }}``: an amount with its currency sign, in the locale's style."""
    from babel.numbers import format_currency

    n = _need_number(value, "currency")
    if not isinstance(currency, str) or not currency:
        raise InputError("currency: name the currency, e.g. currency('EUR')")
    kwargs: dict[str, Any] = {"locale": locale or LOCALE}
    if decimals is not None:
        kwargs["format"] = "¤#,##0" + ("." + "0" * decimals if decimals else "")
        kwargs["currency_digits"] = False
    return format_currency(n, currency.upper(), **kwargs)


def f_percent(value: Any, decimals: int = 0, locale: str | None = None) -> str:
    """``{{ 0.125 | percent(1) }}`` → ``12.5%``."""
    from babel.numbers import format_percent

    n = _need_number(value, "percent")
    fmt = "#,##0" + ("." + "0" * decimals if decimals else "") + "%"
    return format_percent(n, format=fmt, locale=locale or LOCALE)


def f_date(value: Any, format: str = "medium", locale: str | None = None) -> str:
    """``{{ ts | date }}``, ``{{ ts | date('d MMMM y') }}`` (CLDR patterns)."""
    from babel.dates import format_date

    when = _when(value, "date")
    return format_date(when, format=format, locale=locale or LOCALE)


def f_datetime(
    value: Any,
    format: str = "medium",
    tz: str | None = None,
    locale: str | None = None,
) -> str:
    """``{{ ts | datetime('short', tz=traits.timezone) }}``: naive times are UTC."""
    from datetime import UTC

    from babel.dates import format_datetime

    from .timeutil import zone

    when = _when(value, "datetime")
    if not isinstance(when, datetime):
        when = datetime(when.year, when.month, when.day)
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    target = zone(tz) if isinstance(tz, str) and tz else UTC
    return format_datetime(when, format=format, tzinfo=target, locale=locale or LOCALE)


class _Env(ImmutableSandboxedEnvironment):
    """Mappings are read by key only; everything else as the sandbox allows."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping):
            return obj[attribute] if attribute in obj else self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Mapping):
            try:
                return obj[argument] if argument in obj else self.undefined(obj=obj, name=argument)
            except TypeError:
                return self.undefined(obj=obj, name=argument)
        return super().getitem(obj, argument)


@lru_cache(maxsize=2)
def environment(html: bool = False) -> _Env:
    """The sandboxed environment (``html``: values are escaped, the template is not)."""
    env = _Env(undefined=ChainableUndefined, autoescape=html, keep_trailing_newline=True)
    env.filters.update(
        number=f_number,
        currency=f_currency,
        percent=f_percent,
        date=f_date,
        datetime=f_datetime,
    )
    return env


@lru_cache(maxsize=4096)
def _compiled(text: str, html: bool) -> Any:
    return environment(html).from_string(text)


@lru_cache(maxsize=4096)
def _expression(text: str) -> Any:
    return environment().compile_expression(text, undefined_to_none=True)


def _fail(exc: TemplateError, text: str) -> InvalidFilter:
    line = getattr(exc, "lineno", None)
    where = f" (line {line} of the template)" if line and "\n" in text.strip() else ""
    return InvalidFilter(f"{exc.message or exc}{where}", text=text)


def _ast(text: str) -> nodes.Template:
    try:
        return environment().parse(text)
    except TemplateError as exc:
        raise _fail(exc, text) from None


def paths(text: str) -> Iterator[tuple[str, ...]]:
    """The names a template reads: ``("properties", "value")`` for ``properties.value``.

    Only free names count (not loop variables); a path stops at the first part that is not a
    constant (``traits[key]`` gives ``("traits",)``).

    >>> sorted(set(paths("{{ trigger.properties.value }} {% for i in properties.items %}{{ i.n }}"
    ...                  "{% endfor %}")))
    [('properties', 'items'), ('trigger', 'properties', 'value')]
    """
    tree = _ast(text)
    try:
        free = meta.find_undeclared_variables(tree)
    except TemplateError as exc:  # an unknown filter or test fails while compiling
        raise _fail(exc, text) from None
    seen_inner: set[int] = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)):
        if id(node) in seen_inner:
            continue
        chain: list[str] = []
        cur: Any = node
        while isinstance(cur, nodes.Getattr | nodes.Getitem):
            seen_inner.add(id(cur.node))
            if isinstance(cur, nodes.Getattr):
                chain.append(cur.attr)
            elif isinstance(cur.arg, nodes.Const) and isinstance(cur.arg.value, str):
                chain.append(cur.arg.value)
            else:
                chain.clear()  # a computed key: the path is known up to here only
            cur = cur.node
        if isinstance(cur, nodes.Name) and cur.ctx == "load" and cur.name in free:
            yield (cur.name, *reversed(chain))


#: the names a template may start with: the condition roots and the trigger event
TEMPLATE_ROOTS = frozenset({*ROOTS, "trigger"})


def check_template(text: str) -> None:
    """Raise :class:`~journeykit.errors.InvalidFilter` if ``text`` does not parse or reads a name
    that can never exist (an unknown root, an unknown ``journey.``/``trigger.`` field).

    >>> check_template("Hello {{ traits.name }}")
    >>> check_template("{{ journey.mached }}")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    journeykit.errors.InvalidFilter: unknown name 'journey.mached' (did you mean 'journey.matched'?)
    """
    for path in paths(text):
        root = path[0]
        if root not in TEMPLATE_ROOTS:
            raise InvalidFilter(
                f"unknown name {root!r}{did_you_mean(root, sorted(TEMPLATE_ROOTS))} "
                f"(names start with one of: {', '.join(sorted(TEMPLATE_ROOTS))})",
                text=text,
            )
        fields = {"journey": JOURNEY_FIELDS, "trigger": TRIGGER_FIELDS}.get(root)
        if fields is not None and len(path) > 1 and path[1] not in fields:
            known = [f"{root}.{f}" for f in sorted(fields)]
            raise InvalidFilter(
                f"unknown name '{root}.{path[1]}'{did_you_mean(f'{root}.{path[1]}', known)} "
                f"({root} has: {', '.join(sorted(fields))})",
                text=text,
            )
    try:
        _compiled(text, False)  # unknown filters and tests show up when compiling
    except TemplateError as exc:
        raise _fail(exc, text) from None


def _text(value: Any) -> str:
    if _missing(value):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def render_text(text: str, scope: Scope, *, escape_html: bool = False) -> str:
    """Render ``text``; ``escape_html`` escapes the values it inserts (not the template).

    Raises :class:`~journeykit.errors.InputError` when the template cannot be rendered (a
    formatting filter given no value, a sandbox violation), so no broken message goes out.

    >>> render_text("{% if traits.vip %}Dear{% else %}Hi{% endif %} {{ traits.name }}",
    ...             {"traits": {"vip": True, "name": "Ann"}})
    'Dear Ann'
    """
    if "{" not in text:
        return text
    try:
        return _compiled(text, escape_html).render(dict(scope))
    except InputError:
        raise
    except TemplateError as exc:
        raise InputError(f"cannot render the template: {exc}") from None


def render_value(value: Any, scope: Scope) -> Any:
    """Render strings inside a JSON-like value; a string that is one placeholder keeps its type.

    >>> render_value({"n": "{{ events['Account Created'] }}", "s": "x{{ 1 }}"},
    ...              {"events": {"Account Created": 2}})
    {'n': 2, 's': 'x1'}
    """
    if isinstance(value, str):
        whole = _WHOLE.fullmatch(value)
        if whole and "{{" not in whole[1] and "{%" not in value:
            try:
                return _expression(whole[1].strip())(**dict(scope))
            except InputError:
                raise
            except TemplateError as exc:
                raise InputError(f"cannot render {value!r}: {exc}") from None
        return render_text(value, scope)
    if isinstance(value, dict):
        return {k: render_value(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, scope) for v in value]
    return value


def strings(value: Any) -> Iterator[str]:
    """Every string inside a JSON-like value."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for v in value.values():
            yield from strings(v)
    elif isinstance(value, list):
        for v in value:
            yield from strings(v)


def check_value(value: Any) -> None:
    """Check every template string inside a JSON-like value."""
    for text in strings(value):
        check_template(text)
