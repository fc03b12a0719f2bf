"""`journeykit automations stats | preview | test-send` against real state, SMTP and HTTP."""

from __future__ import annotations

import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

from typer.testing import CliRunner

from journeykit.cli.main import app
from journeykit.orchestrate.clock import ManualClock
from journeykit.orchestrate.engine import Engine
from journeykit.orchestrate.loader import loads
from journeykit.orchestrate.runtime import unit_hash

sys.path.insert(0, str(Path(__file__).parents[1] / "orchestrate"))
from orchestrate_parts import Mailbox, Receiver, free_port

runner = CliRunner()

PROMO = """
id: promo
trigger: {event: Visit}
holdout: 0.3
goal: {event: Purchase, within: 7d}
steps:
  - split:
      - {name: a, share: 0.5, steps: [{id: tag-a, action: add_tag, tag: a}]}
      - {name: b, share: 0.5, steps: [{id: tag-b, action: add_tag, tag: b}]}
  - {id: pause, wait: 1d}
"""


def _promo_state(tmp_path: Path, people: int) -> str:
    url = f"sqlite:///{tmp_path / 'state.sqlite'}"
    clock = ManualClock(datetime(2026, 6, 1, 12))
    e = Engine(loads(PROMO), url, clock=clock)
    ids = [f"p{i}" for i in range(people)]
    e.handle_batch([{"event_id": f"v{p}", "person_id": p, "event": "Visit"} for p in ids])
    clock.advance(timedelta(hours=3))
    buyers = [p for p in ids if unit_hash("buy", p) < 0.3]
    e.handle_batch([{"event_id": f"b{p}", "person_id": p, "event": "Purchase"} for p in buyers])
    e.state.dispose()
    return url


def test_stats_labels_arms_names_the_interval_and_prints_the_funnel(tmp_path: Path) -> None:
    url = _promo_state(tmp_path, 600)
    result = runner.invoke(app, ["automations", "stats", "promo", "--state", url])
    assert result.exit_code == 0, result.output
    out = result.output
    for text in (
        "treatment (gets the journey)",
        "holdout (kept out, measured alike)",
        "split step1: arm a",
        "split step1: arm b",
        "Newcombe hybrid score interval (statsmodels)",
        "95% interval",
        "per step (treated people reaching each step)",
        "tag-a",
        "pause",
    ):
        assert text in out, text
    assert "Warning" not in out
    wald = runner.invoke(
        app,
        [
            "automations",
            "stats",
            "promo",
            "--state",
            url,
            "--method",
            "wald",
            "--confidence",
            "0.9",
        ],
    )
    assert wald.exit_code == 0 and "90% interval" in wald.output and "Wald" in wald.output


def test_stats_warns_when_an_arm_is_too_small(tmp_path: Path) -> None:
    url = _promo_state(tmp_path, 20)
    result = runner.invoke(app, ["automations", "stats", "promo", "--state", url])
    assert result.exit_code == 0, result.output
    assert "Warning: holdout has" in result.output and "too few to say anything" in result.output


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "journeykit.cli", *args], capture_output=True, text=True
    )


def test_stats_errors_are_one_line(tmp_path: Path) -> None:
    url = _promo_state(tmp_path, 5)
    proc = _cli("automations", "stats", "nope", "--state", url)
    assert proc.returncode == 1 and "Error: No automation 'nope'. Known: promo." in proc.stderr
    missing = tmp_path / "missing.sqlite"
    proc = _cli("automations", "stats", "promo", "--state", str(missing))
    assert proc.returncode == 1 and "Error: No orchestration state" in proc.stderr
    assert not missing.exists()
    proc = _cli("automations", "stats", "promo", "--state", url, "--method", "x")
    assert proc.returncode == 1 and "unknown method 'x'" in proc.stderr
    assert "Traceback" not in proc.stderr


CART = """
id: cart
trigger: {event: Checkout Started}
steps:
  - wait: 1h
  - id: mail
    action: email
    subject: "{{ traits.first_name or 'Hello' }}, {{ properties.value | currency('GBP') }} waiting"
    text: "{% for i in properties.lines %}{{ i }};{% endfor %}"
  - {id: hook, action: webhook, url: "http://127.0.0.1:9/cart", body: {v: "{{ properties.value }}"}}
"""


def _cart_state(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'cart.sqlite'}"
    e = Engine(loads(CART), url, clock=ManualClock(datetime(2026, 6, 1, 12)))
    e.handle(
        {
            "event_id": "c1",
            "person_id": "ann",
            "event": "Checkout Started",
            "properties": {"value": 42.5, "lines": ["mug", "tea"]},
            "traits": {"email": "ann@x.org", "first_name": "Ann"},
        }
    )
    e.state.dispose()
    return url


def test_preview_renders_every_message_for_a_person(tmp_path: Path) -> None:
    url = _cart_state(tmp_path)
    result = runner.invoke(
        app, ["automations", "preview", "cart", "--person", "ann", "--state", url]
    )
    assert result.exit_code == 0, result.output
    out = result.output
    assert "trigger 'Checkout Started'" in out
    assert "Subject: Ann, £42.50 waiting" in out and "mug;tea;" in out
    assert "POST http://127.0.0.1:9/cart" in out and '"v": 42.5' in out
    # the file may differ from what is registered: preview the edited version
    edited = tmp_path / "cart.yaml"
    edited.write_text(CART.replace("waiting", "still here"))
    result = runner.invoke(
        app,
        [
            "automations",
            "preview",
            "cart",
            "-p",
            "ann",
            "--state",
            url,
            "-f",
            str(edited),
            "--step",
            "mail",
        ],
    )
    assert result.exit_code == 0 and "£42.50 still here" in result.output
    assert "POST" not in result.output


def test_preview_from_the_workspace(tmp_path: Path) -> None:
    import journeykit
    from journeykit.ingest import load

    ws = journeykit.open(tmp_path / "ws")
    load(
        ws,
        [
            {"ts": "2026-05-01T10:00:00", "event": "Checkout Started", "user_id": "u1",
             "properties": {"value": 7}},
            {"ts": "2026-05-02T10:00:00", "event": "Checkout Started", "user_id": "u1",
             "properties": {"value": 9}},
        ],
    )  # fmt: skip
    ws.close()
    (tmp_path / "cart.yaml").write_text(CART)
    result = runner.invoke(
        app,
        [
            "automations",
            "preview",
            "cart",
            "-p",
            "u1",
            "-w",
            str(tmp_path / "ws"),
            "-f",
            str(tmp_path / "cart.yaml"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert '"v": 9' in result.output  # the latest checkout
    assert "no e-mail address" in result.output  # the person has no e-mail trait
    assert "Subject: Hello, £9.00 waiting" in result.output  # the content shows all the same


def test_test_send_reaches_real_smtp_and_http(tmp_path: Path) -> None:
    from aiosmtpd.controller import Controller

    url = _cart_state(tmp_path)
    box, port = Mailbox(), free_port()
    smtp = Controller(box, hostname="127.0.0.1", port=port)
    smtp.start()
    hook = Receiver()
    try:
        result = runner.invoke(
            app,
            ["automations", "test-send", "cart", "--to", "qa@bank.example", "-p", "ann",
             "--state", url, "--webhook-url", f"{hook.url}/test"],
            env={"JOURNEYKIT_ORCHESTRATE_SMTP_PORT": str(port)},
        )  # fmt: skip
    finally:
        smtp.stop()
        hook.close()
    assert result.exit_code == 0, result.output
    [mail] = box.messages
    assert mail["To"] == "qa@bank.example" and "[test]" in mail["Subject"]
    assert list(hook.bodies.values()) == [{"v": 42.5}] and list(hook.paths.values()) == ["/test"]
    assert "mail: sent to qa@bank.example" in result.output
    # nothing went into the outbox
    from orchestrate_helpers import outbox

    from journeykit.orchestrate.state import StateStore

    class _E:
        state = StateStore(url)

    assert outbox(_E()) == []


def test_suppress_from_the_command_line(tmp_path: Path) -> None:
    url = _cart_state(tmp_path)
    result = runner.invoke(
        app, ["automations", "suppress", "-p", "ann", "--reason", "erased", "--state", url]
    )
    assert result.exit_code == 0 and "suppressed on *" in result.output
    from journeykit.orchestrate.suppression import is_suppressed

    assert is_suppressed(url, person_id="ann") == "suppressed (person erased)"
    result = runner.invoke(
        app, ["automations", "suppress", "-p", "ann", "--remove", "--state", url]
    )
    assert result.exit_code == 0 and "removed 1 entry" in result.output
    assert is_suppressed(url, person_id="ann") is None
    result = runner.invoke(app, ["automations", "erase", "ann", "--state", url])
    assert result.exit_code == 0 and "profiles cleared: 1" in result.output
    assert is_suppressed(url, person_id="ann") == "suppressed (person erased)"


def test_validate_checks_names_against_the_workspace(tmp_path: Path) -> None:
    import journeykit
    from journeykit.errors import InvalidSpec
    from journeykit.ingest import load

    ws = journeykit.open(tmp_path / "ws")
    load(
        ws,
        [
            {"ts": "2026-05-01T10:00:00", "event": "Checkout Started", "user_id": "u1",
             "properties": {"value": 7, "lines": ["tea"]}},
            {"ts": "2026-05-01T11:00:00", "event": "Purchase", "user_id": "u1"},
        ],
    )  # fmt: skip
    ws.close()
    good = tmp_path / "good.yaml"
    good.write_text(CART.replace("Checkout Started}", "Checkout Started}\ngoal: {event: Purchase}"))
    result = runner.invoke(app, ["automations", "validate", str(good), "-w", str(tmp_path / "ws")])
    assert result.exit_code == 0, result.output
    assert "ok cart" in result.output and "warning" not in result.output
    typo = tmp_path / "typo.yaml"
    typo.write_text(
        CART.replace("Checkout Started", "Checkout Startd").replace("value |", "valeu |")
    )
    result = runner.invoke(app, ["automations", "validate", str(typo), "-w", str(tmp_path / "ws")])
    assert result.exit_code == 1 and isinstance(result.exception, InvalidSpec)
    assert (
        "error: automation 'cart', trigger.event: event 'Checkout Startd' matches no event in "
        "the workspace; did you mean 'Checkout Started'?" in result.output
    )
    # without a workspace only the file is checked
    assert runner.invoke(app, ["automations", "validate", str(typo)]).exit_code == 0


def test_forget_erases_the_person_from_the_orchestration_state_too(tmp_path: Path) -> None:
    import journeykit
    from journeykit.ingest import load
    from journeykit.ingest.identity import resolve
    from journeykit.orchestrate.suppression import is_suppressed

    folder = tmp_path / "ws"
    ws = journeykit.open(folder)
    load(ws, [{"ts": "2026-05-01T10:00:00", "event": "Visit", "email": "ann@x.org"}])
    pid = resolve(ws.store, "ann@x.org")
    ws.close()
    url = f"sqlite:///{folder / 'orchestrate.sqlite'}"
    e = Engine(loads(PROMO), url, clock=ManualClock(datetime(2026, 6, 1, 12)))
    e.handle({"event_id": "v1", "person_id": pid, "event": "Visit", "traits": {"name": "Ann"}})
    e.state.dispose()
    result = runner.invoke(app, ["forget", "ann@x.org", "-w", str(folder), "--yes"])
    assert result.exit_code == 0, result.output
    assert "orchestration state:" in result.output and "1 address(es)" in result.output
    assert is_suppressed(url, person_id=pid) == "suppressed (person erased)"
    assert is_suppressed(url, person_id="someone-else", address="ANN@x.org") is not None
    again = Engine(loads(PROMO), url, clock=ManualClock(datetime(2026, 6, 2)))
    assert set(again.profile(pid) or {}) == {"entries"}
