"""The stay builder's incremental state against the rule-1 definition, flush by flush."""

from __future__ import annotations

import pickle
import random

import h3.api.basic_int as h3int
import pytest

from paicha.matching import person_pings, stays
from paicha.matching.timeutil import MINUTE

MAX_GAP = 30 * MINUTE
HOME = h3int.latlng_to_cell(37.87, 112.55, 8)
WORK = h3int.grid_ring(HOME, 3)[0]


def downstream_view(track: stays.PersonTrack, held: dict[tuple[int, int], int]) -> None:
    """Apply one flush's stay changes to what a cell join would hold."""
    changes, _ = stays.flush(track, lookback=14 * 24 * 60 * MINUTE)
    for change in changes:
        if change.end is None:
            held.pop((change.cell, change.start), None)
        else:
            held[(change.cell, change.start)] = change.end


def definition(pings: list[tuple[int, int]]) -> dict[tuple[int, int], int]:
    return {s.key: s.end for s in stays.runs(sorted(set(pings)), MAX_GAP)}


def test_a_stay_that_grew_before_another_began_is_reported_with_its_full_end() -> None:
    track = stays.PersonTrack("p")
    held: dict[tuple[int, int], int] = {}
    stays.add_ping(track, "a", 0, HOME, MAX_GAP)
    downstream_view(track, held)
    stays.add_ping(track, "b", 5 * MINUTE, HOME, MAX_GAP)  # grows the open stay
    stays.add_ping(track, "c", 10 * MINUTE, WORK, MAX_GAP)  # then another stay begins
    downstream_view(track, held)
    assert held == {(HOME, 0): 5 * MINUTE, (WORK, 10 * MINUTE): 10 * MINUTE}


def test_a_late_ping_in_another_cell_splits_the_stay_it_falls_in() -> None:
    track = stays.PersonTrack("p")
    held: dict[tuple[int, int], int] = {}
    for i in range(5):
        stays.add_ping(track, f"h{i}", i * 5 * MINUTE, HOME, MAX_GAP)
    downstream_view(track, held)
    stays.add_ping(track, "late", 12 * MINUTE, WORK, MAX_GAP)
    downstream_view(track, held)
    assert held == {
        (HOME, 0): 10 * MINUTE,
        (WORK, 12 * MINUTE): 12 * MINUTE,
        (HOME, 15 * MINUTE): 20 * MINUTE,
    }


def test_a_late_ping_filling_a_gap_merges_two_stays() -> None:
    track = stays.PersonTrack("p")
    held: dict[tuple[int, int], int] = {}
    stays.add_ping(track, "a", 0, HOME, MAX_GAP)
    stays.add_ping(track, "b", 40 * MINUTE, HOME, MAX_GAP)  # 40 min: over the gap
    downstream_view(track, held)
    assert len(held) == 2
    stays.add_ping(track, "c", 20 * MINUTE, HOME, MAX_GAP)
    downstream_view(track, held)
    assert held == {(HOME, 0): 40 * MINUTE}


def test_a_gap_of_exactly_max_gap_keeps_one_stay() -> None:
    pings = [(0, HOME), (MAX_GAP, HOME), (2 * MAX_GAP + 1, HOME)]
    assert definition(pings) == {(HOME, 0): MAX_GAP, (HOME, 2 * MAX_GAP + 1): 2 * MAX_GAP + 1}


def test_a_resent_event_id_changes_nothing_even_with_other_content() -> None:
    track = stays.PersonTrack("p")
    assert stays.add_ping(track, "a", 0, HOME, MAX_GAP)
    assert not stays.add_ping(track, "a", 5 * MINUTE, WORK, MAX_GAP)
    assert [s.key for s in track.stays] == [(HOME, 0)]


@pytest.mark.parametrize("seed", range(40))
def test_any_arrival_order_and_flush_points_give_the_stays_of_the_definition(seed: int) -> None:
    rng = random.Random(seed)
    cells = [HOME, WORK, h3int.grid_ring(HOME, 5)[2]]
    t, pings = 0, []
    for _ in range(rng.randint(1, 60)):
        t += rng.choice([0, 1, 5 * MINUTE, MAX_GAP, MAX_GAP + 1, 45 * MINUTE])
        pings.append((t, rng.choice(cells)))
    arrival = list(enumerate(pings))
    if seed % 2:  # half in order (the hot path), half shuffled (late pings)
        rng.shuffle(arrival)
    track = stays.PersonTrack("p")
    held: dict[tuple[int, int], int] = {}
    for event, (when, cell) in arrival:
        stays.add_ping(track, f"e{event}", when, cell, MAX_GAP)
        if rng.random() < 0.3:
            downstream_view(track, held)
    downstream_view(track, held)
    assert held == definition(pings)
    assert {s.key: s.end for s in track.stays} == definition(pings)


def one_by_one(chunks: list[list[tuple[str, int, int]]]) -> stays.PersonTrack:
    """``add_ping`` per ping, each chunk in ``by_person``'s order: (time, cell, event id)."""
    track = stays.PersonTrack("p")
    for chunk in chunks:
        for event_id, t, cell in sorted(chunk, key=lambda p: (p[1], p[2], p[0])):
            stays.add_ping(track, event_id, t, cell, MAX_GAP)
    return track


def in_bulk(chunks: list[list[tuple[str, int, int]]], horizon: int = 0) -> stays.PersonTrack:
    """``by_person`` then ``add_pings``, chunk by chunk, as ``paicha match`` takes slices."""
    track = stays.PersonTrack("p")
    for chunk in chunks:
        ids, times, cells = (list(column) for column in zip(*chunk, strict=True))
        people, _ = person_pings.by_person(ids, ["p"] * len(ids), times, cells, MAX_GAP)
        for pings in people:
            stays.add_pings(track, pings, MAX_GAP, horizon)
    return track


def state(track: stays.PersonTrack) -> tuple[object, ...]:
    held: dict[tuple[int, int], int] = {}
    downstream_view(track, held)
    return ([(s.cell, s.times) for s in track.stays], track.seen, held)


@pytest.mark.parametrize("seed", range(60))
def test_pings_added_in_bulk_give_the_state_of_one_by_one(seed: int) -> None:
    # Bulk takes a chunk at the cost of its stays when it comes after the track (a person's next
    # slice of a time-ordered file) and falls back to add_ping otherwise: both must agree with
    # add_ping, re-sent event ids (same or other content, same or other chunk) included.
    rng = random.Random(seed)
    cells = [HOME, WORK, h3int.grid_ring(HOME, 5)[2]]
    t, pings = 0, []
    for i in range(rng.randint(1, 80)):
        t += rng.choice([0, 0, 1, 5 * MINUTE, MAX_GAP, MAX_GAP + 1, 45 * MINUTE])
        event_id = f"e{rng.randrange(i + 1)}" if rng.random() < 0.1 else f"n{i}"
        pings.append((event_id, t, rng.choice(cells)))
    if seed % 3 == 0:
        rng.shuffle(pings)  # late pings: the fallback
    cuts = sorted(rng.sample(range(1, len(pings) + 1), min(len(pings), rng.randint(1, 6))))
    chunks = [pings[a:b] for a, b in zip([0, *cuts], cuts, strict=False) if pings[a:b]]
    assert state(in_bulk(chunks)) == state(one_by_one(chunks))


def test_a_chunk_after_the_track_is_taken_whole_and_goes_on_from_its_newest_stay() -> None:
    first = [("a", 0, HOME), ("b", 5 * MINUTE, HOME)]
    second = [("c", 5 * MINUTE, HOME), ("d", 9 * MINUTE, HOME), ("e", 9 * MINUTE, HOME)]
    track = in_bulk([first, [*second, ("f", 50 * MINUTE, WORK)]])
    assert [(s.cell, s.times) for s in track.stays] == [
        (HOME, [0, 5 * MINUTE, 9 * MINUTE]),
        (WORK, [50 * MINUTE]),
    ]
    assert set(track.seen) == set("abcdef")


def test_pings_before_the_horizon_are_left_out_in_bulk_and_counted() -> None:
    people, resent = person_pings.by_person(
        ["a", "b", "a"], ["p", "p", "p"], [10, 20, 30], [HOME, HOME, WORK], MAX_GAP
    )
    assert resent == 1  # "a" again, later: the first copy in time order is kept
    track = stays.PersonTrack("p")
    assert stays.add_pings(track, people[0], MAX_GAP, horizon=15) == (0, 1)
    assert [(s.cell, s.times) for s in track.stays] == [(HOME, [20])]


def test_a_persons_pings_cross_processes_whole_whatever_their_event_ids() -> None:
    # Pickled as columns with the ids joined on a separator, unless an id holds the separator.
    for ids in (["a", "b", "c"], ["a\x00b", "c", "d"]):
        people, _ = person_pings.by_person(ids, ["p"] * 3, [1, 2, 3], [HOME, HOME, WORK], MAX_GAP)
        assert pickle.loads(pickle.dumps(people)) == people
