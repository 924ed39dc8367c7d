"""paicha.feeds: the edge decoder, its errors, the JSON Lines reader and dead letters."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any

import orjson
import pytest

from paicha.errors import FeedError, InvalidInput, PaichaError
from paicha.feeds import TOPICS, dead_letter, decode, read_jsonl
from paicha.matching.model import Case, Itinerary, Person, Ping, RiskArea
from paicha.matching.timeutil import HOUR, to_micros
from schemas import DeadLetter

PING = {
    "event_id": "t1",
    "person_id": "p1",
    "lat": 30.25,
    "lon": 120.16,
    "observed_at": "2021-12-07T08:30:00+08:00",
    "accuracy_m": 15,
    "source": "telecom",
}
T0 = 1_638_837_000_000_000  # 2021-12-07T00:30:00Z


def test_the_input_topics_are_the_five_of_the_contract() -> None:
    assert TOPICS == ("trajectories", "itineraries", "cases", "risk-areas", "persons")


@pytest.mark.parametrize(
    "raw", [orjson.dumps(PING), json.dumps(PING), PING, MappingProxyType(PING)], ids=type
)
def test_a_ping_decodes_from_bytes_text_or_a_mapping(raw: Any) -> None:
    assert decode("trajectories", raw) == Ping("t1", "p1", 30.25, 120.16, T0)


def test_integer_coordinates_become_floats() -> None:
    ping = decode("trajectories", {**PING, "lat": 30, "lon": 120})
    assert isinstance(ping, Ping)
    assert (ping.lat, ping.lon) == (30.0, 120.0)
    assert type(ping.lat) is float


def test_an_itinerary_without_departure_is_a_moment() -> None:
    record = {"event_id": "i", "person_id": "p", "city_code": "330100"}
    record["arrived_at"] = "2021-12-07T08:30:00+08:00"
    itinerary = decode("itineraries", record)
    assert itinerary == Itinerary("i", "p", "330100", T0, None)
    assert isinstance(itinerary, Itinerary)
    assert itinerary.interval == (T0, T0)


def test_a_case_decodes_with_its_optional_times_in_utc_micros() -> None:
    record = {
        "event_id": "c",
        "case_id": "case-1",
        "person_id": "p9",
        "classification": "confirmed",
        "reported_at": "2021-12-07T00:30:00Z",
        "city_code": "330100",
        "isolated_at": "2021-12-06T08:30:00+08:00",
    }
    case = decode("cases", record)
    assert case == Case("c", "case-1", "p9", "confirmed", T0, "330100", None, T0 - 24 * HOUR)


def test_a_risk_area_keeps_lon_lat_pairs_only() -> None:
    ring = [[120.0, 30.0, 8.0], [120.1, 30.0, 8.0], [120.1, 30.1, 8.0], [120.0, 30.0, 8.0]]
    record = {
        "event_id": "a",
        "area_id": "area-1",
        "name": "x",
        "level": "high",
        "city_code": "330100",
        "polygon": {"type": "Polygon", "coordinates": [ring], "bbox": [1, 2, 3, 4]},
        "lookback_from": "2021-12-07T00:30:00Z",
        "designated_at": "2021-12-07T00:30:00Z",
        "lifted_at": None,
    }
    area = decode("risk-areas", orjson.dumps(record))
    assert isinstance(area, RiskArea)
    assert area.polygon == {"type": "Polygon", "coordinates": [[p[:2] for p in ring]]}
    assert area.lifted_at is None


def test_a_person_decodes_with_the_residence_city() -> None:
    person = decode("persons", b'{"person_id": "p1", "residence_code": "330106001001"}')
    assert person == Person("p1", "330106001001")
    assert isinstance(person, Person)
    assert person.residence_city == "330100"


@pytest.mark.parametrize("raw", [orjson.dumps({**PING, "observed_at": "2021-12-07T08:30:00"})])
def test_naive_observed_at_is_refused_with_the_field_and_reason(raw: bytes) -> None:
    with pytest.raises(FeedError) as caught:
        decode("trajectories", raw)
    error = caught.value
    assert error.topic == "trajectories"
    assert error.field == "observed_at"
    assert error.reason.startswith("observed_at has no UTC offset")
    assert isinstance(error, InvalidInput)
    assert isinstance(error, PaichaError)
    assert isinstance(error, ValueError)


def test_every_problem_is_listed_and_the_first_is_the_error_s_field() -> None:
    with pytest.raises(FeedError) as caught:
        decode("trajectories", {"event_id": "e", "lat": 95, "lon": 120})
    fields = [problem.field for problem in caught.value.problems]
    assert fields == ["person_id", "lat", "observed_at"]
    assert caught.value.field == "person_id"
    assert caught.value.reason == "Field required"


def test_a_nested_problem_is_named_by_its_dotted_path() -> None:
    record = {
        "event_id": "a",
        "area_id": "area-1",
        "name": "x",
        "level": "high",
        "city_code": "330100",
        "polygon": {"type": "Polygon", "coordinates": [[[120, 30], [121, 30], [121, 31], [0, 0]]]},
        "lookback_from": "2021-12-07T00:30:00Z",
        "designated_at": "2021-12-07T00:30:00Z",
    }
    with pytest.raises(FeedError) as caught:
        decode("risk-areas", record)
    assert caught.value.field == "polygon.coordinates.0"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "Invalid JSON"),
        (b'{"event_id": "t1",', "Invalid JSON"),
        (b"\xff\xfe{}", "Invalid JSON"),
        (b"[1, 2]", "Input should be an object"),
        (b"", "Invalid JSON"),
    ],
)
def test_what_is_not_a_json_object_is_refused_as_a_whole(raw: bytes, reason: str) -> None:
    with pytest.raises(FeedError) as caught:
        decode("trajectories", raw)
    assert caught.value.field == ""
    assert caught.value.reason.startswith(reason)


def test_an_unknown_topic_is_a_feed_error_naming_the_topics() -> None:
    with pytest.raises(FeedError, match=r"unknown topic 'pings'.*trajectories"):
        decode("pings", PING)


def test_read_jsonl_numbers_lines_skips_blank_ones_and_reports_bad_ones(tmp_path: Path) -> None:
    path = tmp_path / "trajectories.jsonl"
    bad = {**PING, "event_id": "t2", "lat": 91}
    lines = [
        orjson.dumps(PING),
        b"",
        orjson.dumps(bad),
        b"   ",
        orjson.dumps({**PING, "event_id": "t3"}),
    ]
    path.write_bytes(b"\n".join(lines) + b"\n")
    results = list(read_jsonl(path, "trajectories"))
    assert [number for number, _ in results] == [1, 3, 5]
    assert isinstance(results[0][1], Ping)
    assert isinstance(results[1][1], FeedError)
    assert results[1][1].field == "lat"
    assert isinstance(results[2][1], Ping)
    assert results[2][1].event_id == "t3"


def test_a_dead_letter_keeps_the_original_bytes_and_the_reason() -> None:
    raw = orjson.dumps({**PING, "lat": "north", "source": "中国移动"})
    with pytest.raises(FeedError) as caught:
        decode("trajectories", raw)
    letter = dead_letter(caught.value, raw, partition=3, offset=42, key=b"p1")
    assert base64.b64decode(letter.original_base64) == raw
    assert base64.b64decode(letter.key_base64 or "") == b"p1"
    assert (letter.source_topic, letter.partition, letter.offset) == ("trajectories", 3, 42)
    assert letter.field == caught.value.field
    assert letter.reason == caught.value.reason
    assert letter.dead_lettered_at is not None
    assert DeadLetter.model_validate_json(letter.model_dump_json()) == letter


def test_a_dead_letter_of_a_whole_record_problem_has_a_null_field() -> None:
    with pytest.raises(FeedError) as caught:
        decode("persons", "{")
    letter = dead_letter(caught.value, "{", source="upload.jsonl", offset=7)
    assert letter.field is None
    assert letter.problems[0].field is None
    assert base64.b64decode(letter.original_base64) == b"{"


def test_a_dead_letter_of_a_mapping_keeps_it_as_json() -> None:
    record = {"person_id": "p1"}
    with pytest.raises(FeedError) as caught:
        decode("persons", record)
    letter = dead_letter(caught.value, record)
    assert orjson.loads(base64.b64decode(letter.original_base64)) == record
    assert letter.field == "residence_code"


def test_decoded_times_are_utc_microseconds_whatever_the_offset() -> None:
    for text in ("2021-12-07T08:30:00+08:00", "2021-12-06T19:30:00-05:00", "2021-12-07T00:30:00Z"):
        ping = decode("trajectories", {**PING, "observed_at": text})
        assert isinstance(ping, Ping)
        assert ping.observed_at == T0
    assert to_micros(datetime(2021, 12, 7, 0, 30, tzinfo=UTC)) == T0
