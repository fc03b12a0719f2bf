"""What the commands print: the most frequent first, readable units, 80 columns, JSON, CSV."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import journeykit
from journeykit.cli import main as cli
from journeykit.ingest import load

# transitions: A->B 3 times, B->C twice, A->C once, C->A once (B->C takes 90 s, A->B 1 h)
LOG = [
    ("u1", ["A", "B", "C"]),
    ("u2", ["A", "B", "C"]),
    ("u3", ["A", "B"]),
    ("u4", ["A", "C", "A"]),
]


@pytest.fixture
def ws_path(tmp_path: Path) -> str:
    rows = []
    for user, events in LOG:
        t = pd.Timestamp("2026-03-01 10:00:00")
        for event in events:
            rows.append({"ts": t.isoformat(), "event": event, "user_id": user, "revenue": 12.5})
            t += pd.Timedelta(hours=1) if event == "A" else pd.Timedelta(seconds=90)
    ws = journeykit.open(tmp_path / "ws")
    load(ws, rows)
    ws.close()
    return str(tmp_path / "ws")


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[str, str]:
    cli.main(list(args))
    out = capsys.readouterr()
    return out.out, out.err


def test_paths_top_shows_the_most_frequent_and_the_csv_holds_all(capsys, ws_path, tmp_path):
    target = tmp_path / "t.csv"
    out, err = run(capsys, "paths", "-w", ws_path, "--top", "2", "--csv", str(target))
    assert "the 2 most frequent of 4" in out
    rows = [line.replace("│", " ").split()[:3] for line in out.splitlines() if "│" in line]
    # the header, then A -> B (3) and B -> C (2); C -> A (once) is only in the CSV
    assert rows == [["A", "B", "3"], ["B", "C", "2"]]
    assert "2 more rows" in out
    table = pd.read_csv(target)
    assert len(table) == 4
    assert table.iloc[0][["source", "target", "transitions"]].tolist() == ["A", "B", 3]
    assert table.iloc[1][["source", "target", "transitions"]].tolist() == ["B", "C", 2]
    assert f"wrote {target}" in err


def test_paths_json_is_the_whole_table_on_stdout(capsys, ws_path):
    out, _ = run(capsys, "paths", "-w", ws_path, "--top", "1", "--json")
    doc = json.loads(out)
    assert doc["table"].startswith("transitions")
    pairs = [(r["source"], r["target"], r["transitions"]) for r in doc["rows"]]
    assert pairs[:2] == [("A", "B", 3), ("B", "C", 2)] and len(pairs) == 4
    b_to_c = next(r for r in doc["rows"] if (r["source"], r["target"]) == ("B", "C"))
    assert b_to_c["median_seconds"] == 90.0 and b_to_c["probability"] == 1.0


def test_paths_options_of_the_python_api(capsys, ws_path):
    out, _ = run(capsys, "paths", "-w", ws_path, "--ends", "--json")
    pairs = {(r["source"], r["target"]): r["transitions"] for r in json.loads(out)["rows"]}
    assert pairs[("(start)", "A")] == 4 and pairs[("C", "(end)")] == 2
    out, _ = run(capsys, "paths", "-w", ws_path, "--what", "steps", "--max-steps", "2", "--json")
    steps = {(r["step"], r["event"]): r["units"] for r in json.loads(out)["rows"]}
    assert steps == {(1, "A"): 4, (2, "B"): 3, (2, "C"): 1}
    out, _ = run(
        capsys, "paths", "-w", ws_path, "--what", "variants", "--max-length", "1", "--json"
    )
    assert [(r["variant"], r["units"]) for r in json.loads(out)["rows"]] == [("A > …", 4)]
    out, _ = run(capsys, "paths", "-w", ws_path, "--what", "next", "--anchor", "B", "--json")
    nxt = {(r["offset"], r["event"]): r["units"] for r in json.loads(out)["rows"]}
    assert nxt[(1, "C")] == 2 and nxt[(1, "(end)")] == 1


def test_tables_fit_80_columns_with_readable_units(capsys, ws_path):
    cli.console.width = 80
    out, _ = run(capsys, "paths", "-w", ws_path)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "1m 30s" in out  # B -> C median time, not 90.0
    assert "1h" in out  # A -> B
    assert "75.0%" in out  # probability of A -> B
    out, _ = run(capsys, "person", "u1", "-w", ws_path)
    assert max(len(line) for line in out.splitlines()) <= 80
    assert "€" not in out and "12.50" in out  # revenue, as money


def test_a_table_too_wide_for_the_terminal_turns_or_goes_record_by_record():
    from rich.console import Console

    from journeykit.cli.output import print_table

    wide = pd.DataFrame([{f"column_{i}": f"value-{i}{r}" for i in range(8)} for r in "ab"])
    console = Console(width=40, record=True, color_system=None)
    print_table(console, wide, "few rows")
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 40
    # on its side: a line per column, a column per row
    assert [line.replace("│", " ").split() for line in text.splitlines() if "column_7" in line] == [
        ["column_7", "value-7a", "value-7b"]
    ]
    console = Console(width=40, record=True, color_system=None)
    print_table(console, pd.concat([wide] * 5), "many rows")
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 40
    assert text.count("column_7  value-7a") == 5


def test_money_takes_the_currency_of_the_workspace_spec(capsys, ws_path):
    from journeykit.journey.workspace_spec import set_spec

    out, _ = run(capsys, "summary", "-w", ws_path)
    assert "spend" in out and "0.00" in out and "€" not in out
    ws = journeykit.open(ws_path)
    set_spec(
        ws,
        "stages: [{name: a, touchpoints: [{name: A, event: A}]}]\ngoals: [C]\ncurrency: eur",
        by="test",
    )
    ws.close()
    out, _ = run(capsys, "summary", "-w", ws_path)
    assert "€0.00" in out
    out, _ = run(capsys, "summary", "-w", ws_path, "--json")
    tables = [json.loads(line) for line in out.splitlines()]
    assert [t["table"] for t in tables] == ["workspace", "events by channel", "events by day"]
    facts = {r["metric"]: r["value"] for r in tables[0]["rows"]}
    assert facts["events"] == 11 and facts["people"] == 4


def test_every_table_command_has_json_and_csv():
    import typer

    from journeykit.cli.main import app

    root = typer.main.get_command(app)
    missing = []
    for name in (
        "summary",
        "person",
        "merges",
        "funnel",
        "paths",
        "retention",
        "churn",
        "kpis",
        "compare",
        "clv",
        "attribution",
        "drivers",
        "predict",
        "personas",
        "alerts",
    ):
        opts = {o for p in root.commands[name].params for o in p.opts}
        if not {"--json", "--csv"} <= opts:
            missing.append(name)
    for group, name in (
        ("voc", "nps"),
        ("voc", "themes"),
        ("keys", "list"),
        ("automations", "list"),
        ("automations", "stats"),
        ("automations", "backtest"),
        ("spec", "show"),
    ):
        opts = {o for p in root.commands[group].commands[name].params for o in p.opts}
        if not {"--json", "--csv"} <= opts:
            missing.append(f"{group} {name}")
    assert missing == []
