"""The feed record models of schemas/: exactly CONTRACTS.md, no more and no less."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from schemas import (
    CaseRecord,
    ItineraryRecord,
    PersonRecord,
    RiskAreaRecord,
    TrajectoryRecord,
)

SQUARE = {
    "type": "Polygon",
    "coordinates": [[[120.10, 30.20], [120.11, 30.20], [120.11, 30.21], [120.10, 30.20]]],
}
MINIMAL: dict[type[BaseModel], dict[str, Any]] = {
    TrajectoryRecord: {
        "event_id": "t1",
        "person_id": "p1",
        "lat": 30.25,
        "lon": 120.16,
        "observed_at": "2021-12-07T08:30:00+08:00",
    },
    ItineraryRecord: {
        "event_id": "i1",
        "person_id": "p1",
        "city_code": "330100",
        "arrived_at": "2021-12-01T10:00:00+08:00",
    },
    CaseRecord: {
        "event_id": "c1",
        "case_id": "case-1",
        "person_id": "p9",
        "classification": "asymptomatic",
        "reported_at": "2021-12-07T06:00:00+08:00",
        "city_code": "330100",
    },
    RiskAreaRecord: {
        "event_id": "a1",
        "area_id": "area-1",
        "name": "Some compound",
        "level": "medium",
        "city_code": "330100",
        "polygon": SQUARE,
        "lookback_from": "2021-11-23T00:00:00+08:00",
        "designated_at": "2021-12-07T20:00:00+08:00",
    },
    PersonRecord: {"person_id": "p1", "residence_code": "330106001001"},
}
REQUIRED = {
    TrajectoryRecord: {"event_id", "person_id", "lat", "lon", "observed_at"},
    ItineraryRecord: {"event_id", "person_id", "city_code", "arrived_at"},
    CaseRecord: {"event_id", "case_id", "person_id", "classification", "reported_at", "city_code"},
    RiskAreaRecord: {
        "event_id",
        "area_id",
        "name",
        "level",
        "city_code",
        "polygon",
        "lookback_from",
        "designated_at",
    },
    PersonRecord: {"person_id", "residence_code"},
}


def errors_of(model: type[BaseModel], record: dict[str, Any]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(record)
    return [(".".join(map(str, e["loc"])), e["msg"]) for e in caught.value.errors()]


def with_(model: type[BaseModel], **changes: Any) -> dict[str, Any]:
    return {**MINIMAL[model], **changes}


@pytest.mark.parametrize("model", list(MINIMAL), ids=lambda m: m.__name__)
def test_the_bold_fields_of_the_contract_are_enough(model: type[BaseModel]) -> None:
    model.model_validate(MINIMAL[model])


@pytest.mark.parametrize("model", list(MINIMAL), ids=lambda m: m.__name__)
def test_exactly_the_bold_fields_are_required(model: type[BaseModel]) -> None:
    assert {name for name, f in model.model_fields.items() if f.is_required()} == REQUIRED[model]
    for name in REQUIRED[model]:
        record = dict(MINIMAL[model])
        del record[name]
        assert errors_of(model, record) == [(name, "Field required")]


@pytest.mark.parametrize("model", list(MINIMAL), ids=lambda m: m.__name__)
def test_unknown_fields_are_kept_not_refused(model: type[BaseModel]) -> None:
    parsed = model.model_validate(with_(model, carrier="CMCC", extra_nested={"a": [1]}))
    assert parsed.model_extra == {"carrier": "CMCC", "extra_nested": {"a": [1]}}


def test_naive_observed_at_is_rejected_naming_the_field() -> None:
    [(field, message)] = errors_of(
        TrajectoryRecord, with_(TrajectoryRecord, observed_at="2021-12-07T08:30:00")
    )
    assert field == "observed_at"
    assert message.startswith("observed_at has no UTC offset")
    assert "2021-12-07T08:30:00+08:00" in message  # shows what to send instead


@pytest.mark.parametrize(
    "value",
    [
        "2021-12-07",
        "2021-12-07T08:30+08:00",  # RFC 3339 requires seconds
        "20211207T083000+0800",  # ISO 8601 basic format, not RFC 3339
        "2021-12-07T08:30:00+0800",
        "1638837000",
        "2021-13-07T08:30:00+08:00",
        "",
    ],
)
def test_a_time_that_is_not_rfc3339_is_rejected_naming_the_field(value: str) -> None:
    [(field, message)] = errors_of(ItineraryRecord, with_(ItineraryRecord, arrived_at=value))
    assert field == "arrived_at"
    assert message.startswith("arrived_at ")


def test_a_unix_number_is_not_taken_for_a_time() -> None:
    [(field, message)] = errors_of(CaseRecord, with_(CaseRecord, reported_at=1638837000))
    assert field == "reported_at"
    assert "RFC 3339" in message


@pytest.mark.parametrize(
    "value",
    [
        "2021-12-07T08:30:00+08:00",
        "2021-12-07T00:30:00Z",
        "2021-12-07t00:30:00z",
        "2021-12-07 08:30:00+08:00",
        "2021-12-06T19:30:00-05:00",
        "2021-12-07T00:30:00-00:00",
    ],
)
def test_times_are_normalised_to_utc(value: str) -> None:
    parsed = TrajectoryRecord.model_validate(with_(TrajectoryRecord, observed_at=value))
    assert parsed.observed_at == datetime(2021, 12, 7, 0, 30, tzinfo=UTC)
    assert parsed.observed_at.utcoffset() is not None
    assert parsed.observed_at.tzinfo is UTC


def test_digits_past_the_microsecond_are_dropped_not_refused() -> None:
    parsed = TrajectoryRecord.model_validate(
        with_(TrajectoryRecord, observed_at="2021-12-07T00:30:00.123456789Z")
    )
    assert parsed.observed_at.microsecond == 123456


@pytest.mark.parametrize(
    ("field", "value"),
    [("lat", 90.0001), ("lat", -91), ("lon", 180.5), ("lon", -181), ("lat", "30.2"), ("lon", True)],
)
def test_coordinates_outside_wgs84_or_not_numbers_are_rejected(field: str, value: object) -> None:
    assert [
        f for f, _ in errors_of(TrajectoryRecord, with_(TrajectoryRecord, **{field: value}))
    ] == [field]


def test_the_poles_and_the_antimeridian_are_valid_coordinates() -> None:
    TrajectoryRecord.model_validate(with_(TrajectoryRecord, lat=-90, lon=180))
    TrajectoryRecord.model_validate(with_(TrajectoryRecord, lat=90.0, lon=-180.0))


@pytest.mark.parametrize("code", ["33010", "3301000", "33O100", "330100 ", 330100])
def test_city_code_must_be_six_digits(code: object) -> None:
    assert errors_of(ItineraryRecord, with_(ItineraryRecord, city_code=code))[0][0] == "city_code"


def test_departed_before_arrived_is_rejected_on_departed_at() -> None:
    record = with_(ItineraryRecord, departed_at="2021-12-01T09:59:59+08:00")
    assert errors_of(ItineraryRecord, record) == [
        ("departed_at", "departed_at must not be earlier than arrived_at")
    ]


def test_departed_at_equal_to_arrived_at_across_offsets_is_a_moment() -> None:
    record = with_(ItineraryRecord, departed_at="2021-12-01T02:00:00Z")  # 10:00 at +08:00
    parsed = ItineraryRecord.model_validate(record)
    assert parsed.departed_at == parsed.arrived_at


def test_classification_and_level_are_the_contract_enums() -> None:
    assert errors_of(CaseRecord, with_(CaseRecord, classification="suspected"))[0][0] == (
        "classification"
    )
    assert errors_of(RiskAreaRecord, with_(RiskAreaRecord, level="low"))[0][0] == "level"
    CaseRecord.model_validate(with_(CaseRecord, classification="confirmed"))
    RiskAreaRecord.model_validate(with_(RiskAreaRecord, level="high"))


def test_lifted_at_may_be_absent_or_null() -> None:
    assert RiskAreaRecord.model_validate(MINIMAL[RiskAreaRecord]).lifted_at is None
    assert RiskAreaRecord.model_validate(with_(RiskAreaRecord, lifted_at=None)).lifted_at is None
    lifted = RiskAreaRecord.model_validate(with_(RiskAreaRecord, lifted_at="2021-12-20T00:00:00Z"))
    assert lifted.lifted_at == datetime(2021, 12, 20, tzinfo=UTC)


@pytest.mark.parametrize(
    ("polygon", "field"),
    [
        ({**SQUARE, "type": "MultiPolygon"}, "polygon.type"),
        ({"type": "Polygon", "coordinates": []}, "polygon.coordinates"),
        (
            {"type": "Polygon", "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.1, 30.2]]]},
            "polygon.coordinates.0",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [0, 0]]],
            },
            "polygon.coordinates.0",
        ),
        (
            {
                "type": "Polygon",
                "coordinates": [[[30.2, 120.1], [30.2, 120.2], [30.3, 120.2], [30.2, 120.1]]],
            },
            "polygon.coordinates.0.0",
        ),
        (
            {"type": "Polygon", "coordinates": [[[120.1], [1, 2], [3, 4], [120.1]]]},
            "polygon.coordinates.0.0",
        ),
    ],
    ids=[
        "not-a-polygon",
        "no-ring",
        "three-positions",
        "not-closed",
        "lat-lon-swapped",
        "short-position",
    ],
)
def test_polygon_must_be_a_geojson_polygon_of_closed_lon_lat_rings(
    polygon: dict[str, Any], field: str
) -> None:
    assert errors_of(RiskAreaRecord, with_(RiskAreaRecord, polygon=polygon))[0][0] == field


def test_an_unclosed_ring_says_so() -> None:
    polygon = {
        "type": "Polygon",
        "coordinates": [[[120.1, 30.2], [120.2, 30.2], [120.2, 30.3], [0, 0]]],
    }
    [(_, message)] = errors_of(RiskAreaRecord, with_(RiskAreaRecord, polygon=polygon))
    assert message == "a ring must end at the position it starts at"


def test_a_polygon_with_a_hole_and_an_altitude_is_valid() -> None:
    outer = [[120.0, 30.0, 5.0], [120.3, 30.0, 5.0], [120.3, 30.3, 5.0], [120.0, 30.0, 5.0]]
    hole = [[120.1, 30.1], [120.2, 30.1], [120.2, 30.2], [120.1, 30.1]]
    polygon = {"type": "Polygon", "coordinates": [outer, hole], "bbox": [120, 30, 120.3, 30.3]}
    RiskAreaRecord.model_validate(with_(RiskAreaRecord, polygon=polygon))


def test_residence_code_must_start_with_a_district_code() -> None:
    assert errors_of(PersonRecord, with_(PersonRecord, residence_code="hz-001"))[0][0] == (
        "residence_code"
    )
    PersonRecord.model_validate(with_(PersonRecord, residence_code="330106"))


@pytest.mark.parametrize("model", list(MINIMAL), ids=lambda m: m.__name__)
def test_an_empty_id_is_refused(model: type[BaseModel]) -> None:
    id_field = next(name for name in REQUIRED[model] if name.endswith("_id"))
    assert errors_of(model, with_(model, **{id_field: ""}))[0][0] == id_field
