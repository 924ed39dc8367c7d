"""HTTP ingestion's parsing: every record accepted or refused by index, field and reason; limits
refuse the batch as a whole, naming the setting."""

from __future__ import annotations

import orjson
import pytest

from paicha.errors import InvalidInput
from services.tracking.intake import BatchTooLarge, Limits, parse_batch

LIMITS = Limits(max_body_bytes=100_000, max_records=10)


def ping(event_id: str, person: str = "p1", lat: float = 37.87) -> dict[str, object]:
    return {
        "event_id": event_id,
        "person_id": person,
        "lat": lat,
        "lon": 112.55,
        "observed_at": "2021-12-01T08:00:00+08:00",
    }


def test_a_json_array_is_accepted_record_by_record_and_keyed_by_person() -> None:
    body = orjson.dumps([ping("a", "p1"), ping("b", "p2")])
    batch = parse_batch("trajectories", body, LIMITS)
    assert batch.received == 2 and batch.errors == []
    assert [key for key, _ in batch.records] == [b"p1", b"p2"]
    assert orjson.loads(batch.records[1][1])["event_id"] == "b"


def test_json_lines_keep_each_line_as_sent_and_risk_areas_are_keyed_by_area() -> None:
    area = {
        "event_id": "e1",
        "area_id": "A1",
        "name": "某小区",
        "level": "high",
        "city_code": "140100",
        "polygon": {
            "type": "Polygon",
            "coordinates": [[[112.5, 37.8], [112.51, 37.8], [112.51, 37.81], [112.5, 37.8]]],
        },
        "lookback_from": "2021-11-23T00:00:00+08:00",
        "designated_at": "2021-12-01T00:00:00+08:00",
    }
    line = orjson.dumps(area)
    batch = parse_batch("risk-areas", b"\xef\xbb\xbf" + line + b"\n\n", LIMITS)
    assert batch.records == [(b"A1", line)]


def test_bad_records_are_listed_by_index_field_and_reason_and_the_good_ones_kept() -> None:
    lines = [ping("a"), ping("b", lat=137.0), ping("c"), {**ping("d"), "person_id": None}]
    body = b"\n".join(orjson.dumps(item) for item in lines)
    batch = parse_batch("trajectories", body, LIMITS)
    assert [key for key, _ in batch.records] == [b"p1", b"p1"]
    assert [(e.index, e.field) for e in batch.errors] == [(1, "lat"), (3, "person_id")]
    assert "90" in batch.errors[0].reason


def test_json_lines_indexes_are_line_numbers_minus_one_even_past_blank_lines() -> None:
    body = orjson.dumps(ping("a")) + b"\n\n" + b"{not json}\n"
    batch = parse_batch("trajectories", body, LIMITS)
    assert [e.index for e in batch.errors] == [2]


def test_an_array_element_that_is_no_object_is_refused_by_index() -> None:
    batch = parse_batch("trajectories", orjson.dumps([ping("a"), 42]), LIMITS)
    assert [(e.index, e.reason) for e in batch.errors] == [(1, "a record is a JSON object")]


def test_more_records_than_the_limit_refuse_the_batch_naming_the_setting() -> None:
    body = orjson.dumps([ping(str(i)) for i in range(11)])
    with pytest.raises(BatchTooLarge) as refused:
        parse_batch("trajectories", body, LIMITS)
    assert refused.value.setting == "PAICHA_INGEST_MAX_RECORDS" and refused.value.limit == 10
    assert "11" in refused.value.reason


def test_a_body_over_the_byte_limit_is_refused_naming_the_setting() -> None:
    with pytest.raises(BatchTooLarge) as refused:
        parse_batch("trajectories", b" " * 100_001, LIMITS)
    assert refused.value.setting == "PAICHA_INGEST_MAX_BODY_BYTES"


@pytest.mark.parametrize("body", [b"", b"\n \n", b"[", b"[]"])
def test_a_body_that_is_no_batch_is_invalid_input_on_the_body(body: bytes) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_batch("trajectories", body, LIMITS)
    assert refused.value.field == "body"


def test_an_unknown_topic_is_invalid_input() -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_batch("screening-tasks", orjson.dumps([ping("a")]), LIMITS)
    assert refused.value.field == "topic"
