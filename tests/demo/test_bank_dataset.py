"""The demo bank's files: vocabulary, determinism, identities, and the loan customer's card."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from journeykit.demo import generate, scale_for_events
from journeykit.demo.bank.comments import BOOK, THEMES
from journeykit.demo.bank.vocab import CHANNELS, EVENTS, STAGES
from journeykit.errors import InputError

#: The channels each bank event may use.
EVENT_CHANNELS = {
    "ad_clicked": {"ads"},
    "search_result_clicked": {"search"},
    "social_ad_clicked": {"social"},
    "comparison_site_referral": {"comparison"},
    "session_started": {"web", "app"},
    "loan_calculator_used": {"web", "app"},
    "branch_appointment_booked": {"web", "app"},
    "branch_visited": {"branch"},
    "loan_application_started": {"web", "app", "branch"},
    "card_application_started": {"web", "app", "branch"},
    "id_document_requested": {"web", "app", "branch"},
    "id_document_upload_failed": {"web", "app"},
    "id_document_uploaded": {"web", "app", "branch"},
    "loan_application_submitted": {"web", "app", "branch"},
    "card_application_submitted": {"web", "app", "branch"},
    "loan_decision_sent": {"email", "letter"},
    "loan_contract_signed": {"web", "app", "branch"},
    "card_account_opened": {"web", "app", "branch"},
    "online_banking_enrolled": {"web", "app"},
    "app_login": {"web", "app"},
    "email_sent": {"email"},
    "email_opened": {"email"},
    "email_clicked": {"email"},
    "letter_sent": {"letter"},
    "call_centre_contacted": {"phone"},
    "account_closure_requested": {"phone", "letter"},
    "survey_completed": {"survey"},
    "referral_link_shared": {"web", "app"},
}


def _read(paths) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in paths])


def test_events_channels_and_values_are_the_bank_vocabulary(bank):
    rows = bank.rows("SELECT event, channel, type, count(*) FROM ev GROUP BY ALL")
    seen = set()
    for event, channel, kind, _n in rows:
        assert channel in EVENT_CHANNELS[event], (event, channel)
        assert kind == ("identify" if event == "online_banking_enrolled" else "track")
        seen.add(event)
    assert seen == set(EVENTS) == set(STAGES) == set(EVENT_CHANNELS)
    assert {c for _e, c, _k, _n in rows} <= set(CHANNELS)
    assert all(re.fullmatch(r"[a-z_]+", e) for e in EVENTS)  # snake_case, unlike the retailer
    (checks,) = bank.rows(
        """
        SELECT count(*) FILTER (WHERE NOT json_valid(properties)),
               count(*) FILTER (WHERE (revenue IS NOT NULL)
                   <> (event IN ('loan_contract_signed', 'card_account_opened'))),
               count(*) FILTER (WHERE revenue IS NOT NULL
                   AND revenue <> CAST(json_extract(properties, '$.revenue') AS DOUBLE)),
               count(*) FILTER (WHERE json_extract_string(properties, '$.currency')
                   NOT IN ('EUR')),
               count(*) FILTER (WHERE phone IS NOT NULL AND NOT starts_with(
                   regexp_replace(phone, '[^0-9+]', '', 'g'), '+3538')
                   AND NOT starts_with(phone, '00353')),
               min(ts) >= TIMESTAMP '2026-06-03', max(ts) < TIMESTAMP '2026-10-01'
        FROM ev
        """
    )
    assert checks == (0, 0, 0, 0, 0, True, True)


def test_same_seed_same_files_other_seed_other_data(bank, tmp_path):
    again = generate(tmp_path / "again", people=4000, seed=7, scenario="bank")
    assert Path(again.ground_truth).read_bytes() == Path(bank.files.ground_truth).read_bytes()
    assert _read(again.events).equals(_read(bank.files.events))
    assert pq.read_table(again.truth_people).equals(pq.read_table(bank.files.truth_people))
    assert pq.read_table(again.spend).equals(pq.read_table(bank.files.spend))
    other = generate(tmp_path / "other", people=4000, seed=8, scenario="bank")
    assert other.n_events != bank.files.n_events
    a = json.loads(Path(other.ground_truth).read_text())
    assert a["effects"] != bank.truth["effects"]
    assert a["generator"]["scenario"] == "bank" == bank.truth["generator"]["scenario"]


def test_sizes_and_scenario_arguments(bank, tmp_path):
    per_person = bank.files.n_events / bank.files.n_people
    assert 9 < per_person < 13
    assert abs(scale_for_events(1_000_000, scenario="bank") - 1_000_000 / 11.03) < 2
    with pytest.raises(InputError) as err:
        generate(tmp_path, people=10, scenario="insurer")  # type: ignore[arg-type]
    assert err.value.field == "scenario"


def test_every_row_maps_to_one_true_person(bank):
    (events, mapped, ambiguous, unknown) = bank.rows(
        "SELECT (SELECT count(*) FROM ev), count(*), count(*) FILTER (WHERE n_people <> 1), "
        "sum(unknown) FROM row_person"
    )[0]
    assert events == mapped and ambiguous == 0 and unknown == 0
    kinds = dict(bank.rows("SELECT split_part(identifier, ':', 1), count(*) FROM tp GROUP BY 1"))
    assert set(kinds) == {"user_id", "email", "phone", "crm_id", "device_id", "anonymous_id"}
    (crm,) = bank.rows("SELECT count(*) FROM tp WHERE identifier LIKE 'crm_id:CUST-%'")[0]
    assert crm > 1000


def test_the_loan_customer_applying_for_a_card_is_one_person_after_loading(bank, bank_ws):
    """A loan signed in a branch or online and a card applied for weeks later: one person."""
    cur = bank_ws.store.cursor()
    cur.register("truth", pq.read_table(bank.files.truth_people))
    (identities, matched, split, joined, people) = cur.execute(
        """
        SELECT (SELECT count(*) FROM identities),
               (SELECT count(*) FROM identities JOIN truth USING (identifier)),
               (SELECT count(*) FROM (SELECT person FROM identities JOIN truth USING (identifier)
                                      GROUP BY person HAVING count(DISTINCT person_id) > 1)),
               (SELECT count(*) FROM (SELECT person_id FROM identities JOIN truth USING (identifier)
                                      GROUP BY person_id HAVING count(DISTINCT person) > 1)),
               (SELECT count(DISTINCT person_id) FROM events)
        """
    ).fetchone()
    assert identities == matched == bank.files.n_identifiers
    assert split == 0 and joined == 0 and people == bank.files.n_people
    # the card application carries the customer number, not the identifiers of the loan
    rows = cur.execute(
        """
        WITH loan AS (SELECT person_id, min(ts) AS signed FROM events
                      WHERE event = 'loan_contract_signed' GROUP BY person_id),
             card AS (SELECT person_id, ts, crm_id, email, phone, anonymous_id FROM events
                      WHERE event = 'card_application_started'
                        AND json_extract_string(properties, '$.customer_type') = 'existing')
        SELECT count(*), count(loan.person_id), count(*) FILTER (WHERE card.ts > loan.signed),
               count(*) FILTER (WHERE crm_id IS NOT NULL AND email IS NULL)
        FROM card LEFT JOIN loan USING (person_id)
        """
    ).fetchone()
    cards, with_loan, after, by_number = rows
    assert cards > 100 and cards == with_loan == after == by_number
    # walk-ins who never go online are known by phone, e-mail and customer number only
    (offline,) = cur.execute(
        """
        SELECT count(*) FROM (SELECT person_id FROM identities GROUP BY person_id
        HAVING count(*) FILTER (WHERE identifier LIKE 'anonymous_id:%') = 0
           AND count(*) FILTER (WHERE identifier LIKE 'crm_id:%') = 1)
        """
    ).fetchone()
    assert offline > 50


def test_every_comment_core_matches_exactly_its_own_theme():
    for (theme, _sentiment), texts in zip(BOOK.sets, BOOK.cores, strict=True):
        for text in texts:
            hits = [name for name, pattern in THEMES.items() if re.search(pattern, text.lower())]
            assert hits == ([] if theme == "general" else [theme]), text
            assert json.dumps(text) == f'"{text}"'


def test_bank_comments_carry_the_themes_the_truth_counts(bank):
    themes = bank.truth["themes"]
    totals = dict(
        bank.rows(
            "SELECT json_extract_string(properties, '$.touchpoint'), count(*) FROM ev "
            "WHERE event = 'survey_completed' AND json_extract_string(properties, '$.comment') "
            "IS NOT NULL GROUP BY 1"
        )
    )
    assert totals == themes["comments_by_touchpoint"]
    for entry in themes["themes"]:
        counts = dict(
            bank.rows(
                "SELECT json_extract_string(properties, '$.touchpoint'), count(*) FROM ev "
                "WHERE event = 'survey_completed' AND regexp_matches(lower("
                "json_extract_string(properties, '$.comment')), ?) GROUP BY 1",
                [entry["pattern"]],
            )
        )
        for tp, got in entry["touchpoints"].items():
            assert got["comments"] == counts.get(tp, 0), (entry["theme"], tp)


def test_spend_is_daily_per_paid_campaign_in_eur(bank):
    rows = bank.rows(
        "SELECT channel, count(DISTINCT campaign), count(DISTINCT date), min(amount) > 0 "
        "FROM spend GROUP BY channel ORDER BY channel"
    )
    assert [r[0] for r in rows] == ["ads", "comparison", "search", "social"]
    assert all(r[2] == 120 and r[3] for r in rows)
    counts = dict(bank.rows("SELECT event, count(*) FROM ev GROUP BY event"))
    assert counts == {k: v for k, v in bank.truth["event_counts"].items() if v}


def test_the_shipped_bank_spec_covers_the_bank_vocabulary():
    from journeykit.journey.spec import demo_spec_path, load_spec

    spec = load_spec(demo_spec_path("bank"))
    listed = {e for tp in spec.all_touchpoints() for e in tp.events}
    assert listed == set(EVENTS)
    assert dict(spec.stage_of_event) == STAGES
    assert spec.stage_names == ("discover", "apply", "verify", "onboard", "use", "advocate")
    assert spec.conversion_events == ("loan_contract_signed", "card_account_opened")
    assert spec.currency_code == "EUR" and spec.currency_symbol == "€"
    assert spec.survey_events == ("survey_completed",)
    assert set(spec.contact_events) == {"call_centre_contacted", "branch_visited"}
    assert set(spec.touch_events) >= {"ad_clicked", "comparison_site_referral"}
    assert spec.events_named() <= set(EVENTS)
    with pytest.raises(InputError):
        demo_spec_path("insurer")


def _survey_sql(survey: str, touchpoint: str, ref: str) -> str:
    return f"""
        SELECT json_extract_string(properties, '$.{ref}') AS ref,
               CAST(json_extract(properties, '$.score') AS INTEGER) AS score,
               json_extract_string(properties, '$.comment') AS comment
        FROM ev WHERE event = 'survey_completed'
          AND json_extract_string(properties, '$.survey') = '{survey}'
          AND json_extract_string(properties, '$.touchpoint') = '{touchpoint}'
    """


def _close(got, want) -> bool:
    return got == pytest.approx(want, abs=2e-6)


def test_survey_figures_of_the_truth_recount_from_the_files(bank):
    """The ground truth's CSAT, CES and NPS figures, recounted with DuckDB from the events."""
    calls = bank.effect("long_call_waits")["measured"]
    rows = bank.rows(
        f"""
        WITH s AS ({_survey_sql("csat", "call_centre_contacted", "call_id")}),
        c AS (SELECT json_extract_string(properties, '$.call_id') AS ref,
                     CAST(json_extract(properties, '$.wait_seconds') AS INTEGER) AS wait
              FROM ev WHERE event = 'call_centre_contacted')
        SELECT wait >= 600, count(*), avg(score) FROM s JOIN c USING (ref) GROUP BY ALL
        """
    )
    assert len(rows) == 2
    for long, n, mean in rows:
        m = calls["csat_long_wait" if long else "csat_short_wait"]
        assert n == m["answers"] and _close(mean, m["mean_score"])

    branches = bank.effect("bad_branch")["measured"]
    rows = bank.rows(
        f"""
        WITH s AS ({_survey_sql("csat", "branch_visited", "visit_id")}),
        v AS (SELECT json_extract_string(properties, '$.visit_id') AS ref,
                     json_extract_string(properties, '$.branch_id') AS branch
              FROM ev WHERE event = 'branch_visited')
        SELECT branch, count(*), avg(score) FROM s JOIN v USING (ref) GROUP BY ALL
        """
    )
    assert {r[0] for r in rows} == set(branches)
    for branch, n, mean in rows:
        m = branches[branch]["csat"]
        assert n == m["answers"] and _close(mean, m["mean_score"])

    reverify = bank.effect("existing_customer_id_reupload")["measured"]
    rows = bank.rows(
        f"""
        WITH s AS ({_survey_sql("ces", "card_application_started", "application_id")}),
        a AS (SELECT json_extract_string(properties, '$.application_id') AS ref,
                     CASE WHEN json_extract_string(properties, '$.customer_type') = 'new'
                          THEN 'new_customer'
                          ELSE json_extract_string(properties, '$.id_check') END AS g
              FROM ev WHERE event = 'card_application_started')
        SELECT g, count(*), avg(score), count(comment),
               count(*) FILTER (WHERE regexp_matches(lower(comment), ?))
        FROM s JOIN a USING (ref) GROUP BY ALL
        """,
        [THEMES["id_documents"]],
    )
    assert len(rows) == 3
    for g, n, mean, comments, about_id in rows:
        m = reverify[g]["ces"]
        assert (n, comments, about_id) == (m["answers"], m["comments"], m["id_comments"])
        assert _close(mean, m["mean_score"])

    letters = bank.effect("letters_slower_than_email")["measured"]
    rows = bank.rows(
        f"""
        WITH s AS ({_survey_sql("nps", "loan_contract_signed", "application_id")}),
        d AS (SELECT json_extract_string(properties, '$.application_id') AS ref, channel
              FROM ev WHERE event = 'loan_decision_sent')
        SELECT channel, count(*), avg(score), count(comment),
               count(*) FILTER (WHERE regexp_matches(lower(comment), ?))
        FROM s JOIN d USING (ref) GROUP BY ALL
        """,
        [THEMES["letters"]],
    )
    assert len(rows) == 2
    for channel, n, mean, comments, about_letters in rows:
        m = letters[channel]["nps"]
        assert (n, comments, about_letters) == (m["answers"], m["comments"], m["letter_comments"])
        assert _close(mean, m["mean_score"])


def test_upload_figures_of_the_truth_recount_from_the_files(bank):
    effect = bank.effect("android_upload_failure")
    frame = pd.DataFrame(
        {
            "s": [datetime.fromisoformat(w["start"]) for w in effect["where"]["weeks"]],
            "e": [
                datetime.fromisoformat(w["end"]) + timedelta(days=1)
                for w in effect["where"]["weeks"]
            ],
        }
    )
    bank.con.register("bug_weeks", frame)
    rows = bank.rows(
        """
        WITH r AS (
          SELECT json_extract_string(properties, '$.application_id') AS ref,
                 json_extract_string(properties, '$.platform') = 'android' AS android,
                 EXISTS (SELECT 1 FROM bug_weeks w WHERE ev.ts >= w.s AND ev.ts < w.e) AS inw
          FROM ev WHERE event = 'id_document_requested' AND channel <> 'branch'),
        k AS (SELECT DISTINCT event, json_extract_string(properties, '$.application_id') AS ref
              FROM ev WHERE event IN ('id_document_upload_failed', 'id_document_uploaded',
                                      'loan_application_submitted', 'card_application_submitted'))
        SELECT android, inw, count(*),
               count(*) FILTER (WHERE ref IN (SELECT ref FROM k
                                              WHERE event = 'id_document_upload_failed')),
               count(*) FILTER (WHERE ref IN (SELECT ref FROM k
                                              WHERE event = 'id_document_uploaded')),
               count(*) FILTER (WHERE ref IN (SELECT ref FROM k
                                              WHERE event LIKE '%_application_submitted'))
        FROM r GROUP BY ALL
        """
    )
    assert len(rows) == 4
    for android, inw, n, failed, uploaded, submitted in rows:
        group = f"{'android' if android else 'others'}_{'in' if inw else 'other'}_weeks"
        m = effect["measured"][group]
        assert (n, failed, uploaded, submitted) == (
            m["requests"],
            m["failed"],
            m["uploaded"],
            m["submitted"],
        )


def test_a_short_window_still_holds_every_effect(tmp_path):
    files = generate(tmp_path, people=600, days=42, seed=3, scenario="bank")
    truth = json.loads(Path(files.ground_truth).read_text())
    assert truth["generator"]["start"] == "2026-08-20"
    assert len(truth["effects"]) == 6
    (week,) = next(e for e in truth["effects"] if e["name"] == "android_upload_failure")["where"][
        "weeks"
    ]
    assert week["start"] >= "2026-08-20" and week["end"] <= "2026-09-30"
    ts = pq.read_table(files.events[0], columns=["ts"]).column("ts").to_pylist()
    assert min(ts).date().isoformat() >= "2026-08-20" and max(ts).date().isoformat() <= "2026-09-30"


def test_app_versions_only_on_app_rows(bank):
    rows = dict(
        bank.rows(
            "SELECT channel, count(*) FILTER (WHERE json_extract_string(properties, "
            "'$.app_version') IS NOT NULL) FROM ev GROUP BY channel"
        )
    )
    assert rows["app"] > 0
    assert all(n == 0 for channel, n in rows.items() if channel != "app")
