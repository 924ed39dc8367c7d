"""Routing and GB/T 2260 codes: pure functions, no database."""

from __future__ import annotations

import pytest

from services.tracking.codes import ancestry, contains, level_of, parent_of
from services.tracking.routing import Route, exposure_cities, route, routing_candidates

COVERAGE = {"140105001001": "T-street", "140100": "T-city"}


@pytest.mark.parametrize(
    ("code", "level"),
    [
        ("140000", "province"),
        ("140100", "city"),
        ("140105", "district"),
        ("140105001", "street"),
        ("140105001001", "community"),
    ],
)
def test_a_code_names_its_level(code: str, level: str) -> None:
    assert level_of(code) == level


def test_a_community_knows_every_ancestor() -> None:
    assert ancestry("140105001001") == {
        "province": "140000",
        "city": "140100",
        "district": "140105",
        "street": "140105001",
        "community": "140105001001",
    }
    assert parent_of("140105") == "140100" and parent_of("140000") is None


@pytest.mark.parametrize("bad", ["", "1401", "14010500", "abcdef", "1401050010011"])
def test_anything_else_is_not_a_code(bad: str) -> None:
    with pytest.raises(ValueError, match="GB/T 2260"):
        level_of(bad)


def test_subtrees_contain_their_descendants_only() -> None:
    assert contains("140100", "140105001001")
    assert contains("140105", "140105")
    assert not contains("140105", "140106001001")
    assert not contains("140105", "140100"), "a district does not contain its city"
    assert not contains("140100", "110105001001")


def test_a_covered_residence_goes_to_its_community_team() -> None:
    assert route(["140105001001"], COVERAGE) == Route("140105001001", "T-street")


def test_an_uncovered_community_falls_to_the_nearest_covering_ancestor() -> None:
    assert route(["140106001001"], COVERAGE) == Route("140106001001", "T-city")


def test_unknown_or_foreign_residence_goes_to_the_exposure_city() -> None:
    assert route([None, None, "140100"], COVERAGE) == Route("140100", "T-city")
    visitor = routing_candidates(None, "110105001001", ["140100"])
    assert route(visitor, COVERAGE) == Route("140100", "T-city")


def test_nothing_covered_keeps_the_first_code_without_a_team() -> None:
    assert route(["110105001001", "320100"], COVERAGE) == Route("110105001001", None)
    assert route([None, "not-a-code"], COVERAGE) == Route(None, None)


def test_the_registry_residence_wins_over_what_the_task_carried() -> None:
    assert routing_candidates("140106001001", "140100", []) == [
        "140106001001",
        "140100",
    ]


def test_exposure_cities_come_strongest_first_without_repeats() -> None:
    evidence = [
        {"kind": "co_located", "exposure_city": "140100"},
        {"kind": "city_visit", "city_code": "330100"},
        {"kind": "area_stay", "exposure_city": "140100"},
    ]
    assert exposure_cities(evidence) == ["140100", "330100"]
