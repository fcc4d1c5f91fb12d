"""Topic 12 of the tutorial (examples/README.md): start the bundled HTTP server from code and
call it over HTTP with its token."""

import json
import urllib.error
import urllib.request
from typing import List, Tuple

import messagedb


def rpc(server: messagedb.Server, call: List[object]) -> Tuple[int, str]:
    """One RPC call: a JSON array ``[method, args…]`` posted to ``/rpc``, with the token as a
    bearer token. Returns the HTTP status and the body."""
    request = urllib.request.Request(
        f"{server.url}/rpc",
        data=json.dumps(call).encode(),
        headers={"Authorization": f"Bearer {server.token}", "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:  # 4xx and 5xx: the body says why
        return error.code, error.read().decode()


def main() -> None:
    # [example]
    # Test mode (an in-memory store), any free port, loopback only.
    server = messagedb.serve()

    opened = {"type": "Opened", "data": {"owner": "ada"}}
    status, body = rpc(server, ["stream.write", "account-1", opened, {"expectedVersion": -1}])
    assert status == 200
    print(f"stream.write: {body}")
    deposited = {"type": "Deposited", "data": {"amount": 10}}
    call: List[object] = ["stream.write", "account-1", deposited, {"expectedVersion": 0}]
    status, body = rpc(server, call)
    assert status == 200
    print(f"stream.write: {body}")

    # The same write again: the stream moved on, so it is refused with a status and a code.
    status, body = rpc(server, call)
    error = json.loads(body)["error"]
    assert (status, error["code"]) == (409, "STREAM_VERSION_CONFLICT")
    print(f"stream.write: {status} {error['code']} {error['message']}")

    # A stream message is [id, type, position, globalPosition, data, metadata, time].
    status, body = rpc(server, ["stream.get", "account-1"])
    assert status == 200
    messages = json.loads(body)
    assert len(messages) == 2
    for _, message_type, position, global_position, data, _, _ in messages:
        data_text = json.dumps(data, separators=(",", ":"))
        print(f"stream.get: position {position} global {global_position} {message_type} {data_text}")

    status, body = rpc(server, ["sys.health"])
    assert status == 200
    print(f"sys.health: {body}")
    server.close()
    print("server stopped")
    # [/example]


if __name__ == "__main__":
    main()
