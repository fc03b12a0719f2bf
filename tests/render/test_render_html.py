"""The journey map page: one self-contained file whose data survives any names."""

from __future__ import annotations

import json
import re
from pathlib import Path

from journeykit.ingest import load
from journeykit.journey.model import JourneyMap, build_map
from journeykit.journey.spec import SpecBuilder
from journeykit.render import render_map
from journeykit.render.html import map_html, map_payload
from journeykit.store import Workspace

NASTY = '</script><script>alert("x")</script> & <b>'


def data_of(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="jk-data">(.*?)</script>', page, re.S)
    assert m is not None
    return json.loads(m.group(1))


def test_the_page_is_self_contained(render_map_of_demo: JourneyMap) -> None:
    page = map_html(render_map_of_demo)
    assert "<link" not in page
    assert not re.search(r"<script[^>]+src=", page)
    assert not re.search(r"(src|href)\s*=\s*[\"']?https?:", page)
    assert "@import" not in page and "url(http" not in page
    data = data_of(page)
    assert [s["name"] for s in data["stages"]] == list(render_map_of_demo.spec.stage_names)
    assert len(data["pains"]) == len(render_map_of_demo.pains)
    assert data["pains"][0]["what_if"][0]["reduction"] == 0.1
    assert "All people|all" in data["views"]
    view = data["views"]["All people|all"]
    assert len(view["touchpoints"]) == len(render_map_of_demo.spec.all_touchpoints())
    assert data["currency"] == "£"


def test_names_cannot_break_out_of_the_data(ws: Workspace) -> None:
    load(ws, [{"ts": "2026-01-05T10:00:00", "event": NASTY, "user_id": "u1"}])
    spec = SpecBuilder(NASTY).stage("s").touchpoint(NASTY, events=[NASTY]).goal(NASTY).build()
    page = map_html(build_map(ws, spec))
    assert page.count("</script>") == 2  # the data script and the code script
    assert "<script>alert" not in page
    data = data_of(page)
    assert data["name"] == NASTY
    assert data["views"]["All people|all"]["touchpoints"][0]["touchpoint"] == NASTY
    assert "&lt;/script&gt;" in page  # the title, escaped


def test_payload_has_no_nan(ws: Workspace) -> None:
    spec = SpecBuilder().stage("s").touchpoint("A", events=["A"]).goal("B").build()
    payload = map_payload(build_map(ws, spec))
    json.dumps(payload, allow_nan=False)


def test_render_map_writes_the_page(ws: Workspace, tmp_path: Path) -> None:
    load(ws, [{"ts": "2026-01-05T10:00:00", "event": "A", "user_id": "u1"}])
    spec = SpecBuilder().stage("s").touchpoint("A", events=["A"]).goal("A").build()
    out = tmp_path / "maps" / "map.html"
    jm = render_map(ws, spec, out, sentiment=False)
    assert out.exists() and jm.people == 1
    assert data_of(out.read_text())["people"] == 1
