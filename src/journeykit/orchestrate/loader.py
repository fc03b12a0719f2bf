"""Reading automations from YAML, with errors that name the file, the line and the field.

A file holds one automation (a mapping with ``id``), or a mapping with ``automations:`` (a list)
and optional shared ``templates:``, global frequency ``caps:`` (across all automations) and
``send_rates:`` (messages per second by channel); several YAML documents (``---``) may follow
one another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from journeykit.errors import InvalidFile, InvalidSpec

from .spec import Automation, Cap

_TOP = ("automations", "templates", "caps", "send_rates", "suppress_on")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(s|sec|second|m|min|minute|h|hour))?\s*$")
_PER = {"s": 1, "sec": 1, "second": 1, "m": 60, "min": 60, "minute": 60, "h": 3600, "hour": 3600}


@dataclass(frozen=True)
class AutomationFile:
    """What automation files hold: the automations, global caps and send rates.

    ``caps`` limit every automation together (higher ``priority`` wins a slot); ``send_rates``
    are the most messages sent per second, by channel (``*``: all channels together);
    ``suppress_on`` names the events (an unsubscribe) after which nothing more is sent to the
    person on a channel (``*``: any), for ``EngineSettings.suppress_events``.
    """

    automations: list[Automation]
    caps: tuple[Cap, ...] = ()
    send_rates: dict[str, float] = field(default_factory=dict)
    #: events that put the person on the global suppression list, with the channel they close
    suppress_on: dict[str, str] = field(default_factory=dict)


def parse_rate(value: object) -> float:
    """Messages per second from ``10``, ``"10/s"``, ``"600/min"`` or ``"3600/h"``.

    >>> parse_rate("600/min")
    10.0
    """
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"invalid rate {value!r} (use 10/s, 600/min or 3600/h)")
    match = _RATE.match(str(value))
    if match is None:
        raise ValueError(f"invalid rate {value!r} (use 10/s, 600/min or 3600/h)")
    rate = float(match[1]) / _PER[match[2] or "s"]
    if rate <= 0:
        raise ValueError(f"a rate must be above 0, not {value!r}")
    return rate


Lines = dict[tuple[Any, ...], int]


def _construct(node: yaml.Node, path: tuple[Any, ...], lines: Lines) -> Any:
    """Turn a composed node into Python values, recording the 1-based line of every path."""
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                raise InvalidSpec(
                    "YAML merge keys (<<) are not supported", line=key_node.start_mark.line + 1
                )
            key = _scalar(key_node)
            if key in out:
                raise InvalidSpec(
                    f"key {key!r} appears twice", field=str(key), line=key_node.start_mark.line + 1
                )
            lines[(*path, key)] = key_node.start_mark.line + 1
            out[key] = _construct(value_node, (*path, key), lines)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(item, (*path, i), lines) for i, item in enumerate(node.value)]
    return _scalar(node)


def _scalar(node: yaml.Node) -> Any:
    if not isinstance(node, yaml.ScalarNode):
        raise InvalidSpec("expected a plain value here", line=node.start_mark.line + 1)
    loader = yaml.SafeLoader("")
    try:
        return loader.construct_object(node, deep=True)
    finally:
        loader.dispose()


def _field_name(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def _locate(loc: tuple[Any, ...], base: tuple[Any, ...], lines: Lines) -> tuple[str, int | None]:
    """Follow a pydantic error location through the YAML paths, skipping union tags.

    Returns the field (as written in the file) and its line; a missing field is named after
    the closest line that exists.
    """
    path = base
    best = lines.get(base)
    for n, part in enumerate(loc):
        if isinstance(part, str) and part.startswith("~"):
            continue  # a union tag, not a key
        key = (
            "if"
            if part == "if_"
            else "else"
            if part == "else_"
            else "from"
            if part == "from_"
            else part
        )
        if (*path, key) in lines:
            path = (*path, key)
            best = lines[path]
        elif n == len(loc) - 1 and isinstance(key, str):
            return _field_name((*path[len(base) :], key)), best
    return _field_name(path[len(base) :]), best


def _check_templates(
    steps: Any,
    path: tuple[Any, ...],
    names: set[str],
    lines: Lines,
    file: str,
    base: tuple[Any, ...],
) -> None:
    """Name the line of an e-mail step whose template is not defined."""
    if not isinstance(steps, list):
        return
    for i, step in enumerate(steps):
        if not isinstance(step, dict):
            continue
        here = (*path, i)
        template = step.get("template") if step.get("action") == "email" else None
        if isinstance(template, str) and template not in names:
            known = ", ".join(sorted(names)) or "none defined"
            raise InvalidSpec(
                f"unknown e-mail template {step['template']!r} ({known})",
                field=_field_name((*here, "template")[len(base) :]),
                line=lines.get((*here, "template")),
                file=file,
            )
        branch = step.get("branch")
        if isinstance(branch, dict):
            _check_templates(
                branch.get("then"), (*here, "branch", "then"), names, lines, file, base
            )
            _check_templates(
                branch.get("else"), (*here, "branch", "else"), names, lines, file, base
            )
        split = step.get("split")
        if isinstance(split, list):
            for j, arm in enumerate(split):
                if isinstance(arm, dict):
                    _check_templates(
                        arm.get("steps"), (*here, "split", j, "steps"), names, lines, file, base
                    )


def _build(
    data: Any, base: tuple[Any, ...], templates: dict[str, Any], lines: Lines, file: str
) -> Automation:
    if not isinstance(data, dict):
        raise InvalidSpec(
            "an automation is a mapping with id, trigger and steps", line=lines.get(base), file=file
        )
    own: dict[str, Any] = data["templates"] if isinstance(data.get("templates"), dict) else {}
    merged = {**templates, **own}
    _check_templates(data.get("steps"), (*base, "steps"), set(merged), lines, file, base)
    try:
        return Automation.model_validate({**data, "templates": merged} if merged else data)
    except ValidationError as exc:
        # a misspelt key explains the "missing" error that comes with it: report it first
        err = sorted(exc.errors(), key=lambda e: e["type"] != "extra_forbidden")[0]
        where, line = _locate(tuple(err["loc"]), base, lines)
        aid = data.get("id")
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "missing":
            msg = "this field is required"
        elif err["type"] == "union_tag_invalid":
            ctx = err.get("ctx", {})
            kind = str(ctx.get("discriminator", "kind")).strip("'")
            msg = f"unknown {kind} {ctx.get('tag')!r} (expected one of: {ctx.get('expected_tags')})"
        elif err["type"] == "extra_forbidden":
            msg = "unknown field (check the spelling; see docs/orchestrate.md)"
        prefix = f"automation {aid!r}: " if isinstance(aid, str) else ""
        raise InvalidSpec(f"{prefix}{msg}", field=where or None, line=line, file=file) from None


def loads(text: str, *, file: str = "<string>") -> list[Automation]:
    """Parse automations from YAML text.

    >>> [a.id for a in loads("id: hi\\ntrigger: {event: signup}\\nsteps: []")]
    ['hi']
    """
    return reads(text, file=file).automations


def _globals(
    data: dict[str, Any], doc_no: int, lines: Lines, file: str
) -> tuple[list[Cap], dict[str, float]]:
    caps: list[Cap] = []
    raw_caps = data.get("caps") or []
    if not isinstance(raw_caps, list):
        raise InvalidSpec(
            "'caps' must be a list", field="caps", line=lines.get((doc_no, "caps")), file=file
        )
    for i, item in enumerate(raw_caps):
        try:
            caps.append(Cap.model_validate(item))
        except ValidationError as exc:
            err = exc.errors()[0]
            where, line = _locate(tuple(err["loc"]), (doc_no, "caps", i), lines)
            msg = "this field is required" if err["type"] == "missing" else err["msg"]
            raise InvalidSpec(
                f"global cap: {msg.removeprefix('Value error, ')}",
                field=f"caps[{i}]" + (f".{where}" if where else ""),
                line=line,
                file=file,
            ) from None
    rates: dict[str, float] = {}
    raw_rates = data.get("send_rates") or {}
    if not isinstance(raw_rates, dict):
        raise InvalidSpec(
            "'send_rates' maps channels to rates (email: 10/s)",
            field="send_rates",
            line=lines.get((doc_no, "send_rates")),
            file=file,
        )
    for channel, value in raw_rates.items():
        try:
            rates[str(channel)] = parse_rate(value)
        except ValueError as exc:
            raise InvalidSpec(
                str(exc),
                field=f"send_rates.{channel}",
                line=lines.get((doc_no, "send_rates", channel)),
                file=file,
            ) from None
    return caps, rates


def _suppress_on(data: dict[str, Any], doc_no: int, lines: Lines, file: str) -> dict[str, str]:
    raw = data.get("suppress_on") or {}
    if not isinstance(raw, dict):
        raise InvalidSpec(
            "'suppress_on' maps event names to the channel they close (Unsubscribed: email)",
            field="suppress_on",
            line=lines.get((doc_no, "suppress_on")),
            file=file,
        )
    out: dict[str, str] = {}
    for event, channel in raw.items():
        if not isinstance(channel, str) or not channel:
            raise InvalidSpec(
                f"give the channel the event closes (a name, or '*' for all), not {channel!r}",
                field=f"suppress_on.{event}",
                line=lines.get((doc_no, "suppress_on", event)),
                file=file,
            )
        out[str(event)] = channel
    return out


def reads(text: str, *, file: str = "<string>") -> AutomationFile:
    """Parse automations, global caps and send rates from YAML text.

    >>> reads("automations: []\\ncaps: [{channel: email, max: 3, per: 1d}]").caps[0].max
    3
    """
    try:
        documents = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise InvalidSpec(
            f"not valid YAML: {getattr(exc, 'problem', None) or exc}",
            line=mark.line + 1 if mark else None,
            file=file,
        ) from None
    out: list[Automation] = []
    caps: list[Cap] = []
    rates: dict[str, float] = {}
    suppress: dict[str, str] = {}
    seen: dict[str, int | None] = {}
    for doc_no, node in enumerate(documents):
        if node is None:
            continue
        lines: Lines = {}
        data = _construct(node, (doc_no,), lines)
        if isinstance(data, dict) and "automations" in data:
            extra = set(data) - set(_TOP)
            if extra:
                key = sorted(extra)[0]
                raise InvalidSpec(
                    f"unknown top-level key (expected {', '.join(_TOP)})",
                    field=str(key),
                    line=lines.get((doc_no, key)),
                    file=file,
                )
            templates = data.get("templates") or {}
            more_caps, more_rates = _globals(data, doc_no, lines, file)
            caps += more_caps
            rates.update(more_rates)
            suppress.update(_suppress_on(data, doc_no, lines, file))
            items = data["automations"]
            if not isinstance(items, list):
                raise InvalidSpec(
                    "'automations' must be a list",
                    field="automations",
                    line=lines.get((doc_no, "automations")),
                    file=file,
                )
            bases: list[tuple[Any, ...]] = [(doc_no, "automations", i) for i in range(len(items))]
        else:
            templates, items = {}, [data]
            bases = [(doc_no,)]
        for item, base in zip(items, bases, strict=True):
            automation = _build(item, base, templates, lines, file)
            if automation.id in seen:
                raise InvalidSpec(
                    f"automation id {automation.id!r} is defined twice",
                    field="id",
                    line=lines.get((*base, "id")),
                    file=file,
                )
            seen[automation.id] = lines.get((*base, "id"))
            out.append(automation)
    return AutomationFile(out, tuple(caps), rates, suppress)


def validate_file(path: str | Path) -> list[Automation]:
    """Read and validate the automations in a YAML file (raises :class:`InvalidSpec`).

    Args:
        path: a ``.yaml``/``.yml`` file, or a folder whose YAML files are all read.

    Returns:
        The automations, in file order.
    """
    return read_file(path).automations


def read_file(path: str | Path) -> AutomationFile:
    """Read and validate automation files: automations, global caps, send rates.

    Args:
        path: a ``.yaml``/``.yml`` file, or a folder whose YAML files are all read (their
            caps add up; a later file's rate for a channel replaces an earlier one's).
    """
    p = Path(path)
    files = sorted([*p.glob("*.yaml"), *p.glob("*.yml")]) if p.is_dir() else [p]
    out: list[Automation] = []
    caps: list[Cap] = []
    rates: dict[str, float] = {}
    suppress: dict[str, str] = {}
    ids: set[str] = set()
    for f in files:
        try:
            text = f.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise InvalidFile(f"cannot read automations: {exc}", file=str(f)) from None
        parsed = reads(text, file=str(f))
        caps += parsed.caps
        rates.update(parsed.send_rates)
        suppress.update(parsed.suppress_on)
        for automation in parsed.automations:
            if automation.id in ids:
                raise InvalidSpec(
                    f"automation id {automation.id!r} is defined twice", field="id", file=str(f)
                )
            ids.add(automation.id)
            out.append(automation)
    return AutomationFile(out, tuple(caps), rates, suppress)
