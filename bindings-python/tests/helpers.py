"""Test helpers: a JSON-RPC call to a messagedb server, the Rust server binary as a process, waits
on conditions with a deadline, and Ctrl-C as in an interactive session."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any, Callable, Iterator, List, Optional, Type, Tuple

import pytest

TEST_TOKEN = "ns_ZGVmYXVsdA_" + "0" * 64


def rpc(url: str, token: Optional[str], *call: Any) -> Tuple[int, Any]:
    """POSTs ``[method, args…]`` to ``url/rpc``; returns the status and the decoded body."""
    request = urllib.request.Request(
        f"{url}/rpc",
        data=json.dumps(list(call)).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def server_binary() -> Path:
    """The `messagedb` server binary: $MESSAGEDB_BIN, else $CARGO_TARGET_DIR/debug/messagedb."""
    given = os.environ.get("MESSAGEDB_BIN")
    target = os.environ.get("CARGO_TARGET_DIR", str(Path.home() / ".cache/messagedb/target"))
    path = Path(given) if given else Path(target) / "debug" / "messagedb"
    if not path.is_file():
        pytest.fail(f"the messagedb server binary is missing at {path} (cargo build -p messagedb-server)")
    return path


class RustServer:
    """`messagedb serve` in a child process, on a store URL, until the ``with`` block ends."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url if "://" in db_url else f"sqlite://{db_url}"
        self.url = ""
        self.token = TEST_TOKEN
        self.process: Optional[subprocess.Popen[str]] = None

    def __enter__(self) -> "RustServer":
        command: List[str] = [str(server_binary()), "serve", "--port", "0", "--host", "127.0.0.1"]
        command += ["--db-url", self.db_url, "--token", self.token, "--log-level", "warn"]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        for line in self.process.stdout:
            if line.startswith("listening on "):
                self.url = line.split()[-1]
                return self
        raise AssertionError(f"the server did not start (exit code {self.process.wait()})")

    def __exit__(
        self,
        exc_type: Optional[Type[BaseException]],
        exc: Optional[BaseException],
        tb: Optional[TracebackType],
    ) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            if self.process.stdout is not None:
                self.process.stdout.close()


def wait_until(condition: Callable[[], object], what: str, timeout: float = 20.0) -> None:
    """Polls ``condition`` until it is true; fails naming ``what`` past ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s: {what}")
        time.sleep(0.01)


@contextlib.contextmanager
def sigint_raises_keyboard_interrupt() -> Iterator[None]:
    """SIGINT raises KeyboardInterrupt in the main thread for the duration, as in an interactive
    session, whatever the process inherited: started with SIGINT ignored (a background job of a
    non-interactive shell), Python installs no handler and ``_thread.interrupt_main()`` does
    nothing. The previous handler comes back afterwards."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        if previous is not None:  # None: a handler set outside Python, which cannot be put back
            signal.signal(signal.SIGINT, previous)
