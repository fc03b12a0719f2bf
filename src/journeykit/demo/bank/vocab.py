"""The demo bank's vocabulary: events, stages, channels, products, branches, campaigns, people.

The bank is an Irish retail bank (prices in EUR) selling personal loans and credit cards
through its branches, its call centre, its mobile app, its web site, e-mail and letters.
Event names are snake_case, unlike the retailer's Title Case. Everything here is a constant.
"""

from __future__ import annotations

from journeykit.demo.frame import Vocabulary
from journeykit.demo.identity import Locale

#: Event names in journey order (an event's index is its code and breaks ties of one instant).
EVENTS: tuple[str, ...] = (
    "ad_clicked",
    "search_result_clicked",
    "social_ad_clicked",
    "comparison_site_referral",
    "session_started",
    "loan_calculator_used",
    "branch_appointment_booked",
    "branch_visited",
    "loan_application_started",
    "card_application_started",
    "id_document_requested",
    "id_document_upload_failed",
    "id_document_uploaded",
    "loan_application_submitted",
    "card_application_submitted",
    "loan_decision_sent",
    "loan_contract_signed",
    "card_account_opened",
    "online_banking_enrolled",
    "app_login",
    "email_sent",
    "email_opened",
    "email_clicked",
    "letter_sent",
    "call_centre_contacted",
    "account_closure_requested",
    "survey_completed",
    "referral_link_shared",
)
EV = {name: code for code, name in enumerate(EVENTS)}

#: The stage of each event (the bank spec, journey/specs/bank.yaml, says the same).
STAGES: dict[str, str] = {
    "ad_clicked": "discover",
    "search_result_clicked": "discover",
    "social_ad_clicked": "discover",
    "comparison_site_referral": "discover",
    "session_started": "discover",
    "loan_calculator_used": "discover",
    "branch_appointment_booked": "apply",
    "branch_visited": "apply",
    "loan_application_started": "apply",
    "card_application_started": "apply",
    "loan_application_submitted": "apply",
    "card_application_submitted": "apply",
    "id_document_requested": "verify",
    "id_document_upload_failed": "verify",
    "id_document_uploaded": "verify",
    "loan_decision_sent": "verify",
    "loan_contract_signed": "onboard",
    "card_account_opened": "onboard",
    "online_banking_enrolled": "onboard",
    "app_login": "use",
    "email_sent": "use",
    "email_opened": "use",
    "email_clicked": "use",
    "letter_sent": "use",
    "call_centre_contacted": "use",
    "account_closure_requested": "use",
    "survey_completed": "advocate",
    "referral_link_shared": "advocate",
}

CHANNELS: tuple[str, ...] = (
    "web",
    "app",
    "branch",
    "phone",
    "email",
    "letter",
    "ads",
    "search",
    "social",
    "comparison",
    "survey",
)
CH = {name: code for code, name in enumerate(CHANNELS)}
VOCAB = Vocabulary(events=EVENTS, channels=CHANNELS, identify=("online_banking_enrolled",))

#: Platforms of web and app events.
PLATFORMS: tuple[str, ...] = ("web", "ios", "android")
WEB, IOS, ANDROID = 0, 1, 2
#: App versions on Android: before the broken release, the broken one, the fix.
ANDROID_VERSIONS: tuple[str, ...] = ("7.3.2", "7.4.0", "7.4.1")
IOS_VERSION = "7.4.0"
BROKEN_ANDROID = "7.4.0"

#: How people arrive online, and the event each way writes.
ACQUISITION: tuple[str, ...] = ("ads", "search", "social", "comparison")
ACQUISITION_EVENT: tuple[str, ...] = (
    "ad_clicked",
    "search_result_clicked",
    "social_ad_clicked",
    "comparison_site_referral",
)

#: Paid campaigns: (channel, campaign, network, cost per click in EUR, fixed cost per day for
#: 20,000 people; it scales with the number of people).
CAMPAIGNS: tuple[tuple[str, str, str, float, float], ...] = (
    ("ads", "loan_display", "google", 0.90, 40.0),
    ("ads", "card_launch", "meta", 0.75, 35.0),
    ("search", "brand_search", "google", 0.45, 10.0),
    ("search", "personal_loan_generic", "google", 1.60, 25.0),
    ("social", "card_launch_social", "instagram", 0.65, 25.0),
    ("comparison", "loan_compare", "comparo", 11.0, 160.0),
)
CAMPAIGN_NAMES: tuple[str, ...] = tuple(c[1] for c in CAMPAIGNS)
CAMPAIGN_NETWORK: tuple[str, ...] = tuple(c[2] for c in CAMPAIGNS)

#: Branches: id, town. B05 is the branch with the planted bad service.
BRANCHES: tuple[tuple[str, str], ...] = (
    ("B01", "Dublin"),
    ("B02", "Dublin"),
    ("B03", "Cork"),
    ("B04", "Galway"),
    ("B05", "Limerick"),
    ("B06", "Waterford"),
)
BAD_BRANCH = 4

CARD_PRODUCTS: tuple[str, ...] = ("classic", "gold", "platinum")
#: Annual card fee in EUR: the revenue of "card_account_opened".
CARD_FEES: tuple[float, ...] = (30.0, 75.0, 180.0)
DOCUMENT_TYPES: tuple[str, ...] = ("passport", "id_card", "driving_licence")
UPLOAD_ERRORS: tuple[str, ...] = ("upload_timeout", "camera_error", "file_too_large")
LOAN_PURPOSES: tuple[str, ...] = ("car", "home_improvement", "debt_consolidation", "wedding")
CALL_REASONS: tuple[str, ...] = ("application_status", "repayment_question", "card_query")
VISIT_PURPOSES: tuple[str, ...] = ("loan_application", "advice", "account_service")
EMAIL_CAMPAIGNS: tuple[str, ...] = ("loan_welcome", "card_cross_sell")
ID_CHECKS: tuple[str, ...] = ("on_file", "upload_required")
SURVEYS: tuple[str, ...] = ("nps", "csat", "ces")

LOCALE = Locale(
    first_names=(
        "aoife", "ciara", "niamh", "saoirse", "roisin", "orla", "sinead", "grainne", "emma",
        "sarah", "laura", "katie", "anna", "sofia", "maja", "chloe", "lucy", "ella", "amy",
        "hannah", "sean", "conor", "cian", "oisin", "darragh", "padraig", "eoin", "liam",
        "jack", "james", "daniel", "adam", "luke", "mark", "tomasz", "piotr", "david",
        "michael", "patrick", "noah",
    ),
    last_names=(
        "murphy", "kelly", "byrne", "ryan", "obrien", "walsh", "oconnor", "mccarthy",
        "doyle", "gallagher", "kennedy", "lynch", "murray", "quinn", "moore", "mclaughlin",
        "carroll", "connolly", "daly", "brennan", "burke", "collins", "campbell", "clarke",
        "johnston", "hughes", "farrell", "fitzgerald", "brown", "martin", "maguire",
        "nolan", "flynn", "thompson", "callaghan", "keane", "kowalski", "nowak", "power",
        "duffy",
    ),
    domains=("example.ie", "example.com", "example.eu"),
    cc="353",
    lead="8",
    digits=8,
    spaced=(2, 3, 4),
    dashed=(2, 7),
    user_prefix="ob",
    crm_prefix="CUST-",
)  # fmt: skip
