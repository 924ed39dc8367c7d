"""One engine and its sessions, and the only way handlers get a transaction.

``Database.transaction()`` is the unit of work: everything a request or a batch of records does
commits together or not at all (issue 5: nothing is ever half applied).

On SQLite (the embedded runtime) every transaction starts with ``BEGIN IMMEDIATE``: it takes the
database's one write lock up front, so two transactions never both read a task as claimable and
then race to write it (with the driver's default deferred ``BEGIN`` the loser fails with "database
is locked" instead of waiting). Writers queue behind ``busy_timeout``; WAL lets readers outside a
transaction carry on meanwhile. That is what makes claiming safe there without ``SKIP LOCKED``.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.orm import Session, sessionmaker

from paicha.settings import DEFAULT_CLAIM_CONNECTIONS


class Database:
    """The tracking database. Connects lazily: building one opens no connection."""

    def __init__(
        self,
        *,
        url: str,
        pool_size: int = 10,
        max_overflow: int = 20,
        claim_connections: int = DEFAULT_CLAIM_CONNECTIONS,
    ) -> None:
        # No pre-ping: it costs a round trip per transaction, a third of a claim. A connection
        # the server dropped fails one request instead, and is replaced after an hour at most.
        options: dict[str, object] = {"pool_recycle": 3600}
        if url.startswith("sqlite"):
            options["connect_args"] = {"check_same_thread": False}
        else:
            options.update(pool_size=pool_size, max_overflow=max_overflow)
        self.url = url
        self.engine: Engine = create_engine(url, **options)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_connect)
            event.listen(self.engine, "begin", _sqlite_begin_immediate)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._claim_connections = claim_connections
        self._autocommit: AutocommitPool | None = None
        self._autocommit_lock = threading.Lock()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any exception."""
        with self._sessions.begin() as session:
            yield session

    def autocommit_fetchone(self, statement: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """``autocommit_cursor``'s one statement and its first row, for the hot path."""
        return self._autocommit_pool().fetchone(statement, params)

    @contextmanager
    def autocommit_cursor(self) -> Iterator[Any]:
        """A psycopg2 cursor in autocommit, for one statement that is atomic by itself
        (claim-next on PostgreSQL). It saves the BEGIN and COMMIT round trips and the ORM's work
        (the benchmark measured a claim through a session at 0.36x a bare SKIP LOCKED loop), and
        its connections come from a pool of their own (``AutocommitPool``), not from the engine's.
        """
        with self._autocommit_pool().cursor() as cursor:
            yield cursor

    def _autocommit_pool(self) -> AutocommitPool:
        pool = self._autocommit
        if pool is None:
            with self._autocommit_lock:
                pool = self._autocommit
                if pool is None:
                    pool = AutocommitPool(libpq_dsn(self.engine.url), self._claim_connections)
                    self._autocommit = pool
        return pool

    def dispose(self) -> None:
        if self._autocommit is not None:
            self._autocommit.close()
            self._autocommit = None
        self.engine.dispose()


def libpq_dsn(url: str | URL) -> str:
    """A PostgreSQL URL of SQLAlchemy's (``postgresql+psycopg2://...``) as libpq takes it, for
    psycopg2 and the like, password included."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


class AutocommitPool:
    """psycopg2 connections kept in autocommit, at most ``size`` at once, opened when first needed
    and kept. Checking a connection out of SQLAlchemy's pool and back costs about 90 µs of client
    CPU (its events, the reset on return), as much as the rest of a claim's client side, and
    claims are the queue's hot path. (psycopg2's own pools close every connection handed back
    beyond ``minconn``.) A connection whose statement failed is kept while it is open (autocommit
    leaves no transaction to abort), dropped once closed.

    Callers past ``size`` wait in line, first come first served: a connection handed back goes
    straight to the longest waiter, never to whoever asks next. A plain queue of connections
    (``queue.SimpleQueue``, as this was) lets the thread that just handed one back take it again
    before a woken waiter can: with 8 tracers on one connection, one of them claimed every task
    while the other seven waited until the queue was empty. The slots are an open connection, or
    None for a slot not connected yet.
    """

    def __init__(self, dsn: str, size: int, timeout: float = 30.0) -> None:
        self._dsn = dsn
        self._size, self._timeout = size, timeout
        self._lock = threading.Lock()
        self._free: list[Any] = [None] * size
        self._waiters: deque[_Waiter] = deque()

    def fetchone(self, statement: str, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """Run one statement (atomic by itself, as autocommit makes it) and return its first
        row: the claim's hot path, without ``cursor()``'s generator context manager (a few µs
        a call)."""
        connection = self._take()
        try:
            with connection.cursor() as cursor:
                cursor.execute(statement, params)
                return cursor.fetchone()
        finally:
            self._give(connection)

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        connection = self._take()
        try:
            with connection.cursor() as cursor:
                yield cursor
        finally:
            self._give(connection)

    def close(self) -> None:
        """Close the connections not in use; their slots reconnect when next taken."""
        with self._lock:
            idle, self._free = self._free, [None] * len(self._free)
        for connection in idle:
            if connection is not None:
                connection.close()

    def _take(self) -> Any:
        waiter = None
        with self._lock:
            if self._free and not self._waiters:
                connection = self._free.pop()
            else:
                waiter = _Waiter()
                self._waiters.append(waiter)
        if waiter is not None:
            connection = self._wait(waiter)
        if connection is None:
            try:
                import psycopg2

                connection = psycopg2.connect(self._dsn)
                connection.autocommit = True
            except BaseException:
                self._give(None)
                raise
        return connection

    def _wait(self, waiter: _Waiter) -> Any:
        # As SQLAlchemy's pool does (pool_timeout, 30 s): a request fails rather than hang.
        if not waiter.handed.acquire(timeout=self._timeout):
            with self._lock:
                if waiter in self._waiters:
                    self._waiters.remove(waiter)
                    raise TimeoutError(
                        f"no database connection free within {self._timeout:.0f} s: "
                        f"all {self._size} of the claim pool are in use"
                    )
            # Handed one just as the wait ran out: take it.
        return waiter.connection

    def _give(self, connection: Any) -> None:
        slot = None if connection is None or connection.closed else connection
        with self._lock:
            if self._waiters:
                waiter = self._waiters.popleft()
                waiter.connection = slot
                waiter.handed.release()
            else:
                self._free.append(slot)


class _Waiter:
    """One caller waiting for a connection: ``handed`` is released once ``connection`` is set."""

    __slots__ = ("connection", "handed")

    def __init__(self) -> None:
        self.connection: Any = None
        self.handed = threading.Lock()
        self.handed.acquire()


SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_connect(connection: object, _record: object) -> None:
    # The driver's own transaction handling off, so ``_sqlite_begin_immediate`` decides how
    # each transaction begins (SQLAlchemy's documented recipe for pysqlite).
    connection.isolation_level = None  # type: ignore[attr-defined]
    cursor = connection.cursor()  # type: ignore[attr-defined]
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "memory":
        cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _sqlite_begin_immediate(connection: Connection) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")
