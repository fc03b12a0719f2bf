"""The dashboard over a small demo workspace, served on 127.0.0.1, and Chromium to read it.

The demo (about 1,500 people) is generated and loaded once per session, with an automation
run through its checkouts so the automations page has something to show. A small FastAPI app
mounts the dashboard router over the workspace and runs in a uvicorn thread. Browser tests
drive Debian's Chromium through Playwright (never a downloaded browser).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from dashboard_helpers import Served, Tab, serve, signed_in_tab

import journeykit
from journeykit.store import Workspace

ARTIFACTS = Path(__file__).resolve().parents[2] / "_artifacts" / "dashboard"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
DEMO_PEOPLE = 1500

AUTOMATION = """
id: checkout-rescue
name: Checkout rescue
trigger: {event: Checkout Started}
goal: {event: Order Completed, within: 3d}
holdout: 0.2
reentry: {policy: never}
steps:
  - {id: mark, action: set_trait, trait: checkout_rescue, value: true}
"""


def _run_automation(ws: Workspace) -> None:
    """Run one automation through the demo's checkouts into ``orchestrate.sqlite``."""
    from journeykit.orchestrate import Engine, ManualClock, loads

    events = ws.store.df(
        "SELECT event_id, ts, person_id, event, channel, properties FROM events "
        "WHERE event IN ('Checkout Started', 'Order Completed') ORDER BY ts, event_id"
    )
    rows = events.to_dict("records")
    for row in rows:
        row["ts"] = row["ts"].to_pydatetime()
    clock = ManualClock(rows[0]["ts"])
    engine = Engine(loads(AUTOMATION), f"sqlite:///{ws.path}/orchestrate.sqlite", clock=clock)
    for i in range(0, len(rows), 500):
        chunk = rows[i : i + 500]
        clock.set(chunk[-1]["ts"])
        engine.handle_batch(chunk)
    clock.set(rows[-1]["ts"] + timedelta(days=4))
    engine.fire_due_timers()
    engine.state.dispose()


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The demo retailer (about 1,500 people, 120 days), loaded, with one automation run."""
    from journeykit.demo import generate
    from journeykit.ingest import load, load_spend
    from journeykit.journey import demo_spec_path, set_spec

    root = tmp_path_factory.mktemp("dashboard")
    files = generate(root / "demo", people=DEMO_PEOPLE)
    ws = journeykit.open(root / "ws")
    load(ws, list(files.events), source_name="demo")
    load_spend(ws, files.spend)
    set_spec(ws, demo_spec_path(), by="demo")
    _run_automation(ws)
    yield ws
    ws.close()


def _serve_for_session(ws: Workspace) -> Iterator[Served]:
    # no background warming: the pages are opened by the tests, and a warming query must
    # never outlive the workspace it reads
    served = serve(ws, warm=False)
    yield served
    served.stop()


@pytest.fixture(scope="session")
def retail_served(demo_ws: Workspace) -> Iterator[Served]:
    """The dashboard over the demo retailer (stopped before its workspace closes)."""
    yield from _serve_for_session(demo_ws)


@pytest.fixture(scope="session")
def bank_served(bank_ws: Workspace) -> Iterator[Served]:
    """The dashboard over the demo bank."""
    yield from _serve_for_session(bank_ws)


@pytest.fixture(scope="session")
def byo_served(byo_ws: Workspace) -> Iterator[Served]:
    """The dashboard over the bring-your-own export."""
    yield from _serve_for_session(byo_ws)


def served_for(request: pytest.FixtureRequest, name: str) -> Served:
    """The session's one dashboard over data set ``name`` (retail, bank or byo)."""
    return request.getfixturevalue(f"{name}_served")


@pytest.fixture(scope="session")
def dashboard(request: pytest.FixtureRequest) -> Served:
    """The dashboard over the demo workspace."""
    return served_for(request, "retail")


@pytest.fixture(scope="session")
def bank_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The demo bank (about 1,500 people), loaded, with its shipped spec stored."""
    from journeykit.demo import generate
    from journeykit.ingest import load, load_spend
    from journeykit.journey import demo_spec_path, set_spec

    root = tmp_path_factory.mktemp("dashboard-bank")
    files = generate(root / "demo", people=DEMO_PEOPLE, scenario="bank")
    ws = journeykit.open(root / "ws")
    load(ws, list(files.events), source_name="demo")
    load_spend(ws, files.spend)
    set_spec(ws, demo_spec_path("bank"), by="demo")
    yield ws
    ws.close()


@pytest.fixture(scope="session")
def byo_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """A bring-your-own export (the travel site of tests/byo_data.py: names from neither
    demo, the price in a property, CHF), loaded, with the spec `spec infer` proposes."""
    from byo_data import write_travel_csv
    from journeykit.ingest import load
    from journeykit.journey import set_spec
    from journeykit.journey.infer import infer_spec

    root = tmp_path_factory.mktemp("dashboard-byo")
    ws = journeykit.open(root / "ws")
    report = load(ws, write_travel_csv(root / "bookings.csv"))
    assert report.rejected == 0
    set_spec(ws, infer_spec(ws).yaml, by="spec infer")
    yield ws
    ws.close()


#: The data sets every page is tried on: both demos and a bring-your-own export.
DATASETS = ("retail", "bank", "byo")


@pytest.fixture(scope="session", params=DATASETS)
def any_dashboard(request: pytest.FixtureRequest) -> tuple[str, Served]:
    """The dashboard over each data set in turn: (its name, the served dashboard)."""
    return request.param, served_for(request, request.param)


@pytest.fixture(scope="session")
def byo_dashboard(request: pytest.FixtureRequest) -> Served:
    """The dashboard over the bring-your-own export."""
    return served_for(request, "byo")


@pytest.fixture
def any_tab(browser: Any, any_dashboard: tuple[str, Served]) -> Iterator[Tab]:
    """A signed-in laptop-sized tab on the dashboard of each data set."""
    yield from signed_in_tab(browser, any_dashboard[1], 1366, 900)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Where screenshots go (tests/_artifacts/dashboard, not in git)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium, headless, driven by Playwright."""
    if shutil.which(CHROMIUM) is None:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield b
        b.close()


@pytest.fixture
def tab(browser: Any, dashboard: Served) -> Iterator[Tab]:
    """A signed-in laptop-sized tab on the demo dashboard."""
    yield from signed_in_tab(browser, dashboard, 1366, 900)


@pytest.fixture
def phone(browser: Any, dashboard: Served) -> Iterator[Tab]:
    """A signed-in phone-sized tab on the demo dashboard."""
    yield from signed_in_tab(browser, dashboard, 390, 844)
