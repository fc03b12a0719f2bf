"""Workspaces: opening, tables through Ibis, summary, settings."""

from __future__ import annotations

import pytest

import journeykit
from journeykit.config import load_settings
from journeykit.errors import NotFound, StoreError, WorkspaceError
from journeykit.ingest import load, load_spend
from journeykit.schema.events import EVENT_COLUMNS, TABLES


def test_tables_exist_with_documented_columns(ws):
    assert set(ws.con.list_tables()) >= set(TABLES)
    assert list(ws.events.columns) == list(EVENT_COLUMNS)
    with pytest.raises(NotFound, match="Known"):
        ws.table("nope")


def test_reopen_keeps_data(tmp_path, make_events):
    ws = journeykit.open(tmp_path / "w")
    load(ws, make_events(("u1", "A"), ("u2", "B")))
    ws.close()
    again = journeykit.open(tmp_path / "w")
    assert again.summary().events == 2


def test_summary_counts(ws, make_events, tmp_path):
    load(ws, make_events(("u1", "A"), ("u1", "B"), ("u2", "A"), (None, "C")))
    (tmp_path / "spend.csv").write_text(
        "date,channel,campaign,amount\n2026-03-01,ads,spring,100\n2026-03-01,social,,50.5\n"
    )
    assert load_spend(ws, tmp_path / "spend.csv") == 2
    s = ws.summary()
    assert (s.people, s.events, s.identities, s.rejects, s.loads) == (2, 3, 2, 1, 1)
    assert s.spend == 150.5
    assert s.by_channel.to_dict("records") == [{"channel": "web", "events": 3, "people": 2}]
    assert s.by_day["events"].sum() == 3


def test_ibis_queries_run(ws, make_events):
    load(ws, make_events(("u1", "A"), ("u1", "B"), ("u2", "A")))
    t = ws.events
    out = t.group_by("event").agg(n=t.count()).order_by("event").to_pandas()
    assert out.to_dict("records") == [{"event": "A", "n": 2}, {"event": "B", "n": 1}]


def test_bad_workspace_paths(tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(WorkspaceError, match="not a folder"):
        journeykit.open(f)
    with pytest.raises(WorkspaceError):
        journeykit.open("bogus://host")


def test_store_errors_are_translated(ws):
    with pytest.raises(StoreError, match="store query failed"):
        ws.store.execute("SELECT * FROM no_such_table")


def test_settings_from_environment(monkeypatch, tmp_path):
    (tmp_path / "journeykit.toml").write_text('[store]\nmemory_limit = "1GB"\n')
    monkeypatch.setenv("JOURNEYKIT_INGEST_EXTRA_IDENTIFIERS", "loyalty, iban")
    settings = load_settings(tmp_path / "journeykit.toml")
    assert settings.store.memory_limit == "1GB"
    assert settings.ingest.extra_identifiers == ("loyalty", "iban")
