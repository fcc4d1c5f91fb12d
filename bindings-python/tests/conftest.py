"""Fixtures: a fresh store on each backend (SQLite in memory, SQLite files, PostgreSQL).

PostgreSQL comes from ``MESSAGEDB_TEST_PG_URL`` (scripts/test-python.sh starts a throwaway cluster
when it is not set); every test gets a database of its own. Without the variable the PostgreSQL
tests are skipped, except under ``CI=true`` where they fail.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator, List

import pytest

import messagedb

PG_URL = os.environ.get("MESSAGEDB_TEST_PG_URL", "")
IN_CI = os.environ.get("CI", "").lower() in ("true", "1")

BACKENDS = ["sqlite-memory", "sqlite-file", "postgres"]
SHARED_BACKENDS = ["sqlite-file", "postgres"]


def pytest_report_header(config: pytest.Config) -> List[str]:
    del config
    return [
        f"messagedb {messagedb.__version__} from {Path(messagedb.__file__).parent}",
        f"PostgreSQL: {PG_URL or 'not set'}",
    ]


def require_postgres() -> str:
    """The server URL, or skip (fail in CI) when there is none."""
    if PG_URL:
        return PG_URL
    if IN_CI:
        pytest.fail("MESSAGEDB_TEST_PG_URL is not set: the PostgreSQL tests cannot run in CI")
    pytest.skip("MESSAGEDB_TEST_PG_URL is not set")


@pytest.fixture
def pg_database() -> Iterator[Callable[[], str]]:
    """Makes fresh PostgreSQL databases, dropped when the test ends: dropped together at the end of
    the session, they took minutes on a busy machine, counted against the last test's deadline."""
    created: List[str] = []

    def make() -> str:
        import psycopg

        server = require_postgres()
        name = f"messagedb_py_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        base, _, rest = server.rpartition("/")
        query = rest.partition("?")[2]
        return f"{base}/{name}" + (f"?{query}" if query else "")

    yield make
    if created:
        import psycopg

        with psycopg.connect(PG_URL, autocommit=True) as conn:
            for name in created:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def store_url(backend: str, tmp_path: Path, pg_database: Callable[[], str]) -> str:
    if backend == "sqlite-memory":
        return ":memory:"
    if backend == "sqlite-file":
        return str(tmp_path / "store")
    return pg_database()


@pytest.fixture(params=BACKENDS)
def url(request: pytest.FixtureRequest, tmp_path: Path, pg_database: Callable[[], str]) -> str:
    """A URL of a fresh, empty store on each backend."""
    return store_url(str(request.param), tmp_path, pg_database)


@pytest.fixture(params=SHARED_BACKENDS)
def shared_url(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database: Callable[[], str]
) -> str:
    """A URL of a fresh store that several processes can open (SQLite files, PostgreSQL)."""
    return store_url(str(request.param), tmp_path, pg_database)


@pytest.fixture
def store(url: str) -> Iterator[messagedb.Store]:
    with messagedb.Store.open(url) as store:
        yield store


@pytest.fixture
def ns(store: messagedb.Store) -> messagedb.Namespace:
    return store.namespace("default")


@pytest.fixture
async def astore(url: str) -> AsyncIterator[messagedb.AsyncStore]:
    async with await messagedb.AsyncStore.open(url) as store:
        yield store


@pytest.fixture
def ans(astore: messagedb.AsyncStore) -> messagedb.AsyncNamespace:
    return astore.namespace("default")
