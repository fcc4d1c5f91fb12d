"""Topic 10 of the tutorial (examples/README.md): the last message of a stream, the last of a
type, and a stream's version."""

import json
from typing import Optional

import messagedb


def describe(m: Optional[messagedb.Message]) -> str:
    """A message (or its absence) as one line, the same in the three languages."""
    if m is None:
        return "none"
    data = json.dumps(m.data, separators=(",", ":"))
    return f"{m.stream_name} position {m.position} global {m.global_position} {m.type} {data}"


def main() -> None:
    # [example]
    store = messagedb.Store.open(":memory:")
    ns = store.namespace("default")
    history = [
        {"type": "Opened", "data": {"owner": "ada"}},
        {"type": "Deposited", "data": {"amount": 10}},
        {"type": "Withdrawn", "data": {"amount": 3}},
        {"type": "Deposited", "data": {"amount": 5}},
    ]
    ns.write_batch("account-1", history, expected_version=-1)

    # The latest message, without reading the stream from its start.
    last = ns.get_last("account-1")
    assert last is not None and last.position == 3
    print(f"last: {describe(last)}")

    # The latest of one type: e.g. the last snapshot, or the last withdrawal.
    withdrawn = ns.get_last("account-1", type="Withdrawn")
    assert withdrawn is not None and withdrawn.position == 2
    print(f"last Withdrawn: {describe(withdrawn)}")

    # No message of that type, or no such stream: None, not an error.
    closed = ns.get_last("account-1", type="Closed")
    assert closed is None
    print(f"last Closed: {describe(closed)}")
    missing = ns.get_last("account-2")
    assert missing is None
    print(f"last of account-2: {describe(missing)}")

    # The version is the position of the last message (None for an empty stream): what the next
    # write expects, so that it lands only if nobody wrote in between.
    version = ns.stream_version("account-1")
    assert version == 3
    print(f"version of account-1: {version}")
    assert ns.stream_version("account-2") is None
    print("version of account-2: none")

    written = ns.write("account-1", "Closed", {"reason": "moved"}, expected_version=version)
    assert written.position == 4
    print(f"wrote Closed at position {written.position}")
    print(f"last Closed: {describe(ns.get_last('account-1', type='Closed'))}")
    store.close()
    # [/example]


if __name__ == "__main__":
    main()
