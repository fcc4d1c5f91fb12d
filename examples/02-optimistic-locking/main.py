"""Optimistic locking: write only if the stream is still at the version you read.

Run: python main.py (with the package ``messagedb`` installed)
"""

from typing import Optional

import messagedb
from messagedb import VersionConflictError


def main() -> None:
    store = messagedb.Store.open(":memory:")
    ns = store.namespace("default")
    ns.write("account-1", "Opened", {"owner": "ada"}, expected_version=-1)

    # [example]
    def version_of(stream: str) -> int:
        # The position of the stream's last message; -1 for none (None would skip the check).
        version: Optional[int] = ns.stream_version(stream)
        return -1 if version is None else version

    # Two writers read the stream's version.
    seen_by_a = version_of("account-1")
    seen_by_b = version_of("account-1")
    assert (seen_by_a, seen_by_b) == (0, 0)
    print(f"writers A and B read version {seen_by_a}")

    # The first to write with the version it read wins.
    a = ns.write("account-1", "Deposited", {"amount": 10}, expected_version=seen_by_a)
    assert a.position == 1
    print(f"writer A wrote position {a.position}")

    # B's version is stale now: nothing is written, and the error says where the stream is.
    try:
        ns.write("account-1", "Withdrawn", {"amount": 3}, expected_version=seen_by_b)
        raise AssertionError("expected a version conflict")
    except VersionConflictError as err:
        assert (err.code, err.expected, err.actual) == ("STREAM_VERSION_CONFLICT", 0, 1)
        print(f"writer B: {err.code} expected {err.expected} actual {err.actual}")
        print(f"writer B: {err}")

    # B re-reads, decides again with what A wrote, and retries with the new version.
    seen_by_b = version_of("account-1")
    assert seen_by_b == 1
    b = ns.write("account-1", "Withdrawn", {"amount": 3}, expected_version=seen_by_b)
    assert b.position == 2
    print(f"writer B read version {seen_by_b} and wrote position {b.position}")

    # -1 means "the stream must not exist": a second Opened is refused.
    try:
        ns.write("account-1", "Opened", {"owner": "bob"}, expected_version=-1)
        raise AssertionError("expected a version conflict")
    except VersionConflictError as err:
        assert (err.expected, err.actual) == (-1, 2)
        print(f"open account-1 again: {err.code} expected {err.expected} actual {err.actual}")
    # [/example]

    store.close()


if __name__ == "__main__":
    main()
