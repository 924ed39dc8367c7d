"""Jurisdiction scoping: whatever the role and the endpoint, a caller never receives data from
outside their jurisdiction's subtree, and a foreign task looks exactly like a missing one. Every
read of personal data and every change lands in the audit log."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from infra.postgres import scratch_database
from paicha.matching.policy import task_id_for
from services.tracking.db.models import AuditEntry

from .test_tracking_world import World, build_world

pytestmark = pytest.mark.integration

# Who sits where: the 140106 district's people against the 140105 district's and the city's tasks,
# and the 140105 district's people against the 140106 district's and the city's.
SIDES = {
    "140106": (["tracer_c", "sup_d6", "admin_d6"], ["p5", "p-city"]),
    "140105": (["tracer_a", "tracer_b", "sup_d5"], ["p6", "p-city"]),
}
TASK_ENDPOINTS = [
    ("GET", "/v1/tasks/{task}", None),
    ("POST", "/v1/tasks/{task}/claim", None),
    ("POST", "/v1/tasks/{task}/notes", {"text": "x"}),
    ("POST", "/v1/tasks/{task}/release", None),
    ("POST", "/v1/tasks/{task}/complete", {"outcome": "cleared"}),
    ("POST", "/v1/tasks/{task}/reassign", {"team_id": "T140106001"}),
]
LISTINGS = [
    ("GET", "/v1/tasks", None),
    ("GET", "/v1/tasks?status=claimed", None),
    ("GET", "/v1/tasks?jurisdiction=140105", None),
    ("GET", "/v1/tasks?jurisdiction=140106", None),
    ("GET", "/v1/tasks?jurisdiction=140100", None),
    ("GET", "/v1/tasks?team=T140105001", None),
    ("GET", "/v1/tasks?team=T140106001", None),
    ("GET", "/v1/tasks?team=T140100", None),
    ("POST", "/v1/tasks/claim-next", None),
    ("GET", "/v1/admin/users", None),
    ("GET", "/v1/admin/teams", None),
    ("GET", "/v1/me", None),
]


@pytest.fixture(scope="module")
def world(database_url: str) -> Iterator[World]:
    """One world for the whole matrix (it only reads, or is refused): building it is the cost."""
    with scratch_database(database_url, "test_tracking_scope") as url:
        world = build_world(url)
        for person, residence in (("p5", "140105001001"), ("p6", "140106001001")):
            world.push_person(person, residence, name=f"名字{person}")
            world.push_task(person)
        world.push_task("p-city", jurisdiction=None, exposure_city="140100")  # unknown residence
        # The foreign tasks are claimed by their own tracers: every state has something to leak.
        for tracer, person in (("tracer_a", "p5"), ("tracer_c", "p6")):
            world.call(tracer, "POST", f"/v1/tasks/{task_id_for(person)}/claim")
        try:
            yield world
        finally:
            world.client.close()
            world.database.dispose()


def leaks(answer_text: str, foreign_people: list[str]) -> list[str]:
    """Which foreign identifiers appear anywhere in a response body."""
    marks = [
        mark for person in foreign_people for mark in (person, task_id_for(person), f"名字{person}")
    ]
    return [mark for mark in marks if mark in answer_text]


@pytest.mark.parametrize("side", sorted(SIDES))
def test_no_role_gets_a_foreign_task_from_any_endpoint(world: World, side: str) -> None:
    callers, foreign = SIDES[side]
    for user in [*callers, "feed"]:
        for person in foreign:
            for method, path, body in TASK_ENDPOINTS:
                answer = world.call(user, method, path.format(task=task_id_for(person)), json=body)
                assert answer.status_code in (403, 404), (user, method, path, answer.text)
                if answer.status_code == 404:
                    assert answer.json() == {
                        "error": "not_found",
                        "reason": f"no task {task_id_for(person)}",
                    }, "a foreign task must look exactly like a missing one"
                assert set(leaks(answer.text, foreign)) <= {task_id_for(person)}, (
                    "at most the id the caller sent comes back"
                )


@pytest.mark.parametrize("side", sorted(SIDES))
def test_no_listing_shows_foreign_data(world: World, side: str) -> None:
    callers, foreign = SIDES[side]
    for user in [*callers, "feed"]:
        for method, path, body in LISTINGS:
            answer = world.call(user, method, path, json=body)
            assert answer.status_code in (200, 204, 403, 409), (user, path, answer.text)
            assert leaks(answer.text, foreign) == [], (user, path)


def test_an_admin_cannot_reach_users_outside_the_subtree(world: World) -> None:
    users = world.call("admin_d6", "GET", "/v1/admin/users").json()
    token = world.call("admin_d6", "POST", "/v1/admin/users/tracer_a/tokens")
    revoke = world.call("admin_d6", "POST", "/v1/admin/users/sup_d5/revoke")
    foreign_user = world.call(
        "admin_d6",
        "POST",
        "/v1/admin/users",
        json={"user_id": "x", "role": "feed", "jurisdiction": "140105"},
    )
    foreign_tree = world.call(
        "admin_d6",
        "PUT",
        "/v1/admin/jurisdictions",
        json={"teams": [{"team_id": "T", "name": "n", "jurisdiction": "140105"}]},
    )

    assert {u["user_id"] for u in users} == {"tracer_c", "sup_d6", "admin_d6"}
    assert token.status_code == 404 and revoke.status_code == 404
    assert foreign_user.status_code == 422
    assert foreign_tree.status_code == 403
    assert world.call("sup_d5", "GET", "/v1/me").status_code == 200, "not revoked after all"


def test_the_city_supervisor_sees_everything_below(world: World) -> None:
    page = world.call("sup_city", "GET", "/v1/tasks", params={"status": "any"}).json()
    everything = world.call("sup_city", "GET", "/v1/tasks?status=claimed").json()
    city = world.call("tracer_city", "GET", "/v1/tasks").json()

    assert {i["person_id"] for i in page["items"]} == {"p5", "p6", "p-city"}
    assert {i["person_id"] for i in everything["items"]} == {"p5", "p6"}
    assert [i["person_id"] for i in city["items"]] == ["p-city"], "the duty team gets the rest"


def test_personal_data_reads_and_changes_are_audited(world: World) -> None:
    task = task_id_for("p5")
    world.call("sup_d5", "GET", f"/v1/tasks/{task}")
    world.call("tracer_b", "GET", f"/v1/tasks/{task}")
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/notes", json={"text": "复核"})

    with world.database.transaction() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.target == task)).all()
        seen = [(e.actor, e.action, json.dumps(e.details, sort_keys=True)) for e in entries]
    assert ("tracer_a", "claim", '{"contact_shown": true, "person_id": "p5"}') in seen
    assert ("sup_d5", "read_task", '{"contact_shown": true, "person_id": "p5"}') in seen
    assert ("tracer_b", "read_task", '{"contact_shown": false, "person_id": "p5"}') in seen
    assert any(actor == "tracer_a" and action == "add_note" for actor, action, _ in seen)
