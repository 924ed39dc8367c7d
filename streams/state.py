"""Keyed processor state: live objects in memory, pickled in a faust table backed by a changelog.

The core mutates plain objects (``PersonTrack``, ``CellState``…). Decoding one from the table on
every event would cost more than the event's work, so each key's object stays live in a cache,
and the table (and its changelog topic, from which a restarted worker recovers) gets the pickled
object once per checkpoint, in the transaction that commits the output it produced. The cache is
dropped on every rebalance: a partition that comes back may have been worked on elsewhere
meanwhile.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from typing import Any, Generic, TypeVar

S = TypeVar("S")


class KeyedState(Generic[S]):
    """The state of one processor, by key."""

    def __init__(self, table: Any, factory: Callable[[str], S]) -> None:
        self._table = table
        self._factory = factory
        self._live: dict[str, S] = {}

    def get(self, key: str) -> S:
        """The key's state: live, else recovered from the table, else new."""
        state = self._live.get(key)
        if state is None:
            stored = self._table.get(key.encode())
            state = pickle.loads(stored) if stored is not None else self._factory(key)
            self._live[key] = state
        return state

    def save(self, key: str, state: S) -> None:
        """Write the key's state to the table (and so its changelog)."""
        self._live[key] = state
        # Keys are the same bytes as the topic's keys, so the table's partitioner puts the
        # changelog record on the partition the records of that key come in on.
        self._table[key.encode()] = self.snapshot(key)

    def snapshot(self, key: str) -> bytes:
        """The key's live state as the table keeps it."""
        return pickle.dumps(self.get(key), protocol=5)

    @property
    def table(self) -> Any:
        return self._table

    def forget(self) -> None:
        """Drop the live objects; the table stays the truth."""
        self._live.clear()

    def live(self) -> dict[str, S]:
        return self._live
