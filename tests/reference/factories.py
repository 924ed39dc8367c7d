"""Small builders of feed records for the matching tests.

Places are real: Taiyuan (太原, city 140100) around 37.87N 112.55E, and Hangzhou (杭州, 330100).
A second point in a different cell is found by asking H3 for a neighbouring cell, never guessed.
Event ids are fresh on every call unless given, so a re-send is spelled by reusing the record.
"""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime

import h3
from h3.api import basic_int

from paicha.matching.model import Case, Itinerary, Person, Ping, RiskArea
from paicha.matching.timeutil import MINUTE, to_micros

RESOLUTION = 8
TAIYUAN_CITY = "140100"
HANGZHOU_CITY = "330100"
TAIYUAN_RESIDENCE = "140105001001"  # a community in Xiaodian district (140105), Taiyuan
HANGZHOU_RESIDENCE = "330106002003"  # a community in Xihu district (330106), Hangzhou

Point = tuple[float, float]  # (lat, lon)

# 08:00 Beijing time on 7 December 2021, the day the notice reports the Zhejiang cases.
T0 = to_micros(datetime(2021, 12, 7, 0, 0, tzinfo=UTC))

_ids = itertools.count(1)


def cell_of(point: Point, resolution: int = RESOLUTION) -> int:
    return basic_int.latlng_to_cell(point[0], point[1], resolution)


def hex_cell(point: Point, resolution: int = RESOLUTION) -> str:
    """The point's cell as the hex string that evidence names."""
    return h3.int_to_str(cell_of(point, resolution))


def centre(cell: int) -> Point:
    return basic_int.cell_to_latlng(cell)


def neighbour(point: Point, step: int = 0, resolution: int = RESOLUTION) -> Point:
    """The centre of one of the six cells next to the point's cell (``step`` picks which)."""
    ring = sorted(basic_int.grid_ring(cell_of(point, resolution), 1))
    return centre(ring[step % len(ring)])


# The centre of the cell that holds 37.87N 112.55E: a point well inside its cell.
TAIYUAN = centre(cell_of((37.87, 112.55)))
TAIYUAN_NEXT_DOOR = neighbour(TAIYUAN)
# A point in TAIYUAN's cell 150 m north of its centre: a compound drawn around it is smaller than
# the cell and does not hold the cell's centre, so centre containment would give it no cell.
TAIYUAN_COMPOUND = (TAIYUAN[0] + 150 / 111_320, TAIYUAN[1])


def minutes(n: float) -> int:
    return int(n * MINUTE)


def ping(person_id: str, at: int, point: Point = TAIYUAN, *, event_id: str | None = None) -> Ping:
    return Ping(
        event_id=event_id or f"ping-{next(_ids)}",
        person_id=person_id,
        lat=point[0],
        lon=point[1],
        observed_at=at,
    )


def pings(
    person_id: str, start: int, end: int, point: Point = TAIYUAN, every: int = 5 * MINUTE
) -> list[Ping]:
    """Pings every ``every`` from ``start``, and always one exactly at ``end``: a stay
    ``[start, end]`` when ``every`` is within ``max_gap``."""
    moments = [*range(start, end, every), end]
    return [ping(person_id, at, point) for at in moments]


def case(
    person_id: str,
    reported_at: int,
    *,
    case_id: str | None = None,
    city_code: str = TAIYUAN_CITY,
    isolated_at: int | None = None,
    event_id: str | None = None,
) -> Case:
    return Case(
        event_id=event_id or f"case-event-{next(_ids)}",
        case_id=case_id or f"case-{person_id}",
        person_id=person_id,
        classification="confirmed",
        reported_at=reported_at,
        city_code=city_code,
        isolated_at=isolated_at,
    )


def square(point: Point, half_side_m: float) -> dict:
    """A GeoJSON Polygon (lon/lat) square of side ``2 * half_side_m`` metres around a point."""
    lat, lon = point
    dlat = half_side_m / 111_320
    dlon = dlat / max(0.1, abs(math.cos(math.radians(lat))))
    ring = [
        [lon - dlon, lat - dlat],
        [lon + dlon, lat - dlat],
        [lon + dlon, lat + dlat],
        [lon - dlon, lat + dlat],
        [lon - dlon, lat - dlat],
    ]
    return {"type": "Polygon", "coordinates": [ring]}


def risk_area(
    area_id: str,
    lookback_from: int,
    *,
    polygon: dict | None = None,
    lifted_at: int | None = None,
    designated_at: int | None = None,
    city_code: str = TAIYUAN_CITY,
    level: str = "medium",
    event_id: str | None = None,
) -> RiskArea:
    """A risk area; by default a compound 60 m across inside ``TAIYUAN``'s cell, off its centre."""
    return RiskArea(
        event_id=event_id or f"area-event-{next(_ids)}",
        area_id=area_id,
        name=f"compound {area_id}",
        level=level,  # type: ignore[arg-type]
        city_code=city_code,
        polygon=polygon or square(TAIYUAN_COMPOUND, 30),
        lookback_from=lookback_from,
        designated_at=lookback_from if designated_at is None else designated_at,
        lifted_at=lifted_at,
    )


def itinerary(
    person_id: str,
    city_code: str,
    arrived_at: int,
    departed_at: int | None = None,
    *,
    event_id: str | None = None,
) -> Itinerary:
    return Itinerary(
        event_id=event_id or f"itinerary-{next(_ids)}",
        person_id=person_id,
        city_code=city_code,
        arrived_at=arrived_at,
        departed_at=departed_at,
    )


def person(person_id: str, residence_code: str = TAIYUAN_RESIDENCE) -> Person:
    return Person(person_id=person_id, residence_code=residence_code)
