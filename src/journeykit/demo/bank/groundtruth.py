"""The bank's ground_truth.json: each planted effect, where it is and how big it measured.

Same shape as the retailer's (:mod:`journeykit.demo.groundtruth`): ``name``,
``description``, ``where``, ``planted``, ``measured`` and ``definition`` per effect, then the
comment themes and the event counts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from journeykit.demo.bank import apply, arrival, products, service
from journeykit.demo.bank.comments import THEME_DESCRIPTIONS, THEMES
from journeykit.demo.bank.people import bug_weeks
from journeykit.demo.bank.truth import TOUCHPOINTS, UPLOAD_GROUPS
from journeykit.demo.bank.vocab import (
    ACQUISITION,
    BAD_BRANCH,
    BRANCHES,
    BROKEN_ANDROID,
    CAMPAIGNS,
    EVENTS,
)
from journeykit.demo.groundtruth import rate, week_ranges
from journeykit.demo.truth import Tally
from journeykit.demo.world import World, from_us


def document(world: World, tally: Tally, files: dict[str, Any]) -> dict[str, Any]:
    """The ground truth of one generated bank data set."""
    t = tally.get
    return {
        "generator": {
            "name": "journeykit.demo",
            "scenario": "bank",
            "seed": world.seed,
            "people": world.people,
            "days": world.days,
            "start": from_us(world.start_us).date().isoformat(),
            "end": world.end.isoformat(),
            "events": int(tally.events.sum()),
            "people_with_events": int(t("people_with_events")),
            "loans_signed": int(t("loans_signed")),
            "cards_opened": int(t("cards_opened")),
            "revenue": round(t("revenue"), 2),
            "currency": "EUR",
        },
        "files": files,
        "effects": [
            _reverify(t),
            _android(world, t),
            _calls(t),
            _branch(t),
            _cac(world, tally),
            _letters(t),
        ],
        "themes": _themes(t),
        "event_counts": {name: int(c) for name, c in zip(EVENTS, tally.events, strict=True)},
    }


def _mean(t: Any, key: str) -> dict[str, Any]:
    n = t(f"{key}.n")
    return {"answers": int(n), "mean_score": rate(t(f"{key}.score"), n)}


def _reverify(t: Any) -> dict[str, Any]:
    measured: dict[str, Any] = {}
    for g in ("on_file", "upload_required", "new_customer"):
        started, submitted, opened = (
            t(f"reverify.{g}.{k}") for k in ("started", "submitted", "opened")
        )
        measured[g] = {
            "applications": int(started),
            "submitted": int(submitted),
            "opened": int(opened),
            "completion": rate(opened, started),
            "ces": {
                **_mean(t, f"reverify_ces.{g}"),
                "comments": int(t(f"reverify_ces.{g}.comments")),
                "id_comments": int(t(f"reverify_ces.{g}.id_comments")),
            },
        }
    on, up = measured["on_file"]["completion"], measured["upload_required"]["completion"]
    measured["completion_drop"] = None if on is None or up is None else round(on - up, 6)
    return {
        "name": "existing_customer_id_reupload",
        "description": "Loan customers who apply for the credit card are recognised by their "
        "customer number, and most skip the photo ID check. Those whose ID on file cannot be "
        "used are asked to upload it again, and many of them give up; their CES is low and "
        "their comments are about the documents.",
        "where": {
            "stage": "verify",
            "events": ["card_application_started", "id_document_requested", "card_account_opened"],
            "touchpoint": "card_application_started",
            "filter": 'properties.customer_type == "existing"',
            "breakdown": "properties.id_check",
        },
        "planted": {
            "share_asked_again": service.REVERIFY,
            "upload_again_online": service.REVERIFY_UPLOAD,
            "upload_again_in_branch": service.REVERIFY_UPLOAD_BRANCH,
        },
        "measured": measured,
        "definition": "Card applications ('card_application_started'): existing customers "
        "split by properties.id_check (on_file, upload_required), and new customers; completion "
        "= applications with a 'card_account_opened' of the same application_id / "
        "applications (one application per person). CES: 'survey_completed' with survey 'ces' "
        "and touchpoint 'card_application_started', by its application_id.",
    }


def _android(world: World, t: Any) -> dict[str, Any]:
    groups = {}
    for g in UPLOAD_GROUPS:
        n, failed, up, sub = (
            t(f"upload.{g}.{k}") for k in ("requests", "failed", "uploaded", "submitted")
        )
        groups[g] = {
            "requests": int(n),
            "failed": int(failed),
            "uploaded": int(up),
            "submitted": int(sub),
            "failure_rate": rate(failed, n),
            "upload_rate": rate(up, n),
        }
    return {
        "name": "android_upload_failure",
        "description": f"Android app release {BROKEN_ANDROID} broke the photo ID upload for two "
        "weeks: most uploads in the Android app fail ('id_document_upload_failed', error "
        "upload_timeout), few succeed on a retry, and those applications are never submitted.",
        "where": {
            "stage": "verify",
            "events": [
                "id_document_requested",
                "id_document_upload_failed",
                "id_document_uploaded",
            ],
            "touchpoint": "id_document_requested",
            "channel": "app",
            "platform": "android",
            "app_version": BROKEN_ANDROID,
            "weeks": week_ranges(bug_weeks(world)),
        },
        "planted": {
            "failure_rate_broken": apply.FAIL_BROKEN,
            "retry_success_broken": apply.RETRY_BROKEN,
            "failure_rate_otherwise": apply.FAIL_BASE,
            "retry_success_otherwise": apply.RETRY_BASE,
        },
        "measured": groups,
        "definition": "Per 'id_document_requested' on the web or in the app (properties.platform "
        "and the week of ts): failed if an 'id_document_upload_failed' has its application_id, "
        "uploaded if an 'id_document_uploaded' has it, submitted if the application was.",
    }


def _calls(t: Any) -> dict[str, Any]:
    closure = {}
    for g in ("long_wait", "no_long_wait"):
        n, c = t(f"closure.{g}.people"), t(f"closure.{g}.closed")
        closure[g] = {"people": int(n), "closed": int(c), "closure_rate": rate(c, n)}
    return {
        "name": "long_call_waits",
        "description": f"A share of calls wait {service.LONG_WAIT_SECONDS} s or more for an "
        "agent. CSAT after those calls is low, with comments about the wait, and many of the "
        "callers ask to close their account within days.",
        "where": {
            "stage": "use",
            "events": ["call_centre_contacted", "account_closure_requested", "survey_completed"],
            "touchpoint": "call_centre_contacted",
            "channel": "phone",
            "long_wait_seconds": service.LONG_WAIT_SECONDS,
        },
        "planted": {
            "long_wait_share": service.LONG_WAIT,
            "closure_chance_after_long_wait": service.CLOSE_AFTER_LONG_WAIT,
            "closure_chance_otherwise": service.CLOSE_OTHERWISE,
        },
        "measured": {
            "calls_long": int(t("calls.long")),
            "calls_short": int(t("calls.short")),
            "csat_long_wait": _mean(t, "calls_csat.long"),
            "csat_short_wait": _mean(t, "calls_csat.short"),
            "closure": closure,
        },
        "definition": "CSAT: 'survey_completed' with survey 'csat' and touchpoint "
        "'call_centre_contacted', joined to the call by properties.call_id; long if "
        f"wait_seconds >= {service.LONG_WAIT_SECONDS}. Closure: people (true persons) with a "
        "'call_centre_contacted', split by whether any of their calls waited long; closed if "
        "they have an 'account_closure_requested' (always after a call).",
    }


def _branch(t: Any) -> dict[str, Any]:
    per = {}
    for code, (bid, town) in enumerate(BRANCHES):
        visits, started = t(f"branch.{code}.visits"), t(f"branch.{code}.started")
        per[bid] = {
            "town": town,
            "visits": int(visits),
            "mean_wait_minutes": rate(t(f"branch.{code}.wait"), visits),
            "csat": _mean(t, f"branch.{code}.csat"),
            "loan_applications": int(started),
            "submitted": int(t(f"branch.{code}.submitted")),
            "submit_rate": rate(t(f"branch.{code}.submitted"), started),
        }
    bad = BRANCHES[BAD_BRANCH][0]
    return {
        "name": "bad_branch",
        "description": f"Branch {bad} ({BRANCHES[BAD_BRANCH][1]}) keeps people waiting at the "
        "desk far longer than the others; CSAT after visits there is low (waits, rude staff) "
        "and fewer loan applications started there are submitted.",
        "where": {
            "stage": "apply",
            "events": ["branch_visited", "loan_application_started", "loan_application_submitted"],
            "touchpoint": "branch_visited",
            "channel": "branch",
            "branch_id": bad,
        },
        "planted": {
            "median_wait_minutes": arrival.WAIT_MEDIAN,
            "median_wait_minutes_bad_branch": arrival.WAIT_MEDIAN_BAD,
            "submit_chance": products.SUBMIT_BRANCH,
            "submit_chance_bad_branch": products.SUBMIT_BRANCH_BAD,
        },
        "measured": per,
        "definition": "Per properties.branch_id: 'branch_visited' rows and their "
        "properties.wait_seconds (in minutes here); CSAT: 'survey_completed' with survey 'csat' and touchpoint "
        "'branch_visited', joined by visit_id; loan applications: 'loan_application_started' "
        "with that branch_id, submitted if a 'loan_application_submitted' has its "
        "application_id.",
    }


def _cac(world: World, tally: Tally) -> dict[str, Any]:
    from journeykit.demo.dataset import spend_table

    spend = spend_table(world, tally.spend_clicks, CAMPAIGNS).to_pandas()
    by_channel = spend.groupby("channel")["amount"].sum()
    measured = {}
    for channel in (*ACQUISITION, "(none)"):
        paid = round(float(by_channel.get(channel, 0.0)), 2)
        n = int(tally.get(f"cac.{channel}.customers"))
        cac = rate(paid, n) if paid else None
        measured[channel] = {"spend": paid, "new_loan_customers": n, "cac": cac}
    cacs = [m["cac"] for c, m in measured.items() if c not in ("comparison", "(none)")]
    worst = max([c for c in cacs if c is not None] or [np.nan])
    return {
        "name": "comparison_site_cac",
        "description": "The comparison site sends loan seekers at a high price per click, and "
        "they shop around: fewer apply and fewer sign. Its cost per new loan customer is "
        "several times that of any other channel.",
        "where": {
            "stage": "discover",
            "events": ["comparison_site_referral", "loan_contract_signed"],
            "touchpoint": "comparison_site_referral",
            "channel": "comparison",
            "campaign": "loan_compare",
        },
        "planted": {
            "cost_per_click": {c[1]: c[3] for c in CAMPAIGNS},
            "start_chance": products.START_COMPARISON,
            "start_chance_otherwise": products.START_ONLINE,
            "submit_chance": products.SUBMIT_COMPARISON,
            "sign_factor": products.SIGN_COMPARISON,
        },
        "measured": {
            **measured,
            "cac_ratio_to_next_worst": rate(measured["comparison"]["cac"] or 0, worst),
        },
        "definition": "Spend: spend.parquet summed per channel. New loan customers: people "
        "(true persons) with a 'loan_contract_signed', credited to the channel of their first "
        "touch (their first event: ad, search result, social ad or comparison site; none for "
        "branch walk-ins), as `journeykit kpis` credits first touches.",
    }


def _letters(t: Any) -> dict[str, Any]:
    measured: dict[str, Any] = {}
    for g in ("email", "letter"):
        n, s = t(f"letters.{g}.approved"), t(f"letters.{g}.signed")
        measured[g] = {
            "approved": int(n),
            "signed": int(s),
            "sign_rate": rate(s, n),
            "mean_days_to_decision": rate(t(f"letters.{g}.decision_days"), n),
            "mean_days_to_sign": rate(t(f"letters.{g}.days"), s),
            "nps": {
                **_mean(t, f"letters_nps.{g}"),
                "comments": int(t(f"letters_nps.{g}.comments")),
                "letter_comments": int(t(f"letters_nps.{g}.letter_comments")),
            },
        }
    return {
        "name": "letters_slower_than_email",
        "description": "Applicants who asked for post get their loan decision days later "
        "than those told by e-mail; fewer of them sign, and their NPS comments complain about "
        "the letter.",
        "where": {
            "stage": "verify",
            "events": ["loan_decision_sent", "loan_contract_signed"],
            "touchpoint": "loan_decision_sent",
            "channel": ["letter", "email"],
        },
        "planted": {
            "sign_chance_email": products.SIGN_EMAIL,
            "sign_chance_letter": products.SIGN_LETTER,
        },
        "measured": measured,
        "definition": "Approved decisions ('loan_decision_sent' with properties.decision "
        "'approved') by channel; signed if a 'loan_contract_signed' has the application_id "
        "(one loan application per person); mean days from the submission to the decision "
        "(approved ones) and from the decision to the signature. NPS: "
        "'survey_completed' with survey 'nps' about 'loan_contract_signed', by the decision's "
        "channel of its application.",
    }


def _themes(t: Any) -> dict[str, Any]:
    totals = {tp: int(t(f"comments.{tp}")) for tp in TOUCHPOINTS}
    everything = sum(totals.values())
    out = []
    for name, pattern in THEMES.items():
        counts = {tp: int(t(f"theme.{name}.{tp}")) for tp in TOUCHPOINTS}
        n = sum(counts.values())
        out.append(
            {
                "theme": name,
                "description": THEME_DESCRIPTIONS[name],
                "pattern": pattern,
                "comments": n,
                "share": rate(n, everything),
                "touchpoints": {
                    tp: {"comments": k, "share": rate(k, totals[tp])} for tp, k in counts.items()
                },
            }
        )
    return {
        "comments": everything,
        "comments_by_touchpoint": totals,
        "definition": "Texts: properties.comment of 'survey_completed' by properties.touchpoint. "
        "A text has a theme when the theme's pattern (RE2) matches the lower-cased text.",
        "themes": out,
    }
