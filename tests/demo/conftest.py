"""Demo data sets generated once per test session, and a DuckDB view of them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pytest

import journeykit
from journeykit.demo import DemoFiles, generate
from journeykit.schema import normalise_identifier
from journeykit.store import Workspace

IDENTIFIER_COLUMNS = ("user_id", "email", "phone", "crm_id", "device_id", "anonymous_id")


@dataclass(frozen=True)
class Demo:
    """A generated data set: its files, ground truth and a DuckDB connection over them.

    Tables: ``ev`` (the events), ``tp`` (truth_people), ``spend``; ``row_person``
    (event_id, person) maps every event to its true person through its identifiers,
    normalised with ``journeykit.schema.normalise_identifier``.
    """

    files: DemoFiles
    truth: dict[str, Any]
    con: duckdb.DuckDBPyConnection

    def effect(self, name: str) -> dict[str, Any]:
        return next(e for e in self.truth["effects"] if e["name"] == name)

    def rows(self, sql: str, params: list[Any] | None = None) -> list[tuple]:
        return self.con.execute(sql, params or []).fetchall()


def identifier_rows(events: pd.DataFrame) -> pd.DataFrame:
    """(event_id, identifier) for every identifier on every event, normalised."""
    parts = []
    for kind in IDENTIFIER_COLUMNS:
        col = events[["event_id", kind]].dropna()
        values = [normalise_identifier(kind, v) for v in col[kind]]
        parts.append(
            pd.DataFrame(
                {"event_id": col["event_id"], "identifier": [f"{kind}:{v}" for v in values]}
            )
        )
    return pd.concat(parts, ignore_index=True)


def open_demo(files: DemoFiles) -> Demo:
    con = duckdb.connect()
    paths = [str(p) for p in files.events]
    con.read_parquet(paths).to_table("ev")
    con.read_parquet(str(files.truth_people)).to_table("tp")
    con.read_parquet(str(files.spend)).to_table("spend")
    events = con.execute("SELECT event_id, " + ", ".join(IDENTIFIER_COLUMNS) + " FROM ev").df()
    ids = identifier_rows(events)
    con.register("ids_df", ids)
    con.execute("CREATE TABLE ids AS SELECT * FROM ids_df")
    con.execute(
        """
        CREATE TABLE row_person AS
        SELECT event_id, min(tp.person) AS person, count(DISTINCT tp.person) AS n_people,
               count(*) FILTER (WHERE tp.person IS NULL) AS unknown
        FROM ids LEFT JOIN tp USING (identifier)
        GROUP BY event_id
        """
    )
    truth = json.loads(Path(files.ground_truth).read_text(encoding="utf-8"))
    return Demo(files=files, truth=truth, con=con)


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """4,000 people (about 200k events): enough for every planted effect to stand out."""
    files = generate(tmp_path_factory.mktemp("demo"), people=4000, seed=7)
    d = open_demo(files)
    yield d
    d.con.close()


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> DemoFiles:
    """1,500 people, written in files of at most 20,000 events."""
    return generate(tmp_path_factory.mktemp("small"), people=1500, seed=3, events_per_chunk=20_000)


@pytest.fixture(scope="session")
def bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    """The bank with 4,000 people (about 44k events): every planted effect stands out."""
    files = generate(tmp_path_factory.mktemp("bank"), people=4000, seed=7, scenario="bank")
    d = open_demo(files)
    yield d
    d.con.close()


@pytest.fixture(scope="session")
def bank_ws(bank: Demo, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    """The 4,000-people bank loaded into a workspace, with its ad spend and its spec."""
    from journeykit.ingest import load, load_spend
    from journeykit.journey import demo_spec_path, set_spec

    ws = journeykit.open(tmp_path_factory.mktemp("bank-ws") / "ws")
    load(ws, list(bank.files.events), source_name="demo")
    load_spend(ws, bank.files.spend)
    set_spec(ws, demo_spec_path("bank"), by="test")
    yield ws
    ws.close()
