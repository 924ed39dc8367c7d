"""Grouping a slice's pings on whole columns gives exactly what ``person_pings.by_person`` gives."""

from __future__ import annotations

import pickle

import h3.api.basic_int as h3int
import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from paicha.matching import person_pings, stays
from paicha.matching.person_columns import cells_of, people_columns
from paicha.matching.timeutil import MINUTE

MAX_GAP = 30 * MINUTE
HOME = h3int.latlng_to_cell(37.87, 112.55, 8)
CELLS = [HOME, *h3int.grid_ring(HOME, 1)[:2]]
STEPS = [0, 1, 5 * MINUTE, MAX_GAP, MAX_GAP + 1, 45 * MINUTE]


@st.composite
def slices(draw: st.DrawFn) -> tuple[list[str], list[str], list[int], list[int]]:
    """Pings of a few persons: runs of one person as a file has them, or interleaved, in time
    order or not, with pings at the same moment (same cell or not) and re-sent event ids."""
    persons = draw(st.lists(st.sampled_from(["p", "q", "r", "a\x00b"]), min_size=1, max_size=40))
    if draw(st.booleans()):
        persons.sort(key=draw(st.sampled_from([str, lambda p: -ord(p[0])])))
    clock: dict[str, int] = {}
    ids, times, cells = [], [], []
    for i, person in enumerate(persons):
        clock[person] = clock.get(person, 0) + draw(st.sampled_from(STEPS))
        times.append(clock[person] if draw(st.integers(0, 9)) else draw(st.integers(0, 3 * HOUR)))
        cells.append(draw(st.sampled_from(CELLS)))
        resent = draw(st.integers(0, 11)) == 0 and i > 0
        ids.append(ids[draw(st.integers(0, i - 1))] if resent else f"e{i}")
    return ids, persons, times, cells


HOUR = 60 * MINUTE


@settings(max_examples=600, deadline=None)
@given(slices())
def test_columns_group_a_slice_as_by_person_does(
    pings: tuple[list[str], list[str], list[int], list[int]],
) -> None:
    ids, persons, times, cells = pings
    expected = person_pings.by_person(ids, persons, times, cells, MAX_GAP)
    columns, resent = people_columns(ids, persons, times, np.array(cells, np.int64), MAX_GAP)
    assert (columns.people(), resent) == expected
    assert columns.pings + resent == len(ids)
    assert pickle.loads(pickle.dumps(columns)).people() == expected[0]


def test_a_file_grouped_by_person_and_time_is_grouped_without_a_sort() -> None:
    ids = ["a1", "a2", "a3", "b1", "b2"]
    columns, resent = people_columns(
        ids, ["a", "a", "a", "b", "b"], [0, MINUTE, 2 * HOUR, 0, MINUTE],
        np.array([HOME, HOME, HOME, HOME, CELLS[1]], np.int64), MAX_GAP,
    )  # fmt: skip
    assert resent == 0 and columns.event_ids is ids  # taken as it is
    assert [(p.person_id, p.stay_starts) for p in columns.people()] == [
        ("a", [0, 2]),
        ("b", [0, 1]),
    ]


def test_no_pings_make_no_persons() -> None:
    columns, resent = people_columns([], [], [], np.array([], np.int64), MAX_GAP)
    assert (columns.people(), resent, columns.pings) == ([], 0, 0)
    assert pickle.loads(pickle.dumps(columns)).people() == []


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.tuples(st.floats(-90, 90), st.floats(-180, 180)), min_size=0, max_size=30),
    st.integers(0, 15),
)
def test_cells_are_those_of_the_public_h3_function(
    points: list[tuple[float, float]], resolution: int
) -> None:
    lats, lons = [p[0] for p in points], [p[1] for p in points]
    assert cells_of(lats, lons, resolution).tolist() == [
        stays.cell_of(lat, lon, resolution) for lat, lon in points
    ]
