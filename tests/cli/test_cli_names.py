"""Names and workspaces that do not exist: a warning with the closest names, or an error."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
import typer
from typer.testing import CliRunner

from journeykit.cli.main import app
from journeykit.errors import WorkspaceError
from journeykit.ingest import load

runner = CliRunner()
#: Commands that make their workspace when it is missing.
CREATORS = {"ingest", "demo"}


def _commands(
    group: click.Group, prefix: tuple[str, ...] = ()
) -> list[tuple[tuple[str, ...], click.Command]]:
    out = []
    for name, command in sorted(group.commands.items()):
        if hasattr(command, "commands"):  # a group (typer has its own click classes)
            out.extend(_commands(command, (*prefix, name)))
        else:
            out.append(((*prefix, name), command))
    return out


WITH_WORKSPACE = [
    (path, command)
    for path, command in _commands(typer.main.get_command(app))  # type: ignore[arg-type]
    if any(p.name == "workspace" for p in command.params)
]


def test_every_command_that_reads_a_workspace_is_checked() -> None:
    names = {" ".join(path) for path, _ in WITH_WORKSPACE}
    assert {"summary", "funnel", "kpis", "clv", "map", "serve", "voc nps"} <= names
    assert names >= CREATORS


READERS = [(p, c) for p, c in WITH_WORKSPACE if p[-1] not in CREATORS]


@pytest.mark.parametrize(("path", "command"), READERS, ids=[" ".join(p) for p, _ in READERS])
def test_a_missing_workspace_is_an_error(
    tmp_path: Path, path: tuple[str, ...], command: click.Command
) -> None:
    missing = tmp_path / "no-such-workspace"
    # the workspace option first: click checks options in the order they are given
    args = [*path, "--workspace", str(missing)]
    for p in command.params:  # whatever else the command requires, made up
        if p.required and p.param_type_name == "option":
            args += [p.opts[0], "x"]
    args += ["x" for p in command.params if p.param_type_name == "argument" and p.required]
    result = runner.invoke(app, args)
    assert isinstance(result.exception, WorkspaceError), (result.output, result.exception)
    assert "no workspace at" in str(result.exception)
    assert not missing.exists()  # and nothing was made


def test_the_error_is_one_line_and_status_1(tmp_path: Path) -> None:
    missing = tmp_path / "typo"
    proc = subprocess.run(
        [sys.executable, "-m", "journeykit.cli", "summary", "-w", str(missing)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    text = " ".join(proc.stderr.split())  # Rich wraps long lines
    assert proc.returncode == 1
    assert text.startswith(f"Error: no workspace at {missing}: give an existing workspace folder")
    assert "Traceback" not in text
    assert f"`journeykit demo --workspace {missing}`" in text


def test_ingest_makes_a_missing_workspace(tmp_path: Path) -> None:
    data = tmp_path / "e.csv"
    data.write_text("ts,user_id,event\n2026-03-01 10:00,u1,purchase\n")
    result = runner.invoke(app, ["ingest", str(data), "-w", str(tmp_path / "new")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "new").is_dir()


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    import journeykit

    folder = tmp_path / "shop"
    ws = journeykit.open(folder)
    rows = []
    for i, person in enumerate(("ann", "bob", "cat")):
        for j, event in enumerate(("page_view", "add_to_cart", "purchase")[: 1 + i]):
            rows.append({"ts": f"2026-03-0{1 + i} 10:0{j}", "user_id": person, "event": event})
    load(ws, rows)
    ws.close()
    return folder


def _folded(result) -> str:  # type: ignore[no-untyped-def]
    return " ".join(result.output.split())


def test_a_funnel_step_that_matches_nothing_is_warned_about(shop: Path) -> None:
    result = runner.invoke(
        app,
        ["funnel", "page_view", "Add To Cart", "purchased", "-w", str(shop)],
        catch_exceptions=False,
    )
    out = _folded(result)
    assert result.exit_code == 0
    assert (
        "Warning: funnel step 'Add To Cart' matches no event in the workspace; did you mean add_to_cart?"
        in out
    )
    assert (
        "funnel step 'purchased' matches no event in the workspace; did you mean purchase?" in out
    )
    assert "'page_view' matches" not in out


def test_filter_values_goals_anchors_and_cohorts_are_checked(shop: Path) -> None:
    w = ["-w", str(shop)]
    out = _folded(runner.invoke(app, ["kpis", *w, "--segment", 'event == "purchse"']))
    assert "filter value 'purchse' matches no event in the workspace; did you mean purchase?" in out
    out = _folded(runner.invoke(app, ["paths", *w, "--what", "variants", "--goal", "Purchase"]))
    assert "goal 'Purchase' matches no event in the workspace; did you mean purchase?" in out
    out = _folded(runner.invoke(app, ["retention", *w, "--cohort", "add-to-cart"]))
    assert (
        "cohort event 'add-to-cart' matches no event in the workspace; did you mean add_to_cart?"
        in out
    )
    out = _folded(
        runner.invoke(
            app, ["compare", *w, 'a=count(event == "page_veiw") >= 1', 'b=channel == "web"']
        )
    )
    assert "did you mean page_view?" in out
    out = _folded(runner.invoke(app, ["retention", *w, "--cohort", "purchase"]))
    assert "Warning" not in out  # a known name says nothing


@pytest.mark.parametrize("args", [["summary"], ["kpis"], ["keys", "list"], ["spec", "show"]])
def test_the_default_workspace_must_exist_too(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: list[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JOURNEYKIT_WORKSPACE", raising=False)
    result = runner.invoke(app, args)
    assert isinstance(result.exception, WorkspaceError), (result.output, result.exception)
    assert "no workspace at ./journeykit-data" in str(result.exception)
    assert not (tmp_path / "journeykit-data").exists()
