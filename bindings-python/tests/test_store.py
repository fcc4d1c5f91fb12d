"""Store and Namespace (sync): every message operation, on every backend."""

from __future__ import annotations

import datetime
import json
import uuid
from typing import Any, Dict, List

import pytest

import messagedb
from messagedb import BatchResult, Message, Namespace, Store, WriteResult


def test_open_gives_a_store_with_the_default_namespace(store: Store, url: str) -> None:
    assert store.backend == ("postgres" if url.startswith("postgres") else "sqlite")
    assert repr(store) == f"Store(backend='{store.backend}')"
    assert [n.namespace for n in store.list_namespaces()] == ["default"]


def test_the_context_manager_closes_the_store(url: str) -> None:
    with Store.open(url) as store:
        ns = store.ns("default")
        ns.write("account-1", "Opened", {})
    with pytest.raises(messagedb.ClosedError):
        ns.get_stream("account-1")


def test_write_returns_the_positions(ns: Namespace) -> None:
    assert ns.write("account-1", "Opened", {"owner": "ada"}) == WriteResult(0, 1)
    assert ns.write("account-1", "Deposited", {"amount": 10}) == WriteResult(1, 2)
    assert ns.write("account-2", "Opened", {}) == WriteResult(0, 3)


def test_write_with_expected_version(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {}, expected_version=-1)
    written = ns.write("account-1", "Deposited", {"amount": 1}, expected_version=0)
    assert written.position == 1
    with pytest.raises(messagedb.VersionConflictError):
        ns.write("account-1", "Deposited", {"amount": 1}, expected_version=0)


def test_write_keeps_the_id_metadata_and_json(ns: Namespace) -> None:
    given = uuid.uuid4()
    data = {"n": 10**30, "f": 0.1, "s": "żółw ✓", "nested": {"list": [1, None, True]}}
    ns.write("account-1", "Opened", data, {"correlationStreamName": "x-1"}, id=given)
    ns.write("account-1", "Closed", {}, id=str(uuid.uuid4()))
    ns.write("account-1", "Noted", {}, id="")
    first = ns.get_stream("account-1")[0]
    assert first.id == str(given)
    assert first.data == data
    assert first.metadata == {"correlationStreamName": "x-1"}


def test_write_batch_is_atomic_and_contiguous(ns: Namespace) -> None:
    given = str(uuid.uuid4())
    result = ns.write_batch(
        "account-1",
        [
            {"type": "Opened", "data": {"owner": "ada"}, "id": given},
            {"type": "Deposited", "data": {"amount": 10}, "metadata": {"by": "teller"}},
        ],
        expected_version=-1,
    )
    assert result == BatchResult(0, 1, 1, 2)
    assert (result.last_position, result.last_global_position) == (1, 2)
    messages = ns.get_stream("account-1")
    assert [m.id for m in messages][0] == given
    assert messages[1].metadata == {"by": "teller"}
    with pytest.raises(messagedb.VersionConflictError):
        ns.write_batch("account-1", [{"type": "A", "data": {}}, {"type": "B", "data": {}}], expected_version=0)
    assert ns.stream_version("account-1") == 1


def test_get_stream_reads_in_position_order_with_options(ns: Namespace) -> None:
    for i in range(5):
        ns.write("account-1", "Deposited", {"i": i})
        ns.write("other-1", "Noise", {"i": i})
    assert [m.data["i"] for m in ns.get_stream("account-1")] == [0, 1, 2, 3, 4]
    assert [m.position for m in ns.get_stream("account-1", position=3)] == [3, 4]
    assert [m.position for m in ns.get_stream("account-1", batch_size=2)] == [0, 1]
    assert [m.position for m in ns.get_stream("account-1", global_position=6)] == [3, 4]
    assert len(ns.get_stream("account-1", batch_size=-1)) == 5
    assert ns.get_stream("account-404") == []


def test_get_last_and_stream_version(ns: Namespace) -> None:
    assert ns.get_last("account-1") is None
    assert ns.stream_version("account-1") is None
    ns.write("account-1", "Opened", {})
    ns.write("account-1", "Deposited", {"amount": 1})
    last = ns.get_last("account-1")
    assert last is not None and last.type == "Deposited"
    opened = ns.get_last("account-1", type="Opened")
    assert opened is not None and opened.position == 0
    assert ns.get_last("account-1", type="Closed") is None
    assert ns.stream_version("account-1") == 1


def test_get_category_with_options(ns: Namespace) -> None:
    for i in range(6):
        ns.write(f"account-{i % 3}", "Deposited", {"i": i})
    ns.write("audit-1", "Checked", {}, {"correlationStreamName": "account-1"})
    assert [m.data["i"] for m in ns.get_category("account")] == [0, 1, 2, 3, 4, 5]
    assert [m.global_position for m in ns.get_category("account", position=4)] == [4, 5, 6]
    assert len(ns.get_category("account", batch_size=2)) == 2
    assert [m.stream_name for m in ns.get_category("audit", correlation="account")] == ["audit-1"]
    assert ns.get_category("audit", correlation="other") == []
    assert len(ns.get_category("")) == 7
    assert ns.get_category("account-1") == []


def test_consumer_groups_split_a_category(ns: Namespace) -> None:
    for i in range(20):
        ns.write(f"account-{i}", "Opened", {})
    first = ns.get_category("account", consumer_group=(0, 2))
    second = ns.get_category("account", consumer_group=(1, 2))
    assert len(first) + len(second) == 20
    assert not {m.stream_name for m in first} & {m.stream_name for m in second}
    for m in first:
        assert abs(messagedb.hash64(messagedb.cardinal_id(m.stream_name) or "")) % 2 == 0


def test_a_message_is_an_immutable_record(ns: Namespace) -> None:
    ns.write("account-1", "Opened", {"owner": "ada"})
    message = ns.get_stream("account-1")[0]
    assert isinstance(message, Message)
    assert message.stream_name == "account-1" and message.type == "Opened"
    assert (message.position, message.global_position) == (0, 1)
    assert uuid.UUID(message.id).version == 7
    assert message.time.tzinfo is not None
    assert message.time.utcoffset() == datetime.timedelta(0)
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs((now - message.time).total_seconds()) < 60
    with pytest.raises(AttributeError):
        message.type = "Closed"  # type: ignore[misc]
    again = ns.get_stream("account-1")[0]
    assert message == again and hash(message) == hash(again) and message is not again
    assert {message, again} == {message}
    assert repr(message).startswith(f"Message(id='{message.id}', stream_name='account-1', type='Opened'")
    assert Message.__match_args__[:3] == ("id", "stream_name", "type")
    assert message.data is message.data


def test_write_results_are_values() -> None:
    assert WriteResult(1, 2) == WriteResult(1, 2)
    assert WriteResult(1, 2) != WriteResult(1, 3)
    assert hash(WriteResult(1, 2)) == hash(WriteResult(1, 2))
    assert repr(WriteResult(1, 2)) == "WriteResult(position=1, global_position=2)"
    assert repr(BatchResult(0, 1, 1, 2)) == (
        "BatchResult(position=0, global_position=1, last_position=1, last_global_position=2)"
    )
    with pytest.raises(AttributeError):
        WriteResult(1, 2).position = 3  # type: ignore[misc]


def test_the_namespace_handle(store: Store) -> None:
    ns = store.namespace("default")
    assert ns.id == "default"
    assert repr(ns) == "Namespace('default')"
    assert store.ns("default").id == "default"


def test_json_values_round_trip(ns: Namespace, url: str) -> None:
    import collections
    import math

    deep: List[Any] = []
    for _ in range(100):  # deeper than the native encoder goes
        deep = [deep]
    values: List[Dict[Any, Any]] = [
        {"big": 2**64, "neg": -(2**63), "f": 1e16, "tiny": 5e-324, "pi": math.pi},
        {"s": 'quote " backslash \\ newline \n tab \t ünïcödé 🎉', "empty": "", "none": None},
        {"nested": {"a": [1, [2, [3, {"b": (4, 5)}]]]}, "t": True, "f": False},
        {"deep": deep},
        collections.OrderedDict([("z", 1), ("a", 2)]),
        {1: "int key", None: "none key"},
    ]
    expected = [json.loads(json.dumps(v)) for v in values]
    for value in values:
        ns.write("json-1", "Value", value)
    assert [m.data for m in ns.get_stream("json-1")] == expected
    if not url.startswith("postgres"):  # jsonb keeps no key order
        assert list(ns.get_stream("json-1")[4].data) == ["z", "a"]


def test_json_that_cannot_be_stored(ns: Namespace) -> None:
    with pytest.raises(messagedb.InvalidRequestError) as caught:
        ns.write("json-1", "Value", {"nan": float("nan")})
    assert str(caught.value).startswith("message.data is not valid JSON")
    with pytest.raises(messagedb.InvalidRequestError) as caught:
        ns.write("json-1", "Value", {"nul": "a\x00b"})
    assert str(caught.value) == "message.data must not contain the character U+0000"
    with pytest.raises(TypeError):
        ns.write("json-1", "Value", {"object": object()})
    assert ns.stream_version("json-1") is None
