"""``journeykit spec infer | show | validate | set``, ``init-spec`` and ``map``: the spec in the
workspace, versioned, warned about, and never borrowed from the demo."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import journeykit
from journeykit.cli import main as cli_main
from journeykit.ingest import load
from journeykit.journey import current_spec, spec_versions

SPEC = """\
# the shop's own journey
name: Tea shop
stages:
  - name: browse
    touchpoints:
      - {name: Landing, events: [landing_view]}
      - {name: Tea page, events: [tea_view]}
  - name: buy
    touchpoints:
      - {name: Basket, events: [Add To Basket]}
      - {name: Purchase, events: [purchase]}
goals: [purchase]
currency: GBP
"""


def jk(*args: str) -> tuple[int, str, str]:
    """Run ``journeykit ARGS`` through the entry point a shell uses: (exit code, out, err)."""
    proc = subprocess.run(
        [sys.executable, "-m", "journeykit.cli", *args],
        capture_output=True,
        text=True,
        env={"COLUMNS": "200", "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
    )
    fold = lambda s: " ".join(s.split())  # noqa: E731 (Rich wraps lines)
    return proc.returncode, fold(proc.stdout), fold(proc.stderr)


@pytest.fixture
def shop(tmp_path: Path, make_events: Callable[..., list[dict[str, Any]]]) -> Path:
    """A small workspace of a tea shop: names from neither demo."""
    folder = tmp_path / "ws"
    rows = make_events(
        ("u1", "landing_view"),
        ("u1", "tea_view"),
        ("u1", "add_to_basket"),
        ("u1", "purchase", None, {"revenue": 12.0}),
        ("u2", "landing_view"),
        ("u2", "tea_view"),
        ("u3", "landing_view"),
    )
    with journeykit.open(folder) as ws:
        assert load(ws, rows).rejected == 0
    return folder


def test_without_a_spec_commands_say_how_to_make_one(shop: Path, tmp_path: Path) -> None:
    for args in (["spec", "show"], ["map", "--out", str(tmp_path / "m.html")]):
        code, out, err = jk(*args, "-w", str(shop))
        assert code == 1, (out, err)
        assert "Error: this workspace has no journey spec" in err
        assert f"journeykit spec infer --workspace {shop}" in err
        assert "journeykit spec set FILE" in err
        assert "Traceback" not in err
    # nothing was drawn from the demo's spec
    assert not (tmp_path / "m.html").exists()


def test_set_show_history_and_missing_events(shop: Path, tmp_path: Path) -> None:
    file = tmp_path / "shop.yaml"
    file.write_text(SPEC, encoding="utf-8")
    code, out, err = jk("spec", "set", str(file), "-w", str(shop), "--note", "first")
    assert code == 0, err
    assert "as version 1" in out
    # the name that is not in the data, with the one that is
    assert "Warning: event 'Add To Basket' never occurs in the data" in err
    assert "did you mean 'add_to_basket'?" in err
    assert "purchase" not in err
    code, out, err = jk("spec", "show", "-w", str(shop))
    assert code == 0 and out.startswith("# the shop's own journey name: Tea shop")
    file.write_text(SPEC.replace("Add To Basket", "add_to_basket"), encoding="utf-8")
    code, out, err = jk("spec", "set", str(file), "-w", str(shop), "--by", "ann")
    assert code == 0 and "as version 2" in out and "Warning" not in err
    code, out, err = jk("spec", "show", "--history", "-w", str(shop))
    assert code == 0
    assert "2 (current)" in out and "ann" in out and "spec set" in out and "first" in out
    code, out, err = jk("spec", "show", "--version", "1", "-w", str(shop))
    assert "Add To Basket" in out
    with journeykit.open(shop) as ws:
        assert [(v.version, v.set_by) for v in spec_versions(ws)] == [(1, "spec set"), (2, "ann")]
        assert current_spec(ws).currency_symbol == "£"


def test_validate_checks_rules_and_data(shop: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(SPEC, encoding="utf-8")
    code, out, err = jk("spec", "validate", str(good), "-w", str(shop))
    assert code == 0 and "is valid" in out and "1 event name(s) never occur" in out
    assert "'Add To Basket'" in err
    code, out, err = jk("spec", "validate", str(good), "-w", str(shop), "--strict")
    assert code == 1
    bad = tmp_path / "bad.yaml"
    bad.write_text(SPEC.replace("currency: GBP", "currency: pounds"), encoding="utf-8")
    code, out, err = jk("spec", "validate", str(bad), "-w", str(shop))
    assert code == 1
    assert "field 'currency'" in err and "ISO 4217" in err and "(line 13)" in err
    assert "Traceback" not in err
    # nothing stored by validate
    with journeykit.open(shop) as ws:
        assert spec_versions(ws) == []


def test_infer_stores_a_proposal_dry_run_does_not(shop: Path, tmp_path: Path) -> None:
    code, out, err = jk("spec", "infer", "-w", str(shop), "--dry-run", "--stages", "2")
    assert code == 0, err
    assert "stages:" in out and "nothing stored" in out
    # what it decided, and why
    assert "what the data says" in err and "conversion" in err and "purchase" in err
    with journeykit.open(shop) as ws:
        assert spec_versions(ws) == []
    written = tmp_path / "proposal.yaml"
    code, out, err = jk("spec", "infer", "-w", str(shop), "--out", str(written), "--stages", "2")
    assert code == 0, err
    assert "as version 1" in out and written.exists()
    code, out, err = jk("init-spec", "-w", str(shop), "--stages", "2")
    assert code == 0, err
    assert "as version 2" in out
    with journeykit.open(shop) as ws:
        versions = spec_versions(ws)
        assert [v.set_by for v in versions] == ["spec infer", "spec infer"]
        assert journeykit.load_spec(written) == versions[0].spec
        assert set(versions[-1].spec.events_named()) <= {
            "landing_view",
            "tea_view",
            "add_to_basket",
            "purchase",
        }


def test_map_draws_the_workspace_spec(shop: Path, tmp_path: Path) -> None:
    file = tmp_path / "shop.yaml"
    file.write_text(SPEC.replace("Add To Basket", "add_to_basket"), encoding="utf-8")
    assert jk("spec", "set", str(file), "-w", str(shop))[0] == 0
    html = tmp_path / "map.html"
    code, _, err = jk("map", "--out", str(html), "-w", str(shop))
    assert code == 0, err
    page = html.read_text(encoding="utf-8")
    assert "Tea shop" in page and "Omnichannel" not in page
    assert "Tea page" in page


def test_init_spec_is_listed_and_spec_has_help() -> None:
    from typer.testing import CliRunner

    result = CliRunner().invoke(cli_main.app, ["spec", "--help"])
    assert result.exit_code == 0
    for command in ("infer", "show", "validate", "set"):
        assert command in result.output


def test_show_prints_the_stored_text_as_is(shop: Path, tmp_path: Path) -> None:
    # a long line stays one line when the output goes to a file (no console wrapping)
    text = SPEC.replace("name: Tea shop", "name: Tea shop " + "with a very long name " * 8)
    file = tmp_path / "long.yaml"
    file.write_text(text, encoding="utf-8")
    assert jk("spec", "set", str(file), "-w", str(shop))[0] == 0
    proc = subprocess.run(
        [sys.executable, "-m", "journeykit.cli", "spec", "show", "-w", str(shop)],
        capture_output=True,
        text=True,
        env={"COLUMNS": "80", "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == text


def test_alerts_watch_the_error_events_of_the_spec(shop: Path, tmp_path: Path) -> None:
    file = tmp_path / "shop.yaml"
    file.write_text(SPEC, encoding="utf-8")
    assert jk("spec", "set", str(file), "-w", str(shop))[0] == 0
    # the tea shop's spec has no error touchpoint: say so, and how to name one
    code, _, err = jk("alerts", "-w", str(shop))
    assert code == 1 and "no touchpoint of kind error" in err and "--event" in err
    with_error = SPEC.replace(
        "      - {name: Purchase, events: [purchase]}",
        "      - {name: Purchase, events: [purchase]}\n"
        "      - {name: Card declined, events: [card_declined], kind: error}",
    )
    file.write_text(with_error, encoding="utf-8")
    assert jk("spec", "set", str(file), "-w", str(shop))[0] == 0
    code, out, err = jk("alerts", "-w", str(shop))
    assert code == 0, err
    assert "no alerts" in out
