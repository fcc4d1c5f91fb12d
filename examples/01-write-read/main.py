"""Write a message and a batch to a stream, then read the stream back.

Run: python main.py (with the package ``messagedb`` installed)
"""

import json
from typing import List

import messagedb


def main() -> None:
    # [example]
    # An in-memory store: nothing touches the disk, everything is gone at exit.
    store = messagedb.Store.open(":memory:")
    ns = store.namespace("default")

    # Expected version -1: the stream must not exist yet, so this write starts it.
    written = ns.write("account-1", "Opened", {"owner": "ada"}, expected_version=-1)
    assert (written.position, written.global_position) == (0, 1)
    print(f"wrote position {written.position} global {written.global_position}")

    # A batch lands atomically, at contiguous positions after the last one (0).
    b = ns.write_batch(
        "account-1",
        [
            {"type": "Deposited", "data": {"amount": 10}},
            {"type": "Withdrawn", "data": {"amount": 3}},
        ],
        expected_version=0,
    )
    assert (b.position, b.last_position) == (1, 2)
    assert (b.global_position, b.last_global_position) == (2, 3)
    print(
        f"wrote batch positions {b.position}..{b.last_position}"
        f" global {b.global_position}..{b.last_global_position}"
    )

    # Positions count from 0 within the stream; global positions from 1 in the namespace.
    messages = ns.get_stream("account-1")
    assert len(messages) == 3
    for m in messages:
        data = json.dumps(m.data, separators=(",", ":"))
        print(f"{m.stream_name} position {m.position} global {m.global_position} {m.type} {data}")

    # Reading from a position returns that message and the ones after it.
    rest = ns.get_stream("account-1", position=1)
    types: List[str] = [m.type for m in rest]
    assert types == ["Deposited", "Withdrawn"]
    print(f"from position 1: {' '.join(types)}")
    # [/example]

    store.close()


if __name__ == "__main__":
    main()
