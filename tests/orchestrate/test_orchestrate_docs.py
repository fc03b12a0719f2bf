"""The YAML example in docs/orchestrate.md loads, validates and runs."""

from __future__ import annotations

import re
from pathlib import Path

from orchestrate_helpers import ev, journeys, outbox

from journeykit.orchestrate import Engine, validate_file
from journeykit.orchestrate.clock import ManualClock

DOC = Path(__file__).parents[2] / "docs" / "orchestrate.md"


def _example(tmp_path: Path) -> Path:
    block = re.search(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.DOTALL)
    assert block is not None
    path = tmp_path / "automations.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    return path


def test_the_documented_example_validates_and_runs(tmp_path: Path, clock: ManualClock) -> None:
    automations = validate_file(_example(tmp_path))
    assert [a.id for a in automations] == [
        "card-application",
        "winback",
        "ios-payment-incident",
        "monday-digest",
    ]
    e = Engine(automations, "sqlite://", clock=clock)
    held = [p for p in ("ann", "bob", "cy", "di", "ed") if not _held(e, p)]
    e.handle_batch(
        [
            ev(p, "Loan Opened", traits={"first_name": p.title(), "email": f"{p}@x.org"})
            for p in held[:2]
        ]
        + [ev(p, "Credit Card Application Started", channel="web") for p in held[:3]]
    )
    steps = {(m["person_id"], m["step_id"]) for m in outbox(e)}
    assert {(held[0], "rm-task"), (held[1], "rm-task"), (held[2], "kyc-check")} <= steps
    assert all(j["status"] == "waiting" for j in journeys(e))


def _held(e: Engine, person: str) -> bool:
    from journeykit.orchestrate.runtime import unit_hash

    return (
        unit_hash("holdout", "card-application", person)
        < e.compiled["card-application"].spec.holdout
    )
