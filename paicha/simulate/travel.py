"""Itineraries (行程卡): the city-level stays the telecom feed reports.

Residents who went to other cities in the fortnight before the simulation and came back (返晋),
some of whose records are a single moment with no ``departed_at``; visitors from other cities
arriving in the home city (入晋); and phones the registry does not know, seen in the home city.
When those cities had cases or risk areas, these records are what ``city_visit`` matches.
"""

from __future__ import annotations

from random import Random
from typing import Any

from paicha.simulate.geography import CityInfo
from paicha.simulate.population import DAY_S, HOUR_S, Agent
from paicha.simulate.timefmt import rfc3339

TRAVELLER_SHARE = 0.03


def itineraries(
    *,
    agents: list[Agent],
    home: CityInfo,
    elsewhere: list[CityInfo],
    start: int,
    seed: int,
    rng: Random,
) -> list[dict[str, Any]]:
    """The itinerary records of ``agents``, per person in time order (the feed's key order)."""
    records: list[dict[str, Any]] = []

    def record(agent: Agent, city_code: str, arrived: int, departed: int | None) -> None:
        item: dict[str, Any] = {
            "event_id": f"s{seed}-i{len(records) + 1}",
            "person_id": agent.person_id,
            "city_code": city_code,
            "arrived_at": rfc3339(arrived),
        }
        if departed is not None:
            item["departed_at"] = rfc3339(departed)
        item["source"] = "telecom"
        records.append(item)

    for agent in agents:
        if agent.is_visitor:
            origin_code = (agent.residence_code or "")[:4] + "00"
            arrival = agent.present_from if agent.present_from is not None else start
            record(agent, origin_code, arrival - rng.randrange(3 * DAY_S, 10 * DAY_S), arrival)
            record(agent, home.code, arrival, agent.present_until)
        elif rng.random() < TRAVELLER_SHARE:
            destination = rng.choice(elsewhere)
            arrived = start - rng.randrange(DAY_S, 13 * DAY_S)
            departed = min(arrived + rng.randrange(6 * HOUR_S, 4 * DAY_S), start - 2 * HOUR_S)
            record(agent, destination.code, arrived, departed if rng.random() < 0.8 else None)
            record(agent, home.code, departed, None)
        elif agent.residence_code is None and rng.random() < 0.5:
            record(agent, home.code, start - rng.randrange(HOUR_S, 10 * DAY_S), None)
    return records
