"""Message templates: ``{{ expression }}`` placeholders filled from the person and the event.

Placeholders use the safe expression language of :mod:`.conditions` (so ``{{ traits.first_name
or "there" }}`` gives a default). Nothing else is interpreted: no loops, no code.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

from journeykit.errors import InvalidFilter

from .conditions import Scope, parse

_PLACEHOLDER = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)


def check_template(text: str) -> None:
    """Raise :class:`~journeykit.errors.InvalidFilter` if a placeholder in ``text`` does not parse.

    >>> check_template("Hello {{ traits.name }}")
    """
    for match in _PLACEHOLDER.finditer(text):
        parse(match[1].strip())
    if "{{" in _PLACEHOLDER.sub("", text):
        raise InvalidFilter("a '{{' placeholder is not closed with '}}'", text=text)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    return str(value)


def render_text(text: str, scope: Scope, *, escape_html: bool = False) -> str:
    """Fill the placeholders of ``text``; ``escape_html`` escapes values (not the template).

    >>> render_text("Hi {{ traits.name or 'there' }}!", {"traits": {}})
    'Hi there!'
    """

    def fill(match: re.Match[str]) -> str:
        value = _text(parse(match[1].strip()).value(scope))
        return html.escape(value) if escape_html else value

    return _PLACEHOLDER.sub(fill, text)


def render_value(value: Any, scope: Scope) -> Any:
    """Render strings inside a JSON-like value; a string that is one placeholder keeps its type.

    >>> render_value({"n": "{{ events['Order Completed'] }}", "s": "x{{ 1 }}"},
    ...              {"events": {"Order Completed": 2}})
    {'n': 2, 's': 'x1'}
    """
    if isinstance(value, str):
        whole = _PLACEHOLDER.fullmatch(value.strip())
        if whole:
            return parse(whole[1].strip()).value(scope)
        return render_text(value, scope)
    if isinstance(value, dict):
        return {k: render_value(v, scope) for k, v in value.items()}
    if isinstance(value, list):
        return [render_value(v, scope) for v in value]
    return value


def check_value(value: Any) -> None:
    """Check every template string inside a JSON-like value."""
    if isinstance(value, str):
        check_template(value)
    elif isinstance(value, dict):
        for v in value.values():
            check_value(v)
    elif isinstance(value, list):
        for v in value:
            check_value(v)
