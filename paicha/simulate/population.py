"""The people of the synthetic city: who they are, where they sleep, where they work, and which
shared places they frequent. Their daily movement is ``movement``'s business.

Some are deliberately awkward for the system: a few have no registry entry (unknown residence,
routed to the city's duty team), and some live in other cities and are only visiting (入晋人员),
arriving at a hotel on some day of the simulation or before it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from random import Random

from paicha.simulate.city import City, Place, point_near
from paicha.simulate.geography import CityInfo

DAY_S = 86_400
HOUR_S = 3_600

VISITOR_SHARE = 0.04
UNREGISTERED_SHARE = 0.02
# Roles of the city's own people, with their shares.
_ROLES = {"worker": 0.55, "student": 0.15, "staff": 0.08, "homebody": 0.22}
_HOME_SPREAD_M = 350.0

_SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏"
    "薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤尹武乔贺"
)
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超霞平刚桂英华建国红玉兰志文晋宇浩然佳琪欣怡子涵雨轩梓萱"
# Mobile number prefixes of the three carriers.
_PHONE_PREFIXES = tuple(
    str(prefix)
    for prefix in (*range(130, 140), 150, 151, 152, 155, 156, 158, 159, *range(180, 190))
)


@dataclass(slots=True)
class Agent:
    """One simulated person (an agent of the simulation).

    ``residence_code`` is what the registry says (None when the person has no registry entry);
    ``home`` is where the phone sleeps: a flat in a community, or a hotel for a visitor. Times are
    Unix seconds; ``present_from``/``present_until`` bound when the phone is in the city (a
    visitor's arrival and departure, a case's isolation).
    """

    index: int
    person_id: str
    role: str
    residence_code: str | None
    name: str
    phone: str
    home: tuple[float, float]
    work: Place | None
    haunts: tuple[Place, ...]
    source: str
    accuracy_m: float
    present_from: int | None = None
    present_until: int | None = None

    @property
    def is_visitor(self) -> bool:
        return self.role == "visitor"


def fake_name(rng: Random) -> str:
    return rng.choice(_SURNAMES) + "".join(rng.choice(_GIVEN) for _ in range(rng.choice((1, 2))))


def fake_phone(rng: Random) -> str:
    return rng.choice(_PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def fake_residence(rng: Random, info: CityInfo) -> str:
    """A plausible community code in another city (its streets and communities are not modelled)."""
    district = rng.choice(info.districts)
    return f"{district.code}{rng.randint(1, len(district.streets)):03d}{rng.randint(1, 12):03d}"


def _nearest(places: list[Place], lat: float, lon: float) -> Place:
    shrink = math.cos(math.radians(lat))  # a degree of longitude is shorter than one of latitude
    return min(places, key=lambda p: (p.lat - lat) ** 2 + ((p.lon - lon) * shrink) ** 2)


def _haunts(rng: Random, city: City, lat: float, lon: float) -> tuple[Place, ...]:
    """The shared places someone frequents: their nearest market first (most outings go
    there), then a market, a mall and a hospital anywhere in the city."""
    places = city.places
    return (
        _nearest(places["market"], lat, lon),
        rng.choice(places["market"]),
        rng.choice(places["mall"]),
        rng.choice(places["hospital"]),
        rng.choice(places["station"]),
    )


def _work(rng: Random, city: City, role: str) -> Place | None:
    places = city.places
    if role == "worker":
        return rng.choice(places["workplace"])
    if role == "student":
        return rng.choice(places["school"])
    if role == "staff":
        kind = rng.choices(("market", "mall", "hospital", "station"), weights=(4, 3, 2, 1))[0]
        return rng.choice(places[kind])
    return None


def _visitor_stay(rng: Random, start: int, days: int) -> tuple[int, int | None]:
    """A visitor arrives before the simulation (most) or during it; some leave again."""
    if rng.random() < 0.3:
        arrival = start + rng.randrange(max(HOUR_S, int(days * DAY_S * 0.7)))
    else:
        arrival = start - rng.randrange(HOUR_S, 5 * DAY_S)
    departure = arrival + rng.randrange(DAY_S, 6 * DAY_S) if rng.random() < 0.4 else None
    return arrival, departure


def build_population(
    city: City, count: int, elsewhere: list[CityInfo], start: int, days: int, rng: Random
) -> list[Agent]:
    """``count`` agents: the city's own people in its communities, plus visitors from
    ``elsewhere`` staying at hotels. Deterministic for the state of ``rng``."""
    agents: list[Agent] = []
    roles, weights = list(_ROLES), list(_ROLES.values())
    for index in range(count):
        source, accuracy = ("gps", rng.uniform(8, 30)) if rng.random() < 0.85 else ("wifi", 40.0)
        present_from = present_until = None
        if rng.random() < VISITOR_SHARE:
            role = "visitor"
            residence: str | None = fake_residence(rng, rng.choice(elsewhere))
            hotel = rng.choice(city.places["hotel"])
            lat, lon = point_near(rng, hotel.lat, hotel.lon, hotel.spread_m)
            work = rng.choice(city.places["workplace"]) if rng.random() < 0.5 else None
            present_from, present_until = _visitor_stay(rng, start, days)
        else:
            role = rng.choices(roles, weights)[0]
            community = rng.choice(city.communities)
            lat, lon = point_near(rng, community.lat, community.lon, _HOME_SPREAD_M)
            residence = None if rng.random() < UNREGISTERED_SHARE else community.code
            work = _work(rng, city, role)
        agents.append(
            Agent(
                index=index,
                person_id=f"P{index:06d}",
                role=role,
                residence_code=residence,
                name=fake_name(rng),
                phone=fake_phone(rng),
                home=(lat, lon),
                work=work,
                haunts=_haunts(rng, city, lat, lon),
                source=source,
                accuracy_m=round(accuracy, 1),
                present_from=present_from,
                present_until=present_until,
            )
        )
    return agents


def person_record(agent: Agent) -> dict[str, str] | None:
    """The ``persons`` record of an agent, or None for someone the registry does not know."""
    if agent.residence_code is None:
        return None
    return {
        "person_id": agent.person_id,
        "residence_code": agent.residence_code,
        "name": agent.name,
        "phone": agent.phone,
    }
