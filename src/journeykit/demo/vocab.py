"""The demo retailer's vocabulary: events, channels, platforms, products, campaigns, places.

Everything here is a constant or a cached pure function; nothing is computed at import.
"""

from __future__ import annotations

from functools import cache

import numpy as np

#: Event names in journey order. The index of a name is its code inside the generator and
#: also breaks ties: two events of one person at the same instant are written in this order.
EVENTS: tuple[str, ...] = (
    "Ad Clicked",
    "Social Post Viewed",
    "Blog Post Viewed",
    "Search Result Clicked",
    "Referral Link Clicked",
    "Session Started",
    "Product Viewed",
    "Product Added",
    "Signed Up",
    "Store Visited",
    "Chat Started",
    "Chat Ended",
    "Support Called",
    "Checkout Started",
    "Payment Failed",
    "Order Completed",
    "Email Sent",
    "Email Opened",
    "Email Clicked",
    "Order Returned",
    "Survey Answered",
    "Review Posted",
    "Referral Sent",
)
EV = {name: code for code, name in enumerate(EVENTS)}

#: The journey stage each event belongs to (documented in docs/demo.md).
STAGES: dict[str, str] = {
    "Ad Clicked": "awareness",
    "Social Post Viewed": "awareness",
    "Blog Post Viewed": "awareness",
    "Search Result Clicked": "awareness",
    "Referral Link Clicked": "awareness",
    "Session Started": "consideration",
    "Product Viewed": "consideration",
    "Product Added": "consideration",
    "Signed Up": "consideration",
    "Store Visited": "consideration",
    "Chat Started": "consideration",
    "Chat Ended": "consideration",
    "Support Called": "consideration",
    "Checkout Started": "purchase",
    "Payment Failed": "purchase",
    "Order Completed": "purchase",
    "Email Sent": "retention",
    "Email Opened": "retention",
    "Email Clicked": "retention",
    "Order Returned": "retention",
    "Survey Answered": "advocacy",
    "Review Posted": "advocacy",
    "Referral Sent": "advocacy",
}

CHANNELS: tuple[str, ...] = (
    "web",
    "app",
    "email",
    "chat",
    "phone",
    "store",
    "social",
    "ads",
    "search",
    "blog",
    "survey",
    "review",
    "referral",
)
CH = {name: code for code, name in enumerate(CHANNELS)}

#: Platforms of web and app events; web is the browser, ios and android the app.
PLATFORMS: tuple[str, ...] = ("web", "ios", "android")
WEB, IOS, ANDROID = 0, 1, 2

#: Awareness channels a person can arrive through, with the event each one writes.
ACQUISITION: tuple[str, ...] = ("ads", "social", "search", "blog", "referral")
ACQUISITION_EVENT: tuple[str, ...] = (
    "Ad Clicked",
    "Social Post Viewed",
    "Search Result Clicked",
    "Blog Post Viewed",
    "Referral Link Clicked",
)

#: Paid campaigns: (channel, campaign, network, cost per click, fixed cost per day for 20,000
#: people; it scales with the number of people).
CAMPAIGNS: tuple[tuple[str, str, str, float, float], ...] = (
    ("ads", "summer_sale", "google", 0.85, 80.0),
    ("ads", "new_season", "meta", 0.70, 70.0),
    ("ads", "retargeting", "google", 0.55, 40.0),
    ("social", "spring_drop", "instagram", 0.60, 50.0),
    ("social", "creator_collab", "tiktok", 0.45, 60.0),
    ("search", "brand_search", "google", 0.35, 20.0),
    ("search", "generic_search", "google", 1.10, 60.0),
)
CAMPAIGN_NAMES: tuple[str, ...] = tuple(c[1] for c in CAMPAIGNS)
CAMPAIGN_CHANNEL: tuple[str, ...] = tuple(c[0] for c in CAMPAIGNS)
CAMPAIGN_NETWORK: tuple[str, ...] = tuple(c[2] for c in CAMPAIGNS)
NO_CAMPAIGN = -1

SOCIAL_NETWORKS: tuple[str, ...] = ("instagram", "tiktok", "facebook")
SEARCH_ENGINES: tuple[str, ...] = ("google", "bing")
SEARCH_QUERIES: tuple[str, ...] = (
    "running shoes",
    "waterproof jacket",
    "trail shoes women",
    "leather boots",
    "merino jumper",
    "rucksack 30l",
    "linen shirt",
    "kids wellies",
    "walking socks",
    "rain coat sale",
)
BLOG_POSTS: tuple[str, ...] = (
    "how-to-choose-running-shoes",
    "layering-for-autumn-walks",
    "caring-for-leather",
    "capsule-wardrobe-basics",
    "packing-for-a-weekend-hike",
    "sizing-guide-explained",
)

EMAIL_CAMPAIGNS: tuple[str, ...] = ("welcome", "newsletter", "winback")
CHAT_TOPICS: tuple[str, ...] = ("order_status", "product_question", "returns", "payment")
CALL_REASONS: tuple[str, ...] = ("delivery", "refund", "product_question", "account")
RETURN_REASONS: tuple[str, ...] = ("size", "quality", "changed_mind", "damaged")
FAILURE_REASONS: tuple[str, ...] = ("card_declined", "processor_error", "3ds_timeout")
SURVEYS: tuple[str, ...] = ("nps", "csat", "ces")

FIRST_NAMES: tuple[str, ...] = (
    "olivia", "amelia", "isla", "ava", "mia", "ivy", "lily", "isabella", "rosie", "sophia",
    "grace", "freya", "aisha", "priya", "zara", "chloe", "emily", "hannah", "maria", "sara",
    "noah", "oliver", "george", "leo", "arthur", "muhammad", "harry", "oscar", "jack", "charlie",
    "jacob", "thomas", "henry", "william", "james", "ethan", "arjun", "daniel", "samuel", "lucas",
)  # fmt: skip
LAST_NAMES: tuple[str, ...] = (
    "smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies", "patel",
    "wright", "robinson", "thompson", "evans", "walker", "white", "roberts", "green", "hall",
    "wood", "jackson", "clarke", "khan", "lewis", "hughes", "edwards", "turner", "hill",
    "moore", "cooper", "ward", "morris", "king", "ali", "baker", "harris", "martin", "lopez",
    "nowak", "kowalski", "murphy",
)  # fmt: skip
EMAIL_DOMAINS: tuple[str, ...] = ("example.com", "example.net", "example.org")
CITIES: tuple[str, ...] = (
    "London", "Manchester", "Birmingham", "Leeds", "Glasgow", "Bristol",
    "Liverpool", "Edinburgh", "Cardiff", "Newcastle", "Nottingham", "Brighton",
)  # fmt: skip
#: Stores: id and the city (an index into CITIES) they stand in.
STORES: tuple[tuple[str, int], ...] = (
    ("S01", 0),
    ("S02", 0),
    ("S03", 1),
    ("S04", 2),
    ("S05", 3),
    ("S06", 5),
    ("S07", 7),
    ("S08", 11),
)

CATEGORIES: tuple[str, ...] = ("shoes", "outerwear", "knitwear", "accessories", "bags", "kids")
_CATEGORY_PRICE: tuple[tuple[float, float], ...] = (
    (49.0, 140.0),
    (59.0, 220.0),
    (29.0, 110.0),
    (9.0, 45.0),
    (25.0, 120.0),
    (15.0, 60.0),
)
N_PRODUCTS = 120


@cache
def catalogue() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The product catalogue: (category code, price, popularity weight) per product.

    Product ``k`` has the id ``P0001`` + k. Prices end in .99 or .00 and are fixed for all
    seeds; popularity follows a Zipf-like curve so a few products sell most.

    >>> cat, price, weight = catalogue()
    >>> len(price), round(float(weight.sum()), 6)
    (120, 1.0)
    """
    k = np.arange(N_PRODUCTS)
    category = k % len(CATEGORIES)
    low = np.array([p[0] for p in _CATEGORY_PRICE])[category]
    high = np.array([p[1] for p in _CATEGORY_PRICE])[category]
    step = ((k * 37) % 23) / 22.0
    price = np.floor(low + (high - low) * step) + np.where(k % 3 == 0, 0.0, 0.99)
    weight = 1.0 / (1.0 + ((k * 53) % N_PRODUCTS)) ** 0.8
    return category, np.round(price, 2), weight / weight.sum()


#: Share of online sessions that start at each hour of the day (UTC), before normalising.
HOUR_WEIGHTS: tuple[float, ...] = (
    0.6, 0.3, 0.2, 0.2, 0.2, 0.4, 1.0, 2.0, 3.0, 3.5, 3.5, 3.8,
    4.5, 4.5, 3.8, 3.6, 3.6, 4.0, 4.8, 5.5, 6.0, 5.6, 4.0, 1.8,
)  # fmt: skip
