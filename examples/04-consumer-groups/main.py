"""Consumer groups: split a category between members; each stream goes to exactly one member.

Run: python main.py (with the package ``messagedb`` installed)
"""

from typing import Dict, List

import messagedb


def main() -> None:
    store = messagedb.Store.open(":memory:")
    ns = store.namespace("default")
    writes = [
        ("account-1", "Opened"),
        ("account-2", "Opened"),
        ("account-3", "Opened"),
        ("account-4", "Opened"),
        ("account-1", "Deposited"),
        ("account-1+audit", "Reviewed"),
        ("account-2", "Deposited"),
    ]
    for stream, message_type in writes:
        ns.write(stream, message_type, {})

    # [example]
    # Each member of a group of 2 reads the same category with its member number.
    size = 2
    member_of: Dict[str, int] = {}  # stream -> member
    read: List[messagedb.Message] = []
    for member in range(size):
        for m in ns.get_category("account", consumer_group=(member, size)):
            print(f"member {member}: global {m.global_position} {m.stream_name} {m.type}")
            # The rule: member = abs(hash_64(cardinal id) % size), where hash_64 is the first 8
            # bytes of an MD5 and the cardinal id is the stream's id up to any `+`.
            assert messagedb.consumer_group_member(m.stream_name, size) == member
            first = member_of.setdefault(m.stream_name, member)
            assert first == member, "a stream is read by one member only"
            read.append(m)

    # `account-1+audit` has the cardinal id of `account-1`, so the same member reads both.
    assert messagedb.cardinal_id("account-1+audit") == "1"
    assert member_of["account-1+audit"] == member_of["account-1"]
    print(f"account-1+audit goes with account-1: member {member_of['account-1']}")

    # Together the members read the whole category, each message once. (A stream without an
    # id, named just `account`, would belong to no member.)
    read.sort(key=lambda m: m.global_position)
    whole = ns.get_category("account")
    assert read == whole
    print(f"{size} members read all {len(whole)} messages")
    # [/example]

    store.close()


if __name__ == "__main__":
    main()
