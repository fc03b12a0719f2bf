"""The cache, the HTML builders and the sparkline, without a browser."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given
from hypothesis import strategies as st

from journeykit.ingest import load
from journeykit.server.dashboard.cache import WorkspaceCache
from journeykit.server.dashboard.html import (
    Figures,
    esc,
    fmt_duration,
    fmt_money,
    fmt_pct,
    query,
    script_json,
    table,
)
from journeykit.server.dashboard.pages.overview import sparkline
from journeykit.store import Workspace


def test_cache_computes_once_until_the_data_changes(
    ws: Workspace, make_events: Callable[..., list[dict[str, Any]]]
) -> None:
    load(ws, make_events(("u1", "Signed Up"), ("u1", "Order Completed")))
    cache = WorkspaceCache(fingerprint_age=0.0)
    calls: list[int] = []

    def count() -> int:
        calls.append(1)
        return int(ws.store.scalar("SELECT count(*) FROM events"))

    assert cache.get(ws, "n", (), count) == 2
    assert cache.get(ws, "n", (), count) == 2
    assert len(calls) == 1
    assert cache.get(ws, "n", ("other args",), count) == 2
    assert len(calls) == 2
    load(ws, make_events(("u2", "Signed Up")))
    assert cache.get(ws, "n", (), count) == 3
    assert len(calls) == 3


def test_cache_runs_a_computation_once_for_concurrent_callers(ws: Workspace) -> None:
    cache = WorkspaceCache()
    started = threading.Event()
    calls: list[int] = []

    def slow() -> str:
        calls.append(1)
        started.wait(2)
        return "done"

    results: list[str] = []
    threads = [
        threading.Thread(target=lambda: results.append(cache.get(ws, "s", (), slow)))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    started.set()
    for t in threads:
        t.join()
    assert results == ["done"] * 4 and len(calls) == 1


def test_cache_does_not_keep_errors(ws: Workspace) -> None:
    cache = WorkspaceCache()
    attempts: list[int] = []

    def flaky() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("first time")
        return 7

    with pytest.raises(ValueError, match="first time"):
        cache.get(ws, "f", (), flaky)
    assert cache.get(ws, "f", (), flaky) == 7


def test_cache_keeps_at_most_max_entries(ws: Workspace) -> None:
    cache = WorkspaceCache(max_entries=3)
    for i in range(10):
        cache.get(ws, "k", i, lambda i=i: i)
    assert len(cache._entries) == 3


@given(st.text())
def test_script_json_cannot_close_its_script(text: str) -> None:
    packed = script_json({"v": text})
    assert "</" not in packed and "<!--" not in packed
    assert json.loads(packed.replace("<\\/", "</").replace("<\\!--", "<!--")) == {"v": text}


@given(st.text())
def test_escaped_text_has_no_markup(text: str) -> None:
    assert "<" not in esc(text) and ">" not in esc(text)


def test_figure_json_is_escaped_in_the_page() -> None:
    fig = go.Figure(go.Bar(x=["</script><script>alert(1)</script>"], y=[1]))
    html = Figures().chart(fig, name="x")
    body = html.split('<script type="application/json"', 1)[1]
    assert body.count("</script>") == 1  # only the real end tag


def test_table_shows_formatted_values_and_keeps_raw_ones() -> None:
    frame = pd.DataFrame({"name": ["<b>a</b>", "b"], "rate": [0.25, 0.5], "n": [1200, 3]})
    html = table(frame, name="t", formats={"rate": fmt_pct})
    assert "&lt;b&gt;a&lt;/b&gt;" in html and "<b>a</b>" not in html
    assert 'data-v="0.25">25.0%</td>' in html
    assert re.search(r'class="num" data-v="1200">1,200</td>', html)


def test_number_formats() -> None:
    assert fmt_money(-57.01, "$") == "-$57.01"
    assert fmt_money(1234.5, "£") == "£1,234"
    assert fmt_money(1234.5, "CHF ") == "CHF 1,234" and fmt_money(12.5) == "12.50"
    assert fmt_pct(0.1234) == "12.3%"
    assert fmt_pct(float("nan")) == "–"
    assert [fmt_duration(s) for s in (30, 600, 7200, 3 * 86400)] == ["30s", "10m", "2.0h", "3.0d"]
    assert query({"a": "1", "b": ["x", "y"]}, a=None, c=2) == "?b=x&b=y&c=2"


def test_sparkline_spans_the_box() -> None:
    svg = sparkline([1.0, float("nan"), 3.0, 2.0], width=100, height=20)
    points = re.search(r'points="([^"]+)"', svg).group(1).split()  # type: ignore[union-attr]
    xs = [float(p.split(",")[0]) for p in points]
    ys = [float(p.split(",")[1]) for p in points]
    assert len(points) == 3  # the missing value is skipped
    assert min(xs) == 2.0 and max(xs) == 98.0
    assert min(ys) == 3.0 and max(ys) == 17.0  # highest value at the top
    assert sparkline([5.0]) == ""
