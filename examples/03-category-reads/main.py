"""Category reads: every stream of a category, in global order, page by page.

Run: python main.py (with the package ``messagedb`` installed)
"""

from typing import Any, Dict, List, Tuple

import messagedb


def main() -> None:
    store = messagedb.Store.open(":memory:")
    ns = store.namespace("default")

    # [example]
    # The category of a stream is its name up to the first `-`: these are three accounts and
    # one transfer, written in this order.
    writes: List[Tuple[str, str, Dict[str, Any]]] = [
        ("account-1", "Opened", {"owner": "ada"}),
        ("account-2", "Opened", {"owner": "bob"}),
        ("transfer-1", "Started", {"amount": 5}),
        ("account-1", "Deposited", {"amount": 10}),
        ("account-3", "Opened", {"owner": "cy"}),
        ("account-2", "Deposited", {"amount": 7}),
    ]
    for stream, message_type, data in writes:
        ns.write(stream, message_type, data)

    # One read returns the messages of every account stream, in the order they were written.
    all_messages = ns.get_category("account")
    assert [m.global_position for m in all_messages] == [1, 2, 4, 5, 6]
    for m in all_messages:
        assert messagedb.category(m.stream_name) == "account"
        print(f"global {m.global_position} {m.stream_name} position {m.position} {m.type}")

    # Page through it: the next page starts after the last global position seen (3 belongs to
    # another category, so counting messages would not give the next position).
    next_position = 1
    seen: List[messagedb.Message] = []
    while True:
        page = ns.get_category("account", position=next_position, batch_size=2)
        if not page:
            print(f"page from {next_position}: empty, done")
            break
        print(f"page from {next_position}: {' '.join(str(m.global_position) for m in page)}")
        next_position = page[-1].global_position + 1
        seen.extend(page)
    assert seen == all_messages
    # [/example]

    store.close()


if __name__ == "__main__":
    main()
