"""Each matching rule of CONTRACTS.md at its edges, held against the brute-force reference and the
engine alike (every test runs once per implementation, ``match`` names which).

Times are minutes after ``T0`` (08:00 Beijing time, 7 December 2021); the default parameters
apply unless a test says otherwise: cells at resolution 8, ``max_gap`` 30 min, ``min_overlap``
10 min, ``lookback`` 14 days.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import h3
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # `tests.reference`, under any runner

from paicha.matching.params import MatchParams
from paicha.matching.timeutil import DAY, HOUR, MICROSECOND
from tests.reference import engine_runner
from tests.reference.brute_force import ExpectedTask, expected_tasks
from tests.reference.factories import (
    HANGZHOU_CITY,
    HANGZHOU_RESIDENCE,
    T0,
    TAIYUAN,
    TAIYUAN_CITY,
    TAIYUAN_NEXT_DOOR,
    TAIYUAN_RESIDENCE,
    case,
    cell_of,
    hex_cell,
    itinerary,
    minutes,
    person,
    ping,
    pings,
    risk_area,
    square,
)

Match = Callable[..., dict[str, ExpectedTask]]

HERE = hex_cell(TAIYUAN)
NEXT_DOOR = hex_cell(TAIYUAN_NEXT_DOOR)
US = MICROSECOND


def at(minute: float) -> int:
    return T0 + minutes(minute)


def engine_flushing_every_two(records: list[object], params: MatchParams | None = None) -> dict:
    """The engine as a live run drives it: a flush after every second record."""
    flush_after = set(range(1, len(records), 2))
    return engine_runner.engine_tasks(records, params, flush_after=flush_after)


@pytest.fixture(params=["reference", "engine", "engine-flushing"])
def match(request: pytest.FixtureRequest) -> Match:
    """``match(records, params=None)``: the open tasks, as the reference or the engine sees them
    (flushed once at the end, or every second record)."""
    if request.param == "reference":
        return expected_tasks
    engine_runner.engine_class()
    if request.param == "engine":
        return engine_runner.engine_tasks
    return engine_flushing_every_two


def co_located(case_id: str, start: int, end: int, place: str = HERE) -> tuple:
    return ("co_located", case_id, place, start, end)


def companion_task(*evidence: tuple) -> ExpectedTask:
    return ExpectedTask("co_located", frozenset(evidence))


# ---------------------------------------------------------------- rule 3: co_located, min_overlap


def test_overlap_of_exactly_min_overlap_is_a_companion(match: Match) -> None:
    records = [
        *pings("carrier", at(0), at(60)),
        *pings("companion", at(50), at(90)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {
        "companion": companion_task(co_located("case-carrier", at(50), at(60)))
    }


def test_overlap_one_microsecond_short_of_min_overlap_is_not_a_companion(match: Match) -> None:
    records = [
        *pings("carrier", at(0), at(60)),
        *pings("passer-by", at(50) + US, at(90)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {}


def test_the_same_hours_in_the_next_cell_are_no_companionship(match: Match) -> None:
    records = [
        *pings("carrier", at(0), at(60)),
        *pings("neighbour", at(0), at(60), TAIYUAN_NEXT_DOOR),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {}


def test_a_late_case_finds_its_earlier_companions(match: Match) -> None:
    records = [
        case("carrier", reported_at=at(120)),
        *pings("companion", at(0), at(60)),
        *pings("carrier", at(0), at(60)),
    ]
    assert match(records) == {
        "companion": companion_task(co_located("case-carrier", at(0), at(60)))
    }


def test_one_person_stay_across_two_case_stays_is_two_pieces_of_evidence(match: Match) -> None:
    records = [
        *pings("carrier", at(0), at(20)),
        ping("carrier", at(25), TAIYUAN_NEXT_DOOR),
        *pings("carrier", at(60), at(80)),
        *pings("companion", at(0), at(90)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {
        "companion": companion_task(
            co_located("case-carrier", at(0), at(20)), co_located("case-carrier", at(60), at(80))
        )
    }


# ---------------------------------------------------------------- rule 1: stays


def test_a_gap_of_exactly_max_gap_keeps_one_stay(match: Match) -> None:
    records = [
        ping("companion", at(0)),
        ping("companion", at(30)),
        *pings("carrier", at(10), at(20)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {
        "companion": companion_task(co_located("case-carrier", at(10), at(20)))
    }


def test_a_gap_one_microsecond_over_max_gap_splits_the_stay(match: Match) -> None:
    records = [
        ping("passer-by", at(0)),
        ping("passer-by", at(30) + US),
        *pings("carrier", at(10), at(20)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {}


def test_a_case_stay_with_a_gap_of_exactly_max_gap_is_one_stay(match: Match) -> None:
    records = [
        ping("carrier", at(0)),
        ping("carrier", at(30)),
        *pings("companion", at(10), at(20)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {
        "companion": companion_task(co_located("case-carrier", at(10), at(20)))
    }


def test_a_case_stay_with_a_gap_over_max_gap_is_two_stays(match: Match) -> None:
    records = [
        ping("carrier", at(0)),
        ping("carrier", at(30) + US),
        *pings("passer-by", at(10), at(20)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {}


def test_a_visit_to_another_cell_ends_the_stay(match: Match) -> None:
    # Without the visit next door the companion's stay would be [0, 60] and overlap the case's
    # [15, 40] for 25 minutes; with it, only [30, 40] of the second stay counts.
    records = [
        *pings("companion", at(0), at(20)),
        ping("companion", at(25), TAIYUAN_NEXT_DOOR),
        *pings("companion", at(30), at(60)),
        *pings("carrier", at(15), at(40)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {
        "companion": companion_task(co_located("case-carrier", at(30), at(40)))
    }


def test_pings_at_the_same_moment_are_taken_in_cell_order(match: Match) -> None:
    # A contract gap: "in time order" does not order two pings of one moment. The reference takes
    # them by (observed_at, cell). With the lower cell first, the person's run in the lower cell
    # ends at 10 and the higher cell's begins there; the area in the higher cell sees [10, 20].
    low, high = sorted([TAIYUAN, TAIYUAN_NEXT_DOOR], key=cell_of)
    records = [
        ping("walker", at(0), high),
        ping("walker", at(10), low),
        ping("walker", at(10), high),
        ping("walker", at(20), high),
        risk_area("a1", lookback_from=at(0), polygon=square(high, 30)),
    ]
    place = hex_cell(high)
    assert match(records) == {
        "walker": ExpectedTask(
            "area_stay",
            frozenset(
                {
                    ("area_stay", "a1", place, at(0), at(0)),
                    ("area_stay", "a1", place, at(10), at(20)),
                }
            ),
        )
    }


def test_a_stay_extended_then_closed_between_flushes_keeps_its_extension() -> None:
    # Found by test_reference_agreement on a simulated city: the engine (at d0071fe) kept [0, 0],
    # losing the extension to 20 that arrived in the same flush as the ping that closed the stay.
    records = [
        risk_area("a1", lookback_from=at(0)),
        ping("visitor", at(0)),
        ping("visitor", at(20)),
        ping("visitor", at(60)),
    ]
    expected = {
        "visitor": area_task(
            ("area_stay", "a1", HERE, at(0), at(20)), ("area_stay", "a1", HERE, at(60), at(60))
        )
    }
    assert expected_tasks(records) == expected
    assert engine_runner.engine_tasks(records, flush_after={1}) == expected


# ---------------------------------------------------------------- rule 2: the case's window


def test_case_stays_after_isolation_do_not_count(match: Match) -> None:
    records = [
        *pings("carrier", at(0), at(180)),
        *pings("late-comer", at(60) + US, at(120)),
        case("carrier", reported_at=at(240), isolated_at=at(60)),
    ]
    assert match(records) == {}


def test_a_case_stay_spanning_isolation_is_clipped_at_isolation(match: Match) -> None:
    records = [
        *pings("carrier", at(0), at(180)),
        *pings("companion", at(30), at(120)),
        case("carrier", reported_at=at(240), isolated_at=at(60)),
    ]
    assert match(records) == {
        "companion": companion_task(co_located("case-carrier", at(30), at(60)))
    }


def test_two_records_of_one_case_are_each_a_hazard_whatever_their_order(match: Match) -> None:
    # The contract names replacement for risk areas and persons only: a second record of the
    # same case (here with isolated_at added) is a hazard of its own, and their evidence adds up.
    first = case("carrier", reported_at=at(120), case_id="k1")
    update = case("carrier", reported_at=at(120), case_id="k1", isolated_at=at(30))
    companion = pings("companion", at(0), at(60))
    expected = {
        "companion": companion_task(
            co_located("k1", at(0), at(60)), co_located("k1", at(0), at(30))
        )
    }
    carrier = pings("carrier", at(0), at(60))
    assert match([*carrier, *companion, first, update]) == expected
    assert match([*carrier, *companion, update, first]) == expected


def test_without_isolation_the_case_window_ends_at_the_report(match: Match) -> None:
    records = [
        *pings("carrier", at(0), at(180)),
        *pings("companion", at(50), at(120)),
        case("carrier", reported_at=at(60)),
    ]
    assert match(records) == {
        "companion": companion_task(co_located("case-carrier", at(50), at(60)))
    }


def test_case_stays_before_the_lookback_are_clipped_away(match: Match) -> None:
    reported = at(30) + 14 * DAY
    records = [
        *pings("carrier", at(0), at(60)),
        *pings("companion", at(0), at(60)),
        case("carrier", reported_at=reported),
    ]
    assert match(records) == {
        "companion": companion_task(co_located("case-carrier", at(30), at(60)))
    }


def test_a_case_stay_touching_the_report_leaves_a_moment_that_meets_a_zero_min_overlap(
    match: Match,
) -> None:
    records = [
        *pings("carrier", at(60), at(120)),
        *pings("companion", at(30), at(60)),
        case("carrier", reported_at=at(60)),
    ]
    assert match(records) == {}
    assert match(records, MatchParams(min_overlap=0)) == {
        "companion": companion_task(co_located("case-carrier", at(60), at(60)))
    }


# ---------------------------------------------------------------- rules 4 and 5: area_stay


def area_task(*evidence: tuple) -> ExpectedTask:
    return ExpectedTask("area_stay", frozenset(evidence))


def test_a_compound_smaller_than_a_cell_still_covers_its_cell(match: Match) -> None:
    area = risk_area("a1", lookback_from=at(0))
    centre_contained = h3.h3shape_to_cells(h3.geo_to_h3shape(area.polygon), 8)
    assert centre_contained == [], "the premise: centre containment finds no cell"
    records = [area, ping("resident", at(5), TAIYUAN)]  # in the compound's cell, not in it
    assert match(records) == {"resident": area_task(("area_stay", "a1", HERE, at(5), at(5)))}


def test_a_stay_in_a_cell_next_to_the_compound_is_not_an_area_stay(match: Match) -> None:
    records = [
        risk_area("a1", lookback_from=at(0)),
        *pings("neighbour", at(0), at(60), TAIYUAN_NEXT_DOOR),
    ]
    assert match(records) == {}


def test_a_stay_after_the_lift_does_not_match(match: Match) -> None:
    records = [
        risk_area("a1", lookback_from=at(0)),
        risk_area("a1", lookback_from=at(0), lifted_at=at(60)),
        *pings("visitor", at(60) + US, at(90)),
    ]
    assert match(records) == {}


def test_a_stay_touching_the_lift_moment_matches(match: Match) -> None:
    records = [
        risk_area("a1", lookback_from=at(0)),
        risk_area("a1", lookback_from=at(0), lifted_at=at(60)),
        *pings("visitor", at(60), at(90)),
    ]
    assert match(records) == {"visitor": area_task(("area_stay", "a1", HERE, at(60), at(60)))}


def test_a_stay_ending_at_the_lookback_start_matches(match: Match) -> None:
    records = [risk_area("a1", lookback_from=at(60)), *pings("visitor", at(0), at(60))]
    assert match(records) == {"visitor": area_task(("area_stay", "a1", HERE, at(60), at(60)))}


def test_a_stay_ending_just_before_the_lookback_start_does_not_match(match: Match) -> None:
    records = [risk_area("a1", lookback_from=at(60) + US), *pings("visitor", at(0), at(60))]
    assert match(records) == {}


def test_an_area_lifted_before_its_lookback_start_matches_nobody() -> None:
    # The decoder accepts such a record; its interval [lookback_from, lifted_at] is empty.
    records = [
        risk_area("a1", lookback_from=at(60), lifted_at=at(30)),
        *pings("visitor", at(0), at(90)),
        hangzhou_area(lookback_from=at(60), lifted_at=at(30)),
        itinerary("traveller", HANGZHOU_CITY, arrived_at=at(0), departed_at=at(90)),
    ]
    assert expected_tasks(records) == {}
    assert engine_runner.engine_tasks(records) == {}


def test_an_area_in_force_covers_stays_long_after_designation(match: Match) -> None:
    records = [
        risk_area("a1", lookback_from=at(0)),
        *pings("visitor", at(0) + 10 * DAY, at(30) + 10 * DAY),
    ]
    assert match(records) == {
        "visitor": area_task(("area_stay", "a1", HERE, at(0) + 10 * DAY, at(30) + 10 * DAY))
    }


def test_a_redrawn_area_forgets_its_old_cells(match: Match) -> None:
    records = [
        risk_area("a1", lookback_from=at(0)),
        risk_area("a1", lookback_from=at(0), polygon=square(TAIYUAN_NEXT_DOOR, 30)),
        *pings("visitor", at(0), at(30)),
    ]
    assert match(records) == {}


# ---------------------------------------------------------------- rules 6 and 7: city_visit


def city_task(*evidence: tuple) -> ExpectedTask:
    return ExpectedTask("city_visit", frozenset(evidence))


HANGZHOU_AREA_POINT = (30.25, 120.17)


def hangzhou_area(lookback_from: int, lifted_at: int | None = None) -> object:
    return risk_area(
        "hz1",
        lookback_from=lookback_from,
        lifted_at=lifted_at,
        city_code=HANGZHOU_CITY,
        polygon=square(HANGZHOU_AREA_POINT, 100),
    )


def test_an_itinerary_without_departure_is_a_moment(match: Match) -> None:
    records = [
        person("traveller"),
        hangzhou_area(lookback_from=at(60)),
        itinerary("traveller", HANGZHOU_CITY, arrived_at=at(60)),
    ]
    assert match(records) == {
        "traveller": city_task(("city_visit", "area:hz1", HANGZHOU_CITY, at(60), at(60)))
    }


def test_an_arrival_moment_before_the_hazard_does_not_match(match: Match) -> None:
    records = [
        person("traveller"),
        hangzhou_area(lookback_from=at(60)),
        itinerary("traveller", HANGZHOU_CITY, arrived_at=at(60) - US),
    ]
    assert match(records) == {}


def test_an_itinerary_departing_as_the_area_is_lifted_matches(match: Match) -> None:
    records = [
        person("traveller"),
        hangzhou_area(lookback_from=at(0), lifted_at=at(60)),
        itinerary("traveller", HANGZHOU_CITY, arrived_at=at(60), departed_at=at(120)),
        itinerary("late-traveller", HANGZHOU_CITY, arrived_at=at(60) + US, departed_at=at(120)),
    ]
    assert match(records) == {
        "traveller": city_task(("city_visit", "area:hz1", HANGZHOU_CITY, at(60), at(60)))
    }


def test_a_city_with_a_case_is_a_hazard_for_lookback_either_side_of_the_report(
    match: Match,
) -> None:
    reported = at(0)
    records = [
        case("hz-carrier", reported_at=reported, city_code=HANGZHOU_CITY),
        itinerary(
            "early", HANGZHOU_CITY, arrived_at=reported - 15 * DAY, departed_at=reported - 14 * DAY
        ),
        itinerary(
            "too-early",
            HANGZHOU_CITY,
            arrived_at=reported - 15 * DAY,
            departed_at=reported - 14 * DAY - US,
        ),
        itinerary("late", HANGZHOU_CITY, arrived_at=reported + 14 * DAY),
        itinerary("too-late", HANGZHOU_CITY, arrived_at=reported + 14 * DAY + US),
    ]
    evidence = ("city_visit", "case:case-hz-carrier", HANGZHOU_CITY)
    # The itineraries span 28 days: under the default 21-day retention the task policy would
    # rightly forget the early traveller's task by the end. The window is what is tested here.
    assert match(records, MatchParams(retention=30 * DAY)) == {
        "early": city_task((*evidence, reported - 14 * DAY, reported - 14 * DAY)),
        "late": city_task((*evidence, reported + 14 * DAY, reported + 14 * DAY)),
    }


def test_a_resident_of_the_hazard_city_is_not_city_visit_tasked(match: Match) -> None:
    records = [
        person("hangzhou-resident", HANGZHOU_RESIDENCE),
        hangzhou_area(lookback_from=at(0)),
        itinerary("hangzhou-resident", HANGZHOU_CITY, arrived_at=at(60), departed_at=at(120)),
    ]
    assert match(records) == {}


def test_a_person_of_unknown_residence_is_city_visit_tasked_everywhere(match: Match) -> None:
    records = [
        hangzhou_area(lookback_from=at(0)),
        case("ty-carrier", reported_at=at(0), city_code=TAIYUAN_CITY),
        itinerary("stranger", HANGZHOU_CITY, arrived_at=at(60), departed_at=at(120)),
        itinerary("stranger", TAIYUAN_CITY, arrived_at=at(180), departed_at=at(240)),
    ]
    assert match(records) == {
        "stranger": city_task(
            ("city_visit", "area:hz1", HANGZHOU_CITY, at(60), at(120)),
            ("city_visit", "case:case-ty-carrier", TAIYUAN_CITY, at(180), at(240)),
        )
    }


def test_the_latest_person_record_decides_the_residence(match: Match) -> None:
    trip = [
        hangzhou_area(lookback_from=at(0)),
        itinerary("mover", HANGZHOU_CITY, arrived_at=at(60)),
    ]
    moved_away = [person("mover", HANGZHOU_RESIDENCE), person("mover", TAIYUAN_RESIDENCE), *trip]
    moved_in = [person("mover", TAIYUAN_RESIDENCE), person("mover", HANGZHOU_RESIDENCE), *trip]
    assert match(moved_away) == {
        "mover": city_task(("city_visit", "area:hz1", HANGZHOU_CITY, at(60), at(60)))
    }
    assert match(moved_in) == {}


# ---------------------------------------------------------------- rule 8: one task, cases excluded


def test_a_case_is_never_tasked_for_its_own_exposure(match: Match) -> None:
    records = [
        risk_area("a1", lookback_from=at(0)),
        *pings("carrier", at(0), at(60)),
        *pings("companion", at(0), at(60)),
        itinerary("carrier", HANGZHOU_CITY, arrived_at=at(120)),
        hangzhou_area(lookback_from=at(0)),
        case("carrier", reported_at=at(120)),
    ]
    tasks = match(records)
    assert "carrier" not in tasks
    assert tasks["companion"].kind == "co_located"


def test_a_person_who_becomes_a_case_has_no_open_task(match: Match) -> None:
    records = [
        *pings("carrier", at(0), at(60)),
        *pings("companion", at(0), at(60)),
        case("carrier", reported_at=at(120)),
        case("companion", reported_at=at(0) + 3 * DAY),
    ]
    assert match(records) == {}


def test_the_strongest_exposure_names_the_task_and_every_exposure_is_evidence(match: Match) -> None:
    records = [
        person("busy", TAIYUAN_RESIDENCE),
        risk_area("a1", lookback_from=at(0)),
        *pings("carrier", at(0), at(60)),
        *pings("busy", at(0), at(60)),
        hangzhou_area(lookback_from=at(0)),
        itinerary("busy", HANGZHOU_CITY, arrived_at=at(120), departed_at=at(180)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records) == {
        "busy": ExpectedTask(
            "co_located",
            frozenset(
                {
                    ("co_located", "case-carrier", HERE, at(0), at(60)),
                    ("area_stay", "a1", HERE, at(0), at(60)),
                    ("city_visit", "area:hz1", HANGZHOU_CITY, at(120), at(180)),
                }
            ),
        )
    }


def test_an_area_stay_outranks_a_city_visit(match: Match) -> None:
    records = [
        person("visitor", TAIYUAN_RESIDENCE),
        risk_area("a1", lookback_from=at(0)),
        ping("visitor", at(10)),
        hangzhou_area(lookback_from=at(0)),
        itinerary("visitor", HANGZHOU_CITY, arrived_at=at(120)),
    ]
    assert match(records) == {
        "visitor": area_task(
            ("area_stay", "a1", HERE, at(10), at(10)),
            ("city_visit", "area:hz1", HANGZHOU_CITY, at(120), at(120)),
        )
    }


# ---------------------------------------------------------------- re-sent records


def test_a_resent_event_changes_nothing(match: Match) -> None:
    records = [
        person("busy", TAIYUAN_RESIDENCE),
        risk_area("a1", lookback_from=at(0)),
        *pings("carrier", at(0), at(60)),
        *pings("busy", at(30), at(90)),
        hangzhou_area(lookback_from=at(0)),
        itinerary("busy", HANGZHOU_CITY, arrived_at=at(120)),
        case("carrier", reported_at=at(120)),
    ]
    assert match(records + records) == match(records)
    assert match(records + list(reversed(records[1:]))) == match(records)


def test_a_resent_designation_after_the_lift_leaves_the_area_lifted(match: Match) -> None:
    designation = risk_area("a1", lookback_from=at(0))
    lift = risk_area("a1", lookback_from=at(0), lifted_at=at(30))
    visit = pings("visitor", at(60), at(90))
    assert match([designation, lift, designation, *visit]) == {}


def test_a_resent_event_id_with_other_content_changes_nothing(match: Match) -> None:
    first = case("carrier", reported_at=at(120), event_id="case-event-1")
    amended = case("carrier", reported_at=at(120), isolated_at=at(30), event_id="case-event-1")
    records = [*pings("carrier", at(0), at(60)), *pings("companion", at(0), at(60))]
    expected = {"companion": companion_task(co_located("case-carrier", at(0), at(60)))}
    assert match([*records, first, amended]) == expected


# ---------------------------------------------------------------- engine only: what the reference
# does not model (deadlines, closing)


def test_a_task_closes_when_its_person_becomes_a_case() -> None:
    engine = engine_runner.new_engine()
    for record in [*pings("carrier", at(0), at(60)), *pings("companion", at(0), at(60))]:
        engine.submit(record)
    engine.submit(case("carrier", reported_at=at(120)))
    engine.flush()
    assert set(engine.open_tasks()) == {"companion"}

    engine.submit(case("companion", reported_at=at(0) + 3 * DAY))
    changed = engine.flush()
    assert engine.open_tasks() == {}
    assert [(task.person_id, task.status) for task in changed if task.person_id == "companion"] == [
        ("companion", "closed")
    ]


def test_a_stronger_exposure_brings_the_deadline_forward() -> None:
    now = [T0]
    engine = engine_runner.new_engine(clock=lambda: now[0])
    for record in [risk_area("a1", lookback_from=at(0)), *pings("visitor", at(0), at(60))]:
        engine.submit(record)
    engine.flush()
    assert engine.open_tasks()["visitor"].due_at == T0 + 48 * HOUR

    now[0] = T0 + HOUR
    for record in [*pings("carrier", at(0), at(60)), case("carrier", reported_at=at(120))]:
        engine.submit(record)
    engine.flush()
    task = engine.open_tasks()["visitor"]
    assert (task.kind, task.due_at) == ("co_located", T0 + 25 * HOUR)

    now[0] = T0 + 2 * HOUR
    for record in [
        hangzhou_area(lookback_from=at(0)),
        itinerary("visitor", HANGZHOU_CITY, at(120)),
    ]:
        engine.submit(record)
    engine.flush()
    task = engine.open_tasks()["visitor"]
    assert (task.kind, task.due_at) == ("co_located", T0 + 25 * HOUR)
    assert len(task.evidence) == 3
