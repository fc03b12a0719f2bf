"""Every effect planted in the demo bank, found through journeykit's public analytics.

The bank is loaded into a workspace (4,000 people); funnels, breakdowns, KPIs, the voice of
the customer and the journey map must find each planted effect where ground_truth.json says it is, at the size it measured.
The generator counts per application or call; each funnel below has one unit per person, and
the bank gives each person at most one application of a kind, so the counts agree exactly.
"""

from __future__ import annotations

import statistics
from datetime import date, timedelta
from typing import Any

import pytest

from journeykit.analytics import Step, funnel, kpis

LONG = "properties.wait_seconds >= 600"


def _effect(bank, name: str) -> dict[str, Any]:
    return bank.effect(name)


def _by(result, column: str) -> dict[str, Any]:
    return {row[column]: row for row in result.overall.to_dict("records")}


def test_existing_customers_asked_for_id_again_drop_off(bank, bank_ws):
    measured = _effect(bank, "existing_customer_id_reupload")["measured"]
    existing = Step("card_application_started", where='properties.customer_type == "existing"')
    groups = _by(
        funnel(bank_ws, [existing, "card_account_opened"], by="properties.id_check"),
        "properties.id_check",
    )
    assert set(groups) == {"on_file", "upload_required"}
    for name, row in groups.items():
        m = measured[name]
        assert (row["entered"], row["converted"]) == (m["applications"], m["opened"])
        assert row["conversion"] == pytest.approx(m["completion"], abs=1e-6)
    assert groups["upload_required"]["conversion"] < groups["on_file"]["conversion"] - 0.25
    # the drop is at the photo ID step: of those asked again, few upload it
    asked = _by(
        funnel(
            bank_ws,
            [
                Step("card_application_started", where='properties.id_check == "upload_required"'),
                Step("id_document_requested", where='properties.application == "card"'),
                "id_document_uploaded",
            ],
            segment='count(event == "loan_contract_signed") >= 1',
        ),
        "entered",
    )
    (row,) = asked.values()
    assert row["conversion"] < 0.7
    # CES says the same: far lower when asked again, and the comments are about the ID
    ces = measured["upload_required"]["ces"], measured["on_file"]["ces"]
    assert ces[0]["mean_score"] < ces[1]["mean_score"] - 1.5
    assert ces[0]["id_comments"] > 0.5 * ces[0]["comments"] and ces[1]["id_comments"] == 0


def test_android_uploads_fail_in_the_broken_release_weeks(bank, bank_ws):
    effect = _effect(bank, "android_upload_failure")
    weeks = {w["start"] for w in effect["where"]["weeks"]}
    android = Step("id_document_requested", where='properties.platform == "android"')
    by_week = _by(funnel(bank_ws, [android, "id_document_uploaded"], by="week"), "week")
    broken = {str(k.date() if hasattr(k, "date") else k)[:10]: v for k, v in by_week.items()}
    assert weeks <= set(broken)
    inside = [broken[w]["conversion"] for w in weeks]
    outside = [v["conversion"] for k, v in broken.items() if k not in weeks and v["entered"] >= 10]
    assert max(inside) < 0.6
    assert min(outside) > max(inside) + 0.1
    assert statistics.median(outside) > 0.85
    # by release: 7.4.0 on Android is the broken one
    version = _by(
        funnel(bank_ws, [android, "id_document_uploaded"], by="properties.app_version"),
        "properties.app_version",
    )
    assert version["7.4.0"]["conversion"] < 0.6
    assert version["7.3.2"]["conversion"] > 0.8 and version["7.4.1"]["conversion"] > 0.8
    m = effect["measured"]
    assert m["android_in_weeks"]["failure_rate"] > 0.5 > 0.06 > m["others_in_weeks"]["failure_rate"]


def test_long_call_waits_lead_to_closures(bank, bank_ws):
    measured = _effect(bank, "long_call_waits")["measured"]
    call = 'count(event == "call_centre_contacted" and {}) {}'
    groups = _by(
        funnel(
            bank_ws,
            ["call_centre_contacted", "account_closure_requested"],
            by={"long_wait": call.format(LONG, ">= 1"), "no_long_wait": call.format(LONG, "== 0")},
        ),
        "segment",
    )
    for name, row in groups.items():
        m = measured["closure"][name]
        assert (row["entered"], row["converted"]) == (m["people"], m["closed"])
    assert groups["long_wait"]["conversion"] > groups["no_long_wait"]["conversion"] + 0.2
    csat = measured["csat_long_wait"], measured["csat_short_wait"]
    assert csat[0]["mean_score"] < csat[1]["mean_score"] - 1.2


def test_the_bad_branch_loses_applications(bank, bank_ws):
    measured = _effect(bank, "bad_branch")["measured"]
    at_branch = Step("loan_application_started", where='channel == "branch"')
    groups = _by(
        funnel(bank_ws, [at_branch, "loan_application_submitted"], by="properties.branch_id"),
        "properties.branch_id",
    )
    assert set(groups) == set(measured)
    for branch, row in groups.items():
        assert (row["entered"], row["converted"]) == (
            measured[branch]["loan_applications"],
            measured[branch]["submitted"],
        )
    worst = min(groups, key=lambda b: groups[b]["conversion"])
    assert worst == "B05"
    others = [r["conversion"] for b, r in groups.items() if b != "B05"]
    assert groups["B05"]["conversion"] < min(others) - 0.15
    assert (
        measured["B05"]["csat"]["mean_score"]
        < min(m["csat"]["mean_score"] for b, m in measured.items() if b != "B05") - 1
    )


def test_the_comparison_site_has_the_highest_cac(bank, bank_ws):
    measured = _effect(bank, "comparison_site_cac")["measured"]
    cac = kpis(bank_ws, purchase_event="loan_contract_signed").cac.set_index("channel")
    for channel in ("ads", "search", "social", "comparison"):
        assert cac.loc[channel, "new_customers"] == measured[channel]["new_loan_customers"]
        assert cac.loc[channel, "spend"] == pytest.approx(measured[channel]["spend"], abs=0.01)
        assert cac.loc[channel, "cac"] == pytest.approx(measured[channel]["cac"], rel=1e-6)
    paid = cac.drop(index="(none)", errors="ignore")
    assert paid["cac"].idxmax() == "comparison"
    assert paid.loc["comparison", "cac"] > 3 * paid.drop(index="comparison")["cac"].max()


def test_decisions_by_letter_are_signed_less_and_later(bank, bank_ws):
    measured = _effect(bank, "letters_slower_than_email")["measured"]
    approved = Step("loan_decision_sent", where='properties.decision == "approved"')
    groups = _by(funnel(bank_ws, [approved, "loan_contract_signed"], by="channel"), "channel")
    for channel in ("email", "letter"):
        row, m = groups[channel], measured[channel]
        assert (row["entered"], row["converted"]) == (m["approved"], m["signed"])
    assert groups["letter"]["conversion"] < groups["email"]["conversion"] - 0.2
    assert groups["letter"]["median_seconds"] > groups["email"]["median_seconds"]
    assert (
        measured["letter"]["mean_days_to_decision"] > 2 > measured["email"]["mean_days_to_decision"]
    )
    nps = measured["letter"]["nps"], measured["email"]["nps"]
    assert nps[0]["mean_score"] < nps[1]["mean_score"] - 1
    assert nps[0]["letter_comments"] > 0.3 * nps[0]["comments"] and nps[1]["letter_comments"] == 0


@pytest.mark.slow
def test_the_journey_map_finds_the_planted_problems(bank, bank_ws):
    """Under the shipped bank spec, the map's top pain points are the planted problems."""
    from journeykit.journey.model import build_map
    from journeykit.journey.spec import demo_spec_path

    jm = build_map(bank_ws, demo_spec_path("bank"), replicates=30)
    assert jm.spec.currency_symbol == "€"
    top = list(jm.pains[:6])
    found = {(p.kind, p.touchpoint, p.segment) for p in top}
    # the broken Android release, in its weeks
    upload = next(p for p in top if p.touchpoint == "Photo ID upload failure")
    assert dict(upload.segment).get("platform") == "android"
    weeks = _effect(bank, "android_upload_failure")["where"]["weeks"]
    planted = {date.fromisoformat(w["start"]) for w in weeks}
    seen = {date.fromisoformat(w) for w in upload.weeks}
    assert seen and all(any(abs(s - p) <= timedelta(days=7) for p in planted) for s in seen)
    # the bad branch, and the long waits on the phone and at the desk
    assert ("segment", "Branch visit", (("branch_id", "B05"),)) in found
    assert ("long_waits", "Call centre", ()) in found
    # letters: the map suggests doing more of what e-mail decisions do
    opportunities = {(o.kind, o.touchpoint, o.segment) for o in jm.opportunities}
    assert ("amplify", "Loan decision", (("channel", "email"),)) in opportunities
    touchpoints = jm.touchpoints
    everyone = touchpoints[(touchpoints.persona == "All people") & (touchpoints.period == "all")]
    calls = everyone.set_index("touchpoint").loc["Call centre"]
    assert calls.answers > 0 and calls.median_wait > 0


@pytest.fixture(scope="module")
def answers(bank_ws):
    from journeykit import voc

    return voc.survey_responses(bank_ws, surveys=["nps", "csat", "ces"])


def _keywords_of_low_scores(answers, touchpoint: str, survey: str, low: float) -> set[str]:
    from journeykit import voc

    rows = answers[
        (answers.touchpoint == touchpoint) & (answers.survey == survey) & (answers.score <= low)
    ].dropna(subset=["comment"])
    found = voc.find_themes(rows["comment"], seed=0)
    top = found.themes.sort_values("n", ascending=False).iloc[0]
    return set(top["keywords"])


@pytest.mark.slow
def test_voc_links_every_answer_to_its_touchpoint(bank, answers):
    """The spec's survey event is read with its score and comment fields, each answer at the
    touchpoint it names, in the numbers the ground truth counts."""
    assert set(answers.link) == {"named"}
    count = answers.groupby(["survey", "touchpoint"]).size().to_dict()
    calls = _effect(bank, "long_call_waits")["measured"]
    assert count[("csat", "call_centre_contacted")] == (
        calls["csat_long_wait"]["answers"] + calls["csat_short_wait"]["answers"]
    )
    branches = _effect(bank, "bad_branch")["measured"]
    assert count[("csat", "branch_visited")] == sum(m["csat"]["answers"] for m in branches.values())
    cards = _effect(bank, "existing_customer_id_reupload")["measured"]
    assert count[("ces", "card_application_started")] == sum(
        cards[g]["ces"]["answers"] for g in ("on_file", "upload_required", "new_customer")
    )
    letters = _effect(bank, "letters_slower_than_email")["measured"]
    assert count[("nps", "loan_contract_signed")] == (
        letters["email"]["nps"]["answers"] + letters["letter"]["nps"]["answers"]
    )


@pytest.mark.slow
def test_voc_themes_of_unhappy_answers_name_the_planted_causes(answers):
    """What low scorers write about: the photo ID at card applications, the wait on the phone."""
    words = _keywords_of_low_scores(answers, "card_application_started", "ces", 3)
    assert words & {"id", "passport", "documents", "photo", "upload", "scan"}, words
    words = _keywords_of_low_scores(answers, "call_centre_contacted", "csat", 2)
    assert words & {"hold", "queue", "minutes", "waited", "wait"}, words
