"""Searching a person by any identifier shows their merged, cross-channel timeline."""

from __future__ import annotations

import pytest
from dashboard_helpers import Served, Tab, read_table

from journeykit.ingest import timeline

pytestmark = pytest.mark.browser


def _stitched_person(ws: object) -> tuple[str, str, str]:
    """A person whose events came under several identifiers: (person, phone, e-mail).

    The phone is seen only on store events, so finding the web events by it proves the merge.
    """
    row = ws.store.fetchall(  # type: ignore[attr-defined]
        """
        SELECT i.person_id, any_value(i.value) FILTER (WHERE i.kind = 'phone'),
               any_value(i.value) FILTER (WHERE i.kind = 'email')
        FROM identities i JOIN people p USING (person_id)
        GROUP BY i.person_id, p.n_events
        HAVING count(DISTINCT i.kind) >= 3
           AND count(*) FILTER (WHERE i.kind = 'phone') = 1
           AND count(*) FILTER (WHERE i.kind = 'email') = 1
        ORDER BY p.n_events DESC, i.person_id LIMIT 1
        """
    )[0]
    return str(row[0]), str(row[1]), str(row[2])


def test_search_by_phone_shows_the_merged_timeline(tab: Tab, dashboard: Served) -> None:
    person, phone, email = _stitched_person(dashboard.ws)
    tab.open("/people", chart=False)
    tab.page.fill("input[name=q]", phone)
    with tab.page.expect_navigation():
        tab.page.click("#search-person")
    tab.page.wait_for_selector("div.chart[data-rendered]")
    assert tab.page.locator("#person").inner_text().endswith(person)
    shown = read_table(tab.page, tab.page.locator(".table-box h3").last.inner_text())
    expected = timeline(dashboard.ws, phone)
    assert [r["event_id"] for r in shown] == expected["event_id"].head(len(shown)).tolist()
    assert len(shown) == min(len(expected), 1000)
    # events that carried only other identifiers are in it: more channels than the store
    channels = {r["channel"] for r in shown}
    assert "store" in channels and len(channels) >= 3
    # every identifier of the person is listed
    ids = tab.page.locator(".ids .pill").all_inner_texts()
    assert f"phone: {phone}" in ids and f"email: {email}" in ids
    assert tab.errors == []


def test_same_person_by_email_and_by_person_id(tab: Tab, dashboard: Served) -> None:
    person, _, email = _stitched_person(dashboard.ws)
    for query in (email.upper(), person):
        tab.open(f"/people?q={query}")
        assert tab.page.locator("#person").inner_text().endswith(person)


def test_unknown_identifier_says_so(tab: Tab) -> None:
    tab.open("/people?q=nobody%40example.invalid", chart=False)
    assert "Nobody has the identifier" in tab.page.locator(".notice").inner_text()
    assert tab.errors == []
