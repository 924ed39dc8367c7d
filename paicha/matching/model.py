"""The plain data the matching rules work on: feed records, the messages between processors, tasks.

Times are integer microseconds since the epoch (``timeutil``); cells are H3 indexes as integers
(``h3.api.basic_int``), turned into hex strings only at the edges. Nothing here does I/O.

Every message between processors *replaces* what its key held before (an empty interval list
retracts), so re-delivering a message changes nothing and only the last one per key counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ExposureKind = Literal["co_located", "area_stay", "city_visit"]
KIND_STRENGTH: dict[str, int] = {"co_located": 3, "area_stay": 2, "city_visit": 1}
Interval = tuple[int, int]

# ---------------------------------------------------------------- feed records (CONTRACTS.md)


@dataclass(frozen=True, slots=True)
class Ping:
    """One location observation from the ``trajectories`` feed."""

    event_id: str
    person_id: str
    lat: float
    lon: float
    observed_at: int


@dataclass(frozen=True, slots=True)
class Itinerary:
    """One city-level stay from the ``itineraries`` feed (行程卡)."""

    event_id: str
    person_id: str
    city_code: str
    arrived_at: int
    departed_at: int | None = None

    @property
    def interval(self) -> Interval:
        return (self.arrived_at, self.arrived_at if self.departed_at is None else self.departed_at)


@dataclass(frozen=True, slots=True)
class Case:
    """A confirmed (确诊) or asymptomatic (无症状感染者) case from the ``cases`` feed."""

    event_id: str
    case_id: str
    person_id: str
    classification: Literal["confirmed", "asymptomatic"]
    reported_at: int
    city_code: str
    onset_at: int | None = None
    isolated_at: int | None = None


@dataclass(frozen=True, slots=True)
class RiskArea:
    """A medium- or high-risk area (中高风险地区); a later record for it replaces it."""

    event_id: str
    area_id: str
    name: str
    level: Literal["medium", "high"]
    city_code: str
    polygon: dict[str, Any]
    lookback_from: int
    designated_at: int
    lifted_at: int | None = None


@dataclass(frozen=True, slots=True)
class Person:
    """A registry entry: where the person lives, which routes their task."""

    person_id: str
    residence_code: str
    name: str | None = None
    phone: str | None = None

    @property
    def residence_city(self) -> str:
        """The prefecture-level city of residence: first four digits of the code, then ``00``."""
        return self.residence_code[:4] + "00"


FeedRecord = Ping | Itinerary | Case | RiskArea | Person

# ---------------------------------------------------------------- messages between processors


@dataclass(frozen=True, slots=True)
class StayChange:
    """A person's stay in ``cell`` that began at ``start`` now ends at ``end`` (None: it is gone).

    Keyed by cell. Emitted by the stay builder, consumed by the cell join.
    """

    person_id: str
    cell: int
    start: int
    end: int | None


@dataclass(frozen=True, slots=True)
class CaseStayChange:
    """A case's stay in ``cell`` (identified by its unclipped ``start``), clipped to the case's
    look-back window: ``interval``, or None when the stay is gone or falls outside the window.

    Keyed by cell. ``origin_cell`` differs from ``cell`` only with a neighbour-cell tolerance.
    ``record_id`` is the case record's ``event_id``: every case record is a hazard of its own
    (the contract names no replacement for cases), so two records of one case add up.
    """

    case_id: str
    case_person_id: str
    case_city: str
    cell: int
    origin_cell: int
    start: int
    interval: Interval | None
    record_id: str = ""


@dataclass(frozen=True, slots=True)
class AreaCellChange:
    """Risk area ``area_id`` covers ``cell`` over ``interval`` (None: it no longer covers it)."""

    area_id: str
    city_code: str
    cell: int
    interval: Interval | None


@dataclass(frozen=True, slots=True)
class CityHazardChange:
    """``city_code`` is a hazard over ``interval`` because of ``source`` (None: no longer).

    ``source`` is ``("area", area_id)`` or ``("case", case_id)``; ``record_id`` tells a case's
    records apart (each is a hazard), and is empty for an area (its later record replaces).
    Keyed by city.
    """

    city_code: str
    source: tuple[str, str]
    interval: Interval | None
    record_id: str = ""


@dataclass(frozen=True, slots=True)
class ItineraryChange:
    """A person's itinerary record in ``city_code`` (by ``event_id``). Keyed by city."""

    person_id: str
    city_code: str
    event_id: str
    interval: Interval | None


@dataclass(frozen=True, slots=True)
class ExposureKey:
    """What one piece of evidence is about: a kind, its source, and where.

    ``source_id`` is a ``case_id`` (co_located), an ``area_id`` (area_stay), or for city_visit the
    hazard that made the city one, spelled ``area:<id>`` or ``case:<id>``. ``place`` is the person's
    H3 cell (hex) for cell exposures and the city code for city_visit.
    """

    kind: str
    source_id: str
    place: str


@dataclass(frozen=True, slots=True)
class ExposureChange:
    """The full set of overlap intervals of one person under one key (empty: retracted).

    Keyed by person. ``city_code`` is where the exposure happened (the case's, area's or
    itinerary's city), used to route a task whose person has no known residence.
    """

    person_id: str
    key: ExposureKey
    overlaps: tuple[Interval, ...]
    city_code: str


# ---------------------------------------------------------------- the task (CONTRACTS.md)


@dataclass(slots=True)
class Evidence:
    """One exposure behind a task: which case, area or city; where; the overlap interval."""

    kind: str
    source_id: str
    place: str
    overlap_start: int
    overlap_end: int
    detected_at: int
    city_code: str


@dataclass(slots=True)
class Task:
    """A screening task (排查任务) as the stream processors push it. One per person."""

    task_id: str
    person_id: str
    kind: str
    status: Literal["open", "closed", "withdrawn"]
    detected_at: int
    due_at: int
    jurisdiction: str | None
    evidence: list[Evidence] = field(default_factory=list)
    version: int = 1
    close_reason: str | None = None
