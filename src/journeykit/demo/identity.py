"""The identity scheme of the demo people: every identifier a person can show, as text.

Person ``p`` (a global number from 0) has, whether or not the data ever shows them:

* ``user_id`` ``u`` + a scrambled number, once the person signs up online;
* an e-mail ``first.last123@example.com`` (three local-part styles, three domains) and a
  mixed-case spelling of it (``Olivia.smith123@Example.com`` or all upper case) that some
  sources send;
* a UK mobile number, written four ways (``+447…``, ``+44 7… …``, ``0044 7… …``,
  ``+44-7…-…-…``) that all normalise to ``+447…``;
* a CRM id ``CRM-…`` used by the phone support system;
* one or two devices, each with an ``anonymous_id`` (``a`` + 16 hex digits); app devices also
  carry a ``device_id`` (``dv`` + 16 hex digits).

Numbers are scrambled with a bijection, so identifiers are unique but do not reveal ``p``.
That is the retailer's :data:`UK` locale; another scenario passes its own :class:`Locale`
(names, e-mail domains, country code and spellings of the mobile number, id prefixes).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from journeykit.demo.vocab import EMAIL_DOMAINS, FIRST_NAMES, LAST_NAMES

_MULTIPLIER = 387_420_489  # 3**18: coprime with every power of ten
_HEX = np.array([f"{i:02x}" for i in range(256)], dtype="S2")
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def scramble(x: np.ndarray, modulus: int, salt: int) -> np.ndarray:
    """A bijection of ``[0, modulus)`` (modulus a power of ten) keyed by ``salt``.

    An affine map, the digits reversed, and the affine map again: each step is a bijection,
    and the reversal hides the even spacing an affine map alone leaves.

    >>> sorted(scramble(np.arange(100), 100, 7).tolist()) == list(range(100))
    True
    """
    a, b = _MULTIPLIER % modulus, salt % modulus
    y = (x.astype(np.int64) * a + b) % modulus
    reversed_ = np.zeros_like(y)
    for _ in range(len(str(modulus)) - 1):
        reversed_ = reversed_ * 10 + y % 10
        y = y // 10
    return (reversed_ * a + b) % modulus


def mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: a well-spread 64-bit hash of each value."""
    z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return (z ^ (z >> np.uint64(31))) & _MASK


def salted(x: np.ndarray, salt: int) -> np.ndarray:
    """``mix64`` of each value, keyed by ``salt`` (a non-negative int below 2**63)."""
    key = mix64(np.array([salt], dtype=np.uint64))[0]
    return mix64(x.astype(np.uint64) ^ key)


def hex16(x: np.ndarray) -> pa.Array:
    """16 lower-case hex digits per uint64."""
    raw = x.astype(">u8").view(np.uint8).reshape(-1, 8)
    return pa.array(_HEX[raw].view("S16").ravel()).cast(pa.string())


def _digits(x: np.ndarray, width: int) -> pa.Array:
    return pc.utf8_lpad(pc.cast(pa.array(x), pa.string()), width, "0")


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


@dataclass(frozen=True)
class Identities:
    """Identifier text of the people of one block, indexed by local person number.

    ``email`` holds 2 entries per person (normalised, then as some sources spell it),
    ``phone`` 4 (the four formats; the first is the normalised one), ``anonymous_id`` and
    ``device_id`` 2 (first and second device; ``device_id`` is null on a web device).
    """

    first_name: pa.Array
    last_name: pa.Array
    user_id: pa.Array
    email: pa.Array
    phone: pa.Array
    crm_id: pa.Array
    anonymous_id: pa.Array
    device_id: pa.Array


def width_for(people: int) -> int:
    """Digits of the scrambled numbers in user ids and e-mails for ``people`` people."""
    return max(4, len(str(max(people - 1, 1))))


@dataclass(frozen=True)
class Locale:
    """Where the people live: names, e-mail domains, the mobile numbering, id prefixes.

    A mobile number is ``lead`` and ``digits`` more digits after the country code ``cc``;
    the spaced and dashed spellings cut the national number into ``spaced`` and ``dashed``
    groups. Every spelling normalises to ``+`` cc national.
    """

    first_names: tuple[str, ...]
    last_names: tuple[str, ...]
    domains: tuple[str, ...]
    cc: str
    lead: str
    digits: int
    spaced: tuple[int, ...]
    dashed: tuple[int, ...]
    user_prefix: str = "u"
    crm_prefix: str = "CRM-"


#: The retailer's people: British names and UK mobiles.
UK = Locale(
    first_names=FIRST_NAMES,
    last_names=LAST_NAMES,
    domains=EMAIL_DOMAINS,
    cc="44",
    lead="7",
    digits=9,
    spaced=(4, 6),
    dashed=(4, 3, 3),
)


def _groups(national: pa.Array, sizes: tuple[int, ...], sep: str) -> list[pa.Array | str]:
    out: list[pa.Array | str] = []
    at = 0
    for i, size in enumerate(sizes):
        out += [*([sep] if i else []), pc.utf8_slice_codeunits(national, at, at + size)]
        at += size
    return out


def identities(
    seed: int, first: int, n: int, people: int, app_device: np.ndarray, locale: Locale = UK
) -> Identities:
    """Identifiers of people ``first .. first+n-1``; ``app_device`` is (n, 2) bool."""
    p = np.arange(first, first + n, dtype=np.int64)
    h = salted(p, seed * 8 + 0)
    width = width_for(people)
    modulus = 10**width
    first_names, last_names = locale.first_names, locale.last_names
    first_name = pa.array(first_names).take(
        pa.array((h % np.uint64(len(first_names))).astype(np.int64))
    )
    last_name = pa.array(last_names).take(
        pa.array(((h >> np.uint64(8)) % np.uint64(len(last_names))).astype(np.int64))
    )
    style = ((h >> np.uint64(16)) % np.uint64(3)).astype(np.int64)
    domain = pa.array(locale.domains).take(
        pa.array(((h >> np.uint64(20)) % np.uint64(len(locale.domains))).astype(np.int64))
    )
    code = pc.cast(pa.array(scramble(p, modulus, seed * 8 + 1)), pa.string())
    initial = pc.utf8_slice_codeunits(first_name, 0, 1)
    local = pc.case_when(
        pc.make_struct(pa.array(style == 0), pa.array(style == 1)),
        _join(first_name, ".", last_name, code),
        _join(first_name, code),
        _join(initial, ".", last_name, code),
    )
    email = _join(local, "@", domain)
    shout = ((h >> np.uint64(24)) % np.uint64(4)).astype(np.int64) == 0
    mixed = pc.if_else(
        pa.array(shout),
        pc.utf8_upper(email),
        _join(pc.utf8_capitalize(local), "@", pc.utf8_capitalize(domain)),
    )
    cc = locale.cc
    national = _join(
        locale.lead, _digits(scramble(p, 10**locale.digits, seed * 8 + 2), locale.digits)
    )
    phone = [
        _join(f"+{cc}", national),
        _join(f"+{cc} ", *_groups(national, locale.spaced, " ")),
        _join(f"00{cc} ", *_groups(national, locale.spaced, " ")),
        _join(f"+{cc}-", *_groups(national, locale.dashed, "-")),
    ]
    user_id = _join(
        locale.user_prefix, pc.cast(pa.array(scramble(p, modulus * 10, seed * 8 + 3)), pa.string())
    )
    crm_id = _join(locale.crm_prefix, _digits(scramble(p, modulus * 100, seed * 8 + 4), width + 2))
    dev = np.stack([p * 2, p * 2 + 1], axis=1).ravel()
    anon = _join("a", hex16(salted(dev, seed * 8 + 5)))
    device = _join("dv", hex16(salted(dev, seed * 8 + 6)))
    device = pc.if_else(pa.array(app_device.ravel()), device, pa.nulls(2 * n, pa.string()))
    return Identities(
        first_name=pc.utf8_capitalize(first_name),
        last_name=pc.utf8_capitalize(last_name),
        user_id=user_id,
        email=_interleave([email, mixed]),
        phone=_interleave(phone),
        crm_id=crm_id,
        anonymous_id=anon,
        device_id=device,
    )


#: Room for serial numbers (orders, chats, calls) of one block.
SERIAL_STRIDE = 10_000_000


def reference(prefix: str, serials: np.ndarray, seed: int, salt: int) -> pa.Array:
    """Text ids (order, chat, call) of global serial numbers: prefix + 12 scrambled digits."""
    return _join(prefix, _digits(scramble(serials, 10**12, seed * 8 + salt), 12))


def _interleave(arrays: list[pa.Array]) -> pa.Array:
    """Entries ``[a0[0], a1[0], ..., a0[1], a1[1], ...]``."""
    k = len(arrays)
    n = len(arrays[0])
    order = (np.arange(n)[:, None] + np.arange(k)[None, :] * n).ravel()
    return pa.concat_arrays([a.cast(pa.string()) for a in arrays]).take(pa.array(order))
