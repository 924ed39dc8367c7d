"""The matching rules wired in-process: the same processors the faust app runs, over plain dicts.

Used by ``paicha match`` (batch what-if runs), the embedded runtime and the tests. Records go in
with ``submit``; ``flush`` carries every pending change through the stay builder, the joins and
the task policy, and returns the tasks that changed. Nothing here reads a clock except through
``clock``, which only stamps ``detected_at``.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterable
from operator import itemgetter

from paicha.matching import cell_join, city_join, hazards, person_pings, policy, stays
from paicha.matching.model import (
    AreaCellChange,
    Case,
    CaseStayChange,
    CityHazardChange,
    ExposureChange,
    FeedRecord,
    Itinerary,
    ItineraryChange,
    Person,
    Ping,
    RiskArea,
    StayChange,
    Task,
)
from paicha.matching.params import MatchParams
from paicha.matching.person_columns import cells_of, people_columns
from paicha.matching.timeutil import DAY


def group_by_cell(
    messages: Iterable[cell_join.CellChange],
) -> dict[int, list[cell_join.CellChange]]:
    """Messages per cell, each cell's in their order (which is all the order that matters)."""
    grouped: dict[int, list[cell_join.CellChange]] = {}
    for message in messages:
        grouped.setdefault(message.cell, []).append(message)
    return grouped


_FIELDS = tuple(map(itemgetter, range(5)))  # a ping tuple's fields, each taken in C
_COLUMNS_FROM = 512  # pings in one call from which they are grouped on numpy columns


class Engine:
    """One process's worth of state for every key, and the queues between the processors."""

    def __init__(self, *, params: MatchParams | None = None, clock: Callable[[], int]) -> None:
        self.params = params or MatchParams()
        self._resolution = self.params.h3_resolution
        self._max_gap = self.params.max_gap
        self._retention = self.params.retention
        self.clock = clock
        self.tracks: dict[str, stays.PersonTrack] = {}
        self.areas: dict[str, hazards.AreaState] = {}
        self.cells: dict[int, cell_join.CellState] = {}
        self.cities: dict[str, city_join.CityState] = {}
        self.policies: dict[str, policy.PersonPolicy] = {}
        self.watermark = 0  # the newest event time seen
        self.stats: Counter[str] = Counter()
        self._pruned_at = 0
        self._touched_tracks: set[str] = set()
        self._cell_inbox: list[StayChange | CaseStayChange | AreaCellChange] = []
        self._city_inbox: list[CityHazardChange | ItineraryChange] = []
        self._exposures: list[ExposureChange] = []
        self._touched_persons: set[str] = set()

    # ------------------------------------------------------------------ intake

    def submit(self, record: FeedRecord) -> None:
        """Take one decoded feed record; its effects wait for ``flush``."""
        if isinstance(record, Ping):
            self.submit_ping(
                record.event_id, record.person_id, record.lat, record.lon, record.observed_at
            )
        elif isinstance(record, Itinerary):
            self._submit_itinerary(record)
        elif isinstance(record, Case):
            self._submit_case(record)
        elif isinstance(record, RiskArea):
            self._submit_area(record)
        elif isinstance(record, Person):
            self._policy(record.person_id).person = record
            self._touched_persons.add(record.person_id)
            self.stats["persons"] += 1
        else:  # pragma: no cover - the type union is closed
            raise TypeError(f"not a feed record: {type(record).__name__}")

    def submit_many(self, records: Iterable[FeedRecord]) -> None:
        for record in records:
            self.submit(record)

    def submit_ping(
        self, event_id: str, person_id: str, lat: float, lon: float, observed_at: int
    ) -> None:
        """The hot path: one trajectory ping, already validated."""
        if observed_at > self.watermark:
            self.watermark = observed_at
        elif observed_at < self.watermark - self._retention:
            self.stats["expired"] += 1
            return
        track = self.tracks.get(person_id)
        if track is None:
            track = self.tracks[person_id] = stays.PersonTrack(person_id)
        cell = stays.cell_of(lat, lon, self._resolution)
        if stays.add_ping(track, event_id, observed_at, cell, self._max_gap):
            self._touched_tracks.add(person_id)
        else:
            self.stats["duplicates"] += 1

    def submit_pings(self, pings: list[tuple[str, str, float, float, int]]) -> None:
        """Many validated pings ``(event_id, person_id, lat, lon, observed_at)`` at once: their
        cells, then grouped by person and cut into stays, on numpy columns when there are many
        (``person_columns``, as ``paicha match``'s decoding processes do; the same result as
        ``person_pings.by_person``, which groups a few)."""
        if not pings:
            return
        event_ids, person_ids, lats, lons, times = (list(map(f, pings)) for f in _FIELDS)
        if len(pings) < _COLUMNS_FROM:  # numpy's fixed cost per call is more than it saves
            people, resent = person_pings.located_by_person(
                event_ids, person_ids, lats, lons, times, self._resolution, self._max_gap
            )
        else:
            cells = cells_of(lats, lons, self._resolution)
            grouped, resent = people_columns(event_ids, person_ids, times, cells, self._max_gap)
            people = grouped.people()
        self.submit_person_pings(people, resent)

    def submit_person_pings(self, people: list[person_pings.PersonPings], resent: int = 0) -> None:
        """Many validated pings, already grouped and cut by ``person_pings.by_person`` at the
        engine's resolution and maximum gap (the batch runner does that in other processes);
        ``resent`` is how many that dropped as re-sent.

        A person's pings go in together, in time order, which keeps nearly every one on the
        bulk path of ``stays.add_pings``: the result does not depend on the order (rule 9).
        """
        newest = max((p.times[-1] for p in people), default=0)
        if newest > self.watermark:
            self.watermark = newest
        horizon = self.watermark - self._retention
        max_gap, tracks, touched = self._max_gap, self.tracks, self._touched_tracks
        expired = 0
        for pings in people:
            person_id = pings.person_id
            track = tracks.get(person_id)
            if track is None:
                track = tracks[person_id] = stays.PersonTrack(person_id)
            touched.add(person_id)
            person_resent, person_expired = stays.add_pings(track, pings, max_gap, horizon)
            resent += person_resent
            expired += person_expired
        self.stats["expired"] += expired
        self.stats["duplicates"] += resent

    def _submit_itinerary(self, record: Itinerary) -> None:
        start, end = record.interval
        if end < self.watermark - self.params.retention:
            self.stats["expired"] += 1
            return
        self._advance(end)
        self._city_inbox.append(
            ItineraryChange(record.person_id, record.city_code, record.event_id, (start, end))
        )
        self.stats["itineraries"] += 1

    def _submit_case(self, case: Case) -> None:
        track = self.tracks.get(case.person_id)
        if track is None:
            track = self.tracks[case.person_id] = stays.PersonTrack(case.person_id)
        if case.event_id in track.cases:
            self.stats["duplicates"] += 1
            return
        self._advance(case.reported_at)
        for change in stays.add_case(track, case, self.params.lookback):
            self._cell_inbox.extend(hazards.fan_out(change, self.params.neighbour_rings))
        self._city_inbox.append(hazards.case_city_hazard(case, self.params.lookback))
        policy.apply_case(self._policy(case.person_id), case.case_id)
        self._touched_persons.add(case.person_id)
        self.stats["cases"] += 1

    def _submit_area(self, area: RiskArea) -> None:
        state = self.areas.get(area.area_id)
        if state is None:
            state = self.areas[area.area_id] = hazards.AreaState(area.area_id)
        if area.event_id in state.seen:
            self.stats["duplicates"] += 1
            return
        cell_changes, city_changes = hazards.apply_area(state, area, self.params.h3_resolution)
        self.stats["areas"] += 1
        self._cell_inbox.extend(cell_changes)
        self._city_inbox.extend(city_changes)

    def _advance(self, event_time: int) -> None:
        if event_time > self.watermark:
            self.watermark = event_time

    def _policy(self, person_id: str) -> policy.PersonPolicy:
        state = self.policies.get(person_id)
        if state is None:
            state = self.policies[person_id] = policy.PersonPolicy(person_id)
        return state

    # ------------------------------------------------------------------ processing

    def flush(self) -> list[Task]:
        """Carry every pending change through to the tasks; returns the tasks that changed."""
        self.join()
        return self.decide()

    def join(self) -> None:
        """Carry every pending change through the stay builder and the cell and city joins: the
        exposures found wait for ``decide`` (or the next ``flush``), which turns them into tasks.
        The matching proper, which the benchmark times beside an indexed SQL query."""
        params = self.params
        for person_id in self._touched_tracks:
            stay_changes, case_changes = stays.flush(self.tracks[person_id], params.lookback)
            self._cell_inbox.extend(stay_changes)
            for change in case_changes:
                self._cell_inbox.extend(hazards.fan_out(change, params.neighbour_rings))
        self._touched_tracks.clear()

        for cell, messages in group_by_cell(self._cell_inbox).items():
            state = self.cells.get(cell)
            if state is None:
                state = self.cells[cell] = cell_join.CellState(cell)
            self._exposures.extend(cell_join.apply_batch(state, messages, params))
        self._cell_inbox.clear()

        for city_message in self._city_inbox:
            code = city_message.city_code
            city = self.cities.get(code)
            if city is None:
                city = self.cities[code] = city_join.CityState(code)
            if isinstance(city_message, ItineraryChange):
                self._exposures.extend(city_join.apply_itinerary(city, city_message))
            else:
                self._exposures.extend(city_join.apply_hazard(city, city_message))
        self._city_inbox.clear()

    def decide(self) -> list[Task]:
        """The task policy over the exposures found since the last time; the changed tasks."""
        params = self.params
        now = self.clock()
        for exposure in self._exposures:
            policy.apply_exposure(self._policy(exposure.person_id), exposure, now)
            self._touched_persons.add(exposure.person_id)
        self._exposures.clear()
        changed = []
        for person_id in sorted(self._touched_persons):
            task = policy.decide(self.policies[person_id], now, params)
            if task is not None:
                changed.append(task)
        self._touched_persons.clear()
        self._maybe_prune()
        # What survives a flush is long-lived and free of reference cycles; left in the cyclic
        # collector's generations it was rescanned over and over (a third of the run time).
        gc.freeze()
        return changed

    def _maybe_prune(self) -> None:
        """Forget what fell out of retention, at most once per day of event time."""
        horizon = self.watermark - self.params.retention
        if horizon - self._pruned_at < DAY:
            return
        self._pruned_at = horizon
        for track in self.tracks.values():
            stays.prune(track, horizon)
        for cell, state in list(self.cells.items()):
            cell_join.prune(state, horizon)
            if cell_join.is_empty(state):
                del self.cells[cell]
        for city in self.cities.values():
            city_join.prune(city, horizon)
        for person in self.policies.values():
            policy.prune(person, horizon)

    # ------------------------------------------------------------------ results

    def open_tasks(self) -> dict[str, Task]:
        """Person id -> open task, as the rules stand on everything submitted and flushed."""
        return {
            pid: p.task
            for pid, p in self.policies.items()
            if p.task is not None and p.task.status == "open"
        }

    def all_tasks(self) -> dict[str, Task]:
        """Every task ever pushed, open or not, by person id."""
        return {pid: p.task for pid, p in self.policies.items() if p.task is not None}
