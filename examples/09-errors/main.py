"""Topic 9 of the tutorial (examples/README.md): every error has a stable code; only a
BACKEND_ERROR may succeed when tried again, and only when it says so."""

from typing import Callable

import messagedb


def report(what: str, code: str, call: Callable[[], object]) -> None:
    """Prints what a program decides on: the code (stable, unlike the message) and whether to
    retry."""
    try:
        call()
    except messagedb.MessageDBError as e:
        assert e.code == code, what
        retry = "yes" if isinstance(e, messagedb.BackendError) and e.retryable else "no"
        print(f"{what}: {e.code} retryable={retry} {e.message}")
        return
    raise AssertionError(f"{what}: no error")


def main() -> None:
    # [example]
    store = messagedb.Store.open(":memory:")
    ns = store.namespace("default")
    message_id = "0190f5a2-1c3b-7d4e-8f60-123456789abc"
    ns.write("account-1", "Opened", {"owner": "ada"}, id=message_id, expected_version=-1)

    # A refused write writes nothing: the stream is where it was.
    report(
        "version conflict",
        "STREAM_VERSION_CONFLICT",
        lambda: ns.write("account-1", "Opened", {"owner": "bob"}, expected_version=-1),
    )
    assert ns.stream_version("account-1") == 0
    print("account-1 is still at version 0")

    # Bad input is refused before the store is touched.
    deposit = {"amount": 10}
    report("empty stream name", "INVALID_REQUEST", lambda: ns.write("", "Deposited", deposit))
    report("type too long", "INVALID_REQUEST", lambda: ns.write("account-1", "T" * 1025, {}))

    # Message ids are unique in a namespace; the second write wrote nothing either.
    report(
        "duplicate id",
        "DUPLICATE_MESSAGE_ID",
        lambda: ns.write("account-2", "Opened", {"owner": "ada"}, id=message_id),
    )
    assert ns.stream_version("account-2") is None
    print("account-2 has no messages")

    nowhere = store.namespace("nowhere")
    report("unknown namespace", "NAMESPACE_NOT_FOUND", lambda: nowhere.stream_version("account-1"))

    store.close()
    report("closed store", "CLOSED", lambda: ns.stream_version("account-1"))

    # The whole table: each code, the HTTP status the server answers it with, and whether an
    # error of that code may succeed when tried again.
    print("error codes:")
    for code, status, retryable in messagedb.error_codes():
        print(f"{code} {status} {'may retry' if retryable else 'final'}")
    # [/example]


if __name__ == "__main__":
    main()
