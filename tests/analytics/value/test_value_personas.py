"""Personas: planted groups are found, named and described; the result is repeatable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from journeykit.analytics.value import personas
from journeykit.errors import InputError


def planted(n_per: int = 300, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    groups = []
    # 0: store-and-online buyers of high value, recently active
    groups.append(
        {"active_events": 60, "conversions": 5, "revenue": 600, "recency_days": 4,
         "share_web": 0.35, "share_app": 0.1, "share_store": 0.4, "share_email": 0.1,
         "share_support": 0.03, "share_marketing": 0.02, "stage_reached": 4}
    )  # fmt: skip
    # 1: app browsers who have not bought
    groups.append(
        {"active_events": 25, "conversions": 0, "revenue": 0, "recency_days": 10,
         "share_web": 0.05, "share_app": 0.85, "share_store": 0.0, "share_email": 0.05,
         "share_support": 0.0, "share_marketing": 0.05, "stage_reached": 1}
    )  # fmt: skip
    # 2: lapsed ad clickers
    groups.append(
        {"active_events": 3, "conversions": 0, "revenue": 0, "recency_days": 80,
         "share_web": 0.1, "share_app": 0.0, "share_store": 0.0, "share_email": 0.0,
         "share_support": 0.0, "share_marketing": 0.9, "stage_reached": 0}
    )  # fmt: skip
    frames, truth = [], []
    for g, centre in enumerate(groups):
        block = pd.DataFrame({k: np.full(n_per, float(v)) for k, v in centre.items()})
        for col in ("active_events", "revenue", "recency_days"):
            block[col] *= rng.uniform(0.8, 1.2, n_per)
        for col in [c for c in block.columns if c.startswith("share_")]:
            block[col] = (block[col] + rng.normal(0, 0.02, n_per)).clip(0, 1)
        frames.append(block)
        truth += [g] * n_per
    data = pd.concat(frames, ignore_index=True)
    data.index = pd.Index([f"p{i}" for i in range(len(data))], name="person_id")
    # what persona_features_from_workspace records: channel names and the spec's stages
    data.attrs["channels"] = {"share_marketing": "ads"}
    data.attrs["stages"] = ["awareness", "consideration", "purchase", "retention", "advocacy"]
    return data, np.array(truth)


def test_planted_groups_are_found_and_described() -> None:
    data, truth = planted()
    found = personas.find_personas(data, k_range=(2, 3, 4, 5))
    assert found.k == 3
    assert found.silhouette.idxmax() == 3
    labels = found.assignments["persona"].to_numpy()
    # each planted group maps to exactly one persona
    for g in range(3):
        assert len(np.unique(labels[truth == g])) == 1
    names = found.profiles["name"].tolist()
    assert len(set(names)) == 3
    by_truth = {g: found.profiles.loc[labels[truth == g][0]] for g in range(3)}
    assert by_truth[0]["name"] == "High-value store-and-web customers"
    assert by_truth[1]["name"] == "App browsers"
    assert by_truth[2]["name"] == "Lapsed ads browsers"
    assert "Mostly active through store and web." in by_truth[0]["description"]
    assert "Typically reached the advocacy stage." in by_truth[0]["description"]
    assert by_truth[0]["description"].startswith("300 people (33%).")
    assert found.profiles["people"].sum() == len(data)
    seg = found.segment()
    assert seg.index.equals(data.index) and seg.nunique() == 3


def test_personas_repeat_with_the_same_seed() -> None:
    data, _ = planted(seed=1)
    a = personas.find_personas(data, seed=3)
    b = personas.find_personas(data, seed=3)
    pd.testing.assert_frame_equal(a.assignments, b.assignments)
    pd.testing.assert_frame_equal(a.profiles, b.profiles)


def test_bad_inputs() -> None:
    data, _ = planted(n_per=5)
    with pytest.raises(InputError, match="lack"):
        personas.find_personas(data.drop(columns=["conversions"]))
    with pytest.raises(InputError, match="k range"):
        personas.find_personas(data.head(3), k_range=(3, 4))
