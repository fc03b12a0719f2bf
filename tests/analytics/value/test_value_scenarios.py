"""Every model on both demos: the retailer and the bank, each named only by its own spec.

The reference numbers are counted straight from the events with pandas (the conversion events
and value field the spec names), never through the code under test.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import journeykit
from journeykit.analytics import kpis
from journeykit.analytics.value import attribution, clv, drivers, paths, personas, predict
from journeykit.journey import current_spec
from journeykit.store import Workspace

pytestmark = pytest.mark.slow

SIZES = {"retail": 1500, "bank": 2000}


@pytest.fixture(scope="module", params=["retail", "bank"])
def scenario(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Workspace]:
    """A demo workspace made as ``journeykit demo --scenario`` makes it: data, spend, spec."""
    from journeykit.demo import generate
    from journeykit.ingest import load, load_spend
    from journeykit.journey import demo_spec_path, set_spec

    name = request.param
    root: Path = tmp_path_factory.mktemp(f"value-{name}")
    files = generate(root / "data", people=SIZES[name], days=120, seed=5, scenario=name)
    ws = journeykit.open(root / "ws")
    load(ws, list(files.events))
    load_spend(ws, files.spend)
    set_spec(ws, demo_spec_path(name), by="test")
    yield ws
    ws.close()


def conversions(ws: Workspace) -> pd.DataFrame:
    """The conversion events with their value, read plainly (the reference)."""
    spec = current_spec(ws)
    ev = ws.table("events").to_pandas()
    conv = ev[ev["event"].isin(spec.conversion_events) & ev["person_id"].notna()].copy()
    field = spec.revenue_field
    if field == "revenue":
        conv["value"] = pd.to_numeric(conv["revenue"]).fillna(0.0)
    else:
        key = field.removeprefix("properties.")
        conv["value"] = [float(json.loads(p or "{}").get(key) or 0.0) for p in conv["properties"]]
    return conv


def test_kpis_count_the_spec_conversions(scenario: Workspace) -> None:
    ref = conversions(scenario)
    k = kpis(scenario)
    assert k.value("orders") == len(ref) > 0
    assert k.value("customers") == ref["person_id"].nunique()
    assert k.value("revenue") == pytest.approx(ref["value"].sum())
    assert len(k.stages) == len(current_spec(scenario).stages)
    assert (k.cac["spend"] > 0).any()


def test_clv_on_the_spec_conversions(scenario: Workspace) -> None:
    ref = conversions(scenario)
    summary = clv.rfm_summary_from_workspace(scenario)
    assert len(summary) == ref["person_id"].nunique()
    days = ref.assign(day=pd.to_datetime(ref["ts"]).dt.floor("D")).groupby("person_id")["day"]
    assert summary["frequency"].sum() == (days.nunique() - 1).sum()
    predicted = clv.predict_clv(summary, horizon=365.0)
    assert np.isfinite(predicted["clv"]).all() and (predicted["clv"] > 0).all()
    assert predicted["probability_alive"].between(0, 1).all()


def test_attribution_credits_every_touched_conversion(scenario: Workspace) -> None:
    p = paths.paths_from_workspace(scenario)
    assert p.conversions == len(conversions(scenario))
    touched = p.outcomes["path_id"].isin(p.touches["path_id"])
    conv = float(p.outcomes.loc[touched, "converted"].sum())
    value = float(p.outcomes.loc[touched, "revenue"].sum())
    assert conv > 50
    table = attribution.compare_models(p)
    for model in attribution.MODELS:
        assert table[model].sum() == pytest.approx(conv, rel=1e-6)
    markov = attribution.attribute(p, "markov")
    assert markov["revenue"].sum() == pytest.approx(value, rel=1e-6)
    assert (markov["value_removal_effect"].between(0, 1)).all()
    spec = current_spec(scenario)
    ev = scenario.table("events")
    channels = set(ev.filter(ev.event.isin(list(spec.touch_events))).channel.to_pandas())
    assert set(table.index) <= channels


def test_drivers_say_something(scenario: Workspace) -> None:
    flags = drivers.driver_features_from_workspace(scenario)
    assert flags["converted"].sum() == conversions(scenario)["person_id"].nunique()
    features = flags.attrs["features"]
    assert len(features) >= 8 and all(flags[f].nunique() > 1 for f in features[:3])
    early = [f for f in features if f not in flags.attrs["late"]]
    converted = drivers.key_drivers(flags, "converted", features=early)
    assert converted.n == len(flags)
    # touchpoints, channels and support experiences explain converting: some clearly
    assert (converted.drivers["direction"] != "unclear").sum() >= 2
    assert np.isfinite(converted.drivers["odds_ratio"]).all()
    buyers = flags[flags["converted"] == 1]
    again = drivers.key_drivers(buyers, "repeat_purchase", features=features)
    assert again.n == len(buyers) and again.drivers["importance"].sum() == pytest.approx(1.0)


def test_propensity_ranks_people(scenario: Workspace) -> None:
    report = predict.propensity_from_workspace(scenario, "churn", window_days=30)
    ev = report.evaluation
    assert ev.auc > 0.6
    scores = report.scores
    assert scores["score"].between(0, 1).all() and scores["score"].nunique() > 10
    assert (scores["next_best_action"] != "").all()


def test_personas_split_people(scenario: Workspace) -> None:
    features = personas.persona_features_from_workspace(scenario)
    assert features["conversions"].sum() == len(conversions(scenario))
    found = personas.find_personas(features, k_range=(3, 4, 5))
    assert found.profiles["people"].sum() == len(features)
    assert found.profiles["name"].is_unique
    stages = current_spec(scenario).stage_names
    assert any(f"reached the {s} stage" in d for d in found.profiles["description"] for s in stages)
