"""One simulation run: build the city and its people, plan the outbreak and the travel, and write
every feed file plus ``jurisdictions.json`` into one directory.

Each part draws from its own random stream named after the seed (``"<seed>:city"``, per
person-day for movement, ...), so a run is reproducible, and changing one option (say ``cases``)
leaves the city, the people and most of their movement as they were.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from random import Random

from paicha.errors import InvalidInput, Problem
from paicha.simulate.city import build_city, jurisdictions
from paicha.simulate.geography import CITIES, DEFAULT_HOME_CITY, other_cities
from paicha.simulate.movement import PingSampler
from paicha.simulate.outbreak import plan_outbreak
from paicha.simulate.population import DAY_S, build_population, person_record
from paicha.simulate.timefmt import DEFAULT_START
from paicha.simulate.travel import itineraries
from paicha.simulate.writer import FileSummary, JsonlWriter, write_json

FEED_FILES = ("persons", "itineraries", "cases", "risk-areas", "trajectories")
"""The feed files a run writes, ``<topic>.jsonl``, in the order they are written."""


class SimulationError(InvalidInput):
    """A simulation option that cannot work; ``field`` names the option."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__([Problem(field, reason)])


@dataclass(frozen=True, slots=True, kw_only=True)
class SimulationConfig:
    """Everything a run depends on; the same config writes the same bytes."""

    out_dir: Path
    persons: int = 2000
    days: int = 2
    seed: int = 1
    start: datetime = DEFAULT_START
    ping_interval_minutes: float = 5.0
    cases: int = 6
    areas: int = 4
    shuffle: bool = False
    resend: float = 0.0
    city_code: str = DEFAULT_HOME_CITY

    def __post_init__(self) -> None:
        checks = {
            "persons": (self.persons >= 1, "at least one person"),
            "days": (self.days >= 1, "at least one day"),
            "start": (self.start.tzinfo is not None, "needs a UTC offset, e.g. +08:00"),
            "ping_interval_minutes": (self.ping_interval_minutes >= 0.5, "at least 0.5"),
            "cases": (self.cases >= 0, "cannot be negative"),
            "areas": (self.areas >= 0, "cannot be negative"),
            "resend": (0.0 <= self.resend <= 1.0, "a fraction between 0 and 1"),
            "city_code": (self.city_code in CITIES, f"one of {', '.join(CITIES)}"),
        }
        for name, (ok, reason) in checks.items():
            if not ok:
                raise SimulationError(name, reason)


def simulate_city(config: SimulationConfig) -> list[FileSummary]:
    """Write the feed files of one synthetic city into ``config.out_dir``; one summary a file."""
    seed = config.seed
    home = CITIES[config.city_code]
    elsewhere = other_cities(home.code)
    start = int(config.start.timestamp())
    end = start + config.days * DAY_S

    city = build_city(home, config.persons, Random(f"{seed}:city"))
    agents = build_population(
        city, config.persons, elsewhere, start, config.days, Random(f"{seed}:people")
    )
    outbreak = plan_outbreak(
        city=city,
        agents=agents,
        elsewhere=elsewhere,
        start=start,
        end=end,
        cases=config.cases,
        areas=config.areas,
        seed=seed,
        rng=Random(f"{seed}:outbreak"),
    )
    travel = itineraries(
        agents=agents,
        home=home,
        elsewhere=elsewhere,
        start=start,
        seed=seed,
        rng=Random(f"{seed}:travel"),
    )

    config.out_dir.mkdir(parents=True, exist_ok=True)
    writers = {name: _writer(config, name) for name in FEED_FILES}
    writers["persons"].write_all(r for r in map(person_record, agents) if r is not None)
    writers["persons"].write_all(outbreak.persons)
    writers["itineraries"].write_all(travel)
    writers["cases"].write_all(outbreak.cases)
    writers["risk-areas"].write_all(outbreak.risk_areas)
    sampler = PingSampler(
        start=start,
        end=end,
        interval_s=max(1, round(config.ping_interval_minutes * 60)),
        seed=seed,
    )
    pings = writers["trajectories"]
    for day in range(sampler.calendar_days):
        for agent in agents:
            pings.write_all(sampler.day_pings(agent, day))
    summaries = [writer.close() for writer in writers.values()]
    summaries.append(write_json(config.out_dir / "jurisdictions.json", jurisdictions(city)))
    return summaries


def _writer(config: SimulationConfig, name: str) -> JsonlWriter:
    return JsonlWriter(
        config.out_dir / f"{name}.jsonl",
        shuffle=Random(f"{config.seed}:shuffle:{name}") if config.shuffle else None,
        resend=config.resend if name != "persons" else 0.0,
        resend_rng=Random(f"{config.seed}:resend:{name}"),
        ordered_by="area_id" if name == "risk-areas" else None,
    )
