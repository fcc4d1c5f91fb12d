"""Correlation: a process that sends a command to another component names its own stream in the
command's ``metadata.correlationStreamName``. The component carries that metadata over to the
events it writes, so the process reads the component's category filtered by correlation and gets
only the events that answer its own category.

python examples/08-correlation/main.py
"""

import json
from typing import List, Tuple

import messagedb

with messagedb.Store.open(":memory:") as store:
    ns = store.namespace("default")

    # [example]
    # An order and a subscription each send a Charge command to the payment component, with
    # their own stream as the correlation.
    requests: List[Tuple[str, str, int]] = [
        ("order-1", "payment:command-1", 50),
        ("subscription-7", "payment:command-2", 9),
    ]
    for origin, stream, amount in requests:
        metadata = {"correlationStreamName": origin}
        ns.write(stream, "Charge", {"amount": amount}, metadata)
        compact = json.dumps(metadata, separators=(",", ":"))
        print(f"{origin} sent Charge to {stream} with metadata {compact}")

    # The payment component handles each command and writes the outcome to its own stream,
    # keeping the correlation and naming the command that caused it.
    for command in ns.get_category("payment:command"):
        received = command.metadata or {}
        carried = {
            "causationMessageStreamName": command.stream_name,
            "correlationStreamName": received.get("correlationStreamName"),
        }
        payment = command.stream_name.replace("payment:command-", "payment-")
        ns.write(payment, "Charged", command.data, carried)
        print(f"payment wrote Charged to {payment}")

    # The order process reads the payment category (`payment:command` is another category) and
    # keeps only the messages correlated with the `order` category.
    payments = ns.get_category("payment")
    replies = ns.get_category("payment", correlation="order")
    assert (len(payments), len(replies)) == (2, 1)
    print(f"category payment: {len(payments)} messages")
    print(f"correlated with order: {len(replies)}")
    # The metadata comes back as it was written.
    m = replies[0]
    written = {"causationMessageStreamName": "payment:command-1", "correlationStreamName": "order-1"}
    assert (m.stream_name, m.metadata) == ("payment-1", written)
    data_json, metadata_json = (json.dumps(x, separators=(",", ":")) for x in (m.data, m.metadata))
    print(f"{m.stream_name} {m.type} {data_json} metadata {metadata_json}")

    # The filter takes a category: a stream name matches nothing.
    by_stream = ns.get_category("payment", correlation="order-1")
    assert by_stream == []
    print(f"correlated with order-1: {len(by_stream)}")
    # [/example]
