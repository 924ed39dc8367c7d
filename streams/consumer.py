"""Faust's Kafka consumer, with the processors' topics handed over a fetch at a time.

Faust turns every fetched record into a message, an event, a queue entry, a stream step and an
acknowledgement, and its fetch loop waits on two tasks per record: about 300 µs of CPU a record
here, against 15 µs for the matching itself. So the records of the processors' own topics are
taken out of each fetch whole and given to ``agents.BatchLoop``, which processes them and sends
their output before the next fetch, and whose checkpoints, run by every commit of faust's (on its
interval, before a rebalance, on stop), deliver, save and commit. Faust keeps everything else:
the group and its partition assignment, pausing and seeking around rebalances and table recovery,
and the changelog records that recovery reads, which still take faust's per-record path.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any, Protocol

from aiokafka.errors import IllegalStateError
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.transport.drivers.aiokafka import server_list
from faust.types import TP, Message

from streams.transaction import visible_ends


class FetchHandler(Protocol):
    """What takes the processors' records out of a fetch (``agents.BatchLoop``)."""

    topics: frozenset[str]

    async def handle(
        self, consumer: BatchConsumer, records: Mapping[TP, list[Any]], generation: int
    ) -> None: ...

    async def checkpoint(self, consumer: BatchConsumer) -> None: ...

    async def close(self) -> None: ...


class ReadCommittedThread(faust_aiokafka.AIOKafkaConsumerThread):
    """Faust's consumer thread, its Kafka consumer reading committed records only."""

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        # Faust reads committed only under its own exactly-once mode, which would also replace
        # its commit path; the isolation level is read when the consumer starts, after this.
        consumer._isolation_level = "read_committed"
        return consumer


class BatchConsumer(faust_aiokafka.Consumer):
    """Faust's aiokafka consumer, whose fetches give the handler's topics to the handler."""

    async def getmany(self, timeout: float) -> AsyncIterator[tuple[TP, Message]]:
        """One fetch: the handler's records as one batch, the others record by record.

        Faust's own ``getmany`` with one change: the records of the handler's topics are not
        yielded but handed over, and are processed and their output sent when this continues.
        """
        records, active = await self._wait_next_records(timeout)
        generation = self.app.consumer_generation_id
        if records is None or self.should_stop:
            return
        if not self.flow_active:
            # Fetched while a rebalance stopped the flow: read again from the committed offsets.
            await self.perform_seek()
            return
        handler = self.transport.handler  # type: ignore[attr-defined]
        ours = {tp: rs for tp, rs in records.items() if tp.topic in handler.topics}
        mine = {tp: rs for tp, rs in ours.items() if active is None or tp in active}
        if mine:
            await handler.handle(self, mine, generation)
        if len(mine) < len(ours):
            # Records of a partition paused meanwhile (aiokafka fetches only active ones, so
            # this should not happen): not processed, so read again from the committed offsets.
            self.log.warning("records of paused partitions fetched; reading them again")
            await self.perform_seek()
        rest = {tp: rs for tp, rs in records.items() if tp not in ours}
        for tp, record in self.scheduler.iterate(rest):
            if not self.flow_active or self.app.consumer_generation_id != generation:
                break
            if active is None or tp in active or tp in self._buffered_partitions:
                self.app.monitor.track_tp_end_offset(tp, self.highwater(tp))
                yield tp, self._to_message(tp, record)

    async def commit(self, topics: Any = None, start_new_transaction: bool = True) -> bool:
        """Faust's commit (its interval, before a rebalance, on stop), the handler's first."""
        await self.transport.handler.checkpoint(self)  # type: ignore[attr-defined]
        return await super().commit(topics, start_new_transaction=start_new_transaction)

    async def perform_seek(self) -> None:
        """Every assigned partition back to its committed offset, as faust does, and the
        handler's partitions without one back to their beginning.

        Records fetched and handed back to be read again (a fetch after the flow stopped, or of
        a paused partition) would otherwise be skipped where the group has committed nothing
        yet: aiokafka's ``seek_to_committed`` leaves such a partition where the fetch left it.
        The beginning is what ``auto_offset_reset="earliest"`` reads there."""
        topics = self.transport.handler.topics  # type: ignore[attr-defined]
        try:
            await super().perform_seek()
            uncommitted = [
                tp
                for tp in self.assignment()
                if tp.topic in topics and not self._committed_offset.get(tp)
            ]
            if uncommitted:
                for tp, offset in (await self.earliest_offsets(*uncommitted)).items():
                    await self.seek(tp, offset)
        except IllegalStateError:
            # The assignment changed under the seek: a rebalance began, and once it has
            # assigned the partitions faust seeks them all to the committed offsets again.
            self.log.info("assignment changed while seeking; the rebalance seeks again")

    def note_committed(self, offsets: Mapping[TP, int]) -> None:
        """Offsets the worker's transaction committed, in faust's bookkeeping (lag, monitor)."""
        self._committed_offset.update(offsets)
        self.app.monitor.on_tp_commit(dict(offsets))

    async def highwaters(self, *partitions: TP) -> Mapping[TP, int]:
        """Where table recovery of ``partitions`` is done: one past the last committed record
        of each, not the end offset, which a transaction's commit marker can be
        (``transaction.visible_ends``)."""
        transport: Any = self.transport
        return await visible_ends(server_list(transport.url, transport.default_port), partitions)

    async def on_stop(self) -> None:
        """Faust's last commit, which checkpoints, then the handler's producer closes."""
        await super().on_stop()
        await self.transport.handler.close()  # type: ignore[attr-defined]

    def _new_consumer_thread(self) -> ReadCommittedThread:
        return ReadCommittedThread(self, loop=self.loop, beacon=self.beacon)


class BatchTransport(faust_aiokafka.Transport):
    """The aiokafka transport, with ``BatchConsumer`` as its consumer."""

    Consumer = BatchConsumer

    def __init__(self, url: Any, app: Any, *, handler: FetchHandler) -> None:
        super().__init__(url, app)
        self.handler = handler
