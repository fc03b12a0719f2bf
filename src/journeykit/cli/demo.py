"""``journeykit demo``: generate a demo world (the retailer or the bank) and load it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

if TYPE_CHECKING:
    from journeykit.demo.dataset import ScenarioName
    from journeykit.store import Workspace

FILES_PER_LOAD = 5  # each file holds up to 1M events: load ~5M at a time, out of core beyond


def run_demo(
    ws: Workspace,
    *,
    people: int | None,
    events: int | None,
    days: int,
    seed: int,
    out: Path | None,
    console: Console,
    err: Console,
    scenario: ScenarioName = "retail",
) -> None:
    """Generate the demo data into ``out`` (default WORKSPACE/demo) and load it into ``ws``;
    store the scenario's shipped spec in the workspace."""
    from journeykit.demo import generate, scale_for_events
    from journeykit.ingest import load, load_spend

    if people is None:
        people = scale_for_events(events, days=days, scenario=scenario) if events else 20_000
    folder = out or ws.path / "demo"
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("generating", total=None)
        files = generate(
            folder,
            people=people,
            days=days,
            seed=seed,
            progress=lambda done, total: bar.update(task, completed=done, total=total),
            scenario=scenario,
        )
        chunks = [
            files.events[i : i + FILES_PER_LOAD]
            for i in range(0, len(files.events), FILES_PER_LOAD)
        ]
        load_task = bar.add_task("loading", total=files.n_events)
        loaded = rejected = 0
        for chunk in chunks:
            report = load(ws, list(chunk), source_name="demo")
            loaded += report.loaded
            rejected += report.rejected
            bar.advance(load_task, report.rows)
        load_spend(ws, files.spend)
    from journeykit.journey import demo_spec_path, set_spec

    what = "the demo bank's spec" if scenario == "bank" else "the demo retailer's spec"
    stored = set_spec(ws, demo_spec_path(scenario), by="demo", note=what)
    console.print(
        f"demo ({scenario}): {files.n_people:,} people, {files.n_events:,} events generated into {folder}; "
        f"{loaded:,} loaded, {rejected:,} rejected"
    )
    truth = json.loads(Path(files.ground_truth).read_text(encoding="utf-8"))
    effects = truth.get("effects", truth) if isinstance(truth, dict) else truth
    names = [e.get("name", "?") for e in effects] if isinstance(effects, list) else list(effects)
    console.print(f"journey spec stored in the workspace (version {stored.version})")
    console.print(f"planted effects ({files.ground_truth}): {', '.join(map(str, names))}")
