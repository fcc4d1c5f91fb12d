"""The stream-name helpers (pure functions, the same as Message DB's)."""

from __future__ import annotations

import messagedb


def test_category() -> None:
    assert messagedb.category("account-123+retry") == "account"
    assert messagedb.category("account") == "account"
    assert messagedb.category("account:command-1") == "account:command"


def test_id_and_cardinal_id() -> None:
    assert messagedb.id("account-123+retry") == "123+retry"
    assert messagedb.id("account") is None
    assert messagedb.id("account-1-2") == "1-2"
    assert messagedb.cardinal_id("account-123+retry") == "123"
    assert messagedb.cardinal_id("account-123") == "123"
    assert messagedb.cardinal_id("account") is None


def test_is_category() -> None:
    assert messagedb.is_category("account")
    assert not messagedb.is_category("account-1")


def test_hash64_is_message_dbs_hash_64() -> None:
    assert messagedb.hash64("abc") == -8070080442485551184
    assert messagedb.hash64("") == -3162216497309240828
    assert -(2**63) <= messagedb.hash64("123") < 2**63
