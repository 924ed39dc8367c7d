"""Items 1 and 3 on the in-process engine (``paicha.matching.engine.Engine``), CPU time.

Item 1 loads a city the way ``paicha match`` does: every feed but the pings first (untimed),
then the pings in chunks of ``CHUNK``, each ``submit_pings`` followed by ``flush`` (timed), so the
figure covers H3 cells, stay building, the cell join against the cases and areas, and the task
policy. Item 3 then adds one new case to that loaded engine and times ``submit`` + ``flush`` until
the companions' tasks come out.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass

from bench.city import City
from paicha.matching.engine import Engine
from paicha.matching.model import Case, Task
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import HOUR

CHUNK = 250_000
NEW_CASE_ID = "BENCH-NEW-CASE"


@dataclass(frozen=True, slots=True)
class PingRun:
    """One timed load of every ping into a fresh engine."""

    cpu_s: float
    pings: int
    chunks: int
    stays: int
    cells: int


def loaded_engine(city: City, params: MatchParams) -> Engine:
    """A fresh engine holding every feed of the city except the pings (untimed).

    Collects garbage first, so that a run never pays for the engine before it.
    """
    gc.collect()
    detected_at = city.last_ping
    engine = Engine(params=params, clock=lambda: detected_at)
    engine.submit_many(city.others)
    engine.flush()
    return engine


def submit_all_pings(engine: Engine, city: City) -> PingRun:
    """Item 1: every ping through ``submit_pings`` + ``flush`` in chunks, in CPU seconds.

    Slicing a chunk out of the decoded list is not timed; ``submit_pings`` sorts its chunk in
    place, so each run gets its own copies and the city's list stays as the file had it.
    """
    pings = city.pings
    cpu = 0.0
    chunks = 0
    for start in range(0, len(pings), CHUNK):
        chunk = pings[start : start + CHUNK]
        began = time.process_time()
        engine.submit_pings(chunk)
        engine.flush()
        cpu += time.process_time() - began
        chunks += 1
    stays = sum(len(track.stays) for track in engine.tracks.values())
    return PingRun(cpu, len(pings), chunks, stays, len(engine.cells))


def pick_case_person(engine: Engine, city: City, params: MatchParams) -> str:
    """Who becomes the new case in item 3: someone seen all day (first and last ping within an
    hour of the city's) who is not a case yet, and of those the one whose long-enough stays share
    their cells with the most people: a shop assistant more than a hermit, so the check has
    companions to compare. Deterministic (ties go to the smaller person id)."""
    cases = {c.person_id for c in city.cases}
    early, late = city.first_ping + HOUR, city.last_ping - HOUR
    best: tuple[int, str] | None = None
    for person_id in sorted(engine.tracks):
        track = engine.tracks[person_id]
        if person_id in cases or not track.stays:
            continue
        if track.stays[0].start > early or track.stays[-1].end < late:
            continue
        crowd = 0
        for stay in track.stays:
            cell = engine.cells.get(stay.cell)
            if cell is not None and stay.end - stay.start >= params.min_overlap:
                crowd += len(cell.persons)
        if best is None or crowd > best[0]:
            best = (crowd, person_id)
    if best is None:
        raise ValueError("no person is seen all day; generate a city with more people")
    return best[1]


def new_case(city: City, person_id: str) -> Case:
    """A case reported at the city's last ping, not isolated: its look-back covers every ping."""
    home = city.cases[0].city_code if city.cases else "140100"
    return Case(
        event_id=f"bench-{person_id}",
        case_id=NEW_CASE_ID,
        person_id=person_id,
        classification="confirmed",
        reported_at=city.last_ping,
        city_code=home,
    )


def match_new_case(engine: Engine, case: Case) -> tuple[float, float, list[Task]]:
    """Item 3: CPU seconds from submitting the case until the joins hand back its exposures
    (``Engine.join``: the matching, what the SQL query does), and until the task policy hands
    back the changed tasks (``decide``: what ``flush`` does besides); and those tasks."""
    began = time.process_time()
    engine.submit(case)
    engine.join()
    matched = time.process_time() - began
    tasks = engine.decide()
    return matched, time.process_time() - began, tasks
