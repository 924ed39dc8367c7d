"""The embedded processors' state in one SQLite file: what RocksDB and the changelog topics are
to a faust worker.

``KeyedState`` (``streams.state``) reads a key's pickled state from a table and writes it back
after a batch; ``StoreTable`` is such a table. Writes are buffered and reach the file only at
``commit``, together with the bus's offsets, the processors' watermarks and the feeder's
position, in one transaction: after a crash the file holds a consistent point to resume from.
The runtime's thread writes; other threads may read positions, so one lock guards the
connection.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

SCHEMA = (
    "CREATE TABLE IF NOT EXISTS state ("
    " store TEXT NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL, PRIMARY KEY (store, key))",
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value BLOB NOT NULL)",
)


class StateStore:
    """Keyed state by store name, and small named JSON values (offsets, positions)."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        for statement in SCHEMA:
            self._db.execute(statement)
        self._state: dict[tuple[str, bytes], bytes] = {}
        self._meta: dict[str, Any] = {}
        self._lock = threading.Lock()

    def table(self, store: str) -> StoreTable:
        return StoreTable(self, store)

    def read(self, store: str, key: bytes) -> bytes | None:
        pending = self._state.get((store, key))
        if pending is not None:
            return pending
        with self._lock:
            row = self._db.execute(
                "SELECT value FROM state WHERE store = ? AND key = ?", (store, key)
            ).fetchone()
        return None if row is None else bytes(row[0])

    def write(self, store: str, key: bytes, value: bytes) -> None:
        self._state[(store, key)] = value

    def keys(self, store: str) -> set[bytes]:
        """Every key the store holds, committed or written since."""
        with self._lock:
            rows = self._db.execute("SELECT key FROM state WHERE store = ?", (store,)).fetchall()
        return {bytes(row[0]) for row in rows} | {k for (s, k) in self._state if s == store}

    def meta(self, name: str, default: Any = None) -> Any:
        """A named value: the latest written, committed or not."""
        with self._lock:
            if name in self._meta:
                return self._meta[name]
            row = self._db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return default if row is None else orjson.loads(row[0])

    def set_meta(self, name: str, value: Any) -> None:
        with self._lock:
            self._meta[name] = value

    @property
    def dirty(self) -> bool:
        return bool(self._state or self._meta)

    def commit(self) -> None:
        """Write everything buffered in one transaction."""
        if not self.dirty:
            return
        with self._lock:
            self._write()
            self._state.clear()
            self._meta.clear()

    def _write(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany(
                "INSERT INTO state (store, key, value) VALUES (?, ?, ?)"
                " ON CONFLICT (store, key) DO UPDATE SET value = excluded.value",
                [(store, key, value) for (store, key), value in self._state.items()],
            )
            self._db.executemany(
                "INSERT INTO meta (name, value) VALUES (?, ?)"
                " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
                [(name, orjson.dumps(value)) for name, value in self._meta.items()],
            )
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def close(self) -> None:
        with self._lock:
            self._db.close()


class StoreTable:
    """One processor's table, as ``KeyedState`` uses a faust table: ``get`` and item assignment."""

    def __init__(self, store: StateStore, name: str) -> None:
        self._store = store
        self._name = name

    def get(self, key: bytes) -> bytes | None:
        return self._store.read(self._name, key)

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._store.write(self._name, key, value)

    def __iter__(self) -> Iterator[bytes]:
        """The keys, as a faust table's store iterates them."""
        return iter(self._store.keys(self._name))
