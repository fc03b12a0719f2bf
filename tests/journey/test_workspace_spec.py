"""The journey spec stored in the workspace: versions, the current one, and no demo fallback."""

from __future__ import annotations

from pathlib import Path

import pytest

import journeykit
from journeykit.errors import InvalidSpec, JourneykitError, NoSpec
from journeykit.journey import (
    JourneySpec,
    current_spec,
    demo_spec_path,
    find_spec,
    load_spec,
    set_spec,
    spec_versions,
)
from journeykit.store import Workspace

ONE = "stages: [{name: a, touchpoints: [{name: A, event: signup}]}]\ngoals: [signup]\n"
TWO = "# mine\nstages: [{name: a, touchpoints: [{name: A, event: buy}]}]\ngoals: [buy]\n"


def test_a_new_workspace_has_no_spec_and_says_how_to_make_one(ws: Workspace) -> None:
    assert find_spec(ws) is None
    assert spec_versions(ws) == []
    with pytest.raises(NoSpec) as err:
        current_spec(ws)
    assert isinstance(err.value, LookupError) and isinstance(err.value, JourneykitError)
    message = str(err.value)
    assert "journeykit spec infer --workspace" in message and str(ws.path) in message
    assert "journeykit spec set FILE" in message
    # never the demo's spec
    assert "Omnichannel" not in message


def test_versions_are_kept_and_the_newest_is_current(ws: Workspace, tmp_path: Path) -> None:
    first = set_spec(ws, ONE, by="tester", note="first try")
    file = tmp_path / "journey.yaml"
    file.write_text(TWO, encoding="utf-8")
    second = set_spec(ws, file, by="spec set", note=str(file))
    assert (first.version, second.version) == (1, 2)
    assert current_spec(ws).goal_events == ("buy",)
    versions = spec_versions(ws)
    assert [(v.version, v.set_by, v.note) for v in versions] == [
        (1, "tester", "first try"),
        (2, "spec set", str(file)),
    ]
    assert versions[0].set_at <= versions[1].set_at
    # the author's text is kept, comments and all
    assert versions[1].yaml == TWO
    assert versions[0].spec.goal_events == ("signup",)


def test_a_spec_object_is_stored_as_yaml_and_reads_back_equal(ws: Workspace) -> None:
    demo = load_spec(demo_spec_path())
    set_spec(ws, demo, by="demo")
    assert current_spec(ws) == demo
    assert isinstance(current_spec(ws), JourneySpec)


def test_an_invalid_spec_is_refused_and_nothing_is_stored(ws: Workspace) -> None:
    set_spec(ws, ONE, by="tester")
    with pytest.raises(InvalidSpec):
        set_spec(ws, ONE.replace("goals: [signup]", "goals: []"), by="tester")
    assert [v.version for v in spec_versions(ws)] == [1]


def test_the_spec_survives_reopening_and_a_second_reader_sees_new_versions(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "w"
    with journeykit.open(folder) as ws:
        set_spec(ws, ONE, by="tester")
        assert current_spec(ws).goal_events == ("signup",)
        set_spec(ws, TWO, by="tester")
        # read per call: the same open workspace sees the new version at once
        assert current_spec(ws).goal_events == ("buy",)
    with journeykit.open(folder) as ws:
        assert current_spec(ws).goal_events == ("buy",)
        assert len(spec_versions(ws)) == 2
