"""The bank's survey comments: themes, their patterns and the template sets.

Like the retailer's (:mod:`journeykit.demo.comments`), each theme's pattern matches every core
sentence of that theme and none of another theme (a test checks it), so a comment's theme can
be read from its text alone.
"""

from __future__ import annotations

from journeykit.demo.comments import CommentBook

#: Theme -> regular expression matched against the lower-cased comment.
THEMES: dict[str, str] = {
    "id_documents": r"passport|photo id|\bid\b|documents",
    "app_problems": r"crash|froze|android|error|glitch",
    "wait_times": r"wait|queue|on hold",
    "branch_staff": r"staff|advisor|friendly|rude",
    "letters": r"letter|\bpost\b|postman",
    "rates_fees": r"interest|\brates?\b|\bfees?\b|\bapr\b",
    "easy_process": r"easy|quick|smooth|simple",
}
THEME_DESCRIPTIONS: dict[str, str] = {
    "id_documents": "being asked for photo ID and documents (again)",
    "app_problems": "the app crashing or failing, on Android above all",
    "wait_times": "waiting on hold or in the branch queue",
    "branch_staff": "branch staff and advisors, praised or criticised",
    "letters": "decisions and offers that came by post, slowly",
    "rates_fees": "interest rates and fees",
    "easy_process": "an easy, quick application",
}

TEMPLATES: dict[tuple[str, str], tuple[str, ...]] = {
    ("id_documents", "negative"): (
        "why did I have to upload my ID again, I already have a loan with you",
        "asked for my passport again even though you have it on file",
        "sending the same documents twice is ridiculous for an existing customer",
        "I have banked with you for years, why the photo ID again",
        "gave up when it asked me to scan my ID a second time",
    ),
    ("app_problems", "negative"): (
        "the app crashed every time I tried to send the picture",
        "kept getting an error on my android phone at the last step",
        "the app froze {n} times before I gave up",
        "android app is broken, it just shows an error",
        "constant glitch when taking the photo in the app",
    ),
    ("wait_times", "negative"): (
        "waited {m} minutes on hold to speak to someone",
        "stuck in the phone queue for ages",
        "on hold for {m} minutes, unacceptable",
        "the wait in the branch was far too long",
        "{m} minutes in the queue before anyone saw me",
    ),
    ("branch_staff", "positive"): (
        "the advisor was friendly and explained everything",
        "really friendly staff at the branch",
        "my advisor made it all clear",
    ),
    ("branch_staff", "negative"): (
        "the staff seemed rushed and rude",
        "the advisor did not know the answers",
        "rude staff, nobody seemed to care",
    ),
    ("letters", "negative"): (
        "the letter with the decision took {d} days to arrive",
        "by the time the letter came I had another offer",
        "why send a letter, nobody checks the post any more",
        "the decision came by post {d} days later",
    ),
    ("rates_fees", "positive"): (
        "good interest rate compared to others",
        "the apr was competitive",
    ),
    ("rates_fees", "neutral"): (
        "the fees are a bit high",
        "interest is about the same as elsewhere",
        "rates could be better",
    ),
    ("easy_process", "positive"): (
        "the application was quick and easy",
        "so simple to apply in the app",
        "smooth from start to finish",
        "easy to apply, answer within a day",
    ),
    ("general", "positive"): (
        "great bank",
        "very happy, thank you",
        "brilliant service",
        "no complaints at all, well done",
    ),
    ("general", "neutral"): (
        "it was ok",
        "fine, nothing special",
        "average experience",
        "does the job",
    ),
    ("general", "negative"): (
        "not impressed",
        "very disappointing",
        "would not recommend",
        "poor service overall",
    ),
}

_CLOSERS: dict[str, tuple[str, ...]] = {
    "positive": ("", "!", ". Thanks!", ". Will recommend.", " :)"),
    "neutral": ("", ".", ". Overall ok."),
    "negative": ("", ".", "!!", ". Very disappointed.", ". Sort it out.", ". Not acceptable."),
}

BOOK = CommentBook(THEMES, TEMPLATES, closers=_CLOSERS)
THEME_NAMES = BOOK.theme_names
SET = BOOK.set
