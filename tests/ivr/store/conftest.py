"""Store fixtures over both real databases: a SQLite file and a PostgreSQL schema per test.

PostgreSQL is ``$IVR_TEST_POSTGRES_URL`` (default ``postgresql://postgres@127.0.0.1:5432/test``,
trust auth). Each test gets its own schema ``ivr_test_<random>``, dropped afterwards, so parallel
runs and other users of the database never meet. If the server cannot be reached the PostgreSQL
tests fail, unless ``IVR_SKIP_POSTGRES=1``, which skips them.
"""

from __future__ import annotations

import selectors
import socket
import sqlite3
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy.engine import make_url

from ivr.store import Store
from tests.fixtures.postgres import (
    POSTGRES_URL,
    admin_execute,
    libpq,
    require_postgres,
)

#: Put into a password-less URL so every PostgreSQL test also checks the password is masked;
#: trust auth ignores it.
DUMMY_PASSWORD = "hunter2-not-a-real-secret"


@dataclass
class Database:
    """One empty database for a test, and ways to open stores on it and to damage it."""

    backend: str
    url: str
    schema: str | None = None
    path: Path | None = None
    stores: list[Store] = field(default_factory=list)

    def open(self, **kwargs: Any) -> Store:
        """A new store on this database, closed when the test ends."""
        if self.schema is not None:
            kwargs.setdefault("schema", self.schema)
        store = Store(self.url, **kwargs)
        self.stores.append(store)
        return store

    def execute(self, statement: str) -> None:
        """Run raw SQL behind the stores' backs (tables unqualified)."""
        if self.path is not None:
            with closing(sqlite3.connect(self.path)) as conn, conn:
                conn.execute(statement)
            return
        assert self.schema is not None
        with psycopg.connect(libpq(POSTGRES_URL), autocommit=True) as pg:
            pg.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema)))
            pg.execute(statement.encode())

    def close(self) -> None:
        for store in self.stores:
            store.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "ivr.db"
        db = Database("sqlite", f"sqlite:///{path}", path=path)
        try:
            yield db
        finally:
            db.close()
        return
    require_postgres()
    schema = f"ivr_test_{uuid.uuid4().hex[:16]}"
    url = make_url(POSTGRES_URL)
    if url.password is None:
        url = url.set(password=DUMMY_PASSWORD)
    db = Database("postgresql", url.render_as_string(hide_password=False), schema=schema)
    try:
        yield db
    finally:
        db.close()
        admin_execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


@pytest.fixture
def store(database: Database) -> Store:
    """A store on an empty database, of each kind."""
    return database.open()


def closed_port() -> int:
    """A local TCP port nothing listens on (it was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


class TcpProxy:
    """A TCP forwarder on 127.0.0.1 that can be cut and restored, to stage a database outage.

    ``stop()`` closes the listener and every forwarded connection, as a database restart or a
    network failure would; ``start()`` listens again on the same port.
    """

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()

    def start(self) -> None:
        self._stop.clear()
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen()
        listener.settimeout(0.05)
        self.port = listener.getsockname()[1]
        self._spawn(self._accept, listener)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)
        assert not any(t.is_alive() for t in self._threads), "proxy threads did not stop"
        self._threads.clear()
        with self._lock:
            for sock in self._sockets:
                sock.close()
            self._sockets.clear()

    def _spawn(self, target: Callable[..., None], *args: Any) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        self._threads.append(thread)
        thread.start()

    def _accept(self, listener: socket.socket) -> None:
        with listener:
            while not self._stop.is_set():
                try:
                    client, _ = listener.accept()
                except TimeoutError:
                    continue
                upstream = socket.create_connection(self.target, timeout=3)
                with self._lock:
                    self._sockets += [client, upstream]
                self._spawn(self._pump, client, upstream)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in peers:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            while not self._stop.is_set():
                for key, _ in selector.select(timeout=0.05):
                    source: socket.socket = key.fileobj  # type: ignore[assignment]
                    try:
                        chunk = source.recv(65536)
                    except OSError:
                        chunk = b""
                    if not chunk:
                        return
                    peers[source].setblocking(True)
                    peers[source].sendall(chunk)
                    peers[source].setblocking(False)


@pytest.fixture
def postgres_proxy() -> Iterator[TcpProxy]:
    """A cuttable TCP path to the test PostgreSQL."""
    require_postgres()
    url = make_url(POSTGRES_URL)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    proxy.start()
    try:
        yield proxy
    finally:
        proxy.stop()


def run_threads(count: int, work: Callable[[int], None]) -> None:
    """Run ``work(i)`` in ``count`` threads released together; re-raise the first failure."""
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def body(i: int) -> None:
        try:
            barrier.wait(timeout=30)
            work(i)
        except BaseException as error:  # reported to the test below
            errors.append(error)

    threads = [threading.Thread(target=body, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "worker threads hung"
    if errors:
        raise errors[0]
