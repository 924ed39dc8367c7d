"""Daily schedules and the location pings they produce (the ``trajectories`` feed).

Each person-day is a list of legs — at home, travelling, at work, at a market — planned from the
person's role; pings are sampled along the legs every few minutes with GPS noise and dropouts,
including some gaps longer than the matcher's 30-minute ``max_gap`` so that stays get split.

This is the hot loop of the simulator (about 300 pings per person-day), so a ping costs a few
random draws, a string concatenation and a dict: coordinates come precomputed from the legs and
timestamps from a per-minute table of RFC 3339 prefixes.
"""

from __future__ import annotations

import math
from datetime import datetime
from random import Random
from typing import Any

from paicha.simulate.city import M_PER_DEG_LAT, point_near
from paicha.simulate.population import DAY_S, HOUR_S, Agent
from paicha.simulate.timefmt import CST, local_midnight

Leg = tuple[int, int, float, float, float, float]
"""(start, end, lat0, lon0, lat1, lon1), seconds from local midnight; a stay has lat0 == lat1."""
Stop = tuple[float, float, int, int]
"""(lat, lon, leave no earlier than this second of the day, stay at least this many seconds)."""

_SPEED_M_S = 7.0  # door to door across a city, about 25 km/h
_MIN_TRAVEL_S = 8 * 60
_SHORT_DROPOUT_P = 0.02  # per ping: the next 2-4 pings are lost (a tunnel, a lift)
_LONG_GAP_P = 0.25  # per person-day: the phone is off or without signal for 35-180 minutes
_NORMAL_BITS = 12


def _normal_table(bits: int) -> tuple[float, ...]:
    """Standard normal draws to pick GPS noise from: ``rng.gauss`` for every coordinate of
    every ping cost a third of the whole run."""
    rng = Random(0)
    return tuple(rng.gauss(0.0, 1.0) for _ in range(1 << bits))


_NORMALS = _normal_table(_NORMAL_BITS)
_HAUNT_WEIGHTS = (5.0, 2.0, 3.0, 1.0, 0.5)  # nearest market, market, mall, hospital, station


def _travel_s(a: tuple[float, float], b: tuple[float, float]) -> int:
    north = (b[0] - a[0]) * M_PER_DEG_LAT
    east = (b[1] - a[1]) * M_PER_DEG_LAT * math.cos(math.radians(a[0]))
    return max(_MIN_TRAVEL_S, min(HOUR_S, int(math.hypot(north, east) / _SPEED_M_S)))


def legs_from_stops(home: tuple[float, float], depart: int, stops: list[Stop]) -> list[Leg]:
    """Home until ``depart``, then each stop in turn with travel between, then home for the
    rest of the day. A stop may be home itself (between a morning and an afternoon errand)."""
    legs: list[Leg] = [(0, depart, *home, *home)]
    here, t = home, depart
    for lat, lon, until, stay in stops:
        arrive = t + _travel_s(here, (lat, lon))
        legs.append((t, arrive, *here, lat, lon))
        leave = max(until, arrive + stay)
        legs.append((arrive, leave, lat, lon, lat, lon))
        here, t = (lat, lon), leave
    arrive = t + _travel_s(here, home)
    legs.append((t, arrive, *here, *home))
    legs.append((arrive, max(arrive, DAY_S) + 1, *home, *home))
    return legs


def plan_day(agent: Agent, weekend: bool, rng: Random) -> list[Leg]:
    """One day of ``agent``'s life as legs: workers and students go to the same place every
    weekday, staff of shared places work shifts there, everyone else runs errands to markets,
    malls and hospitals, where people from all over the city meet."""
    h = HOUR_S

    def at(place_lat_lon: tuple[float, float], spread: float) -> tuple[float, float]:
        return point_near(rng, *place_lat_lon, spread)

    def outing(stay_min: int, stay_max: int) -> Stop:
        place = rng.choices(agent.haunts, _HAUNT_WEIGHTS)[0]
        lat, lon = at((place.lat, place.lon), place.spread_m)
        return (lat, lon, 0, rng.randint(stay_min, stay_max) * 60)

    work, role = agent.work, agent.role
    stops: list[Stop] = []
    if work is not None and not (weekend and role in ("worker", "student")):
        desk = at((work.lat, work.lon), work.spread_m)
        if role == "staff":
            depart = int(rng.uniform(5.5, 9.0) * h)
            stops.append((*desk, depart + int(rng.uniform(8, 10) * h), 0))
        elif role == "student":
            depart = int(rng.uniform(7.0, 7.6) * h)
            stops.append((*desk, int(rng.uniform(16.5, 17.5) * h), 0))
        else:
            depart = int(rng.uniform(7.0, 8.75) * h)
            if rng.random() < 0.3:  # lunch out, back to the desk after
                stops.append((*desk, int(rng.uniform(11.75, 12.25) * h), 0))
                stops.append(outing(30, 60))
            stops.append((*desk, int(rng.uniform(17.0, 19.0) * h), 15 * 60))
        if rng.random() < (0.15 if role == "student" else 0.3):
            stops.append(outing(30, 100))
    else:
        depart = int(rng.uniform(7.5, 10.0) * h)
        stops.append(outing(30, 90))
        if rng.random() < 0.5:
            stops.append((*agent.home, int(rng.uniform(14.0, 16.5) * h), 0))
            stops.append(outing(40, 120))
        if agent.role == "visitor" and rng.random() < 0.5:
            stops.append(outing(40, 120))
    return legs_from_stops(agent.home, depart, stops)


class PingSampler:
    """Turns person-days into ``trajectories`` records, numbering their event ids.

    Pings fall in the window ``[start, end)`` (Unix seconds); days are local calendar days,
    counted from the midnight at or before ``start``. Event ids are ``s<seed>-t<n>``, unique
    within a run and stable for a seed.
    """

    def __init__(self, *, start: int, end: int, interval_s: int, seed: int) -> None:
        self.start, self.end = start, end
        self.interval_s = interval_s
        self.seed = seed
        self.emitted = 0
        self._base = local_midnight(start)
        self.calendar_days = -(-(end - self._base) // DAY_S)
        self._minutes = [
            datetime.fromtimestamp(self._base + 60 * m, CST).isoformat()[:17]
            for m in range(self.calendar_days * 1440)
        ]
        self._seconds = [f"{s:02d}+08:00" for s in range(60)]

    def day_pings(self, agent: Agent, day: int) -> list[dict[str, Any]]:
        """The pings of ``agent`` on calendar day ``day`` (0-based), in time order."""
        rng = Random(f"{self.seed}:move:{agent.index}:{day}")
        day_start = self._base + day * DAY_S
        lo, hi = max(day_start, self.start), min(day_start + DAY_S, self.end)
        if agent.present_from is not None:
            lo = max(lo, agent.present_from)
        if agent.present_until is not None:
            hi = min(hi, agent.present_until)
        if lo >= hi:
            return []
        weekend = datetime.fromtimestamp(day_start + 12 * HOUR_S, CST).weekday() >= 5
        legs = plan_day(agent, weekend, rng)

        interval = self.interval_s
        jitter = max(1, interval // 5)
        gap_from = gap_to = 0
        if rng.random() < _LONG_GAP_P:
            gap_from = day_start + rng.randrange(DAY_S)
            gap_to = gap_from + rng.randrange(35 * 60, 180 * 60)
        t = day_start + rng.randrange(interval)
        if t < lo:
            t += (lo - t + interval - 1) // interval * interval
        lat_deg = 0.5 / M_PER_DEG_LAT  # noise sigma is half the reported accuracy
        lon_deg = lat_deg / math.cos(math.radians(agent.home[0]))
        person_id, source, accuracy = agent.person_id, agent.source, agent.accuracy_m
        prefix, n = f"s{self.seed}-t", self.emitted
        minutes, seconds, base = self._minutes, self._seconds, self._base
        random, bits, normals = rng.random, rng.getrandbits, _NORMALS
        span = 2 * jitter + 1
        out: list[dict[str, Any]] = []
        i = 0
        while t < hi:
            if gap_from <= t < gap_to:
                t = gap_to + rng.randrange(interval)
                continue
            rel = t - day_start
            while legs[i][1] <= rel:
                i += 1
            s, e, lat0, lon0, lat1, lon1 = legs[i]
            f = (rel - s) / (e - s)
            acc = int(accuracy * (6.0 + 10.0 * random()) + 0.5) / 10  # 0.6-1.6 x, to 0.1 m
            lat = lat0 + f * (lat1 - lat0) + normals[bits(_NORMAL_BITS)] * acc * lat_deg
            lon = lon0 + f * (lon1 - lon0) + normals[bits(_NORMAL_BITS)] * acc * lon_deg
            n += 1
            out.append(
                {
                    "event_id": prefix + str(n),
                    "person_id": person_id,
                    # to 6 decimals (0.1 m); int() is several times faster than round()
                    "lat": int(lat * 1e6 + 0.5) / 1e6,
                    "lon": int(lon * 1e6 + 0.5) / 1e6,
                    "observed_at": minutes[(t - base) // 60] + seconds[t % 60],
                    "accuracy_m": acc,
                    "source": source,
                }
            )
            if random() < _SHORT_DROPOUT_P:
                t += interval * (2 + int(3 * random()))
            t += interval - jitter + int(span * random())
        self.emitted = n
        return out
