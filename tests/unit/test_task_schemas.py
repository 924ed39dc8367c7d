"""The screening task and dead-letter models: what paicha itself writes."""

from __future__ import annotations

from typing import Any

import h3
import pytest
from pydantic import ValidationError

from schemas import DeadLetter, EvidenceItem, ScreeningTask

CELL = h3.latlng_to_cell(30.25, 120.16, 8)
WINDOW = {
    "overlap_start": "2021-12-05T01:00:00Z",
    "overlap_end": "2021-12-05T01:20:00Z",
    "detected_at": "2021-12-07T12:00:00Z",
}


def task(**changes: Any) -> dict[str, Any]:
    return {
        "task_id": "task-p1",
        "person_id": "p1",
        "kind": "co_located",
        "status": "open",
        "detected_at": "2021-12-07T12:00:00Z",
        "due_at": "2021-12-08T12:00:00Z",
        "evidence": [{"kind": "co_located", "case_id": "case-1", "cell": CELL, **WINDOW}],
        **changes,
    }


def test_a_task_as_the_tracking_service_shows_it_round_trips_through_json() -> None:
    record = task(
        jurisdiction="330106001",
        team="grid-7",
        claimed_by="tracer-3",
        claimed_at="2021-12-07T21:00:00+08:00",
        version=2,
    )
    parsed = ScreeningTask.model_validate(record)
    again = ScreeningTask.model_validate_json(parsed.model_dump_json())
    assert again == parsed
    assert parsed.model_dump(mode="json")["claimed_at"] == "2021-12-07T13:00:00Z"


@pytest.mark.parametrize(
    "item",
    [
        {"kind": "co_located", "case_id": "case-1", "cell": CELL},
        {"kind": "area_stay", "area_id": "area-1", "cell": CELL},
        {"kind": "city_visit", "city_code": "330100", "hazard": "area:area-1"},
        {"kind": "city_visit", "city_code": "330100", "hazard": "case:case-1"},
    ],
)
def test_each_kind_of_evidence_names_its_source_and_place(item: dict[str, Any]) -> None:
    EvidenceItem.model_validate({**item, **WINDOW})


@pytest.mark.parametrize(
    ("item", "missing"),
    [
        ({"kind": "co_located", "cell": CELL}, "case_id"),
        ({"kind": "area_stay", "area_id": "area-1"}, "cell"),
        ({"kind": "city_visit", "city_code": "330100"}, "hazard"),
    ],
)
def test_evidence_without_its_source_or_place_is_refused(
    item: dict[str, Any], missing: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        EvidenceItem.model_validate({**item, **WINDOW})
    assert missing in caught.value.errors()[0]["msg"]


def test_a_hazard_must_say_whether_it_is_an_area_or_a_case() -> None:
    item = {"kind": "city_visit", "city_code": "330100", "hazard": "area-1", **WINDOW}
    with pytest.raises(ValidationError) as caught:
        EvidenceItem.model_validate(item)
    assert caught.value.errors()[0]["loc"] == ("hazard",)


def test_a_cell_must_be_an_h3_index() -> None:
    item = {"kind": "area_stay", "area_id": "a", "cell": "8" + "f" * 14, **WINDOW}
    with pytest.raises(ValidationError) as caught:
        EvidenceItem.model_validate(item)
    assert caught.value.errors()[0]["loc"] == ("cell",)


def test_an_overlap_that_ends_before_it_starts_is_refused() -> None:
    item = {"kind": "co_located", "case_id": "c", "cell": CELL, **WINDOW}
    item["overlap_end"] = "2021-12-05T00:59:59Z"
    with pytest.raises(ValidationError, match="overlap_end must not be earlier"):
        EvidenceItem.model_validate(item)


@pytest.mark.parametrize(
    ("field", "value"),
    [("kind", "contact"), ("status", "done"), ("version", 0), ("due_at", "2021-12-08T12:00:00")],
)
def test_task_fields_outside_their_domain_are_refused(field: str, value: object) -> None:
    with pytest.raises(ValidationError) as caught:
        ScreeningTask.model_validate(task(**{field: value}))
    assert caught.value.errors()[0]["loc"] == (field,)


def test_a_newer_producers_extra_fields_do_not_break_an_older_consumer() -> None:
    record = task(priority=1)
    record["evidence"][0]["exposure_city"] = "330100"
    parsed = ScreeningTask.model_validate(record)
    assert parsed.model_extra == {"priority": 1}
    assert parsed.evidence[0].model_extra == {"exposure_city": "330100"}


def test_a_dead_letter_needs_the_reason_the_topic_and_the_original_bytes() -> None:
    with pytest.raises(ValidationError) as caught:
        DeadLetter.model_validate({})
    missing = {error["loc"][0] for error in caught.value.errors()}
    assert missing == {"reason", "source_topic", "original_base64"}
