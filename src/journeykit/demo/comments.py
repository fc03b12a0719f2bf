"""Free-text comments for surveys and reviews: themes, templates and their variation.

Every comment comes from one template set, a (theme, sentiment) pair. A comment is an optional
opener, a core sentence (with its slots filled: minutes waited, days late, ...) and an optional
closer, with a share written all in lower case. Each theme has a regular expression that
matches every core of that theme and no core of any other theme (a test checks it), so the
theme of a comment can be measured from its text alone: ``re.search(THEMES[t], text.lower())``.
"""

from __future__ import annotations

import itertools
from functools import cached_property

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: Theme -> regular expression matched against the lower-cased comment (RE2 and Python syntax).
THEMES: dict[str, str] = {
    "payment": r"payment|card|declined|charged",
    "wait_times": r"wait|queue|on hold",
    "delivery_delay": r"\blate\b|delay|courier|parcel|tracking",
    "product_quality": r"quality|fabric|stitching|fell apart|broke|well made|sturdy",
    "friendly_staff": r"staff|friendly|helpful|polite",
    "easy_checkout": r"checkout|easy|smooth|seamless",
    "returns": r"return|refund",
    "price": r"price|expensive|value for money|discount",
}
#: Themes with a human description, for the ground truth and the docs.
THEME_DESCRIPTIONS: dict[str, str] = {
    "payment": "payment failures: declined cards, errors at the last step, double charges",
    "wait_times": "waiting for an answer in chat or on hold on the phone",
    "delivery_delay": "late parcels, courier trouble, tracking that does not move",
    "product_quality": "product quality, praised or criticised",
    "friendly_staff": "friendly, helpful staff in store, chat or on the phone",
    "easy_checkout": "an easy, smooth checkout",
    "returns": "returns and refunds",
    "price": "prices and value for money",
}

_SLOTS: dict[str, tuple[str, ...]] = {
    "n": ("2", "3", "4", "three", "several"),
    "m": ("15", "20", "25", "30", "40", "45"),
    "d": ("3", "4", "5", "6", "8", "10"),
    "w": ("two", "three", "four", "a few"),
}

#: (theme, sentiment) -> core sentences; ``general`` cores match no theme.
TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("payment", "negative"): (
        "payment failed {n} times on the app before I gave up",
        "my card was declined even though it works everywhere else",
        "the app kept showing a payment error at the very last step",
        "I was charged but the order never went through",
        "the payment screen froze on my iphone, had to try {n} times",
        "could not pay, the app said my card was declined",
        "payment would not go through on ios, so frustrating",
    ),
    ("wait_times", "negative"): (
        "waited {m} minutes in the chat before anyone answered",
        "stuck in the chat queue for ages",
        "{m} minutes on hold, unacceptable",
        "the wait for a reply was far too long",
        "kept waiting for an answer for {m} minutes",
        "on hold for {m} minutes just to ask one question",
    ),
    ("delivery_delay", "negative"): (
        "my parcel arrived {d} days late",
        "the delivery was delayed with no update",
        "the courier lost my order for a week",
        "tracking said out for delivery for {d} days",
        "it came {d} days later than promised, a real delay",
        "the parcel turned up {d} days late and the box was damaged",
    ),
    ("product_quality", "positive"): (
        "the quality is excellent",
        "really well made, feels sturdy",
        "lovely fabric and neat stitching",
        "great quality, I wear it every day",
        "sturdy boots, still like new after {w} months",
    ),
    ("product_quality", "negative"): (
        "the quality is poor, it fell apart after {w} weeks",
        "the stitching came loose after a few washes",
        "the sole broke within a month",
        "the fabric feels thin and flimsy",
        "not the quality I expected for the money",
    ),
    ("friendly_staff", "positive"): (
        "the staff were so friendly",
        "really helpful staff in the store",
        "the agent was polite and sorted it in minutes",
        "friendly team, made it a pleasure",
        "the person I spoke to was helpful and kind",
    ),
    ("easy_checkout", "positive"): (
        "checkout was quick and easy",
        "ordering on the app was smooth",
        "seamless from basket to confirmation",
        "so easy to find what I wanted and pay",
    ),
    ("returns", "negative"): (
        "the return took {w} weeks to be refunded",
        "the returns process is confusing",
        "still no refund for my return",
        "had to return it, the size was wrong",
    ),
    ("price", "positive"): (
        "good value for money",
        "great discount in the sale",
    ),
    ("price", "neutral"): (
        "a bit expensive for what it is",
        "prices have gone up lately",
        "the price is fine I suppose",
    ),
    ("general", "positive"): (
        "love it",
        "great shop, will be back",
        "fantastic, thank you",
        "really happy with everything",
        "brilliant service",
        "arrived quickly, great service",
    ),
    ("general", "neutral"): (
        "it was ok",
        "fine, nothing special",
        "average experience",
        "does the job",
        "no complaints",
    ),
    ("general", "negative"): (
        "not impressed",
        "very disappointing",
        "would not recommend",
        "poor service overall",
        "not what I hoped for",
    ),
}
_OPENERS: dict[str, tuple[str, ...]] = {
    "positive": ("", "", "Honestly, ", "Wow, ", "So good: "),
    "neutral": ("", "", "Well, ", "Overall ", "Meh, "),
    "negative": ("", "", "Honestly, ", "Seriously, ", "Ugh, ", "Not good: "),
}
_CLOSERS: dict[str, tuple[str, ...]] = {
    "positive": ("", "!", ". Thanks!", ". Will shop again.", " :)"),
    "neutral": ("", ".", ". Overall ok."),
    "negative": ("", ".", "!!", ". Very disappointed.", ". Sort it out.", ". Not acceptable."),
}
LOWER_SHARE = 0.12


class CommentBook:
    """A scenario's comments: themes with their patterns, template sets, openers and closers.

    Template sets are keyed (theme, sentiment); the ``general`` theme's cores match no pattern.
    ``make_texts`` draws comments of given sets, ``theme_of`` reads the theme back from a text.
    """

    def __init__(
        self,
        themes: dict[str, str],
        templates: dict[tuple[str, str], tuple[str, ...]],
        *,
        slots: dict[str, tuple[str, ...]] = _SLOTS,
        openers: dict[str, tuple[str, ...]] = _OPENERS,
        closers: dict[str, tuple[str, ...]] = _CLOSERS,
        lower_share: float = LOWER_SHARE,
    ) -> None:
        self.themes = themes
        self.templates = templates
        self.slots, self.openers, self.closers = slots, openers, closers
        self.lower_share = lower_share
        self.theme_names: tuple[str, ...] = (*themes, "none")
        self.sets: tuple[tuple[str, str], ...] = tuple(templates)
        self.set = {key: code for code, key in enumerate(self.sets)}

    def _fill(self, template: str) -> list[str]:
        names = [s for s in self.slots if "{" + s + "}" in template]
        if not names:
            return [template]
        out = []
        for values in itertools.product(*(self.slots[s] for s in names)):
            out.append(template.format(**dict(zip(names, values, strict=True))))
        return out

    @cached_property
    def cores(self) -> tuple[tuple[str, ...], ...]:
        """Every core sentence of every template set, slots filled, indexed like ``sets``."""
        return tuple(
            tuple(text for t in self.templates[key] for text in self._fill(t)) for key in self.sets
        )

    @cached_property
    def _texts(self) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        """Every comment there can be, and where each set's block of them starts and its shape.

        Set ``s`` owns ``cores x openers x closers x 2`` texts (the last axis: as written, all
        lower case) from ``start[s]``; ``shape[s]`` holds those four sizes.
        """
        texts: list[str] = []
        start, shape = [], []
        for (_theme, sentiment), set_cores in zip(self.sets, self.cores, strict=True):
            openers, closers = self.openers[sentiment], self.closers[sentiment]
            start.append(len(texts))
            shape.append((len(set_cores), len(openers), len(closers), 2))
            for core in set_cores:
                for opener in openers:
                    for closer in closers:
                        text = _write(opener, core, closer)
                        texts += [text, text.lower()]
        return pa.array(texts), np.array(start), np.array(shape)

    def make_texts(self, rng: np.random.Generator, sets: np.ndarray) -> pa.Array:
        """One comment per entry of ``sets`` (codes into ``sets``), as an Arrow string array.

        The texts need no JSON escaping: templates hold no quotes, backslashes or control
        characters.
        """
        texts, start, shape = self._texts
        n = len(sets)
        size = shape[sets]
        core, opener, closer = (
            np.floor(rng.random(n) * size[:, k]).astype(np.int64) for k in range(3)
        )
        lower = (rng.random(n) < self.lower_share).astype(np.int64)
        at = start[sets] + ((core * size[:, 1] + opener) * size[:, 2] + closer) * 2 + lower
        return texts.take(pa.array(at, pa.int64()))

    def theme_of(self, texts: pa.Array) -> np.ndarray:
        """The theme code of each text (index into ``theme_names``; the last one is "none").

        When several themes match (never the case for generated text) the first one wins.
        """
        lowered = pc.utf8_lower(texts)
        out = np.full(len(texts), len(self.themes), dtype=np.int64)
        for code, pattern in reversed(list(enumerate(self.themes.values()))):
            hit = pc.fill_null(pc.match_substring_regex(lowered, pattern), False)
            out[np.asarray(hit.to_numpy(zero_copy_only=False), dtype=bool)] = code
        return out


def _write(opener: str, core: str, closer: str) -> str:
    # the first word is capitalised only when no opener stands before it
    body = core if opener else core[0].upper() + core[1:]
    return opener + body + closer


#: The retailer's comments.
RETAIL = CommentBook(THEMES, TEMPLATES)
THEME_NAMES: tuple[str, ...] = RETAIL.theme_names
SETS: tuple[tuple[str, str], ...] = RETAIL.sets
SET = RETAIL.set


def cores() -> tuple[tuple[str, ...], ...]:
    """Every core sentence of every retail template set, slots filled, indexed like ``SETS``."""
    return RETAIL.cores


def make_texts(rng: np.random.Generator, sets: np.ndarray) -> pa.Array:
    """One retail comment per entry of ``sets`` (codes into ``SETS``).

    >>> import numpy as np
    >>> texts = make_texts(np.random.default_rng(1), np.array([SET[("payment", "negative")]]))
    >>> THEME_NAMES[int(theme_of(texts)[0])]
    'payment'
    """
    return RETAIL.make_texts(rng, sets)


def theme_of(texts: pa.Array) -> np.ndarray:
    """The retail theme code of each text (index into ``THEME_NAMES``; the last is "none")."""
    return RETAIL.theme_of(texts)
