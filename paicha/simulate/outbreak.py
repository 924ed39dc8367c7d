"""The outbreak: cases (确诊, 无症状) among the simulated people and in other cities, and the
medium/high-risk areas (中高风险地区) the authorities draw around them.

Cases at home are picked mostly among the staff of shared places, who spend the day where
strangers come and go, so that co-location (时空伴随) really happens; they are reported on the
last simulated days and stop moving once isolated. Cases and areas elsewhere make those cities
hazards for the travellers of ``travel``. One area is lifted by a second record with its
``area_id``, as the feed does it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from random import Random
from typing import Any

from paicha.simulate.city import M_PER_DEG_LAT, City, point_near
from paicha.simulate.geography import CityInfo
from paicha.simulate.population import DAY_S, HOUR_S, Agent, fake_name, fake_phone, fake_residence
from paicha.simulate.timefmt import local_midnight, rfc3339

_SMALL_COMPOUND_M = 120.0  # a compound well inside one H3 res-8 cell (about 0.74 km²)
_BLOCK_M = (700.0, 500.0)  # a residential block across a few cells around a case's home


@dataclass(slots=True)
class Outbreak:
    """What ``plan_outbreak`` decided, as feed records in the order the feeds send them."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    risk_areas: list[dict[str, Any]] = field(default_factory=list)
    persons: list[dict[str, Any]] = field(default_factory=list)
    case_agents: list[Agent] = field(default_factory=list)


def rectangle(lat: float, lon: float, width_m: float, height_m: float) -> dict[str, Any]:
    """A GeoJSON Polygon centred on a point: lon/lat, exterior ring counter-clockwise, closed."""
    half_lat = height_m / 2 / M_PER_DEG_LAT
    half_lon = width_m / 2 / (M_PER_DEG_LAT * math.cos(math.radians(lat)))
    corners = [(-1, -1), (1, -1), (1, 1), (-1, 1), (-1, -1)]
    ring = [[round(lon + x * half_lon, 6), round(lat + y * half_lat, 6)] for x, y in corners]
    return {"type": "Polygon", "coordinates": [ring]}


def _pick_case_agents(agents: list[Agent], count: int, rng: Random) -> list[Agent]:
    """Half among the staff of shared places (if there are enough), the rest among any
    registered resident; visitors and people without a registry entry are never cases here."""
    residents = [a for a in agents if a.residence_code is not None and not a.is_visitor]
    staff = [a for a in residents if a.role == "staff"]
    chosen = rng.sample(staff, min(len(staff), (count + 1) // 2))
    taken = {a.index for a in chosen}
    others = [a for a in residents if a.index not in taken]
    chosen += rng.sample(others, min(len(others), count - len(chosen)))
    return chosen


def _case_record(
    seed: int, k: int, person_id: str, city_code: str, reported: int, rng: Random
) -> dict[str, Any]:
    confirmed = k % 3 != 2
    record: dict[str, Any] = {
        "event_id": f"s{seed}-c{k}",
        "case_id": f"{city_code}-{seed}-{k:03d}",
        "person_id": person_id,
        "classification": "confirmed" if confirmed else "asymptomatic",
        "reported_at": rfc3339(reported),
        "city_code": city_code,
    }
    if confirmed:
        record["onset_at"] = rfc3339(reported - rng.randrange(DAY_S, 3 * DAY_S))
    return record


def _area_record(
    seed: int,
    k: int,
    info: CityInfo,
    name: str,
    level: str,
    polygon: dict[str, Any],
    designated: int,
) -> dict[str, Any]:
    # The look-back start is a midnight about two weeks before designation ("since 23 Nov").
    return {
        "event_id": f"s{seed}-a{k}",
        "area_id": f"RA-{info.code}-{seed}-{k:03d}",
        "name": name,
        "level": level,
        "city_code": info.code,
        "polygon": polygon,
        "lookback_from": rfc3339(local_midnight(designated - 14 * DAY_S)),
        "designated_at": rfc3339(designated),
        "lifted_at": None,
    }


def plan_outbreak(
    *,
    city: City,
    agents: list[Agent],
    elsewhere: list[CityInfo],
    start: int,
    end: int,
    cases: int,
    areas: int,
    seed: int,
    rng: Random,
) -> Outbreak:
    """``cases`` cases (a third of them in other cities) and ``areas`` risk areas (half of them
    elsewhere), over the simulation window ``[start, end)``. Sets ``present_until`` on the
    home cases: an isolated person's phone leaves the city's streets."""
    out = Outbreak()
    hazard_cities = elsewhere[: max(1, min(3, len(elsewhere)))]
    home_cases = _pick_case_agents(agents, cases - cases // 3, rng)
    for k, agent in enumerate(home_cases):
        last_days = DAY_S if end - start > DAY_S else 0
        reported = max(
            start + 6 * HOUR_S,
            end - rng.choice((0, last_days)) - rng.randrange(2 * HOUR_S, 7 * HOUR_S),
        )
        record = _case_record(seed, k, agent.person_id, city.info.code, reported, rng)
        if rng.random() < 0.8:  # mostly isolated at once; the rest only reported
            isolated = reported + rng.randrange(3 * HOUR_S)
            record["isolated_at"] = rfc3339(isolated)
            agent.present_until = isolated
        else:
            agent.present_until = reported + HOUR_S
        out.cases.append(record)
        out.case_agents.append(agent)
    for j in range(cases // 3):
        k = len(out.cases)
        info = hazard_cities[j % len(hazard_cities)]
        person_id = f"X{info.code}-{seed}-{j:04d}"
        reported = start - rng.randrange(0, 3 * DAY_S)
        record = _case_record(seed, k, person_id, info.code, reported, rng)
        record["isolated_at"] = record["reported_at"]
        out.cases.append(record)
        out.persons.append(
            {
                "person_id": person_id,
                "residence_code": fake_residence(rng, info),
                "name": fake_name(rng),
                "phone": fake_phone(rng),
            }
        )

    home_areas = areas - areas // 2
    for k in range(home_areas):
        out.risk_areas.append(_home_area(seed, k, city, out.case_agents, start, end, rng))
    for j in range(areas // 2):
        info = hazard_cities[j % len(hazard_cities)]
        out.risk_areas.append(_remote_area(seed, home_areas + j, info, start, rng))
    if len(out.risk_areas) >= 2:
        # The last area (elsewhere) is lifted before the simulation starts: the same area_id
        # again with lifted_at, a later record that replaces the designation.
        area = out.risk_areas[-1]
        designated = int(datetime.fromisoformat(area["designated_at"]).timestamp())
        lifted = max(designated + DAY_S, start - 2 * DAY_S)
        out.risk_areas.append(
            {**area, "event_id": f"s{seed}-a{len(out.risk_areas)}", "lifted_at": rfc3339(lifted)}
        )
    return out


def _home_area(
    seed: int, k: int, city: City, case_agents: list[Agent], start: int, end: int, rng: Random
) -> dict[str, Any]:
    """A compound around where a case worked (the first one smaller than an H3 cell), or every
    other one a block of several cells around a case's home; designated after the report."""
    agent = case_agents[k % len(case_agents)] if case_agents else None
    designated = (agent.present_until or end) if agent else start + 12 * HOUR_S
    designated += rng.randrange(HOUR_S, 4 * HOUR_S)
    if agent is not None and k % 2 == 1:
        code = agent.residence_code
        community = next((c for c in city.communities if c.code == code), city.communities[0])
        polygon = rectangle(*agent.home, *_BLOCK_M)
        name = f"{community.district.name}{community.street}{community.name}"
        return _area_record(seed, k, city.info, name, "medium", polygon, designated)
    place = agent.work if agent and agent.work else rng.choice(city.shared_places())
    size = _SMALL_COMPOUND_M if k == 0 else rng.uniform(200, 400)
    polygon = rectangle(place.lat, place.lon, size, size * 0.8)
    return _area_record(seed, k, city.info, f"{place.name}周边小区", "high", polygon, designated)


def _remote_area(seed: int, k: int, info: CityInfo, start: int, rng: Random) -> dict[str, Any]:
    """A compound somewhere in another city, designated some days before the simulation."""
    district = rng.choice(info.districts)
    lat, lon = point_near(rng, district.lat, district.lon, 2000.0)
    polygon = rectangle(lat, lon, rng.uniform(200, 600), rng.uniform(200, 600))
    name = f"{info.name}{district.name}{rng.choice(district.streets)}某小区"
    level = rng.choice(("medium", "high"))
    designated = start - rng.randrange(DAY_S, 10 * DAY_S)
    return _area_record(seed, k, info, name, level, polygon, designated)
