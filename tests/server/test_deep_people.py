"""People whose stored properties nest hundreds of levels deep (stored before the collector
limited depth, or loaded from files) stay readable and exportable through the server."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from journeykit.cli.main import app
from journeykit.ingest import load_segment

DEPTHS = (10, 250, 300, 600, 900)


def deep(levels: int) -> dict:
    value: object = "leaf"
    for i in range(levels):
        value = {"k": value} if i % 2 else [value]
    return {"x": value}


def depth(text: str) -> int:
    """How deep a JSON text nests, read without parsing (a parser would give up)."""
    level = most = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            level += 1
            most = max(most, level)
        elif ch in "]}":
            level -= 1
    return most


def seed_workspace(ws):
    messages = [
        {
            "type": "track",
            "event": "Deep",
            "userId": f"deep-{n}",
            "messageId": f"deep-{n}",
            "timestamp": "2026-03-01T10:00:00Z",
            "properties": deep(n),
        }
        for n in DEPTHS
    ]
    report = load_segment(ws, messages)
    assert report.loaded == len(DEPTHS), report.rejects


@pytest.mark.parametrize("levels", DEPTHS)
def test_timeline_and_export_of_deeply_nested_properties(read, admin, levels):
    user = f"deep-{levels}"
    r = read.get("/v1/people/timeline", params={"identifier": user})
    assert r.status_code == 200, r.text[:300]
    # the answer is JSON whose properties hold the value as stored, all levels of it
    assert r.headers["content-type"] == "application/json"
    assert r.text.startswith('{"person_id":"p_')
    assert '"total":1' in r.text and f'"event_id":"{user}"' in r.text
    assert depth(r.text) == 4 + levels  # answer, events list, event, properties, the value
    assert '"ts":"2026-03-01T10:00:00Z"' in r.text
    e = admin.get("/v1/admin/people/export", params={"identifier": user})
    assert e.status_code == 200, e.text[:300]
    assert f'"user_id": "{user}"' in e.text and '"leaf"' in e.text
    assert depth(e.text) == 4 + levels
    if levels <= 250:  # what a JSON parser still reads back equals what was sent
        events = json.loads(e.text)["events"]
        assert events[0]["properties"] == deep(levels)
        assert json.loads(r.text)["events"][0]["properties"] == deep(levels)


def test_cli_exports_a_deeply_nested_person(tmp_path):
    import journeykit

    folder = tmp_path / "ws"
    with journeykit.open(folder) as ws:
        seed_workspace(ws)
    target = tmp_path / "out.json"
    done = CliRunner().invoke(
        app, ["export-person", "deep-900", "-w", str(folder), "--out", str(target)]
    )
    assert done.exit_code == 0, done.output
    assert depth(target.read_text()) == 4 + 900
