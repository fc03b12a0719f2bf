"""Every planted effect, recomputed from the Parquet files with DuckDB, against ground_truth.json.

The ground truth is measured by the generator in numpy as it writes; these queries measure
the same things independently from the files (through truth_people for "who is who"). Then
each effect must be there at a size worth finding.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pandas as pd
import pytest

from journeykit.demo.comments import THEMES

NPS_ABOUT_WEB_ORDERS = """
WITH nps AS (
  SELECT json_extract_string(properties, '$.order_id') AS oid,
         CAST(json_extract(properties, '$.score') AS INTEGER) AS score,
         json_extract_string(properties, '$.comment') AS comment
  FROM ev
  WHERE event = 'Survey Answered' AND json_extract_string(properties, '$.survey') = 'nps'
    AND json_extract_string(properties, '$.touchpoint') = 'Order Completed'),
web AS (
  SELECT json_extract_string(properties, '$.order_id') AS oid, ts
  FROM ev WHERE event = 'Order Completed' AND channel IN ('web', 'app')),
failed AS (
  SELECT DISTINCT json_extract_string(properties, '$.order_id') AS oid
  FROM ev WHERE event = 'Payment Failed')
"""


def close(a, b):
    """Counts equal; rates equal to the 6 decimals the ground truth keeps."""
    if b is None:
        return a is None
    return a == pytest.approx(b, abs=2e-6, rel=1e-9)


def _weeks(demo, name: str, table: str) -> None:
    weeks = demo.effect(name)["where"]["weeks"]
    frame = pd.DataFrame(
        {
            "s": [datetime.fromisoformat(w["start"]) for w in weeks],
            "e": [datetime.fromisoformat(w["end"]) + timedelta(days=1) for w in weeks],
        }
    )
    demo.con.register(table, frame)


def _end(demo) -> datetime:
    end = date.fromisoformat(demo.truth["generator"]["end"])
    return datetime(end.year, end.month, end.day) + timedelta(days=1)


def test_ios_payment_failure(demo):
    _weeks(demo, "ios_payment_failure", "ios_weeks")
    rows = demo.rows(
        """
        WITH ck AS (
          SELECT json_extract_string(properties, '$.order_id') AS oid,
                 json_extract_string(properties, '$.platform') = 'ios' AS ios,
                 EXISTS (SELECT 1 FROM ios_weeks w WHERE ev.ts >= w.s AND ev.ts < w.e) AS inw
          FROM ev WHERE event = 'Checkout Started'),
        done AS (SELECT json_extract_string(properties, '$.order_id') AS oid
                 FROM ev WHERE event = 'Order Completed'),
        failed AS (SELECT json_extract_string(properties, '$.order_id') AS oid
                   FROM ev WHERE event = 'Payment Failed')
        SELECT ios, inw, count(*),
               count(*) FILTER (WHERE oid IN (SELECT oid FROM done)),
               count(*) FILTER (WHERE oid IN (SELECT oid FROM failed))
        FROM ck GROUP BY ALL
        """
    )
    measured = demo.effect("ios_payment_failure")["measured"]
    names = {
        (True, True): "ios_in_weeks",
        (True, False): "ios_other_weeks",
        (False, True): "others_in_weeks",
        (False, False): "others_other_weeks",
    }
    assert len(rows) == 4
    for ios, inw, checkouts, orders, failed in rows:
        m = measured[names[(ios, inw)]]
        assert (checkouts, orders, failed) == (m["checkouts"], m["orders"], m["payment_failed"])
        assert close(orders / checkouts, m["conversion"])
        assert close(failed / checkouts, m["payment_failed_rate"])

    nps = demo.rows(
        NPS_ABOUT_WEB_ORDERS
        + """
        SELECT oid IN (SELECT oid FROM failed) AS f, count(*), avg(score), count(comment),
               count(*) FILTER (WHERE regexp_matches(lower(comment), ?))
        FROM nps JOIN web USING (oid) GROUP BY ALL
        """,
        [THEMES["payment"]],
    )
    for failed, n, mean, comments, payment in nps:
        m = measured["nps_after_failed_payment" if failed else "nps_other_online_orders"]
        assert (n, comments, payment) == (m["answers"], m["comments"], m["payment_comments"])
        assert close(mean, m["mean_score"])

    # the effect is there, strongly, on iOS in those weeks only
    ios, rest = measured["ios_in_weeks"], measured["ios_other_weeks"]
    others = measured["others_in_weeks"]
    assert ios["conversion"] < 0.7 * rest["conversion"]
    assert ios["conversion"] < 0.7 * others["conversion"]
    assert abs(others["conversion"] - measured["others_other_weeks"]["conversion"]) < 0.08
    assert ios["payment_failed_rate"] > 0.4 > 0.05 > rest["payment_failed_rate"]
    assert measured["conversion_drop_ios"] == pytest.approx(
        rest["conversion"] - ios["conversion"], abs=2e-6
    )
    after, other = measured["nps_after_failed_payment"], measured["nps_other_online_orders"]
    assert after["mean_score"] < other["mean_score"] - 2
    assert after["payment_comment_share"] > 0.5 > 0.01 >= other["payment_comment_share"]


def test_long_chat_waits(demo):
    measured = demo.effect("long_chat_waits")["measured"]
    rows = demo.rows(
        """
        WITH chats AS (
          SELECT json_extract_string(properties, '$.chat_id') AS cid,
                 CAST(json_extract(properties, '$.wait_seconds') AS INTEGER) AS wait
          FROM ev WHERE event = 'Chat Started'),
        csat AS (
          SELECT json_extract_string(properties, '$.chat_id') AS cid,
                 CAST(json_extract(properties, '$.score') AS INTEGER) AS score
          FROM ev WHERE event = 'Survey Answered'
            AND json_extract_string(properties, '$.survey') = 'csat'
            AND json_extract_string(properties, '$.touchpoint') = 'Chat Ended')
        SELECT wait >= 300, count(*), avg(score) FROM csat JOIN chats USING (cid) GROUP BY ALL
        """
    )
    for long, n, mean in rows:
        m = measured["csat_long_wait" if long else "csat_short_wait"]
        assert n == m["answers"] and close(mean, m["mean_score"])

    end = _end(demo)
    rows = demo.rows(
        """
        WITH c AS (
          SELECT person, ts, CAST(json_extract(properties, '$.wait_seconds') AS INTEGER) AS wait,
                 row_number() OVER (PARTITION BY person ORDER BY ts, event_id) AS k
          FROM ev JOIN row_person USING (event_id) WHERE event = 'Chat Started'),
        active AS (
          SELECT DISTINCT person FROM ev JOIN row_person USING (event_id)
          WHERE event <> 'Email Sent' AND ts >= ?)
        SELECT wait >= 300, count(*),
               count(*) FILTER (WHERE person NOT IN (SELECT person FROM active))
        FROM c WHERE k = 1 AND ts < ? GROUP BY ALL
        """,
        [end - timedelta(days=30), end - timedelta(days=45)],
    )
    for long, n, churned in rows:
        m = measured["churn_long_first_wait" if long else "churn_short_first_wait"]
        assert (n, churned) == (m["people"], m["churned"])
        assert close(churned / n, m["churn_rate"])

    assert measured["csat_long_wait"]["mean_score"] < measured["csat_short_wait"]["mean_score"] - 1
    long_churn = measured["churn_long_first_wait"]["churn_rate"]
    assert long_churn > measured["churn_short_first_wait"]["churn_rate"] + 0.1


@pytest.fixture(scope="module")
def per_person(demo):
    demo.con.execute(
        """
        CREATE OR REPLACE TABLE pp AS
        SELECT person,
          count(*) FILTER (WHERE event = 'Signed Up') > 0 AS signed,
          count(*) FILTER (WHERE event = 'Order Completed') AS orders,
          coalesce(sum(revenue) FILTER (WHERE event = 'Order Completed'), 0) AS revenue,
          count(*) FILTER (WHERE event = 'Email Sent'
            AND json_extract_string(properties, '$.campaign') = 'welcome') > 0 AS welcomed,
          count(*) FILTER (WHERE event = 'Referral Link Clicked') > 0 AS referred,
          count(*) FILTER (WHERE event = 'Store Visited') > 0 AS store,
          count(*) FILTER (WHERE event = 'Session Started') > 0 AS web
        FROM ev JOIN row_person USING (event_id) GROUP BY person
        """
    )
    return demo


def test_welcome_email(per_person):
    demo = per_person
    measured = demo.effect("welcome_email")["measured"]
    rows = demo.rows(
        "SELECT welcomed, count(*), count(*) FILTER (WHERE orders >= 2) FROM pp "
        "WHERE signed AND orders >= 1 GROUP BY ALL"
    )
    for welcomed, n, repeat in rows:
        m = measured["welcome" if welcomed else "no_welcome"]
        assert (n, repeat) == (m["customers"], m["repeat_customers"])
        assert close(repeat / n, m["second_purchase_rate"])
    yes, no = measured["welcome"], measured["no_welcome"]
    assert yes["second_purchase_rate"] > no["second_purchase_rate"] + 0.04
    assert close(yes["second_purchase_rate"] - no["second_purchase_rate"], measured["lift"])
    # random assignment: about the planted share of customers got it
    share = yes["customers"] / (yes["customers"] + no["customers"])
    assert 0.5 < share < 0.75


def test_referred_customers_value(per_person):
    demo = per_person
    measured = demo.effect("referred_customers_value")["measured"]
    rows = demo.rows(
        "SELECT referred, count(*), sum(orders), sum(revenue) FROM pp WHERE orders >= 1 "
        "GROUP BY ALL"
    )
    for referred, n, orders, revenue in rows:
        m = measured["referred" if referred else "not_referred"]
        assert (n, orders) == (m["customers"], m["orders"])
        assert revenue == pytest.approx(m["revenue"], abs=0.01)
        assert close(revenue / orders, m["aov"])
        assert close(revenue / n, m["revenue_per_customer"])
    assert measured["aov_ratio"] > 1.2
    assert measured["revenue_per_customer_ratio"] > 1.2


def test_store_plus_online(per_person):
    demo = per_person
    measured = demo.effect("store_plus_online")["measured"]
    rows = demo.rows(
        """
        SELECT CASE WHEN store AND web THEN 'store_and_online' WHEN web THEN 'online_only'
                    ELSE 'store_only' END AS g,
               count(*), count(*) FILTER (WHERE orders >= 1), count(*) FILTER (WHERE orders >= 2)
        FROM pp WHERE store OR web GROUP BY ALL
        """
    )
    assert len(rows) == 3
    for g, n, customers, repeat in rows:
        m = measured[g]
        assert (n, customers, repeat) == (m["people"], m["customers"], m["repeat_customers"])
        assert close(customers / n, m["conversion"]) and close(repeat / customers, m["repeat_rate"])
    both, web = measured["store_and_online"], measured["online_only"]
    assert both["conversion"] > web["conversion"] + 0.3
    assert both["repeat_rate"] > web["repeat_rate"] + 0.15
    assert both["repeat_rate"] > measured["store_only"]["repeat_rate"] + 0.05


def test_delivery_delays(demo):
    _weeks(demo, "delivery_delays", "carrier_weeks")
    measured = demo.effect("delivery_delays")["measured"]
    pattern = THEMES["delivery_delay"]
    rows = demo.rows(
        NPS_ABOUT_WEB_ORDERS
        + """
        SELECT EXISTS (SELECT 1 FROM carrier_weeks w WHERE web.ts >= w.s AND web.ts < w.e),
               count(*), count(*) FILTER (WHERE regexp_matches(lower(comment), ?))
        FROM nps JOIN web USING (oid) WHERE comment IS NOT NULL GROUP BY ALL
        """,
        [pattern],
    )
    for inw, n, late in rows:
        m = measured["nps_comments_orders_in_weeks" if inw else "nps_comments_orders_other_weeks"]
        assert (n, late) == (m["comments"], m["delivery_comments"])
    rows = demo.rows(
        NPS_ABOUT_WEB_ORDERS
        + """
        SELECT regexp_matches(lower(comment), ?), count(*), avg(score)
        FROM nps JOIN web USING (oid) WHERE comment IS NOT NULL GROUP BY ALL
        """,
        [pattern],
    )
    for late, n, mean in rows:
        m = measured["nps_with_delivery_comment" if late else "nps_with_other_comment"]
        assert n == m["answers"] and close(mean, m["mean_score"])
    inw, other = (
        measured["nps_comments_orders_in_weeks"],
        measured["nps_comments_orders_other_weeks"],
    )
    assert inw["delivery_share"] > 3 * other["delivery_share"]
    assert inw["delivery_share"] > 0.15
    with_late = measured["nps_with_delivery_comment"]["mean_score"]
    assert with_late < measured["nps_with_other_comment"]["mean_score"] - 2


def test_comment_themes(demo):
    themes = demo.truth["themes"]
    assert themes["mismatched"] == 0
    texts = """
        WITH t AS (
          SELECT json_extract_string(properties, '$.touchpoint') AS tp,
                 json_extract_string(properties, '$.comment') AS text
          FROM ev WHERE event = 'Survey Answered'
          UNION ALL
          SELECT 'Review Posted', json_extract_string(properties, '$.text')
          FROM ev WHERE event = 'Review Posted')
    """
    totals = dict(
        demo.rows(texts + "SELECT tp, count(*) FROM t WHERE text IS NOT NULL GROUP BY tp")
    )
    assert totals == themes["comments_by_touchpoint"]
    assert sum(totals.values()) == themes["comments"]
    for entry in themes["themes"]:
        assert entry["pattern"] == THEMES[entry["theme"]]
        counts = dict(
            demo.rows(
                texts
                + "SELECT tp, count(*) FROM t WHERE regexp_matches(lower(text), ?) GROUP BY tp",
                [entry["pattern"]],
            )
        )
        for tp, got in entry["touchpoints"].items():
            assert got["comments"] == counts.get(tp, 0), (entry["theme"], tp)
            assert close(got["comments"] / totals[tp], got["share"])
    # one theme per text at most
    matches = " + ".join(
        f"CAST(regexp_matches(lower(text), ${i + 1}) AS INTEGER)" for i in range(len(THEMES))
    )
    (multi,) = demo.rows(
        texts + f"SELECT count(*) FROM t WHERE {matches} > 1", list(THEMES.values())
    )[0]
    assert multi == 0
    by_theme = {t["theme"]: t["touchpoints"] for t in themes["themes"]}
    assert by_theme["payment"]["Order Completed"]["comments"] > 0
    assert by_theme["payment"]["Chat Ended"]["comments"] > 0
    assert by_theme["wait_times"]["Chat Ended"]["share"] > 0.05
    assert by_theme["delivery_delay"]["Order Completed"]["comments"] > 0
    assert by_theme["friendly_staff"]["Order Completed"]["comments"] > 0


def test_counts_match_the_files(demo):
    counts = dict(demo.rows("SELECT event, count(*) FROM ev GROUP BY event"))
    assert counts == {k: v for k, v in demo.truth["event_counts"].items() if v}
    gen = demo.truth["generator"]
    (orders, revenue) = demo.rows(
        "SELECT count(*), sum(revenue) FROM ev WHERE event = 'Order Completed'"
    )[0]
    assert orders == gen["orders"] and revenue == pytest.approx(gen["revenue"], abs=0.01)
    assert gen["people_with_events"] == demo.rows("SELECT count(DISTINCT person) FROM tp")[0][0]
    assert demo.truth["files"]["events"] == [p.name for p in demo.files.events]
