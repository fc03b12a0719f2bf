"""Keys (hashed at rest, revocable), token buckets, and the server settings."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

import pytest

from journeykit.errors import InputError, NotFound
from journeykit.server.keys import (
    KEYS_FILE,
    RECHECK_SECONDS,
    KeyRing,
    RateLimits,
    TokenBucket,
    create_key,
    list_keys,
    revoke_key,
)
from journeykit.server.settings import ServerSettings, load_server_settings


def test_create_list_revoke(tmp_path: Path):
    w = create_key(tmp_path, "write", "web site", rate=10)
    r = create_key(tmp_path, "read", "dashboard")
    assert w.startswith("jkw_") and r.startswith("jkr_")
    keys = list_keys(tmp_path)
    assert [(k.kind, k.name, k.rate, k.active) for k in keys] == [
        ("write", "web site", 10.0, True),
        ("read", "dashboard", None, True),
    ]
    revoked = revoke_key(tmp_path, keys[0].key_id)
    assert revoked.revoked_at is not None and not revoked.active
    assert [k.kind for k in list_keys(tmp_path, include_revoked=False)] == ["read"]
    with pytest.raises(NotFound):
        revoke_key(tmp_path, "0123456789abcdef")
    # a whole key names its id too
    assert revoke_key(tmp_path, r).key_id == keys[1].key_id


def test_secrets_are_not_stored(tmp_path: Path):
    key = create_key(tmp_path, "admin", "ops")
    secret = key.split("_", 2)[2]
    raw = (tmp_path / KEYS_FILE).read_bytes()
    for path in tmp_path.glob(KEYS_FILE + "*"):
        raw += path.read_bytes()
    assert secret.encode() not in raw
    with sqlite3.connect(tmp_path / KEYS_FILE) as con:
        salts = con.execute("SELECT salt, digest FROM api_keys").fetchall()
    assert len(salts[0][0]) == 16 and len(salts[0][1]) == 32


@pytest.mark.parametrize(
    ("kind", "name", "field"), [("owner", "x", "kind"), ("read", " ", "name"), ("read", "", "name")]
)
def test_bad_key_requests(tmp_path: Path, kind, name, field):
    with pytest.raises(InputError) as err:
        create_key(tmp_path, kind, name)
    assert err.value.field == field


def test_key_ring_verifies_and_sees_revocation_from_another_process(tmp_path: Path):
    key = create_key(tmp_path, "write", "w")
    ring = KeyRing(tmp_path)
    assert ring.verify(key).kind == "write"
    assert ring.verify(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert ring.verify("jkr" + key[3:]) is None  # the kind letter is part of the key
    assert ring.verify("") is None and ring.verify("jkw_short_x") is None
    # another connection (as `journeykit keys revoke` would be) revokes it
    revoke_key(tmp_path, key)
    time.sleep(RECHECK_SECONDS + 0.1)
    assert ring.verify(key) is None
    ring.close()


def test_token_bucket_against_a_simulated_clock():
    bucket = TokenBucket(rate=10.0, burst=5.0)
    assert all(bucket.take(1) == 0.0 for _ in range(5))
    wait = bucket.take(1)
    assert 0.05 < wait <= 0.1 + 1e-6
    time.sleep(0.25)
    assert bucket.take(2) == 0.0
    # a request larger than the burst passes when the bucket is full, and leaves a debt
    big = TokenBucket(rate=100.0, burst=10.0)
    assert big.take(50) == 0.0
    assert big.take(1) > 0.3


def test_rate_limits_per_key(tmp_path: Path):
    create_key(tmp_path, "read", "limited", rate=1, burst=2)
    create_key(tmp_path, "read", "default")
    limited, default = list_keys(tmp_path)
    limits = RateLimits({"read": (1000.0, 1000.0), "write": (0.0, 0.0)})
    assert limits.check(limited) == 0.0 and limits.check(limited) == 0.0
    assert limits.check(limited) > 0
    assert all(limits.check(default) == 0.0 for _ in range(100))


def test_server_settings_from_file_and_environment(tmp_path: Path, monkeypatch):
    toml = tmp_path / "journeykit.toml"
    toml.write_text(
        '[server]\nport = 9001\nmax_batch_bytes = 1000\ncors_origins = ["https://a.io"]\n'
        "max_future_hours = 2\n"
    )
    monkeypatch.setenv("JOURNEYKIT_SERVER_PORT", "9002")
    monkeypatch.setenv("JOURNEYKIT_SERVER_ACCESS_LOG", "false")
    monkeypatch.setenv("JOURNEYKIT_SERVER_MAX_PAST_DAYS", "30")
    s = load_server_settings(toml)
    assert s.port == 9002  # the environment wins
    assert s.max_batch_bytes == 1000
    assert s.cors_origins == ("https://a.io",)
    assert s.access_log == "off"
    assert s.max_future_hours == 2 and s.max_past_days == 30.0
    assert load_server_settings(toml, port=1).port == 1
    defaults = ServerSettings()
    assert (defaults.max_message_bytes, defaults.max_batch_bytes) == (32 * 1024, 500 * 1024)
    with pytest.raises(AttributeError):
        defaults.port = 1  # type: ignore[misc]


def test_a_ring_notices_a_revocation_made_elsewhere(tmp_path):
    import time as _time

    import journeykit as _jk
    from journeykit.server import keys as _keys

    _jk.open(tmp_path).close()
    token = _keys.create_key(tmp_path, "read", "dashboard")
    ring = _keys.KeyRing(tmp_path)
    key = ring.verify(token)
    assert key is not None
    _keys.revoke_key(tmp_path, key.key_id)
    deadline = _time.monotonic() + _keys.RECHECK_SECONDS + 2
    while ring.verify(token) is not None and _time.monotonic() < deadline:
        _time.sleep(0.2)
    assert ring.verify(token) is None
