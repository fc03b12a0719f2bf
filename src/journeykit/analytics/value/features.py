"""Per-person journey features, aggregated inside the engine (one row per person comes out).

:func:`person_features` is the shared base of the driver, prediction and persona builders.
Its columns (indexed by ``person_id``):

===================== ========================================================================
first_seen            the person's first event in the range
last_active           the last event the person did (business-sent e-mails do not count)
active_events         events the person did
sessions              "Session Started" events
product_views         "Product Viewed" events
cart_adds             "Product Added" events
checkouts             "Checkout Started" events
payment_failures      "Payment Failed" events
orders                purchase events
revenue               revenue of the purchases
online_orders         purchases on the web or app channel
store_orders          purchases in a store
support_contacts      "Chat Started" and "Support Called" events
max_wait_seconds      the longest ``wait_seconds`` of a chat or call (null without one)
welcome_email         received a welcome e-mail ("Email Sent" with campaign ``welcome``)
emails_sent           "Email Sent" events (sent by the business)
emails_opened         "Email Opened" events
emails_clicked        "Email Clicked" events
referred              arrived through a referral ("Referral Link Clicked")
referrals_sent        "Referral Sent" events
returns               "Order Returned" events
signed_up             has a "Signed Up" event
surveys               "Survey Answered" events
nps_last              the last NPS score (0-10; null without one)
csat_mean             the mean CSAT score (null without one)
rating_mean           the mean review rating (null without one)
web_events .. marketing_events   active events per channel group: web, app, store, email
                      (opened/clicked), support (chat and phone) and marketing (ads, social,
                      blog, search, referral)
last_event            the name of the last active event
stage_reached         the furthest journey stage reached, as an index into ``STAGES``
                      (0 = awareness .. 4 = advocacy; events of no stage count as 0)
===================== ========================================================================
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from journeykit.analytics.value._common import (
    ORDER_EVENT,
    PASSIVE_EVENTS,
    STAGE_OF_EVENT,
    STAGES,
    events_table,
    json_field,
    json_number,
    to_datetime,
)

if TYPE_CHECKING:
    import pandas as pd

    from journeykit.store import Workspace

CHANNEL_GROUPS: dict[str, tuple[str, ...]] = {
    "web": ("web",),
    "app": ("app",),
    "store": ("store",),
    "email": ("email",),
    "support": ("chat", "phone"),
    "marketing": ("ads", "social", "blog", "search", "referral"),
}


def person_features(
    ws: Workspace,
    *,
    end: datetime | str,
    start: datetime | str | None = None,
    order_event: str = ORDER_EVENT,
) -> pd.DataFrame:
    """Aggregate each person's events in ``[start, end]`` into the columns listed above.

    Args:
        ws: the workspace.
        end: the last moment counted (inclusive).
        start: the first moment counted (default: the beginning).
        order_event: the event name that is a purchase.

    Returns:
        One row per person seen in the range, indexed by ``person_id``.
    """
    import ibis

    ev = events_table(ws)
    keep = ev.person_id.notnull() & (ev.ts <= ibis.literal(to_datetime(end)))
    if start is not None:
        keep &= ev.ts >= ibis.literal(to_datetime(start))
    e = ev.filter(keep)
    props = e.properties
    name = e.event
    active = ~name.isin(list(PASSIVE_EVENTS))
    is_order = name == order_event
    survey = json_field(props, "survey")
    score = json_number(props, "score")
    wait = json_number(props, "wait_seconds")
    answered = name == "Survey Answered"
    email_engaged = name.isin(["Email Opened", "Email Clicked"])
    metrics = {
        "first_seen": e.ts.min(),
        "last_active": e.ts.max(where=active),
        "active_events": e.count(where=active),
        "sessions": e.count(where=name == "Session Started"),
        "product_views": e.count(where=name == "Product Viewed"),
        "cart_adds": e.count(where=name == "Product Added"),
        "checkouts": e.count(where=name == "Checkout Started"),
        "payment_failures": e.count(where=name == "Payment Failed"),
        "orders": e.count(where=is_order),
        "revenue": e.revenue.sum(where=is_order),
        "online_orders": e.count(where=is_order & e.channel.isin(["web", "app"])),
        "store_orders": e.count(where=is_order & (e.channel == "store")),
        "support_contacts": e.count(where=name.isin(["Chat Started", "Support Called"])),
        "max_wait_seconds": wait.max(
            where=name.isin(["Chat Started", "Chat Ended", "Support Called"])
        ),
        "welcome_email": (
            (name == "Email Sent") & (json_field(props, "campaign") == "welcome")
        ).any(),
        "emails_sent": e.count(where=name == "Email Sent"),
        "emails_opened": e.count(where=name == "Email Opened"),
        "emails_clicked": e.count(where=name == "Email Clicked"),
        "referred": (name == "Referral Link Clicked").any(),
        "referrals_sent": e.count(where=name == "Referral Sent"),
        "returns": e.count(where=name == "Order Returned"),
        "signed_up": (name == "Signed Up").any(),
        "surveys": e.count(where=answered),
        "nps_last": score.argmax(e.ts, where=answered & (survey == "nps")),
        "csat_mean": score.mean(where=answered & (survey == "csat")),
        "rating_mean": json_number(props, "rating").mean(where=name == "Review Posted"),
        "last_event": name.argmax(e.ts, where=active),
        "stage_reached": name.substitute(
            {ev_name: STAGES.index(stage) for ev_name, stage in STAGE_OF_EVENT.items()},
            else_=0,
        ).max(where=active),
    }
    for group, channels in CHANNEL_GROUPS.items():
        cond = active & e.channel.isin(list(channels))
        if group == "email":
            cond = email_engaged
        metrics[f"{group}_events"] = e.count(where=cond)
    per = e.group_by("person_id").aggregate(**metrics)
    df = per.order_by("person_id").to_pandas().set_index("person_id")
    for col in ("welcome_email", "referred", "signed_up"):
        df[col] = df[col].fillna(False).astype(bool)
    df["revenue"] = df["revenue"].fillna(0.0).astype(float)
    return df


def activity_between(
    ws: Workspace,
    start: datetime | str,
    end: datetime | str,
    *,
    order_event: str = ORDER_EVENT,
) -> pd.DataFrame:
    """Each person's activity in ``(start, end]``: used for labels after a cutoff.

    Returns:
        Indexed by ``person_id`` (only people with an event in the range): ``active`` (did
        something themselves), ``orders`` and ``revenue``.
    """
    import ibis

    ev = events_table(ws)
    e = ev.filter(
        ev.person_id.notnull()
        & (ev.ts > ibis.literal(to_datetime(start)))
        & (ev.ts <= ibis.literal(to_datetime(end)))
    )
    active = ~e.event.isin(list(PASSIVE_EVENTS))
    is_order = e.event == order_event
    per = e.group_by("person_id").aggregate(
        active=active.any(),
        orders=e.count(where=is_order),
        revenue=e.revenue.sum(where=is_order),
    )
    df = per.to_pandas().set_index("person_id")
    df["active"] = df["active"].fillna(False).astype(bool)
    df["revenue"] = df["revenue"].fillna(0.0).astype(float)
    return df
