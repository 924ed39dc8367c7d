"""The stream processors as batch functions: raw records in, keyed output records out.

Each takes a batch of records from its topics, validates them at the edge (``paicha.feeds``),
runs the matching core over its keyed state, and returns what to publish, dead letters included.
The faust agents (``agents.py``) only move bytes: they call these, send the output, and commit it
with the touched state. Nothing here knows faust, so a dict can stand in for a table in tests.

A record that cannot be decoded, or whose processing raises, becomes a dead letter carrying the
reason, the topic, partition and offset, and the original bytes: it never stops a partition.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import orjson

from paicha.errors import FeedError, Problem
from paicha.feeds import dead_letter, decode, decode_ping_row
from paicha.matching import cell_join, city_join, hazards, policy, stays
from paicha.matching.model import (
    AreaCellChange,
    Case,
    CaseStayChange,
    ExposureChange,
    Itinerary,
    ItineraryChange,
    Person,
    StayChange,
)
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import DAY, to_micros
from paicha.task_records import task_record
from streams import messages
from streams.state import KeyedState
from streams.topics import TopicNames, cell_key

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Record:
    """One consumed Kafka record."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes


@dataclass(slots=True)
class Batch:
    """What one batch produced: records to publish (``everywhere``: to every partition of their
    topic, keyless), and the state keys to save after."""

    out: list[tuple[str, bytes, bytes]] = field(default_factory=list)
    everywhere: list[tuple[str, bytes]] = field(default_factory=list)
    touched: set[str] = field(default_factory=set)
    counts: Counter[str] = field(default_factory=Counter)

    def send(self, topic: str, key: bytes, value: bytes) -> None:
        self.out.append((topic, key, value))

    def send_everywhere(self, topic: str, value: bytes) -> None:
        self.everywhere.append((topic, value))

    def fanned_out(self, partitions: int) -> list[tuple[str, bytes, bytes, int]]:
        """The ``everywhere`` records as one keyless record per partition of their topic."""
        return [
            (topic, b"", value, partition)
            for topic, value in self.everywhere
            for partition in range(partitions)
        ]


class Processor:
    """What every processor shares: the topics, the rules' parameters, dead-lettering."""

    def __init__(self, *, topics: TopicNames, params: MatchParams) -> None:
        self.topics = topics
        self.params = params
        self.watermark = 0  # the newest event time this processor has seen
        self.swept_to = 0  # the horizon of the last retention sweep (``sweep``)
        # The person data kept by key, and how it forgets what ended before a horizon.
        self.retained: tuple[KeyedState[Any], Callable[[Any, int], None]] | None = None

    def feed_topic(self, topic: str) -> str:
        """The contract name of a (possibly prefixed) topic."""
        return topic.removeprefix(self.topics.prefix)

    def reject(self, batch: Batch, record: Record, error: FeedError) -> None:
        letter = dead_letter(
            error, record.value, partition=record.partition, offset=record.offset, key=record.key
        )
        body = letter.model_dump(mode="json")
        body["source_topic"] = record.topic
        batch.send(self.topics.dead_letters, record.key or b"", orjson.dumps(body))
        batch.counts["dead_lettered"] += 1

    def crashed(self, batch: Batch, record: Record, error: Exception) -> None:
        """An unexpected failure on one record: logged, dead-lettered, and the batch goes on."""
        log.exception("processing %s[%d]@%d failed", record.topic, record.partition, record.offset)
        problem = Problem("", f"processing failed: {type(error).__name__}: {error}")
        self.reject(batch, record, FeedError(self.feed_topic(record.topic), [problem]))

    @contextmanager
    def guarded(self, batch: Batch, record: Record) -> Iterator[None]:
        """Whatever goes wrong with one record becomes its dead letter, and the batch goes on."""
        try:
            yield
        except Exception as error:
            self.failed(batch, record, error)

    def failed(self, batch: Batch, record: Record, error: Exception) -> None:
        """One record's failure as its dead letter: bad input, a bad message, or a crash."""
        if isinstance(error, FeedError):
            self.reject(batch, record, error)
        elif isinstance(error, messages.MessageError):
            problem = Problem("", str(error))
            self.reject(batch, record, FeedError(self.feed_topic(record.topic), [problem]))
        else:
            self.crashed(batch, record, error)

    def horizon(self) -> int:
        """Event time before which state is forgotten."""
        return self.watermark - self.params.retention

    def sweep_due(self) -> bool:
        """Whether the retention horizon moved a day since the last sweep of every key."""
        return self.watermark > 0 and self.horizon() - self.swept_to >= DAY

    def sweep(self, keys: Iterable[str]) -> list[str]:
        """Retention for every key, touched by a record or not: ``process`` prunes the keys a
        batch touches, so a person, cell or city gone quiet would keep its data for ever
        (ARCHITECTURE: bounded state, and privacy). Prunes each key's state to the horizon and
        returns the keys whose state changed (its ``pruned_to`` moved), for the caller to save
        as it saves touched ones. Nothing for processors that keep no person data."""
        horizon = self.swept_to = self.horizon()
        if self.retained is None:
            return []
        state, prune = self.retained
        changed = []
        for key in keys:
            item = state.get(key)
            before = item.pruned_to
            prune(item, horizon)
            if item.pruned_to != before:
                changed.append(key)
        return changed

    def expired(self, batch: Batch, end: int) -> bool:
        """Whether a record ending at ``end`` is older than retention (counted, not processed)."""
        if end < self.watermark - self.params.retention:
            batch.counts["expired"] += 1
            return True
        if end > self.watermark:
            self.watermark = end
        return False


class PeopleProcessor(Processor):
    """Stay builder and case intake, by person: trajectories and cases."""

    def __init__(self, *, tracks: KeyedState[stays.PersonTrack], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.tracks = tracks
        self.retained = (tracks, stays.prune)
        self.announced = 0  # the event time last sent to the task policy (``messages.Watermark``)

    def process(self, records: Iterable[Record]) -> Batch:
        batch = Batch()
        params = self.params
        trajectories = self.topics.trajectories
        for record in records:
            # The guard inline, not ``guarded``: a context manager per ping costs more than
            # half of what the ping's own work does.
            try:
                if record.topic == trajectories:
                    event_id, person_id, lat, lon, observed_at = decode_ping_row(record.value)
                    if self.expired(batch, observed_at):
                        continue
                    track = self.tracks.get(person_id)
                    cell = stays.cell_of(lat, lon, params.h3_resolution)
                    if stays.add_ping(track, event_id, observed_at, cell, params.max_gap):
                        batch.touched.add(person_id)
                    else:
                        batch.counts["duplicates"] += 1
                else:
                    case = decode("cases", record.value)
                    assert isinstance(case, Case)
                    self._case(batch, case)
            except Exception as error:
                self.failed(batch, record, error)
        for person_id in batch.touched:
            track = self.tracks.get(person_id)
            stay_changes, case_changes = stays.flush(track, params.lookback)
            self._to_cells(batch, stay_changes, case_changes)
            stays.prune(track, self.horizon())
        if self.watermark - self.announced >= DAY:
            self.announced = self.watermark
            batch.send_everywhere(
                self.topics.exposures, messages.encode(messages.Watermark(self.watermark))
            )
        return batch

    def _case(self, batch: Batch, case: Case) -> None:
        track = self.tracks.get(case.person_id)
        if case.event_id in track.cases:
            batch.counts["duplicates"] += 1
            return
        if case.reported_at > self.watermark:
            self.watermark = case.reported_at
        batch.touched.add(case.person_id)
        self._to_cells(batch, [], stays.add_case(track, case, self.params.lookback))
        hazard = hazards.case_city_hazard(case, self.params.lookback)
        batch.send(self.topics.city_events, hazard.city_code.encode(), messages.encode(hazard))
        mark = messages.CaseMark(case.person_id, case.case_id)
        batch.send(self.topics.exposures, case.person_id.encode(), messages.encode(mark))

    def _to_cells(
        self, batch: Batch, stay_changes: list[StayChange], case_changes: list[CaseStayChange]
    ) -> None:
        topic = self.topics.cell_events
        for change in stay_changes:
            batch.send(topic, cell_key(change.cell), messages.encode(change))
        for case_change in case_changes:
            for copy in hazards.fan_out(case_change, self.params.neighbour_rings):
                batch.send(topic, cell_key(copy.cell), messages.encode(copy))


class AreaProcessor(Processor):
    """Risk areas, by area: which cells and cities they make hazards, and when."""

    def __init__(self, *, areas: KeyedState[hazards.AreaState], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.areas = areas

    def process(self, records: Iterable[Record]) -> Batch:
        batch = Batch()
        for record in records:
            with self.guarded(batch, record):
                area = decode("risk-areas", record.value)
                state = self.areas.get(area.area_id)  # type: ignore[union-attr]
                cells, cities = hazards.apply_area(state, area, self.params.h3_resolution)  # type: ignore[arg-type]
                batch.touched.add(state.area_id)
                for change in cells:
                    batch.send(
                        self.topics.cell_events, cell_key(change.cell), messages.encode(change)
                    )
                for hazard in cities:
                    key = hazard.city_code.encode()
                    batch.send(self.topics.city_events, key, messages.encode(hazard))
        return batch


class ItineraryProcessor(Processor):
    """Itineraries arrive keyed by person; the city join wants them by city. No state."""

    def process(self, records: Iterable[Record]) -> Batch:
        batch = Batch()
        for record in records:
            with self.guarded(batch, record):
                trip = decode("itineraries", record.value)
                assert isinstance(trip, Itinerary)
                start, end = trip.interval
                if self.expired(batch, end):
                    continue
                change = ItineraryChange(
                    trip.person_id, trip.city_code, trip.event_id, (start, end)
                )
                batch.send(
                    self.topics.city_events, trip.city_code.encode(), messages.encode(change)
                )
        return batch


class CellProcessor(Processor):
    """The cell join: person stays against case stays and area cover, by cell."""

    def __init__(self, *, cells: KeyedState[cell_join.CellState], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.cells = cells
        self.retained = (cells, cell_join.prune)

    def process(self, records: Iterable[Record]) -> Batch:
        batch = Batch()
        by_cell: dict[int, list[tuple[Record, cell_join.CellChange]]] = {}
        for record in records:
            with self.guarded(batch, record):
                message = messages.decode(record.value)
                if not isinstance(message, StayChange | CaseStayChange | AreaCellChange):
                    raise messages.MessageError(f"not a cell message: {type(message).__name__}")
                if isinstance(message, StayChange) and message.end is not None:
                    self.watermark = max(self.watermark, message.end)
                by_cell.setdefault(message.cell, []).append((record, message))
        for cell, pending in by_cell.items():
            try:
                state = self._state(batch, cell)
                found = cell_join.apply_batch(state, [m for _, m in pending], self.params)
                cell_join.prune(state, self.horizon())
            except Exception as error:
                # One cell's messages failed together: dead-letter each, and go on.
                for record, _ in pending:
                    self.crashed(batch, record, error)
                continue
            _to_people(batch, self.topics, found)
        return batch

    def _state(self, batch: Batch, cell: int) -> cell_join.CellState:
        batch.touched.add(str(cell))
        return self.cells.get(str(cell))


class CityProcessor(Processor):
    """The city join: itinerary records against hazard intervals, by city."""

    def __init__(self, *, cities: KeyedState[city_join.CityState], **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.cities = cities
        self.retained = (cities, city_join.prune)

    def process(self, records: Iterable[Record]) -> Batch:
        batch = Batch()
        for record in records:
            with self.guarded(batch, record):
                message = messages.decode(record.value)
                if isinstance(message, ItineraryChange):
                    city = self._state(batch, message.city_code)
                    if message.interval is not None:
                        self.watermark = max(self.watermark, message.interval[1])
                    found = city_join.apply_itinerary(city, message)
                    city_join.prune(city, self.horizon())
                elif isinstance(message, messages.CityHazardChange):
                    found = city_join.apply_hazard(self._state(batch, message.city_code), message)
                else:
                    raise messages.MessageError(f"not a city message: {type(message).__name__}")
                _to_people(batch, self.topics, found)
        return batch

    def _state(self, batch: Batch, city_code: str) -> city_join.CityState:
        batch.touched.add(city_code)
        return self.cities.get(city_code)


class PolicyProcessor(Processor):
    """The task policy, by person: exposures, case marks and the person registry in; tasks out."""

    def __init__(
        self,
        *,
        policies: KeyedState[policy.PersonPolicy],
        clock: Callable[[], int],
        **kw: object,
    ) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.policies = policies
        self.clock = clock
        self.retained = (policies, policy.prune)

    def process(self, records: Iterable[Record]) -> Batch:
        batch = Batch()
        now = self.clock()
        for record in records:
            with self.guarded(batch, record):
                if self.feed_topic(record.topic) == "persons":
                    person = decode("persons", record.value)
                    assert isinstance(person, Person)
                    self._state(batch, person.person_id).person = person
                    continue
                message = messages.decode(record.value)
                if isinstance(message, ExposureChange):
                    if message.overlaps:
                        # The horizon moves with the exposures: they are this processor's
                        # event time, as stays are the cell join's.
                        self.watermark = max(self.watermark, *(e for _, e in message.overlaps))
                    policy.apply_exposure(self._state(batch, message.person_id), message, now)
                elif isinstance(message, messages.CaseMark):
                    policy.apply_case(self._state(batch, message.person_id), message.case_id)
                elif isinstance(message, messages.Watermark):
                    # No exposure for a while: the stay builders' event time moves the horizon.
                    self.watermark = max(self.watermark, message.at)
                else:
                    raise messages.MessageError(f"not a person message: {type(message).__name__}")
        horizon = self.horizon()
        for person_id in sorted(batch.touched):
            state = self.policies.get(person_id)
            task = policy.decide(state, now, self.params)
            if task is not None:
                batch.send(
                    self.topics.screening_tasks, person_id.encode(), orjson.dumps(task_record(task))
                )
                batch.counts["tasks"] += 1
            policy.prune(state, horizon)
        return batch

    def _state(self, batch: Batch, person_id: str) -> policy.PersonPolicy:
        batch.touched.add(person_id)
        return self.policies.get(person_id)


def _to_people(batch: Batch, topics: TopicNames, found: list[ExposureChange]) -> None:
    for exposure in found:
        batch.send(topics.exposures, exposure.person_id.encode(), messages.encode(exposure))


def wall_clock() -> int:
    """Now, in the core's microseconds: what ``detected_at`` is stamped with."""
    return to_micros(datetime.now(UTC))
