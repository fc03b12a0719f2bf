"""Fixtures of the value-model tests: the CDNOW sample and small workspaces."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pandas as pd
import pytest


@pytest.fixture(scope="session")
def cdnow_dir() -> Path:
    """The ``datasets`` folder of the ``lifetimes`` package (read directly, never imported)."""
    spec = importlib.util.find_spec("lifetimes")
    if spec is None or not spec.submodule_search_locations:
        pytest.skip("the lifetimes package (which ships the CDNOW sample) is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "datasets"


@pytest.fixture(scope="session")
def cdnow_summary(cdnow_dir: Path) -> pd.DataFrame:
    """Fader & Hardie's CDNOW summary (2,357 people, weeks) with their mean repeat spend."""
    df = pd.read_csv(cdnow_dir / "cdnow_customers_summary_with_transactions.csv", index_col="ID")
    return df.rename(columns={"x": "frequency", "t_x": "recency", "zbar": "monetary_value"})


@pytest.fixture(scope="session")
def cdnow_transactions(cdnow_dir: Path) -> pd.DataFrame:
    """The CDNOW sample transactions: person_id (the sample index), ts, revenue."""
    raw = pd.read_csv(
        cdnow_dir / "CDNOW_sample.txt",
        sep=r"\s+",
        header=None,
        names=["customer_id", "person_id", "date", "cds", "revenue"],
        dtype={"date": str},
    )
    raw["ts"] = pd.to_datetime(raw["date"], format="%Y%m%d")
    return raw[["person_id", "ts", "revenue"]]
