"""The in-process bus: records through the stream processors, in a fixed order, until quiet.

Kafka gives each processor its input in per-key order and lets each join be local to a key; the
bus does the same in one thread. Every record published gets a partition (from its key, as a
keyed producer would) and the next offset of that partition, then every consumer (a processor,
or a sink such as the tracking database) takes what it has not read yet of its topics, in
publishing order, as one batch. Rounds repeat in the wiring order until nothing is unread.

So the same input, cut into the same chunks, always gives the same batches, hence the same task
versions: a chunk replayed after a crash reproduces exactly what the tracking service already
recorded, and its consumed-records key makes the replay change nothing.
"""

from __future__ import annotations

import zlib
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from streams.processors import Batch, Record
from streams.state import KeyedState

Outgoing = tuple[str, bytes, bytes]
"""A record to publish: topic, key, value."""


class Processor(Protocol):
    watermark: int

    def process(self, records: Iterable[Record]) -> Batch: ...

    def sweep_due(self) -> bool: ...

    def sweep(self, keys: Iterable[str]) -> list[str]: ...


@dataclass(slots=True)
class Node:
    """One stream processor on the bus: its name, input topics and keyed state."""

    name: str
    topics: tuple[str, ...]
    processor: Processor
    state: KeyedState[Any] | None
    dirty: set[str] = field(default_factory=set)


Sink = Callable[[list[Record]], Counter[str]]
"""Where a topic's records leave the bus; returns what it did with them, counted."""


@dataclass(slots=True)
class _Log:
    records: list[tuple[int, Record]] = field(default_factory=list)


class Bus:
    """Topics as in-memory logs for the span of one ``run``; offsets continue across runs."""

    def __init__(
        self,
        *,
        nodes: list[Node],
        sinks: dict[str, Sink],
        partitions: int,
        offsets: dict[str, list[int]] | None = None,
        unread: Callable[[str], Sink] | None = None,
    ) -> None:
        self.nodes = nodes
        self.sinks = sinks
        self.unread_sink = unread
        self._consumed = {t for node in nodes for t in node.topics} | set(sinks)
        self._extra_sinks: dict[str, Sink] = {}
        self.partitions = partitions
        self.offsets: dict[str, list[int]] = offsets or {}
        self.totals: Counter[str] = Counter()

    def run(self, records: Iterable[Outgoing]) -> Counter[str]:
        """Publish ``records`` and process everything they cause; what happened, counted."""
        logs: dict[str, _Log] = {}
        read: Counter[tuple[str, str]] = Counter()
        counts: Counter[str] = Counter()
        sequence = 0

        def publish(outgoing: Iterable[Outgoing | tuple[str, bytes, bytes, int]]) -> None:
            # A fourth item is the partition (``Batch.fanned_out``); else the key's.
            nonlocal sequence
            partitions = self.partitions
            for topic, key, value, *to in outgoing:
                partition = to[0] if to else zlib.crc32(key) % partitions
                next_offsets = self.offsets.get(topic)
                if next_offsets is None:
                    next_offsets = self.offsets[topic] = [0] * partitions
                offset = next_offsets[partition]
                next_offsets[partition] = offset + 1
                log = logs.get(topic)
                if log is None:
                    log = logs[topic] = _Log()
                log.records.append((sequence, Record(topic, partition, offset, key, value)))
                sequence += 1
                counts[f"published:{topic}"] += 1

        def unread(consumer: str, topics: Iterable[str]) -> list[Record]:
            taken: list[tuple[int, Record]] = []
            for topic in topics:
                log = logs.get(topic)
                if log is None:
                    continue
                start = read[(consumer, topic)]
                taken.extend(log.records[start:])
                read[(consumer, topic)] = len(log.records)
            taken.sort(key=lambda item: item[0])
            return [record for _, record in taken]

        publish(records)
        busy = True
        while busy:
            busy = False
            for node in self.nodes:
                batch_in = unread(node.name, node.topics)
                if not batch_in:
                    continue
                busy = True
                batch = node.processor.process(batch_in)
                counts.update({f"{node.name}:{k}": v for k, v in batch.counts.items()})
                publish(batch.out)
                publish(batch.fanned_out(self.partitions))
                if node.state is not None:
                    node.dirty.update(batch.touched)
            for topic, sink in self._sinks_for(logs):
                batch_in = unread(f"sink:{topic}", (topic,))
                if batch_in:
                    busy = True
                    counts.update({f"{topic}:{k}": v for k, v in sink(batch_in).items()})
        self.sweep()
        self.totals.update(counts)
        return counts

    def sweep(self) -> int:
        """Retention for the keys no record touches, as the faust workers' batch loop does it:
        once a processor's horizon has moved a day, every key of its table (saved or live) is
        pruned, and the changed ones are saved at the next checkpoint; how many changed."""
        changed = 0
        for node in self.nodes:
            if node.state is None or not node.processor.sweep_due():
                continue
            keys = {key.decode() for key in node.state.table} | set(node.state.live())
            swept = node.processor.sweep(sorted(keys))
            node.dirty.update(swept)
            changed += len(swept)
        return changed

    def _sinks_for(self, logs: dict[str, _Log]) -> list[tuple[str, Sink]]:
        """The sinks, and for a topic nobody here reads (escalations, say) the ``unread`` sink:
        published records are never silently discarded."""
        found = list(self.sinks.items())
        if self.unread_sink is not None:
            for topic in logs:
                if topic not in self._consumed:
                    if topic not in self._extra_sinks:
                        self._extra_sinks[topic] = self.unread_sink(topic)
                    found.append((topic, self._extra_sinks[topic]))
        return found

    def save_state(self) -> int:
        """Write the state of every key touched since the last save to its table (the live
        objects are the truth meanwhile, as in a faust worker's cache); how many keys."""
        saved = 0
        for node in self.nodes:
            if node.state is None:
                continue
            for key in node.dirty:
                node.state.save(key, node.state.get(key))
            saved += len(node.dirty)
            node.dirty.clear()
        return saved

    def watermarks(self) -> dict[str, int]:
        return {node.name: node.processor.watermark for node in self.nodes}

    def restore_watermarks(self, marks: dict[str, int]) -> None:
        for node in self.nodes:
            node.processor.watermark = int(marks.get(node.name, 0))
