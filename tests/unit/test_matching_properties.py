"""Rule 9 and the reference, on small generated cities: the engine's open tasks do not depend on
arrival order, re-sends or when ``flush`` runs, and they are the reference's.

A city here is four persons visiting three neighbouring Taiyuan cells and pinging at whole minutes
over some hours, a few cases (some isolated), a few risk areas (some redrawn or lifted by a later
record), itineraries into three cities, and person records with or without a residence. Whole
minutes make the exact edges (an overlap of exactly ``min_overlap``, a gap of exactly ``max_gap``,
intervals that only touch) common rather than rare.

A shuffle keeps the order of the records of one ``area_id`` and of one ``person_id`` in
``persons``: Kafka keeps order per key, and for those two topics the last record wins.
"""

from __future__ import annotations

import random
import sys
from collections import defaultdict
from pathlib import Path

from h3.api import basic_int
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `tests.reference`, under any runner

from paicha.matching.model import Case, Itinerary, Person, Ping, RiskArea
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import DAY, HOUR, MINUTE
from tests.reference import engine_runner
from tests.reference.brute_force import expected_tasks
from tests.reference.factories import (
    HANGZHOU_CITY,
    HANGZHOU_RESIDENCE,
    T0,
    TAIYUAN,
    TAIYUAN_CITY,
    TAIYUAN_RESIDENCE,
    cell_of,
    centre,
    square,
)

# Three cells that touch each other: TAIYUAN's and two of its neighbours that are neighbours too.
_HOME = cell_of(TAIYUAN)
_RING = basic_int.grid_ring(_HOME, 1)
_SECOND = _RING[0]
_THIRD = next(c for c in _RING if c != _SECOND and basic_int.are_neighbor_cells(c, _SECOND))
POINTS = [centre(cell) for cell in (_HOME, _SECOND, _THIRD)]
_MIDPOINT = ((POINTS[0][0] + POINTS[1][0]) / 2, (POINTS[0][1] + POINTS[1][1]) / 2)
POLYGONS = [
    square(POINTS[0], 30),  # a compound inside one cell
    square(POINTS[2], 30),
    square(_MIDPOINT, 100),  # across the border of two cells
    square(POINTS[0], 900),  # a district over all three and more
]
CITIES = [TAIYUAN_CITY, HANGZHOU_CITY, "130100"]
RESIDENCES = [TAIYUAN_RESIDENCE, HANGZHOU_RESIDENCE, "130104005006"]
PERSONS = [f"p{i}" for i in range(4)]

minute = st.integers(min_value=0, max_value=300)
maybe_minute = st.none() | minute


def at(m: int) -> int:
    return T0 + m * MINUTE


@st.composite
def cities(draw: st.DrawFn) -> list[object]:
    """A small city's records in a plausible feed order."""
    persons = [
        Person(person_id=pid, residence_code=draw(st.sampled_from(RESIDENCES)))
        for pid in draw(st.lists(st.sampled_from(PERSONS), max_size=4))
    ]
    areas = []
    for area_no in range(draw(st.integers(0, 2))):
        for version in range(draw(st.integers(1, 3))):
            lookback_from = draw(minute)
            lifted = draw(maybe_minute)
            areas.append(
                RiskArea(
                    event_id=f"area-{area_no}-v{version}",
                    area_id=f"a{area_no}",
                    name=f"area {area_no}",
                    level="high",
                    city_code=draw(st.sampled_from(CITIES)),
                    polygon=draw(st.sampled_from(POLYGONS)),
                    lookback_from=at(lookback_from),
                    designated_at=at(lookback_from),
                    lifted_at=None if lifted is None else at(max(lifted, lookback_from)),
                )
            )
    moments: list[tuple[str, tuple[float, float], int]] = []
    for _ in range(draw(st.integers(0, 8))):  # visits: pings at a steady pace, some gaps too long
        person_id, point = draw(st.sampled_from(PERSONS)), draw(st.sampled_from(POINTS))
        start, length = draw(st.integers(0, 180)), draw(st.integers(0, 120))
        step = draw(st.sampled_from([5, 10, 30, 31]))
        moments += [(person_id, point, m) for m in range(start, start + length, step)]
        moments.append((person_id, point, start + length))
    for _ in range(draw(st.integers(0, 6))):  # stray pings, some at a moment already taken
        person_id, point = draw(st.sampled_from(PERSONS)), draw(st.sampled_from(POINTS))
        if moments and draw(st.booleans()):
            person_id, _, m = draw(st.sampled_from(moments))
        else:
            m = draw(minute)
        moments.append((person_id, point, m))
    pings = [
        Ping(
            event_id=f"ping-{i}",
            person_id=person_id,
            lat=point[0],
            lon=point[1],
            observed_at=at(m),
        )
        for i, (person_id, point, m) in enumerate(moments)
    ]
    cases = []
    for i in range(draw(st.integers(0, 2))):
        reported = draw(minute)
        isolated = draw(st.none() | st.integers(0, 300))
        cases.append(
            Case(
                event_id=f"case-event-{i}",
                case_id=f"c{i}",
                person_id=draw(st.sampled_from(PERSONS)),
                classification="confirmed",
                reported_at=at(reported),
                city_code=draw(st.sampled_from(CITIES)),
                isolated_at=None if isolated is None else at(isolated),
            )
        )
    itineraries = []
    for i in range(draw(st.integers(0, 4))):
        arrived = draw(minute)
        stay = draw(st.none() | st.integers(0, 120))
        itineraries.append(
            Itinerary(
                event_id=f"itinerary-{i}",
                person_id=draw(st.sampled_from(PERSONS)),
                city_code=draw(st.sampled_from(CITIES)),
                arrived_at=at(arrived),
                departed_at=None if stay is None else at(arrived + stay),
            )
        )
    timed = sorted(pings, key=lambda p: p.observed_at) + cases + itineraries
    return [*persons, *areas, *timed]


def ordered_key(record: object) -> tuple[str, str] | None:
    """The key whose records must keep their order, for the topics where the last one wins."""
    if isinstance(record, RiskArea):
        return ("area", record.area_id)
    if isinstance(record, Person):
        return ("person", record.person_id)
    return None


def shuffled_with_resends(records: list[object], rng: random.Random, resend: float) -> list[object]:
    """The records in another order, some of them twice, keeping the order within each
    ``ordered_key``. A re-sent area comes anywhere after its original (its event id is seen); a
    re-sent person record right after it (persons have no event id, the last one wins)."""
    loose: list[object] = []
    per_key: dict[tuple[str, str], list[object]] = defaultdict(list)
    for record in records:
        key = ordered_key(record)
        if key is None:
            loose.extend([record, record] if rng.random() < resend else [record])
        else:
            per_key[key].append(record)
    for key, sequence in per_key.items():
        for index in reversed(range(len(sequence))):
            if rng.random() < resend:
                after = index + 1 if key[0] == "person" else rng.randint(index + 1, len(sequence))
                sequence.insert(after, sequence[index])
    slots: list[tuple[str, str] | None] = [None] * len(loose)
    for key, sequence in per_key.items():
        slots += [key] * len(sequence)
    rng.shuffle(slots)
    loose_iter = iter(rng.sample(loose, len(loose)))
    key_iters = {key: iter(sequence) for key, sequence in per_key.items()}
    return [next(loose_iter) if slot is None else next(key_iters[slot]) for slot in slots]


params_strategy = st.builds(
    MatchParams,
    min_overlap=st.sampled_from([0, 10 * MINUTE]),
    lookback=st.sampled_from([2 * HOUR, 14 * DAY]),
)


SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
CITY_CASES = given(
    records=cities(),
    params=params_strategy,
    seed=st.integers(0, 2**32 - 1),
    resend=st.sampled_from([0.0, 0.3]),
)


@SETTINGS
@CITY_CASES
def test_engine_matches_the_reference_in_any_order_with_resends(
    records: list[object], params: MatchParams, seed: int, resend: float
) -> None:
    engine_runner.engine_class()
    shuffled = shuffled_with_resends(records, random.Random(seed), resend)

    expected = expected_tasks(records, params)
    assert expected_tasks(shuffled, params) == expected, "the reference itself is order-dependent"
    assert engine_runner.engine_tasks(records, params) == expected, "in order"
    assert engine_runner.engine_tasks(shuffled, params) == expected, "shuffled and re-sent"


@SETTINGS
@CITY_CASES
def test_engine_matches_the_reference_whenever_it_is_flushed(
    records: list[object], params: MatchParams, seed: int, resend: float
) -> None:
    engine_runner.engine_class()
    rng = random.Random(seed)
    shuffled = shuffled_with_resends(records, rng, resend)
    flush_live = {i for i in range(len(records)) if rng.random() < 0.3}
    flush_shuffled = {i for i in range(len(shuffled)) if rng.random() < 0.2}

    expected = expected_tasks(records, params)
    assert engine_runner.engine_tasks(records, params, flush_after=flush_live) == expected, (
        "in order, flushed as a live run does"
    )
    assert engine_runner.engine_tasks(shuffled, params, flush_after=flush_shuffled) == expected, (
        "shuffled, re-sent, flushed at random"
    )
