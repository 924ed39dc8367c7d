"""Rules 6 and 7: itinerary records joined with hazard intervals of their city (state by city).

A city is a hazard for every risk area in it (from the area's look-back start until its lift)
and for every case reported in it (14 days either side of the report). An itinerary record
``[arrived_at, departed_at or arrived_at]`` that overlaps or touches such an interval is a
``city_visit`` (所在地市 / 疫情发生地 旅居史). Whether the city is the person's own city of
residence, which excludes the match, is the task policy's call: it holds the person registry.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from paicha.matching.model import (
    CityHazardChange,
    ExposureChange,
    ExposureKey,
    Interval,
    ItineraryChange,
)
from paicha.matching.sent import forget_before, news
from paicha.matching.timeutil import DAY


@dataclass(slots=True)
class CityState:
    """Everything the city join keeps for one city."""

    city_code: str
    visits: dict[str, dict[str, Interval]] = field(default_factory=dict)  # person -> event -> iv
    seen: dict[str, int] = field(default_factory=dict)  # itinerary event_id -> its end
    # "area:A1" / "case:C1" -> record -> interval (a case's records each count; an area's replace)
    hazards: dict[str, dict[str, Interval]] = field(default_factory=dict)
    sent: dict[tuple[str, str], tuple[Interval, ...]] = field(default_factory=dict)
    pruned_to: int = 0


def source_id(source: tuple[str, str]) -> str:
    """How a hazard's source is spelled in evidence: ``area:<area_id>`` or ``case:<case_id>``."""
    return f"{source[0]}:{source[1]}"


def apply_itinerary(state: CityState, change: ItineraryChange) -> list[ExposureChange]:
    """A person's itinerary record in this city; a re-sent ``event_id`` changes nothing."""
    if change.interval is None or change.event_id in state.seen:
        return []
    state.seen[change.event_id] = change.interval[1]
    state.visits.setdefault(change.person_id, {})[change.event_id] = change.interval
    return [out for hazard in state.hazards for out in _city_visit(state, change.person_id, hazard)]


def apply_hazard(state: CityState, change: CityHazardChange) -> list[ExposureChange]:
    """This city became, stayed or stopped being a hazard because of one area or case."""
    hazard = source_id(change.source)
    records = state.hazards.get(hazard, {})
    if change.interval is None:
        if records.pop(change.record_id, None) is None:
            return []
        if not records:
            del state.hazards[hazard]
    else:
        if records.get(change.record_id) == change.interval:
            return []
        state.hazards.setdefault(hazard, records)[change.record_id] = change.interval
    return [out for person_id in state.visits for out in _city_visit(state, person_id, hazard)]


def _city_visit(state: CityState, person_id: str, hazard: str) -> list[ExposureChange]:
    overlaps: list[Interval] = []
    for hs, he in state.hazards.get(hazard, {}).values():
        for s, e in state.visits.get(person_id, {}).values():
            if s <= he and e >= hs:
                overlaps.append((max(s, hs), min(e, he)))
    now = news(state.sent, (person_id, hazard), overlaps)
    if now is None:
        return []
    exposure = ExposureKey("city_visit", hazard, state.city_code)
    return [ExposureChange(person_id, exposure, now, state.city_code)]


def prune(state: CityState, horizon: int) -> None:
    """Forget itinerary records that ended before the retention horizon (retracting nothing).

    A sweep costs the city's whole state, so it runs at most once per day of event time."""
    if horizon - state.pruned_to < DAY:
        return
    state.pruned_to = horizon
    state.seen = {e: end for e, end in state.seen.items() if end >= horizon}
    for person_id in list(state.visits):
        kept = {e: iv for e, iv in state.visits[person_id].items() if iv[1] >= horizon}
        if kept:
            state.visits[person_id] = kept
        else:
            del state.visits[person_id]
    state.sent = forget_before(state.sent, horizon)
