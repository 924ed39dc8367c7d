"""What upstream records do to tasks tracers already work on: never undo a tracer's work, reopen
with history when something new happens, re-route when the residence becomes known."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paicha.matching.policy import task_id_for

from .test_tracking_world import T0, World

pytestmark = pytest.mark.integration
TASK = task_id_for("p1")


def detail(world: World) -> dict[str, object]:
    return world.call("sup_city", "GET", f"/v1/tasks/{TASK}").json()  # type: ignore[no-any-return]


def complete(world: World, outcome: str = "cleared") -> None:
    world.call("tracer_a", "POST", f"/v1/tasks/{TASK}/claim")
    world.call("tracer_a", "POST", f"/v1/tasks/{TASK}/complete", json={"outcome": outcome})


def test_an_upgrade_keeps_the_claim_and_the_tracer_fields(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001", kind="city_visit")
    world.call("tracer_a", "POST", f"/v1/tasks/{TASK}/claim")

    action = world.push_task(
        "p1", jurisdiction="140105001001", kind="co_located", version=2, due_in=timedelta(hours=12)
    )

    task = detail(world)
    assert action == "update"
    assert (task["kind"], task["status"], task["claimed_by"]) == (
        "co_located",
        "claimed",
        "tracer_a",
    )
    assert task["history"][-1]["action"] == "upgraded"  # type: ignore[index]


def test_an_upstream_close_never_undoes_a_completion(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    complete(world)

    action = world.push_task(
        "p1", jurisdiction="140105001001", status="closed", version=2, close_reason="became_case"
    )

    task = detail(world)
    assert action == "record"
    assert (task["status"], task["outcome"], task["version"]) == ("completed", "cleared", 2)


def test_an_open_task_closed_upstream_leaves_the_queue(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    world.call("tracer_a", "POST", f"/v1/tasks/{TASK}/claim")

    world.push_task(
        "p1",
        jurisdiction="140105001001",
        status="withdrawn",
        version=2,
        close_reason="exposures_withdrawn",
    )

    assert detail(world)["status"] == "withdrawn"
    assert world.call("tracer_a", "GET", "/v1/tasks").json()["items"] == []


def test_a_new_exposure_after_completion_reopens_as_a_new_round(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    complete(world)
    world.clock.advance(timedelta(hours=2))

    extended = world.push_task("p1", jurisdiction="140105001001", version=2)  # same exposure
    reopened = world.push_task(
        "p1", jurisdiction="140105001001", version=3, detected_at=T0 + timedelta(hours=1)
    )

    task = detail(world)
    assert (extended, reopened) == ("record", "reopen")
    assert (task["status"], task["round"], task["outcome"], task["claimed_by"]) == (
        "open",
        2,
        None,
        None,
    )
    reopen_entry = task["history"][-1]  # type: ignore[index]
    assert reopen_entry["action"] == "reopened"
    assert reopen_entry["details"]["previous_outcome"] == "cleared"
    assert reopen_entry["details"]["previous_claimed_by"] == "tracer_a"


def test_a_positive_person_is_never_reopened(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    complete(world, "tested_positive")

    action = world.push_task(
        "p1", jurisdiction="140105001001", version=2, detected_at=T0 + timedelta(days=1)
    )

    assert action == "record" and detail(world)["status"] == "completed"


def test_a_residence_learned_later_reroutes_the_unclaimed_task(world: World) -> None:
    world.push_task("p1", jurisdiction=None, exposure_city="140100")
    assert detail(world)["team"] == "T140100"

    world.push_person("p1", "140106001001")

    task = detail(world)
    assert (task["team"], task["jurisdiction"]) == ("T140106001", "140106001001")
    assert task["history"][-1]["action"] == "rerouted"  # type: ignore[index]
