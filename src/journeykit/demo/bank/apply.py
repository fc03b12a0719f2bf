"""Applications for a loan or a credit card: start, photo ID, submission.

Every application starts, asks for photo ID when the bank needs it (always for new customers;
for existing customers only when the ID on file cannot be used), and is submitted. Online,
the ID is a photo taken in the app or uploaded on the web; in a branch it is scanned at the
desk. Uploads in the Android app fail most of the time in the weeks of the broken release,
and few people get through on a retry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from journeykit.demo import frame as fr
from journeykit.demo.bank.people import Block
from journeykit.demo.bank.vocab import (
    ANDROID_VERSIONS,
    CH,
    DOCUMENT_TYPES,
    ID_CHECKS,
    PLATFORMS,
    UPLOAD_ERRORS,
    WEB,
)
from journeykit.demo.identity import reference
from journeykit.demo.people import exp_us
from journeykit.demo.world import MINUTE, SECOND

FAIL_BASE = 0.04  # photo uploads that fail ...
FAIL_BROKEN = 0.80  # ... in the Android app of the broken release
RETRY_BASE = 0.75  # failed uploads that work on a later try
RETRY_BROKEN = 0.20
BRANCH = -1  # the platform of an application made in a branch


def _empty() -> np.ndarray:
    return np.zeros(0, dtype=np.int64)


@dataclass
class Applications:
    """Applications of one kind (loan or card) and what became of them.

    ``anon``, ``uid``, ``crm`` and ``phone`` are the identifier flags of the application's
    rows (as in ``frame.Parts.add``); the submission adds the e-mail and phone typed in the form.
    """

    kind: str  # "loan" or "card"
    person: np.ndarray
    start: np.ndarray
    platform: np.ndarray  # web, ios, android; BRANCH in a branch
    serial: np.ndarray
    id_required: np.ndarray
    anon: np.ndarray
    uid: np.ndarray
    crm: np.ndarray
    phone: np.ndarray
    props: list[tuple[str, pa.Array | str]]  # the properties every row of it carries
    # filled by verify_and_submit (empty until then)
    requested: np.ndarray = field(default_factory=_empty)
    request_ts: np.ndarray = field(default_factory=_empty)
    failed: np.ndarray = field(default_factory=_empty)
    fail_ts: np.ndarray = field(default_factory=_empty)
    uploaded: np.ndarray = field(default_factory=_empty)
    upload_ts: np.ndarray = field(default_factory=_empty)
    submitted: np.ndarray = field(default_factory=_empty)
    submit_ts: np.ndarray = field(default_factory=_empty)

    @property
    def channel(self) -> np.ndarray:
        """Channel code of each application's rows."""
        return np.where(
            self.platform == BRANCH,
            CH["branch"],
            np.where(self.platform == WEB, CH["web"], CH["app"]),
        )

    def ref(self, seed: int) -> pa.Array:
        """The application ids: ``LA…`` for loans, ``CA…`` for cards."""
        prefix, salt = ("LA", 4) if self.kind == "loan" else ("CA", 5)
        return reference(prefix, self.serial, seed, salt)


def verify_and_submit(
    b: Block, apps: Applications, *, p_upload: np.ndarray, p_submit: np.ndarray
) -> None:
    """Ask for ID where needed, upload it (or fail), and submit; drops nothing after the end."""
    rng, end = b.rng, b.world.end_us
    n = len(apps.person)
    limit = np.minimum(b.limit[apps.person], end)
    in_branch = apps.platform == BRANCH
    request_ts = apps.start + 30 * SECOND + exp_us(rng, 90 * SECOND, n)
    request_ts -= request_ts % np.where(in_branch, MINUTE, 1000)
    requested = apps.id_required & (request_ts < limit)
    tries = requested & (rng.random(n) < p_upload)
    broken = b.broken(apps.platform, request_ts) & ~in_branch
    failed = tries & ~in_branch & (rng.random(n) < np.where(broken, FAIL_BROKEN, FAIL_BASE))
    fail_ts = request_ts + MINUTE + exp_us(rng, 2 * MINUTE, n)
    fail_ts -= fail_ts % 1000
    failed &= fail_ts < limit
    retried = rng.random(n) < np.where(broken, RETRY_BROKEN, RETRY_BASE)
    upload_ts = np.where(failed, fail_ts, request_ts) + MINUTE + exp_us(rng, 4 * MINUTE, n)
    upload_ts -= upload_ts % np.where(in_branch, MINUTE, 1000)
    uploaded = tries & (~failed | retried) & (upload_ts < limit)
    ready = np.where(apps.id_required, uploaded, True)
    submit_ts = np.where(uploaded, upload_ts, apps.start) + 3 * MINUTE + exp_us(rng, 8 * MINUTE, n)
    submit_ts -= submit_ts % np.where(in_branch, MINUTE, 1000)
    submitted = ready & (rng.random(n) < p_submit) & (submit_ts < limit)
    apps.requested, apps.request_ts = requested, request_ts
    apps.failed, apps.fail_ts = failed, fail_ts
    apps.uploaded, apps.upload_ts = uploaded, upload_ts
    apps.submitted, apps.submit_ts = submitted, submit_ts


def emit(parts: fr.Parts, b: Block, apps: Applications) -> pa.Array:
    """Write an application's rows; gives the application ids."""
    assert len(apps.submitted) == len(apps.person), "verify_and_submit first"
    ref = apps.ref(b.world.seed)
    kind = apps.kind
    n = len(apps.person)
    platform = fr.pick(PLATFORMS, apps.platform)
    channel = apps.channel
    base: list[tuple[str, pa.Array | str]] = [
        ("application_id", fr.text(ref)),
        ("platform", platform),
    ]

    def add(event: str, mask: np.ndarray, ts: np.ndarray, extra: list, **ident) -> None:
        k = np.flatnonzero(mask)
        take = pa.array(k)
        fields = [(key, v if isinstance(v, str) else v.take(take)) for key, v in base + extra]
        ids = {
            "anon": apps.anon[k],
            "uid": apps.uid[k],
            "crm": apps.crm[k],
            "phone": apps.phone[k],
        }
        ids.update({key: v[k] for key, v in ident.items()})
        parts.add(
            event,
            apps.person[k],
            ts[k],
            fr.obj(len(k), fields),
            channel=channel[k],
            meta={"serial": apps.serial[k]},
            **ids,
        )

    everyone = np.ones(n, dtype=bool)
    add(f"{kind}_application_started", everyone, apps.start, apps.props)
    version = fr.pick(ANDROID_VERSIONS, b.version(apps.platform, apps.request_ts))
    doc = fr.pick(DOCUMENT_TYPES, apps.serial % len(DOCUMENT_TYPES))
    reason = fr.pick(("new_customer", "existing_customer_reverify"), apps.crm.astype(np.int64))
    add(
        "id_document_requested",
        apps.requested,
        apps.request_ts,
        [("application", f'"{kind}"'), ("reason", reason), ("app_version", version)],
    )
    error = fr.pick(
        UPLOAD_ERRORS, np.where(b.broken(apps.platform, apps.fail_ts), 0, apps.serial % 3)
    )
    add(
        "id_document_upload_failed",
        apps.failed,
        apps.fail_ts,
        [("application", f'"{kind}"'), ("error", error), ("app_version", version)],
    )
    method = pa.array(['"photo"', '"scanned_in_branch"']).take(
        pa.array((apps.platform == BRANCH).astype(np.int64))
    )
    add(
        "id_document_uploaded",
        apps.uploaded,
        apps.upload_ts,
        [
            ("application", f'"{kind}"'),
            ("document_type", doc),
            ("method", method),
            ("app_version", version),
        ],
    )
    # the form asks for an e-mail and a mobile number, typed every which way
    typed = b.rng.integers(1, 5, n)
    add(
        f"{kind}_application_submitted",
        apps.submitted,
        apps.submit_ts,
        apps.props,
        email=np.ones(n, dtype=np.int8),
        phone=np.where(apps.phone > 0, apps.phone, typed),
    )
    return ref


def id_check(required: np.ndarray) -> pa.Array:
    """The ``id_check`` property: ``on_file`` or ``upload_required``."""
    return fr.pick(ID_CHECKS, required.astype(np.int64))
