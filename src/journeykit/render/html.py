"""The journey map as one self-contained HTML file (no network: styles, script and data inline).

The page draws the map as SVG in the browser from the data embedded in it: stages as columns,
lanes for touchpoints (sized by people, coloured by channel), customer actions, the emotion
curve, pain points and opportunities; a persona and a date-range switch; a side panel with the
people and paths behind a pain point and a what-if slider; tables of designed versus actual
journeys, KPIs and touchpoints.
"""

from __future__ import annotations

import html
import json
import math
import re
from dataclasses import asdict
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.journey.model import JourneyMap

#: Colours of the channels journeykit knows by name; others get one from PALETTE.
CHANNEL_COLOURS: dict[str, str] = {
    "web": "#4e79a7",
    "app": "#76b7b2",
    "email": "#f28e2b",
    "chat": "#e15759",
    "phone": "#b07aa1",
    "store": "#59a14f",
    "social": "#edc948",
    "ads": "#ff9da7",
    "search": "#9c755f",
    "blog": "#bab0ac",
    "survey": "#86bcb6",
    "review": "#d4a6c8",
    "referral": "#8cd17d",
    "sms": "#f1ce63",
}
PALETTE: tuple[str, ...] = ("#a0cbe8", "#ffbe7d", "#499894", "#d37295", "#fabfd2", "#b6992d")
_PLACEHOLDER = re.compile(r"__(TITLE|SUBTITLE|NOTE|CSS|JS|DATA|VERSION)__")


def _clean(value: Any) -> Any:
    """JSON-safe values: NaN and infinities become null, numpy scalars plain numbers."""
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, np.datetime64):
        return None if np.isnat(value) else str(value)
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if value is not None and not isinstance(value, str | int | float | bool):
        return str(value)
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = _clean(frame.to_dict(orient="records"))
    return out


def _channel_colours(channels: list[str]) -> dict[str, str]:
    out = {}
    extra = 0
    for ch in sorted(set(channels)):
        if ch in CHANNEL_COLOURS:
            out[ch] = CHANNEL_COLOURS[ch]
        else:
            out[ch] = PALETTE[extra % len(PALETTE)]
            extra += 1
    return out


def map_payload(jm: JourneyMap) -> dict[str, Any]:
    """The data the page draws from (plain JSON types)."""
    spec = jm.spec
    views: dict[str, dict[str, Any]] = {}
    for (persona, period), group in jm.touchpoints.groupby(["persona", "period"], sort=False):
        views.setdefault(f"{persona}|{period}", {})["touchpoints"] = _records(group)
    for (persona, period), group in jm.stages.groupby(["persona", "period"], sort=False):
        views.setdefault(f"{persona}|{period}", {"touchpoints": []})["stages"] = _records(group)
    for v in views.values():
        v.setdefault("stages", [])
        v.setdefault("touchpoints", [])
    conf = jm.conformance
    m = jm.transitions
    channels = [c for c in jm.touchpoints["channel"].dropna().unique() if c]
    return _clean(
        {
            "name": spec.name,
            "description": spec.description,
            "currency": spec.currency_symbol,
            "period": spec.settings.period,
            "people": jm.people,
            "converters": jm.converters,
            "revenue": jm.revenue,
            "value": jm.value,
            "emotion_source": jm.emotion_source,
            "first_event": jm.first_event,
            "last_event": jm.last_event,
            "stages": [{"name": s.name, "description": s.description or ""} for s in spec.stages],
            "personas": list(jm.personas),
            "periods": list(jm.periods),
            "views": views,
            "channel_colours": _channel_colours(channels),
            "actions": _records(jm.actions),
            "kpis": _records(jm.kpis),
            "pains": [
                {**asdict(p), "details": {}, "what_if": [asdict(w) for w in p.what_if]}
                for p in jm.pains
            ],
            "opportunities": [asdict(o) for o in jm.opportunities],
            "conformance": {
                "journeys": conf.journeys,
                "conforming": conf.conforming,
                "completed": conf.completed,
                "share_conforming": conf.share_conforming,
                "by_kind": _records(conf.by_kind),
                "table": _records(conf.table.head(12)),
            },
            "transitions": {
                "index": [str(i) for i in m.index],
                "columns": [str(c) for c in m.columns],
                "data": m.to_numpy().tolist(),
            },
        }
    )


def _asset(name: str) -> str:
    return resources.files("journeykit.render").joinpath("assets", name).read_text("utf-8")


def map_html(jm: JourneyMap) -> str:
    """The journey map page as one HTML string."""
    from journeykit.__about__ import __version__

    payload = map_payload(jm)
    data = json.dumps(payload, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    # nothing in the data may close the script element or open a comment inside it: the
    # characters that could are written as JSON escapes
    data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    span = ""
    if jm.first_event is not None and jm.last_event is not None:
        span = f"{jm.first_event:%d %b %Y} to {jm.last_event:%d %b %Y} · "
    cur = jm.spec.currency_symbol
    subtitle = (
        f"{span}{jm.people:,} people · {jm.converters:,} converted · "
        f"{cur}{jm.value:,.0f} per converting person"
    )
    note = (
        f"Emotion from {jm.emotion_source}, rescaled to −1 (worst) … +1 (best). Impact = "
        "conversions lost × the value of a conversion (revenue per converting person), with "
        "its 95% interval. Conversion counts a goal event after a person's first touch; pain "
        f"points use touches older than {jm.spec.settings.horizon_days:g} days."
    )
    parts = {
        "TITLE": html.escape(jm.spec.name),
        "SUBTITLE": html.escape(subtitle),
        "NOTE": html.escape(note),
        "CSS": _asset("map.css"),
        "JS": _asset("map.js"),
        "DATA": data,
        "VERSION": html.escape(__version__),
    }
    return _PLACEHOLDER.sub(lambda m: parts[m.group(1)], _asset("map.html"))


def write_html(jm: JourneyMap, path: str | Path) -> Path:
    """Write the page to ``path`` (folders created) and return the path."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(map_html(jm), encoding="utf-8")
    return out
