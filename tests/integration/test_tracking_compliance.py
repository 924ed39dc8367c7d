"""Compliance figures, deadline lists, metrics and health on a real PostgreSQL: the nine tasks of
tests/reference/compliance_fixture.py are built through the service (pushed, claimed,
completed, withdrawn at their hours), and ``GET /v1/compliance`` must answer the hand-computed
figures."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from paicha.matching.policy import task_id_for
from tests.reference import compliance_fixture as fx

from .test_tracking_world import World, build_world

pytestmark = pytest.mark.integration


def person(case: fx.Case) -> str:
    return f"person-{case.name}"


def build_fixture(world: World) -> None:
    """Replay the fixture's life in time order, each step at its hour on the world's clock."""
    steps: list[tuple[float, Callable[[], Any]]] = []
    for case in fx.TASKS:
        steps.append((case.queued, lambda c=case: push(world, c)))
        if case.completed is not None:
            steps.append((case.completed, lambda c=case: complete(world, c)))
        if case.withdrawn is not None:
            steps.append((case.withdrawn, lambda c=case: withdraw(world, c)))
    for hour, step in sorted(steps, key=lambda s: s[0]):
        world.clock.now = fx.at(hour)
        step()
    world.clock.now = fx.at(fx.AS_OF)


def push(world: World, case: fx.Case, **fields: Any) -> None:
    world.push_task(
        person(case),
        jurisdiction=fx.COMMUNITY[case.team],
        kind=case.kind,
        detected_at=fx.at(case.detected),
        due_in=timedelta(hours=case.deadline_hours),
        **fields,
    )


def complete(world: World, case: fx.Case) -> None:
    task = task_id_for(person(case))
    tracer = fx.TRACER[case.team]
    assert world.call(tracer, "POST", f"/v1/tasks/{task}/claim").status_code == 200
    done = world.call(tracer, "POST", f"/v1/tasks/{task}/complete", json={"outcome": "cleared"})
    assert done.status_code == 200, done.text


def withdraw(world: World, case: fx.Case) -> None:
    push(world, case, status="withdrawn", version=2, close_reason="exposure retracted")


def window() -> dict[str, str]:
    return {"from": fx.at(fx.START).isoformat(), "to": fx.at(fx.END).isoformat()}


def assert_figures(rows: list[dict[str, Any]], key: str, expected: dict[str, Any]) -> None:
    assert [row[key] for row in rows] == list(expected)
    for row in rows:
        figures = {name: row[name] for name in expected[row[key]]}
        assert figures == pytest.approx(expected[row[key]]), row[key]


def test_compliance_answers_the_hand_computed_figures(world: World) -> None:
    build_fixture(world)

    response = world.call("sup_city", "GET", "/v1/compliance", params=window())

    assert response.status_code == 200, response.text
    report = response.json()
    assert report["jurisdiction"] == "140100"
    assert report["as_of"] == "2021-12-08T16:00:00Z"
    totals = {name: report["totals"][name] for name in fx.TOTALS}
    assert totals == pytest.approx(fx.TOTALS)
    assert_figures(report["by_team"], "team", fx.BY_TEAM)
    assert_figures(report["by_jurisdiction"], "jurisdiction", fx.BY_DISTRICT)
    assert [row["name"] for row in report["by_jurisdiction"]] == ["小店区", "迎泽区"]
    assert_figures(report["by_kind"], "kind", fx.BY_KIND)
    assert report["time_to_complete_seconds"] == {**fx.TIME_TO_COMPLETE, "p99": None}
    assert report["push_latency_seconds"] == {**fx.PUSH_LATENCY, "p95": None}
    hours = {row["hour"]: row for row in report["hourly"]}
    assert len(hours) == 24
    for hour, expected in fx.HOURLY.items():
        row = hours[fx.at(hour).isoformat().replace("+00:00", "Z")]
        names = ("pushed", "completed_on_time", "completed_late", "missed", "on_time_rate")
        assert tuple(row[n] for n in (*names, "backlog", "backlog_overdue")) == expected, hour


def test_a_district_supervisor_sees_only_their_district(world: World) -> None:
    build_fixture(world)

    report = world.call("sup_d6", "GET", "/v1/compliance", params=window()).json()
    foreign = world.call(
        "sup_d6", "GET", "/v1/compliance", params={**window(), "jurisdiction": "140105"}
    )

    assert report["totals"]["open"] == 2 and report["totals"]["decided"] == 0
    assert [row["team"] for row in report["by_team"]] == ["T140106001"]
    assert [row["jurisdiction"] for row in report["by_jurisdiction"]] == ["140106001"]
    assert foreign.status_code == 404


def test_compliance_narrows_by_team_and_kind(world: World) -> None:
    build_fixture(world)

    team = world.call(
        "sup_city", "GET", "/v1/compliance", params={**window(), "team": "T140105002"}
    ).json()
    kind = world.call(
        "sup_city", "GET", "/v1/compliance", params={**window(), "kind": "area_stay"}
    ).json()

    assert team["totals"]["on_time_rate"] == pytest.approx(1 / 3)
    assert kind["totals"]["completed_on_time"] == 1 and kind["totals"]["open"] == 1


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2021-12-08T00:00:00", "to": "2021-12-09T00:00:00Z"}, "from"),
        ({"from": "2021-12-09T00:00:00Z", "to": "2021-12-08T00:00:00Z"}, "from"),
        ({"from": "2021-10-01T00:00:00Z", "to": "2021-12-08T00:00:00Z"}, "from"),
        ({"kind": "hearsay"}, "kind"),
        ({"jurisdiction": "14"}, "jurisdiction"),
    ],
)
def test_bad_compliance_queries_are_422_naming_the_field(
    world: World, params: dict[str, str], field: str
) -> None:
    response = world.call("sup_city", "GET", "/v1/compliance", params=params)

    assert response.status_code == 422
    assert response.json()["field"] == field


def test_compliance_is_for_supervisors(world: World) -> None:
    assert world.call("tracer_a", "GET", "/v1/compliance").status_code == 403
    assert world.call("admin_city", "GET", "/v1/compliance").status_code == 403
    assert world.call(None, "GET", "/v1/compliance").status_code == 401


def test_deadline_lists_show_at_risk_and_overdue_tasks_without_personal_data(world: World) -> None:
    build_fixture(world)

    overdue = world.call("sup_city", "GET", "/v1/deadlines/overdue").json()
    at_risk = world.call("sup_city", "GET", "/v1/deadlines/at_risk").json()
    district = world.call("sup_d5", "GET", "/v1/deadlines/at_risk").json()
    bad = world.call("sup_city", "GET", "/v1/deadlines/late")

    assert [item["task_id"] for item in overdue["items"]] == [task_id_for("person-D")]
    assert overdue["items"][0]["seconds_left"] == -2 * 3600
    assert [item["task_id"] for item in at_risk["items"]] == [task_id_for("person-E")]
    assert district["total"] == 0
    assert "person_id" not in overdue["items"][0] and "contact" not in overdue["items"][0]
    assert bad.status_code == 422 and bad.json()["field"] == "level"


def test_metrics_count_tasks_by_state_and_kind_and_past_each_threshold(world: World) -> None:
    build_fixture(world)

    text = world.client.get("/metrics").text

    assert 'paicha_tasks{kind="co_located",status="open"} 2.0' in text
    assert 'paicha_tasks{kind="co_located",status="completed"} 3.0' in text
    assert 'paicha_tasks{kind="co_located",status="withdrawn"} 1.0' in text
    assert 'paicha_tasks_deadline{kind="co_located",level="overdue"} 1.0' in text
    assert 'paicha_tasks_deadline{kind="co_located",level="at_risk"} 1.0' in text
    assert "paicha_database_up 1.0" in text
    assert 'paicha_escalations_total{level="at_risk"} 0.0' in text


def test_health_and_readiness(world: World) -> None:
    assert world.client.get("/healthz").json() == {"status": "ok"}
    ready = world.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"


def test_not_ready_when_the_database_is_behind_the_migrations(world: World) -> None:
    from services.tracking.db.migrate import downgrade

    world.database.dispose()
    downgrade(world.database.url, "0004")

    ready = world.client.get("/readyz")

    assert ready.status_code == 503
    assert "0004" in ready.json()["reason"]


def test_compliance_is_the_same_on_sqlite(tmp_path: Path) -> None:
    # The embedded runtime's database: no date_trunc, the hours are bucketed in Python.
    world = build_world(f"sqlite:///{tmp_path / 'tracking.sqlite3'}")
    try:
        build_fixture(world)
        report = world.call("sup_city", "GET", "/v1/compliance", params=window()).json()
        overdue = world.call("sup_city", "GET", "/v1/deadlines/overdue").json()
    finally:
        world.client.close()
        world.database.dispose()

    assert {name: report["totals"][name] for name in fx.TOTALS} == pytest.approx(fx.TOTALS)
    assert_figures(report["by_team"], "team", fx.BY_TEAM)
    assert report["time_to_complete_seconds"]["p50"] == fx.TIME_TO_COMPLETE["p50"]
    assert [item["task_id"] for item in overdue["items"]] == [task_id_for("person-D")]
