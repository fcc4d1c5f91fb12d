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


def test_consumer_group_member_is_the_member_a_grouped_read_gives_a_stream_to() -> None:
    assert [
        messagedb.consumer_group_member("account-123", 2),
        messagedb.consumer_group_member("account-123+retry", 4),
        messagedb.consumer_group_member("account-456", 3),
        messagedb.consumer_group_member("account-7f3c2a", 5),
    ] == [1, 3, 1, 4]
    # No id, no member; no member of an empty group.
    assert messagedb.consumer_group_member("account", 2) is None
    assert messagedb.consumer_group_member("account-1", 0) is None
    with messagedb.Store.open(":memory:") as store:
        ns = store.namespace("default")
        streams = [f"account-{i}" for i in range(20)]
        for s in streams:
            ns.write(s, "Opened", {})
        for member in range(3):
            read = [m.stream_name for m in ns.get_category("account", consumer_group=(member, 3))]
            assert read == [s for s in streams if messagedb.consumer_group_member(s, 3) == member]
