"""The one thread that owns the bus and its state store; everyone else submits and waits.

Producers (the feeder, HTTP ingestion, the outbox relay) hand a chunk of records to ``submit``
and get a future. The thread runs each chunk through the bus to the end, then resolves it: a
``durable`` chunk only after a checkpoint has written the state, offsets and positions that
include it, so an HTTP 200 or an outbox stamp is never given for records a crash could lose.
Other chunks are checkpointed every ``checkpoint_s``; after a crash they are fed again from the
last checkpoint's position and, the bus being deterministic, change nothing downstream.

If a chunk fails as a whole (not one bad record, which becomes a dead letter, but the tracking
database refusing a write), the runtime stops taking chunks: going on would build on state the
database does not match. A restart resumes from the last checkpoint.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from paicha.embedded.bus import Bus, Outgoing
from paicha.embedded.store import StateStore
from paicha.errors import PaichaError

log = logging.getLogger(__name__)


class RuntimeStopped(PaichaError):
    """The runtime takes no more records: stopped, or failed on an earlier chunk."""


@dataclass(slots=True)
class _Chunk:
    records: list[Outgoing]
    durable: bool
    position: tuple[str, Any] | None
    future: Future[Counter[str]] = field(default_factory=Future)
    counts: Counter[str] = field(default_factory=Counter)


class Runtime:
    """Start, ``submit`` chunks from any thread, ``stop`` (a last checkpoint, then the end)."""

    def __init__(self, *, bus: Bus, store: StateStore, checkpoint_s: float = 2.0) -> None:
        self.bus = bus
        self.store = store
        self.checkpoint_s = checkpoint_s
        self.failure: BaseException | None = None
        self._queue: queue.Queue[_Chunk | None] = queue.Queue(maxsize=64)
        self._thread = threading.Thread(target=self._loop, name="embedded-bus", daemon=True)
        self._stopping = False
        self._positions: dict[str, Any] = {}
        self._waiting: list[_Chunk] = []

    def start(self) -> None:
        self._thread.start()

    def submit(
        self,
        records: list[Outgoing],
        *,
        durable: bool = False,
        position: tuple[str, Any] | None = None,
    ) -> Future[Counter[str]]:
        """Queue a chunk; ``position`` (a name and a JSON value) is checkpointed with it."""
        if self._stopping or self.failure is not None:
            raise RuntimeStopped(self._why_stopped())
        chunk = _Chunk(records, durable, position)
        self._queue.put(chunk)
        return chunk.future

    def position(self, name: str, default: Any = None) -> Any:
        """A position as last submitted, else as last checkpointed."""
        if name in self._positions:
            return self._positions[name]
        return self.store.meta(f"position:{name}", default)

    def stop(self, timeout: float = 60.0) -> None:
        """Finish the queued chunks, checkpoint, and end the thread."""
        if self._stopping:
            return
        self._stopping = True
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join(timeout)

    def _why_stopped(self) -> str:
        if self.failure is not None:
            return f"the embedded bus failed earlier: {self.failure!r}; restart paicha run"
        return "the embedded bus is stopping"

    def _loop(self) -> None:
        last_checkpoint = time.monotonic()
        while True:
            try:
                chunk = self._queue.get(timeout=self.checkpoint_s)
            except queue.Empty:
                chunk = _IDLE
            if chunk is None:
                self._checkpoint()
                return
            if chunk is not _IDLE:
                self._run(chunk)
            due = time.monotonic() - last_checkpoint >= self.checkpoint_s
            if self._waiting and (due or any(c.durable for c in self._waiting)):
                self._checkpoint()
                last_checkpoint = time.monotonic()

    def _run(self, chunk: _Chunk) -> None:
        if self.failure is not None:
            chunk.future.set_exception(RuntimeStopped(self._why_stopped()))
            return
        try:
            counts = self.bus.run(chunk.records)
        except BaseException as error:
            log.exception("the embedded bus failed on a chunk; it takes no more records")
            self.failure = error
            chunk.future.set_exception(error)
            self._fail_waiting(error)
            return
        if chunk.position is not None:
            self._positions[chunk.position[0]] = chunk.position[1]
        chunk.counts = counts
        self._waiting.append(chunk)
        if not chunk.durable:
            chunk.future.set_result(counts)

    def _checkpoint(self) -> None:
        if self.failure is not None:
            return
        try:
            self.bus.save_state()
            self.store.set_meta("offsets", self.bus.offsets)
            self.store.set_meta("watermarks", self.bus.watermarks())
            for name, value in self._positions.items():
                self.store.set_meta(f"position:{name}", value)
            self.store.commit()
        except BaseException as error:
            log.exception("checkpoint failed; the embedded bus takes no more records")
            self.failure = error
            self._fail_waiting(error)
            return
        for chunk in self._waiting:
            if chunk.durable:
                chunk.future.set_result(chunk.counts)
        self._waiting.clear()

    def _fail_waiting(self, error: BaseException) -> None:
        for chunk in self._waiting:
            if chunk.durable and not chunk.future.done():
                chunk.future.set_exception(error)
        self._waiting.clear()


_IDLE = _Chunk([], durable=False, position=None)
