"""Brute-force reference of the matching rules 1–8 of CONTRACTS.md.

Written from the contract text alone, without reading the engine, so that the tests can hold the
engine to it. Every rule is one plain loop over everything (O(n²) and worse); nothing is
incremental, nothing is clever. Only the feed dataclasses, the time units and the parameters are
shared with the engine.

Where the contract leaves a choice open, this reference decides as follows (the engine must agree,
or the contract must say otherwise):

* Ping order (rule 1). "In time order" does not order two pings with the same ``observed_at``;
  they are taken by ``(observed_at, cell)``, so a stay never depends on arrival order.
* Stay boundaries (rule 1). A gap of exactly ``max_gap`` keeps the stay; only a longer one splits.
* Duplicates. A record whose ``event_id`` was already seen on its topic is dropped, even when its
  other fields differ: the first one wins. ``persons`` has no ``event_id``; the last record per
  ``person_id`` wins. For ``risk-areas`` the last record per ``area_id`` (after dropping
  duplicates) wins, whatever its ``designated_at``.
* Case records. A later ``cases`` record with a new ``event_id`` for a ``case_id`` already seen does
  not replace it (the contract names replacement for ``risk-areas`` and ``persons`` only): every
  case record is a hazard of its own, and evidence names its ``case_id``.
* Case window (rule 2). ``[reported_at - lookback, isolated_at or reported_at]``, taken literally:
  an ``isolated_at`` after ``reported_at`` extends the window; a window that ends before it starts
  clips every stay away. A clipped piece may be zero-length (a stay touching the window's edge).
* co_located (rule 3). The overlap is ``min(ends) - max(starts)``; it counts when it is at least
  ``min_overlap`` (so with ``min_overlap`` 0, touching intervals count). Only
  ``neighbour_rings`` 0 and no ``min_cumulative_dwell`` are covered here.
* Evidence. One item per matching (person stay, case stay), (person stay, area) and
  (itinerary record, hazard) pair, as ``(kind, source, place, overlap_start, overlap_end)``; the
  overlap is the intersection of the two intervals (zero-length when they only touch). Items that
  come out equal are one item (the evidence is a set).
* city_visit (rule 7). The residence city is ``residence_code[:4] + "00"`` of the latest
  ``persons`` record; a person without one is matched in every city. Only itinerary records are
  city visits (a person's pings never are).
* Rule 8. Anyone named as ``person_id`` of any case record, at any time, has no open task.
* Retention is not modelled: the inputs are assumed to lie within it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import h3
from h3.api import basic_int

from paicha.matching.model import Case, Itinerary, Person, Ping, RiskArea
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import FOREVER

Evidence = tuple[str, str, str, int, int]  # (kind, source, place, overlap_start, overlap_end)

STRENGTH = {"co_located": 3, "area_stay": 2, "city_visit": 1}


@dataclass(frozen=True)
class ExpectedTask:
    """What one person's open task must say: its kind and every exposure behind it."""

    kind: str
    evidence: frozenset[Evidence]


@dataclass(frozen=True)
class Stay:
    """A maximal run of one person's pings in one cell (rule 1), ``[start, end]``."""

    person_id: str
    cell: int
    start: int
    end: int


@dataclass(frozen=True)
class Feed:
    """What is left of a feed once duplicates are dropped and replaced records are forgotten."""

    pings: list[Ping]
    itineraries: list[Itinerary]
    cases: list[Case]
    areas: list[RiskArea]
    residence_city: dict[str, str]  # person_id -> city code; absent: unknown residence


def expected_tasks(
    records: Iterable[object], params: MatchParams | None = None
) -> dict[str, ExpectedTask]:
    """The open task every person must have after ``records`` (in feed order) are processed."""
    params = params or MatchParams()
    if params.neighbour_rings != 0 or params.min_cumulative_dwell is not None:
        raise NotImplementedError("the reference covers neighbour_rings=0 without dwell minimum")
    feed = read_feed(records)
    stays = build_stays(feed.pings, params)

    evidence: dict[str, set[Evidence]] = defaultdict(set)
    for person_id, item in co_located(stays, feed.cases, params):
        evidence[person_id].add(item)
    for person_id, item in area_stays(stays, feed.areas, params.h3_resolution):
        evidence[person_id].add(item)
    for person_id, item in city_visits(feed, params):
        evidence[person_id].add(item)

    case_persons = {case.person_id for case in feed.cases}
    return {
        person_id: ExpectedTask(
            kind=max((item[0] for item in items), key=STRENGTH.__getitem__),
            evidence=frozenset(items),
        )
        for person_id, items in evidence.items()
        if person_id not in case_persons
    }


def read_feed(records: Iterable[object]) -> Feed:
    """Drop re-sent events (first ``event_id`` wins, per topic); keep the last area and person."""
    seen: set[tuple[str, str]] = set()
    pings: list[Ping] = []
    itineraries: list[Itinerary] = []
    cases: list[Case] = []
    areas: dict[str, RiskArea] = {}
    residence_city: dict[str, str] = {}
    for record in records:
        if isinstance(record, Person):
            residence_city[record.person_id] = record.residence_code[:4] + "00"
            continue
        topic = type(record).__name__
        event_id: str = record.event_id  # type: ignore[attr-defined]
        if (topic, event_id) in seen:
            continue
        seen.add((topic, event_id))
        if isinstance(record, Ping):
            pings.append(record)
        elif isinstance(record, Itinerary):
            itineraries.append(record)
        elif isinstance(record, Case):
            cases.append(record)
        elif isinstance(record, RiskArea):
            areas[record.area_id] = record
        else:
            raise TypeError(f"not a feed record: {record!r}")
    return Feed(pings, itineraries, cases, list(areas.values()), residence_city)


def build_stays(pings: list[Ping], params: MatchParams) -> list[Stay]:
    """Rule 1: every person's stays. Pings sort by ``(observed_at, cell)``; a gap longer than
    ``max_gap`` or a change of cell ends a stay."""
    by_person: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for ping in pings:
        cell = basic_int.latlng_to_cell(ping.lat, ping.lon, params.h3_resolution)
        by_person[ping.person_id].append((ping.observed_at, cell))
    stays: list[Stay] = []
    for person_id, observations in by_person.items():
        observations.sort()
        run_start, run_cell = observations[0]
        previous = run_start
        for observed_at, cell in observations[1:]:
            if cell != run_cell or observed_at - previous > params.max_gap:
                stays.append(Stay(person_id, run_cell, run_start, previous))
                run_start, run_cell = observed_at, cell
            previous = observed_at
        stays.append(Stay(person_id, run_cell, run_start, previous))
    return stays


def case_stays(case: Case, stays: list[Stay], params: MatchParams) -> list[Stay]:
    """Rule 2: the case person's stays clipped to ``[reported_at - lookback, isolated_at or
    reported_at]``; a stay wholly outside is dropped, one touching the edge leaves a moment."""
    window = (
        case.reported_at - params.lookback,
        case.reported_at if case.isolated_at is None else case.isolated_at,
    )
    clipped = []
    for stay in stays:
        if stay.person_id == case.person_id and touches_or_overlaps((stay.start, stay.end), window):
            start, end = intersection((stay.start, stay.end), window)
            clipped.append(Stay(stay.person_id, stay.cell, start, end))
    return clipped


def co_located(
    stays: list[Stay], cases: list[Case], params: MatchParams
) -> list[tuple[str, Evidence]]:
    """Rule 3: a person stay and a case stay in the same cell overlapping at least
    ``min_overlap``."""
    found = []
    for case in cases:
        for hazard in case_stays(case, stays, params):
            for stay in stays:
                if stay.cell != hazard.cell:
                    continue
                start, end = intersection((stay.start, stay.end), (hazard.start, hazard.end))
                if end >= start and end - start >= params.min_overlap:
                    place = h3.int_to_str(stay.cell)
                    found.append((stay.person_id, ("co_located", case.case_id, place, start, end)))
    return found


def area_cells(area: RiskArea, resolution: int) -> set[int]:
    """Rule 4: every cell the polygon overlaps, even in part."""
    shape = h3.geo_to_h3shape(area.polygon)
    cells = h3.h3shape_to_cells_experimental(shape, resolution, contain="overlap")
    return {h3.str_to_int(cell) for cell in cells}


def area_interval(area: RiskArea) -> tuple[int, int]:
    return (area.lookback_from, FOREVER if area.lifted_at is None else area.lifted_at)


def area_stays(
    stays: list[Stay], areas: list[RiskArea], resolution: int
) -> list[tuple[str, Evidence]]:
    """Rule 5: a person stay of any length in an area cell, overlapping or touching the area's
    interval."""
    found = []
    for area in areas:
        cells = area_cells(area, resolution)
        for stay in stays:
            interval = (stay.start, stay.end)
            if stay.cell in cells and touches_or_overlaps(interval, area_interval(area)):
                start, end = intersection(interval, area_interval(area))
                place = h3.int_to_str(stay.cell)
                found.append((stay.person_id, ("area_stay", area.area_id, place, start, end)))
    return found


def hazard_cities(feed: Feed, params: MatchParams) -> list[tuple[str, str, tuple[int, int]]]:
    """Rule 6: ``(city_code, source, interval)`` for every area and every case."""
    hazards = [(area.city_code, f"area:{area.area_id}", area_interval(area)) for area in feed.areas]
    hazards += [
        (
            case.city_code,
            f"case:{case.case_id}",
            (case.reported_at - params.lookback, case.reported_at + params.lookback),
        )
        for case in feed.cases
    ]
    return hazards


def city_visits(feed: Feed, params: MatchParams) -> list[tuple[str, Evidence]]:
    """Rule 7: an itinerary record overlapping or touching a hazard of its city, unless the city
    is the person's residence city (unknown residence: matched everywhere)."""
    found = []
    for itinerary in feed.itineraries:
        if feed.residence_city.get(itinerary.person_id) == itinerary.city_code:
            continue
        departed = itinerary.arrived_at if itinerary.departed_at is None else itinerary.departed_at
        visit = (itinerary.arrived_at, departed)
        for city_code, source, interval in hazard_cities(feed, params):
            if city_code == itinerary.city_code and touches_or_overlaps(visit, interval):
                start, end = intersection(visit, interval)
                found.append((itinerary.person_id, ("city_visit", source, city_code, start, end)))
    return found


def touches_or_overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    """The closed intervals share at least one moment."""
    return max(a[0], b[0]) <= min(a[1], b[1])


def intersection(a: tuple[int, int], b: tuple[int, int]) -> tuple[int, int]:
    """``[max(starts), min(ends)]``; meaningful only when the intervals touch or overlap."""
    return max(a[0], b[0]), min(a[1], b[1])
