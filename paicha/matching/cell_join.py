"""Rules 3 and 5: person stays joined with case stays and area cover in one cell (state by cell).

Whichever side arrives later triggers the match: a stay change re-evaluates that person against
every hazard in the cell, a hazard change re-evaluates every person in the cell against it. Each
evaluation yields the full set of overlaps for one (person, source) pair, sent on only when it
differs from what was sent before, so the output replaces by key and re-delivery changes nothing.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field

import h3.api.basic_int as h3int

from paicha.matching.model import (
    AreaCellChange,
    CaseStayChange,
    ExposureChange,
    ExposureKey,
    Interval,
    StayChange,
)
from paicha.matching.params import MatchParams
from paicha.matching.sent import forget_before, news
from paicha.matching.timeutil import DAY

CellChange = StayChange | CaseStayChange | AreaCellChange


@dataclass(slots=True)
class CaseStays:
    """One case's clipped stays as hazards in this cell, by (case record, origin cell, start)."""

    person_id: str
    city_code: str
    stays: dict[tuple[str, int, int], Interval] = field(default_factory=dict)


@dataclass(slots=True)
class CellState:
    """Everything the cell join keeps for one H3 cell."""

    cell: int
    persons: dict[str, dict[int, int]] = field(default_factory=dict)  # person -> start -> end
    cases: dict[str, CaseStays] = field(default_factory=dict)
    areas: dict[str, tuple[str, Interval]] = field(default_factory=dict)  # area -> (city, iv)
    sent: dict[tuple[str, str, str], tuple[Interval, ...]] = field(default_factory=dict)
    pruned_to: int = 0


def apply_batch(
    state: CellState, changes: Iterable[CellChange], params: MatchParams
) -> list[ExposureChange]:
    """Take any number of changes to this cell, then re-evaluate each affected (person, source)
    pair once. A new case's history arrives as many stay changes at once; evaluating after each
    would redo every person in the cell per stay."""
    persons: set[str] = set()
    sources: set[tuple[str, str]] = set()
    for change in changes:
        if isinstance(change, StayChange):
            if _store_stay(state, change):
                persons.add(change.person_id)
        elif isinstance(change, CaseStayChange):
            if _store_case_stay(state, change):
                sources.add(("co_located", change.case_id))
        elif _store_area(state, change):
            sources.add(("area_stay", change.area_id))
    if not persons and not sources:
        return []
    pairs: set[tuple[str, str, str]] = set()
    if persons and (state.cases or state.areas):
        hazards = [("co_located", k) for k in state.cases] + [("area_stay", a) for a in state.areas]
        pairs.update((p, kind, src) for p in persons for kind, src in hazards)
    for kind, src in sources:
        pairs.update((p, kind, src) for p in state.persons)
    # Whatever was sent before and may no longer hold: a person gone from the cell, a source gone.
    pairs.update(k for k in state.sent if k[0] in persons or (k[1], k[2]) in sources)
    out: list[ExposureChange] = []
    indexes: dict[str, StayIndex] = {}
    for person_id, kind, source in sorted(pairs):
        if kind == "co_located":
            out.extend(_co_located(state, person_id, source, params, indexes))
        else:
            out.extend(_area_stay(state, person_id, source))
    return out


def _store_stay(state: CellState, change: StayChange) -> bool:
    stays = state.persons.get(change.person_id)
    if change.end is None:
        if stays is None or stays.pop(change.start, None) is None:
            return False
        if not stays:
            del state.persons[change.person_id]
        return True
    if stays is None:
        stays = state.persons[change.person_id] = {}
    if stays.get(change.start) == change.end:
        return False
    stays[change.start] = change.end
    return True


def _store_case_stay(state: CellState, change: CaseStayChange) -> bool:
    entry = state.cases.get(change.case_id)
    key = (change.record_id, change.origin_cell, change.start)
    if change.interval is None:
        if entry is None or entry.stays.pop(key, None) is None:
            return False
        if not entry.stays:
            del state.cases[change.case_id]
        return True
    if entry is None:
        entry = state.cases[change.case_id] = CaseStays(change.case_person_id, change.case_city)
    if entry.stays.get(key) == change.interval:
        return False
    entry.stays[key] = change.interval
    return True


def _store_area(state: CellState, change: AreaCellChange) -> bool:
    if change.interval is None:
        return state.areas.pop(change.area_id, None) is not None
    if state.areas.get(change.area_id) == (change.city_code, change.interval):
        return False
    state.areas[change.area_id] = (change.city_code, change.interval)
    return True


def _co_located(
    state: CellState,
    person_id: str,
    case_id: str,
    params: MatchParams,
    indexes: dict[str, StayIndex] | None = None,
) -> list[ExposureChange]:
    entry = state.cases.get(case_id)
    overlaps: list[Interval] = []
    city = ""
    if entry is not None:
        city = entry.city_code
        person_stays = state.persons.get(person_id)
        if entry.person_id != person_id and person_stays:
            index = indexes.get(case_id) if indexes is not None else None
            if index is None:
                index = StayIndex(entry.stays.values())
                if indexes is not None:
                    indexes[case_id] = index
            overlaps = index.overlaps(person_stays.items(), params.min_overlap)
            if overlaps and params.min_cumulative_dwell is not None:
                overlaps = [
                    iv for iv in overlaps if _dwelt_enough(state, person_id, entry, iv, params)
                ]
    return _send(state, person_id, "co_located", case_id, overlaps, city)


class StayIndex:
    """A case's stays in one cell, sorted for the question "which overlap this interval?".

    A case's records may each clip the same stay, so its intervals can overlap one another; the
    running maximum of their ends tells how far back an overlap can still be found.
    """

    __slots__ = ("ends", "reach", "starts")

    def __init__(self, intervals: Iterable[Interval]) -> None:
        ordered = sorted(intervals)
        self.starts = [s for s, _ in ordered]
        self.ends = [e for _, e in ordered]
        self.reach: list[int] = []
        furthest = -(2**63)
        for end in self.ends:
            furthest = max(furthest, end)
            self.reach.append(furthest)

    def overlaps(self, stays: Iterable[Interval], min_overlap: int) -> list[Interval]:
        """Every (stay, indexed interval) pair overlapping by at least ``min_overlap``."""
        starts, ends, reach = self.starts, self.ends, self.reach
        found: list[Interval] = []
        for s, e in stays:
            j = bisect_right(starts, e) - 1
            while j >= 0 and reach[j] >= s:
                cs, ce = starts[j], ends[j]
                lo = s if s > cs else cs
                hi = e if e < ce else ce
                if hi - lo >= min_overlap:
                    found.append((lo, hi))
                j -= 1
        return found


def _dwelt_enough(
    state: CellState, person_id: str, case: CaseStays, overlap: Interval, params: MatchParams
) -> bool:
    """The optional cumulative-dwell condition: the person or the case spent at least
    ``min_cumulative_dwell`` in this cell over the look-back window ending with the overlap."""
    assert params.min_cumulative_dwell is not None
    lo, hi = overlap[1] - params.lookback, overlap[1]
    person = sum(
        max(0, min(e, hi) - max(s, lo)) for s, e in state.persons.get(person_id, {}).items()
    )
    own = [iv for (_, origin, _), iv in case.stays.items() if origin == state.cell]
    case_dwell = sum(max(0, min(e, hi) - max(s, lo)) for s, e in own)
    return max(person, case_dwell) >= params.min_cumulative_dwell


def _area_stay(state: CellState, person_id: str, area_id: str) -> list[ExposureChange]:
    overlaps: list[Interval] = []
    city = ""
    entry = state.areas.get(area_id)
    if entry is not None:
        city, (af, at) = entry
        for s, e in state.persons.get(person_id, {}).items():
            if s <= at and e >= af:
                overlaps.append((s if s > af else af, e if e < at else at))
    return _send(state, person_id, "area_stay", area_id, overlaps, city or "")


def _send(
    state: CellState,
    person_id: str,
    kind: str,
    source_id: str,
    overlaps: list[Interval],
    city_code: str,
) -> list[ExposureChange]:
    now = news(state.sent, (person_id, kind, source_id), overlaps)
    if now is None:
        return []
    place = h3int.int_to_str(state.cell)
    return [ExposureChange(person_id, ExposureKey(kind, source_id, place), now, city_code)]


def prune(state: CellState, horizon: int) -> None:
    """Forget stays that ended before the retention horizon (without retracting anything).

    A sweep costs the cell's whole state, so it runs at most once per day of event time."""
    if horizon - state.pruned_to < DAY:
        return
    state.pruned_to = horizon
    for person_id in list(state.persons):
        stays = {s: e for s, e in state.persons[person_id].items() if e >= horizon}
        if stays:
            state.persons[person_id] = stays
        else:
            del state.persons[person_id]
    for case_id in list(state.cases):
        entry = state.cases[case_id]
        entry.stays = {k: iv for k, iv in entry.stays.items() if iv[1] >= horizon}
        if not entry.stays:
            del state.cases[case_id]
    state.sent = forget_before(state.sent, horizon)


def is_empty(state: CellState) -> bool:
    """True when the cell holds nothing any more and its state can be dropped."""
    return not (state.persons or state.cases or state.areas or state.sent)
