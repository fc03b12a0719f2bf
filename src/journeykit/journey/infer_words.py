"""Reading event and field names as words, for spec inference.

Names come in every style (``Booking Confirmed``, ``booking_confirmed``, ``bookingConfirmed``,
``booking.confirmed``); :func:`words` splits them all the same way. The word lists are generic
English words of customer journeys, not any data set's event names: names are one clue among
several (where an event sits in journeys, what it carries), and a name that says nothing
leaves the decision to those.
"""

from __future__ import annotations

import re

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SPLIT = re.compile(r"[^a-z0-9]+")


def _set(text: str) -> frozenset[str]:
    return frozenset(text.split())


#: What is bought, booked or signed.
THINGS = _set(
    "order purchase booking subscription payment checkout transaction sale trial plan loan "
    "mortgage account card policy contract deal application"
)
#: What is held once started: a subscription started is a sale, a checkout started is not.
HELD = _set("subscription membership account loan mortgage policy contract lease plan")
BEGUN = _set("started start opened created activated begun began")
#: Words that say a thing was completed.
DONE = _set(
    "completed complete placed confirmed created succeeded success successful done finished "
    "paid purchased booked bought subscribed activated approved opened issued disbursed signed "
    "converted won funded"
)
#: Words that alone say money changed hands.
PAID = _set("purchase purchased paid buy bought transaction sale conversion")
#: Words that say a step did not complete, was undone, or is only on the way.
NOT_DONE = _set(
    "failed failure fail error declined rejected cancelled canceled cancel refund refunded "
    "returned return abandoned removed viewed view started start begin began initiated add "
    "added cart basket clicked click page sent reminder quote requested request prompt "
    "renewed renewal application applied appointment calculator estimate enquiry inquiry "
    "trial"
)
ERROR = _set(
    "fail failed failure error errors declined rejected timeout crash crashed exception "
    "invalid bounced"
)
MESSAGE = _set("sent delivered notified pushed dispatched mailed posted")
MESSAGE_CHANNELS = _set("email sms push notification post letter mail")
CONTACT = _set("chat call called calls ticket support complaint contact help helpdesk callback")
CONTACT_CHANNELS = _set("chat phone call_centre callcentre callcenter support")
CONTACT_END = _set("ended closed finished resolved hung")
FEEDBACK = _set("survey review rating rated nps csat ces feedback answered")
FEEDBACK_CHANNELS = frozenset(("survey", "review"))
ADVOCACY = _set("review referral refer referred invite invited share shared recommend")
CLICK = frozenset(("click", "clicked", "tap", "tapped"))
#: Channels whose events are marketing touches.
TOUCH_CHANNELS = _set(
    "ads ad paid social search referral affiliate display blog partner email sms push"
)
#: Property keys that say where a touch came from, best first.
TOUCH_KEYS = (
    "utm_medium",
    "medium",
    "channel",
    "marketing_channel",
    "utm_source",
    "source",
    "network",
)
#: Property keys that hold money, best first.
MONEY_KEYS = (
    "revenue",
    "total",
    "total_price",
    "order_total",
    "grand_total",
    "amount",
    "price",
    "value",
    "total_amount",
)
CURRENCY_KEYS = ("currency", "currency_code", "curr", "iso_currency")
SCORE_KEYS = ("score", "rating", "stars", "nps", "csat", "ces", "rate", "value")
COMMENT_KEYS = ("comment", "text", "feedback", "review", "message", "body", "answer", "verbatim")


def words(name: str) -> tuple[str, ...]:
    """The lower-case words of a name in any style.

    >>> words("bookingConfirmed"), words("Booking Confirmed"), words("hotel.view-page_2")
    (('booking', 'confirmed'), ('booking', 'confirmed'), ('hotel', 'view', 'page', '2'))
    """
    return tuple(w for w in _SPLIT.split(_CAMEL.sub(" ", name).lower()) if w)


def conversion_words(name: str) -> float:
    """How strongly a name says "a purchase / conversion happened": 0 (not at all) to 1.

    >>> conversion_words("purchase"), conversion_words("booking_confirmed")
    (1.0, 1.0)
    >>> conversion_words("add_to_cart"), conversion_words("payment_error")
    (0.0, 0.0)
    >>> conversion_words("subscriptionStarted"), conversion_words("Checkout Initiated")
    (1.0, 0.0)
    """
    w = set(words(name))
    if w & HELD and w & BEGUN and not w & (NOT_DONE - BEGUN - {"start", "started"}):
        return 1.0
    if w & NOT_DONE:
        return 0.0
    if w & PAID:
        return 1.0
    if w & THINGS and w & DONE:
        return 1.0
    if w & DONE and w & {"subscribed", "purchased", "booked", "bought", "paid"}:
        return 1.0
    if w & THINGS:
        return 0.3
    return 0.0


def key_rank(key: str, preferred: tuple[str, ...]) -> int | None:
    """Where ``key`` (or a key ending in one of them) sits in ``preferred``; None if absent.

    >>> key_rank("total_price", MONEY_KEYS), key_rank("cart_value", MONEY_KEYS)
    (2, 16)
    """
    k = "_".join(words(key))
    for i, want in enumerate(preferred):
        if k == want:
            return i
    for i, want in enumerate(preferred):
        if k.endswith("_" + want) or k.startswith(want + "_"):
            return len(preferred) + i
    return None
