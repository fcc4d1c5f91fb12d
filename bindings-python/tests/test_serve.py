"""serve(): the bundled server in this process (sync)."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import TEST_TOKEN, rpc

import messagedb
from messagedb.errors import _from_code


def test_serve_in_test_mode(tmp_path: Path) -> None:
    with messagedb.serve() as server:
        # Loopback only by default: test mode's default token is public.
        assert server.url == f"http://127.0.0.1:{server.port}" and server.port > 0
        assert (server.token, server.backend) == (TEST_TOKEN, "sqlite")
        assert repr(server) == f"Server(url='{server.url}', backend='sqlite')"
        with urllib.request.urlopen(f"{server.url}/health", timeout=5) as response:
            assert response.read() == b'{"status":"ok"}'
        status, written = rpc(server.url, server.token, "stream.write", "account-1", {"type": "Opened", "data": {}})
        assert (status, written) == (200, {"position": 0, "globalPosition": 1})
        assert not server.closed
    assert server.closed
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(f"{server.url}/health", timeout=2)
    server.close()  # closing twice is harmless


def test_the_servers_auth_errors_map_to_auth_error(tmp_path: Path) -> None:
    token = "ns_ZGVmYXVsdA_" + "ab" * 32
    with messagedb.serve(test_mode=False, data_dir=str(tmp_path / "data"), token=token) as server:
        assert server.token == token
        status, body = rpc(server.url, None, "stream.get", "account-1")
        assert status == 401
        error = _from_code(body["error"]["code"], body["error"]["message"])
        assert isinstance(error, messagedb.AuthError)
        assert (error.code, str(error)) == (
            "AUTH_REQUIRED",
            "Authentication required: pass a token as 'Authorization: Bearer <token>' or ?token=",
        )
        assert rpc(server.url, token, "stream.version", "account-1") == (200, None)


def test_a_store_and_the_server_share_a_directory(tmp_path: Path) -> None:
    directory = str(tmp_path / "data")
    with messagedb.Store.open(directory) as store, messagedb.serve(db_url=f"sqlite://{directory}") as server:
        store.namespace("default").write("account-1", "Opened", {"by": "store"})
        status, messages = rpc(server.url, server.token, "stream.get", "account-1")
        assert (status, [m[4] for m in messages]) == (200, [{"by": "store"}])


def test_serve_on_postgres(shared_url: str) -> None:
    if not shared_url.startswith("postgres"):
        pytest.skip("covered by test_a_store_and_the_server_share_a_directory")
    with messagedb.serve(db_url=shared_url) as server:
        assert server.backend == "postgres"
        assert rpc(server.url, server.token, "stream.write", "a-1", {"type": "T", "data": {}})[0] == 200


def test_a_server_that_cannot_start() -> None:
    with pytest.raises(messagedb.MessageDBError) as caught:
        messagedb.serve(token="not-a-token")
    assert caught.value.code == "SERVER_START_FAILED"
    assert str(caught.value).startswith("--token: ")


@pytest.mark.parametrize("port", [70000, 65536, -1])
def test_a_port_out_of_range_is_an_invalid_request(port: int) -> None:
    with pytest.raises(messagedb.InvalidRequestError) as caught:
        messagedb.serve(port=port)
    assert caught.value.code == "INVALID_REQUEST"
    assert str(caught.value) == "port must be between 0 and 65535"


def test_listening_on_every_interface_is_an_explicit_choice() -> None:
    with messagedb.serve(host="0.0.0.0") as server:
        assert server.url == f"http://localhost:{server.port}"
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}/health", timeout=5) as response:
            assert response.status == 200
