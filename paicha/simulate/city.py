"""The home city's invented ground: communities (社区) grouped into streets, the teams that screen
them, and the places people go — workplaces and schools where the same people meet every day, and
shared places (markets, malls, hospitals, stations) where strangers mix and cases spread.

Places get fixed coordinates once, so the movement model only adds noise around them per ping.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from random import Random
from typing import Any

from paicha.simulate.geography import STATIONS, CityInfo, District

M_PER_DEG_LAT = 111_320.0

SHARED_KINDS = ("market", "mall", "hospital", "station")
"""Places where people from all over the city mix; cases are placed among their staff."""

# kind: (label in names, one place per this many persons, at least, spread of positions in metres)
_PLACE_KINDS: dict[str, tuple[str, int, int, float]] = {
    "workplace": ("产业园", 40, 8, 80.0),
    "school": ("学校", 500, 3, 100.0),
    "market": ("农贸市场", 250, 6, 50.0),
    "mall": ("购物中心", 600, 4, 80.0),
    "hospital": ("医院", 800, 3, 100.0),
    "hotel": ("宾馆", 1000, 2, 40.0),
}
_STATION_SPREAD_M = 150.0
_DISTRICT_RADIUS_M = 3000.0
_NAME_STEMS = "龙城 长风 学府 康宁 和平 双塔 滨河 丽华 平阳 并州 晋阳 汾东 迎泽 柳巷 朝阳 锦绣"
_NAME_ENDS = "苑 里 园 庄 新村 花园 家园 小区"


@dataclass(frozen=True, slots=True)
class Community:
    """A community (社区), the unit a ``residence_code`` names and a team screens."""

    code: str
    name: str
    street: str
    district: District
    lat: float
    lon: float
    team_id: str


@dataclass(frozen=True, slots=True)
class Team:
    """A screening team (排查专班): the communities it screens, inside ``jurisdiction`` (the
    district code for a street's team; the city code for the city's duty team, which takes the
    people whose residence is unknown)."""

    team_id: str
    name: str
    jurisdiction: str
    communities: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Place:
    """Somewhere people spend time; ``spread_m`` is how far apart they stand inside it."""

    place_id: str
    kind: str
    name: str
    lat: float
    lon: float
    district_code: str
    spread_m: float


@dataclass(slots=True)
class City:
    """The generated home city."""

    info: CityInfo
    communities: list[Community]
    teams: list[Team]
    places: dict[str, list[Place]] = field(default_factory=dict)

    def shared_places(self) -> list[Place]:
        return [place for kind in SHARED_KINDS for place in self.places.get(kind, [])]


def point_near(rng: Random, lat: float, lon: float, radius_m: float) -> tuple[float, float]:
    """A point uniformly inside the disc of ``radius_m`` around (lat, lon)."""
    distance = radius_m * math.sqrt(rng.random())
    angle = rng.random() * math.tau
    north, east = distance * math.cos(angle), distance * math.sin(angle)
    return (
        lat + north / M_PER_DEG_LAT,
        lon + east / (M_PER_DEG_LAT * math.cos(math.radians(lat))),
    )


def _pick_district(rng: Random, info: CityInfo) -> District:
    return rng.choices(info.districts, weights=[d.weight for d in info.districts])[0]


def _community_name(rng: Random) -> str:
    return rng.choice(_NAME_STEMS.split()) + rng.choice(_NAME_ENDS.split()) + "社区"


def _build_communities(rng: Random, info: CityInfo, persons: int) -> list[Community]:
    """About one community per 150 residents, at least two per district; codes are
    district (6) + street (3) + community (3), communities filling streets round-robin."""
    count = max(2 * len(info.districts), min(600, persons // 150))
    chosen = [d for d in info.districts for _ in range(2)]
    chosen += [_pick_district(rng, info) for _ in range(count - len(chosen))]
    communities: list[Community] = []
    per_district: dict[str, int] = {}
    for district in chosen:
        n = per_district.get(district.code, 0)
        per_district[district.code] = n + 1
        street_no = n % len(district.streets)
        street_code = f"{district.code}{street_no + 1:03d}"
        lat, lon = point_near(rng, district.lat, district.lon, _DISTRICT_RADIUS_M)
        communities.append(
            Community(
                code=f"{street_code}{n // len(district.streets) + 1:03d}",
                name=_community_name(rng),
                street=district.streets[street_no],
                district=district,
                lat=lat,
                lon=lon,
                team_id=f"T{street_code}",
            )
        )
    return communities


def _build_teams(info: CityInfo, communities: list[Community]) -> list[Team]:
    """One team per street, and a city duty team for people whose residence is unknown."""
    by_team: dict[str, list[Community]] = {}
    for community in communities:
        by_team.setdefault(community.team_id, []).append(community)
    teams = [
        Team(
            team_id=team_id,
            name=f"{members[0].district.name}{members[0].street}排查专班",
            jurisdiction=members[0].district.code,
            communities=tuple(sorted(c.code for c in members)),
        )
        for team_id, members in sorted(by_team.items())
    ]
    teams.append(Team(f"T{info.code}", f"{info.name}流调溯源专班", info.code, ()))
    return teams


def _build_places(rng: Random, info: CityInfo, persons: int) -> dict[str, list[Place]]:
    places: dict[str, list[Place]] = {}
    for kind, (label, per_persons, at_least, spread) in _PLACE_KINDS.items():
        for k in range(max(at_least, persons // per_persons)):
            district = _pick_district(rng, info)
            lat, lon = point_near(rng, district.lat, district.lon, _DISTRICT_RADIUS_M * 0.8)
            name = f"{district.name}{label}{k + 1}"
            places.setdefault(kind, []).append(
                Place(f"{kind}-{k + 1}", kind, name, lat, lon, district.code, spread)
            )
    stations = STATIONS.get(info.code) or (
        (f"{info.name}站", info.lat - 0.01, info.lon + 0.02),
        (f"{info.name}机场", info.lat - 0.10, info.lon + 0.08),
    )
    places["station"] = [
        Place(f"station-{k + 1}", "station", name, lat, lon, "", _STATION_SPREAD_M)
        for k, (name, lat, lon) in enumerate(stations)
    ]
    return places


def build_city(info: CityInfo, persons: int, rng: Random) -> City:
    """The communities, teams and places of a home city sized for ``persons`` people."""
    communities = _build_communities(rng, info, persons)
    return City(
        info, communities, _build_teams(info, communities), _build_places(rng, info, persons)
    )


def jurisdictions(city: City) -> dict[str, Any]:
    """The jurisdiction tree (province → city → districts → communities) and the teams,
    as ``jurisdictions.json`` carries them for the tracking service to load."""
    info = city.info
    districts = []
    for district in info.districts:
        members = sorted(
            (c for c in city.communities if c.district.code == district.code), key=lambda c: c.code
        )
        districts.append(
            {
                "code": district.code,
                "name": district.name,
                "communities": [
                    {
                        "code": c.code,
                        "name": c.name,
                        "street": c.street,
                        "team_id": c.team_id,
                        "centre": {"lat": round(c.lat, 6), "lon": round(c.lon, 6)},
                    }
                    for c in members
                ],
            }
        )
    return {
        "province": {
            "code": info.province_code,
            "name": info.province_name,
            "cities": [{"code": info.code, "name": info.name, "districts": districts}],
        },
        "teams": [
            {
                "team_id": t.team_id,
                "name": t.name,
                "jurisdiction": t.jurisdiction,
                "communities": list(t.communities),
            }
            for t in city.teams
        ],
    }
