"""API keys in the store: only a hash is kept, scopes are checked, revoking is for good."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from data.store import NotFoundError, Store, upgrade
from data.store.engine import read
from data.store.schema import api_keys


@pytest.fixture
def store(tmp_path: Path) -> Store:
    url = f"sqlite:///{tmp_path / 'keys.db'}"
    upgrade(url)
    return Store(url)


def test_a_key_verifies_and_only_its_hash_is_stored(store: Store) -> None:
    key, token = store.create_api_key("crm-sync", ["score", "route", "score"])
    assert token.startswith(f"lsk_{key.key_id}_") and len(token) > 50
    assert key.scopes == ["route", "score"]
    assert store.verify_api_key(token) == key
    with read(store.engine) as connection:
        stored = connection.execute(select(api_keys)).one()
    assert token not in [str(value) for value in stored]
    assert key.allows("score") and not key.allows("admin") and not key.allows("outcomes")


def test_admin_holds_every_scope(store: Store) -> None:
    key, _ = store.create_api_key("ops", ["admin"])
    assert all(key.allows(scope) for scope in ("score", "route", "outcomes", "read", "admin"))


@pytest.mark.parametrize(
    "token",
    ["", "lsk_", "lsk__x", "nonsense", "lsk_{id}_wrongsecret", "lsk_000000000000_{secret}"],
)
def test_wrong_tokens_do_not_verify(store: Store, token: str) -> None:
    key, good = store.create_api_key("crm", ["score"])
    secret = good.split("_", 2)[2]
    assert store.verify_api_key(token.format(id=key.key_id, secret=secret)) is None


def test_a_revoked_key_stops_and_stays_listed(store: Store) -> None:
    key, token = store.create_api_key("old", ["read"])
    revoked = store.revoke_api_key(key.key_id)
    assert revoked.revoked_at is not None and not revoked.allows("read")
    assert store.verify_api_key(token) is None
    assert [k.key_id for k in store.list_api_keys()] == [key.key_id]
    assert store.active_api_keys() == 0
    with pytest.raises(NotFoundError, match="unknown API key: key_id 'nope'"):
        store.revoke_api_key("nope")


@pytest.mark.parametrize(
    ("name", "scopes", "problem"),
    [
        ("x", ["superuser"], "scopes must be some of score, route, outcomes, read, admin"),
        ("x", [], "got none"),
        ("  ", ["read"], "a key needs a name"),
    ],
)
def test_bad_keys_are_refused(store: Store, name: str, scopes: list[str], problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        store.create_api_key(name, scopes)
    assert store.list_api_keys() == []
