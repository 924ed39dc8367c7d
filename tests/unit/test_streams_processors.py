"""The stream processors without faust: a dict stands in for a table, records for Kafka's."""

from __future__ import annotations

import base64

import orjson

from paicha.matching import cell_join, policy, stays
from paicha.matching.model import ExposureChange, ExposureKey, StayChange
from paicha.matching.params import MatchParams
from paicha.matching.timeutil import DAY, MINUTE
from streams import messages
from streams.processors import CellProcessor, PeopleProcessor, PolicyProcessor, Record
from streams.state import KeyedState
from streams.topics import TopicNames

NAMES = TopicNames("")
PARAMS = MatchParams()


def ping(event_id: str, person: str, minute: int) -> bytes:
    at = f"2021-12-01T08:{minute:02d}:00+08:00"
    return orjson.dumps(
        {"event_id": event_id, "person_id": person, "lat": 37.87, "lon": 112.55, "observed_at": at}
    )


def record(topic: str, offset: int, value: bytes, key: bytes = b"p") -> Record:
    return Record(topic, 0, offset, key, value)


def test_a_bad_record_is_dead_lettered_with_its_bytes_and_its_neighbours_are_processed() -> None:
    people = PeopleProcessor(tracks=KeyedState({}, stays.PersonTrack), topics=NAMES, params=PARAMS)
    bad = ping("x", "p", 0).replace(b'"lat":37.87', b'"lat":137')
    batch = people.process(
        [
            record("trajectories", 1, ping("a", "p", 0)),
            record("trajectories", 2, bad),
            record("trajectories", 3, ping("b", "p", 5)),
        ]
    )
    letters = [orjson.loads(v) for t, _, v in batch.out if t == NAMES.dead_letters]
    stays_out = [messages.decode(v) for t, _, v in batch.out if t == NAMES.cell_events]
    assert [(d["field"], d["offset"], d["source_topic"]) for d in letters] == [
        ("lat", 2, "trajectories")
    ]
    assert base64.b64decode(letters[0]["original_base64"]) == bad
    assert [(s.start, s.end) for s in stays_out] == [
        (stays_out[0].start, stays_out[0].start + 5 * MINUTE)
    ]


def test_an_internal_message_that_does_not_decode_is_dead_lettered() -> None:
    cells = CellProcessor(
        cells=KeyedState({}, lambda k: cell_join.CellState(int(k))), topics=NAMES, params=PARAMS
    )
    batch = cells.process([record(NAMES.cell_events, 7, b"garbage", key=b"1")])
    (letter,) = [orjson.loads(v) for t, _, v in batch.out if t == NAMES.dead_letters]
    assert letter["offset"] == 7 and "undecodable" in letter["reason"]


def test_cell_state_forgets_stays_older_than_retention_without_retracting() -> None:
    table: dict[bytes, bytes] = {}
    cells = CellProcessor(
        cells=KeyedState(table, lambda k: cell_join.CellState(int(k))), topics=NAMES, params=PARAMS
    )
    old = StayChange("p", 1, 0, 10 * MINUTE)
    new = StayChange("q", 1, 30 * DAY, 30 * DAY + MINUTE)
    cells.process([record(NAMES.cell_events, 1, messages.encode(old), key=b"1")])
    batch = cells.process([record(NAMES.cell_events, 2, messages.encode(new), key=b"1")])
    assert set(cells.cells.get("1").persons) == {"q"}
    assert batch.out == []


def test_a_person_who_becomes_a_case_has_the_open_task_closed() -> None:
    policies = PolicyProcessor(
        policies=KeyedState({}, policy.PersonPolicy),
        clock=lambda: 0,
        topics=NAMES,
        params=PARAMS,
    )
    key = ExposureKey("area_stay", "A1", "88319085cbfffff")
    exposure = ExposureChange("p", key, ((0, MINUTE),), "140100")
    opened = policies.process([record(NAMES.exposures, 1, messages.encode(exposure))])
    closed = policies.process(
        [record(NAMES.exposures, 2, messages.encode(messages.CaseMark("p", "K1")))]
    )
    assert [orjson.loads(v)["status"] for _, _, v in opened.out] == ["open"]
    assert [orjson.loads(v)["close_reason"] for _, _, v in closed.out] == ["became_case"]


def test_a_person_gone_quiet_keeps_no_data_past_retention() -> None:
    """``process`` prunes only the keys a batch touches: the sweep reaches the others."""
    people = PeopleProcessor(tracks=KeyedState({}, stays.PersonTrack), topics=NAMES, params=PARAMS)
    late = ping("q1", "q", 0).replace(b"2021-12-01", b"2021-12-31")
    people.process([record("trajectories", 1, ping("p1", "p", 0), key=b"p")])
    people.process([record("trajectories", 2, ping("p2", "p", 5), key=b"p")])
    people.process([record("trajectories", 3, late, key=b"q")])
    assert people.tracks.get("p").stays  # untouched since: still held
    assert people.sweep_due()

    changed = people.sweep(["p", "q"])

    assert "p" in changed
    assert not people.tracks.get("p").stays and people.tracks.get("q").stays
    assert not people.sweep_due()  # once a day of event time, not on every batch


def test_a_cell_no_stay_touches_any_more_is_swept_too() -> None:
    cells = CellProcessor(
        cells=KeyedState({}, lambda k: cell_join.CellState(int(k))), topics=NAMES, params=PARAMS
    )
    old = StayChange("p", 1, 0, 10 * MINUTE)
    new = StayChange("q", 2, 30 * DAY, 30 * DAY + MINUTE)
    cells.process([record(NAMES.cell_events, 1, messages.encode(old), key=b"1")])
    cells.process([record(NAMES.cell_events, 2, messages.encode(new), key=b"2")])
    assert set(cells.cells.get("1").persons) == {"p"}

    changed = cells.sweep(["1", "2"])
    assert "1" in changed
    assert cells.cells.get("1").persons == {}


def test_a_person_no_exposure_touches_any_more_is_swept_from_the_task_policy() -> None:
    """The policy's horizon moves with the overlap ends it consumes; a person gone quiet loses
    the exposures and the task, keeping the version last sent, and nothing is published."""
    policies = PolicyProcessor(
        policies=KeyedState({}, policy.PersonPolicy), clock=lambda: 0, topics=NAMES, params=PARAMS
    )
    key = ExposureKey("area_stay", "A1", "88319085cbfffff")
    old = ExposureChange("p", key, ((0, MINUTE),), "140100")
    new = ExposureChange("q", key, ((30 * DAY, 30 * DAY + MINUTE),), "140100")
    policies.process([record(NAMES.exposures, 1, messages.encode(old), key=b"p")])
    policies.process([record(NAMES.exposures, 2, messages.encode(new), key=b"q")])
    assert policies.policies.get("p").task is not None  # untouched since: still held
    assert policies.policies.get("q").pruned_to == 9 * DAY + MINUTE  # touched: pruned in process
    assert policies.sweep_due()

    changed = policies.sweep(["p", "q"])

    assert changed == ["p"]
    forgotten = policies.policies.get("p")
    assert (forgotten.exposures, forgotten.task, forgotten.last_version) == ({}, None, 1)
    assert policies.policies.get("q").task is not None
    registry = orjson.dumps({"person_id": "p", "residence_code": "140105001001"})
    again = policies.process([record(NAMES.persons, 3, registry, key=b"p")])
    assert again.out == [], "a registry update of a forgotten person sends no withdrawal"


def test_the_stay_builder_tells_every_exposures_partition_its_event_time_once_a_day() -> None:
    people = PeopleProcessor(tracks=KeyedState({}, stays.PersonTrack), topics=NAMES, params=PARAMS)
    first = people.process([record("trajectories", 1, ping("a", "p", 0))])
    seen = people.watermark
    same_day = people.process([record("trajectories", 2, ping("b", "p", 30))])
    marks = [messages.decode(value) for _, value in first.everywhere]

    assert [topic for topic, _ in first.everywhere] == [NAMES.exposures]
    assert marks == [messages.Watermark(seen)]
    assert same_day.everywhere == []  # not again before a day of event time has passed


def test_a_person_with_no_new_exposure_is_forgotten_once_the_stay_builders_time_moves_on() -> None:
    """A quiet stretch (no exposure at all) used to keep the task policy's state past retention,
    since its horizon moved only with the exposures it received."""
    policies = KeyedState({}, policy.PersonPolicy)
    processor = PolicyProcessor(policies=policies, clock=lambda: DAY, topics=NAMES, params=PARAMS)
    key = ExposureKey("area_stay", "A1", "88319085cbfffff")
    exposed = ExposureChange("p", key, ((DAY, DAY + 20 * MINUTE),), "1")
    processor.process([record(NAMES.exposures, 1, messages.encode(exposed))])
    assert policies.get("p").exposures

    later = messages.Watermark(DAY + 20 * MINUTE + PARAMS.retention + DAY)
    processor.process([record(NAMES.exposures, 2, messages.encode(later), key=b"")])
    assert processor.sweep_due()
    assert processor.sweep(["p"]) == ["p"]

    assert not policies.get("p").exposures
