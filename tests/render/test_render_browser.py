"""The map as a person sees it: drawn in headless Chromium, clicked, and saved as pictures."""

from __future__ import annotations

import struct
from pathlib import Path
from xml.etree import ElementTree

import pytest

from journeykit.journey.model import JourneyMap
from journeykit.render.export import chromium_path, export_images, open_page
from journeykit.render.html import write_html

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(chromium_path()).exists(), reason="no Chromium on this machine"),
]
LANES = ["stage", "tp", "actions", "emotion", "pains", "opps"]


@pytest.fixture(scope="module")
def page_file(render_map_of_demo: JourneyMap, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_html(render_map_of_demo, tmp_path_factory.mktemp("map") / "map.html")


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", head[16:24])


def test_the_map_loads_without_errors_and_draws_every_lane(
    page_file: Path, render_map_of_demo: JourneyMap
) -> None:
    with open_page(page_file) as (page, check):
        assert check.console_errors == [] and check.page_errors == []
        assert check.lanes == LANES
        tps = page.eval_on_selector_all("#jk-svg g.tp", "els => els.length")
        assert tps == len(render_map_of_demo.spec.all_touchpoints())
        badges = page.eval_on_selector_all("#jk-svg [data-pain]", "els => els.length")
        assert badges >= 3
        assert page.locator("#pains .pain").count() == len(render_map_of_demo.pains)
        assert page.locator("#conf-table table").count() == 1
        # click a pain point: its people and paths open in the side panel
        page.locator("#jk-svg [data-pain='p1']").click()
        panel = page.locator("#panel")
        assert "open" in (panel.get_attribute("class") or "")
        assert page.locator("#panel .path").count() >= 1
        assert page.locator("#panel code").count() >= 1
        page.locator("#wi").fill("100")
        assert "100%" in page.locator("#wi-out").inner_text()
        # switch persona and dates: the map redraws
        page.select_option("#persona", render_map_of_demo.personas[1])
        page.select_option("#period", render_map_of_demo.periods[0])
        note = page.locator("#view-note").inner_text()
        assert render_map_of_demo.personas[1] in note
        assert page.eval_on_selector_all("#jk-svg g.lane", "els => els.length") == len(LANES)
        assert check.console_errors == [] and check.page_errors == []


def test_pictures_for_slides(page_file: Path, tmp_path: Path) -> None:
    png, svg, full = tmp_path / "map.png", tmp_path / "map.svg", tmp_path / "page.png"
    check = export_images(page_file, png=png, svg=svg, full_page=full)
    assert check.lanes == LANES
    width, height = png_size(png)
    assert width >= 1200 and height >= 600
    assert png.stat().st_size > 50_000
    root = ElementTree.parse(svg).getroot()
    assert root.tag.endswith("svg")
    lanes = [
        g.get("data-lane") for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-lane")
    ]
    assert lanes == LANES
    assert png_size(full)[1] > height
