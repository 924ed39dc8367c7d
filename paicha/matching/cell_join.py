"""Rules 3 and 5: person stays joined with case stays and area cover in one cell (state by cell).

Whichever side arrives later triggers the match: a stay change re-evaluates that person against
every hazard in the cell, a hazard change re-evaluates every person in the cell against it. Each
evaluation yields the full set of overlaps for one (person, source) pair, sent on only when it
differs from what was sent before, so the output replaces by key and re-delivery changes nothing.
"""

from __future__ import annotations

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

    @property
    def has_hazards(self) -> bool:
        return bool(self.cases or self.areas)


def apply_stay(state: CellState, change: StayChange, params: MatchParams) -> list[ExposureChange]:
    """A person's stay in this cell appeared, grew, shrank or went away."""
    stays = state.persons.get(change.person_id)
    if change.end is None:
        if stays is None or stays.pop(change.start, None) is None:
            return []
        if not stays:
            del state.persons[change.person_id]
    else:
        if stays is None:
            stays = state.persons[change.person_id] = {}
        if stays.get(change.start) == change.end:
            return []
        stays[change.start] = change.end
    if not state.cases and not state.areas:
        return []
    out: list[ExposureChange] = []
    for case_id in state.cases:
        out.extend(_co_located(state, change.person_id, case_id, params))
    for area_id in state.areas:
        out.extend(_area_stay(state, change.person_id, area_id))
    return out


def apply_case_stay(
    state: CellState, change: CaseStayChange, params: MatchParams
) -> list[ExposureChange]:
    """A case's stay (clipped to its look-back window) in or near this cell changed."""
    entry = state.cases.get(change.case_id)
    key = (change.record_id, change.origin_cell, change.start)
    if change.interval is None:
        if entry is None or entry.stays.pop(key, None) is None:
            return []
        if not entry.stays:
            del state.cases[change.case_id]
    else:
        if entry is None:
            entry = state.cases[change.case_id] = CaseStays(change.case_person_id, change.case_city)
        if entry.stays.get(key) == change.interval:
            return []
        entry.stays[key] = change.interval
    out: list[ExposureChange] = []
    for person_id in state.persons:
        out.extend(_co_located(state, person_id, change.case_id, params))
    return out


def apply_area_cell(state: CellState, change: AreaCellChange) -> list[ExposureChange]:
    """A risk area began or stopped covering this cell, or its interval changed."""
    if change.interval is None:
        if state.areas.pop(change.area_id, None) is None:
            return []
    else:
        if state.areas.get(change.area_id) == (change.city_code, change.interval):
            return []
        state.areas[change.area_id] = (change.city_code, change.interval)
    out: list[ExposureChange] = []
    for person_id in state.persons:
        out.extend(_area_stay(state, person_id, change.area_id, change.city_code))
    return out


def _co_located(
    state: CellState, person_id: str, case_id: str, params: MatchParams
) -> list[ExposureChange]:
    entry = state.cases.get(case_id)
    overlaps: list[Interval] = []
    city = ""
    if entry is not None:
        city = entry.city_code
        if entry.person_id != person_id:
            person_stays = state.persons.get(person_id, {})
            min_overlap = params.min_overlap
            for s, e in person_stays.items():
                for cs, ce in entry.stays.values():
                    lo = s if s > cs else cs
                    hi = e if e < ce else ce
                    if hi - lo >= min_overlap:
                        overlaps.append((lo, hi))
            if overlaps and params.min_cumulative_dwell is not None:
                overlaps = [
                    iv for iv in overlaps if _dwelt_enough(state, person_id, entry, iv, params)
                ]
    return _send(state, person_id, "co_located", case_id, overlaps, city)


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


def _area_stay(
    state: CellState, person_id: str, area_id: str, city: str | None = None
) -> list[ExposureChange]:
    overlaps: list[Interval] = []
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
    key = (person_id, kind, source_id)
    now = tuple(sorted(set(overlaps)))
    if state.sent.get(key, ()) == now:
        return []
    if now:
        state.sent[key] = now
    else:
        state.sent.pop(key, None)
    place = h3int.int_to_str(state.cell)
    return [ExposureChange(person_id, ExposureKey(kind, source_id, place), now, city_code)]


def prune(state: CellState, horizon: int) -> None:
    """Forget stays that ended before the retention horizon (without retracting anything)."""
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
    state.sent = {k: ovs for k, ovs in state.sent.items() if ovs[-1][1] >= horizon}


def is_empty(state: CellState) -> bool:
    """True when the cell holds nothing any more and its state can be dropped."""
    return not (state.persons or state.cases or state.areas or state.sent)
