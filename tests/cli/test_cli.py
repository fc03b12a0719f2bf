"""The command line: real commands on a real workspace; errors are messages, not tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

import journeykit
from journeykit.cli.main import app
from journeykit.ingest import merges

runner = CliRunner()


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "web.csv").write_text(
        "timestamp,customer_no,name,amount,colour\n"
        "2026-03-01 10:00,c1,Order Completed,12.5,red\n"
        ",c2,Order Completed,1,blue\n"
        "2026-03-02 11:00,c2,Page Viewed,,x\n"
    )
    (tmp_path / "store.jsonl").write_text(
        json.dumps(
            {
                "ts": "2026-03-03T10:00:00Z",
                "event": "Store Visited",
                "user_id": "c1",
                "phone": "+47 555",
            }
        )
        + "\n"
    )
    return tmp_path


class Out:
    def __init__(self, result) -> None:
        self.exit_code = result.exit_code
        # Rich wraps long lines to the terminal width: compare with whitespace folded
        self.output = " ".join(result.output.split())


def run(*args: str) -> Out:
    return Out(runner.invoke(app, list(args), catch_exceptions=False))


def test_ingest_summary_person_export_forget(files):
    ws = str(files / "ws")
    out = run(
        "ingest", str(files / "web.csv"), "-w", ws, "--map", "ts=timestamp,person=customer_no"
    )
    assert out.exit_code == 0, out.output
    assert "3 rows, 2 loaded, 0 already stored, 1 rejected" in out.output
    assert "1 rejected ts: missing timestamp (row 3)" in out.output
    assert "colour" in out.output
    first = journeykit.open(ws).store.scalar("SELECT load_id FROM loads")
    out = run("ingest", str(files / "store.jsonl"), str(files / "web.csv"), "-w", ws)
    assert out.exit_code == 0
    assert "1 rows, 1 loaded" in out.output
    # customer_no is recognised without the mapping, and the file was read before
    assert "'customer_no' as user_id" in out.output
    assert "3 rows, 0 loaded, 2 already stored, 1 rejected" in out.output
    assert f"2 stored before by load {first} of {files / 'web.csv'}" in out.output
    out = run("summary", "-w", ws)
    assert "people" in out.output and "3" in out.output
    out = run("person", "+47555", "-w", ws)
    assert "Order Completed" in out.output and "Store Visited" in out.output
    target = files / "c1.json"
    out = run("export-person", "c1", "-w", ws, "--out", str(target))
    assert json.loads(target.read_text())["person_id"].startswith("p_")
    out = run("forget", "c1", "-w", ws, "--yes")
    assert "events: 2 rows removed" in out.output


def test_errors_are_one_line_messages(files):
    ws = str(files / "ws")
    journeykit.open(ws).close()  # an empty workspace: the person is what is missing
    proc = subprocess.run(
        [sys.executable, "-m", "journeykit.cli", "person", "nobody", "-w", ws],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "Error: No person with identifier 'nobody'" in proc.stderr
    assert "Traceback" not in proc.stderr
    (files / "empty.csv").write_text("")
    proc = subprocess.run(
        [sys.executable, "-m", "journeykit.cli", "ingest", str(files / "empty.csv"), "-w", ws],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1
    assert "empty" in proc.stderr and "Traceback" not in proc.stderr


def test_merges_and_unmerge(files):
    ws = str(files / "ws")
    (files / "a.csv").write_text(
        "ts,event,phone,email\n2026-03-01,A,+1,\n2026-03-02,B,,m@n.o\n2026-03-03,C,+1,m@n.o\n"
    )
    run("ingest", str(files / "a.csv"), "-w", ws)
    out = run("merges", "-w", ws)
    assert "merge_id" in out.output
    merge_id = merges(journeykit.open(ws))["merge_id"][0]
    out = run("unmerge", merge_id, "-w", ws)
    assert out.exit_code == 0
    assert out.output.count("p_") == 2


def test_help_is_fast_and_lists_commands():
    proc = subprocess.run(
        [sys.executable, "-m", "journeykit.cli", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    for command in ("ingest", "summary", "person", "forget", "export-person", "unmerge", "demo"):
        assert command in proc.stdout


def test_ingest_is_honest_about_refused_files(files):
    ws = str(files / "ws")
    (files / "bad.csv").write_text(
        "ts,event,user_id\n" + "".join(f"someday {i},A,u{i}\n" for i in range(40))
    )
    out = run("ingest", str(files / "bad.csv"), "-w", ws)
    assert out.exit_code == 1
    assert "40 rows, 0 loaded, 0 already stored, 40 rejected" in out.output
    # one line per reason, with a count and the first rows, not 40 lines
    assert "40 rejected ts: cannot parse timestamp (rows 2, 3, 4, 5, 6, …)" in out.output
    assert "layout with --ts-format" in out.output
    assert "every row of" in out.output
    (files / "anon.csv").write_text("ts,event,shopper\n2026-03-01 10:00,A,s1\n")
    out = run("ingest", str(files / "anon.csv"), "-w", ws)
    assert out.exit_code == 1
    assert "no identifier column" in out.output and "--map user_id=COLUMN" in out.output
    out = run("ingest", str(files / "anon.csv"), "-w", ws, "--map", "user_id=shopper")
    assert out.exit_code == 0 and "1 loaded" in out.output


def test_ingest_time_layouts(files):
    ws = str(files / "ws")
    (files / "eu.csv").write_text(
        "ts,event,user_id\n13/03/2024 10:21,A,u1\n01/03/2024 09:00,B,u1\n"
    )
    out = run("ingest", str(files / "eu.csv"), "-w", ws)
    assert out.exit_code == 0 and "dates read day-first" in out.output
    (files / "odd.csv").write_text("ts,event,user_id\n2024.03.01-10h21,A,u1\n")
    out = run("ingest", str(files / "odd.csv"), "-w", ws, "--ts-format", "%Y.%m.%d-%Hh%M")
    assert out.exit_code == 0 and "1 loaded" in out.output
    (files / "amb.csv").write_text("ts,event,user_id\n01/03/2024 10:21,A,u1\n")
    out = run("ingest", str(files / "amb.csv"), "-w", ws)
    assert out.exit_code == 1 and "--ts-format" in out.output
    stored = journeykit.open(ws).store.fetchall("SELECT event, ts FROM events ORDER BY ts")
    assert [(e, str(t)) for e, t in stored] == [
        ("B", "2024-03-01 09:00:00"),
        ("A", "2024-03-01 10:21:00"),
        ("A", "2024-03-13 10:21:00"),
    ]
