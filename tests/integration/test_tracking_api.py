"""The tracking API's work flow on a real PostgreSQL: queue, claim, detail, notes, release,
complete, reassign, and what each answers when the request is wrong."""

from __future__ import annotations

from datetime import timedelta

import pytest

from paicha.matching.policy import task_id_for

from .test_tracking_world import World

pytestmark = pytest.mark.integration


def test_queue_lists_the_teams_open_tasks_most_urgent_first(world: World) -> None:
    world.push_task("p-late", jurisdiction="140105001001", due_in=timedelta(hours=48))
    world.push_task("p-soon", jurisdiction="140105001001", due_in=timedelta(hours=12))
    world.push_task("p-other-team", jurisdiction="140105002001")

    page = world.call("tracer_a", "GET", "/v1/tasks").json()

    assert [item["person_id"] for item in page["items"]] == ["p-soon", "p-late"]
    assert page["total"] == 2
    assert all(item["team"] == "T140105001" for item in page["items"])
    second = world.call("tracer_a", "GET", "/v1/tasks", params={"limit": 1, "offset": 1}).json()
    assert [item["person_id"] for item in second["items"]] == ["p-late"]


def test_supervisor_sees_the_subtree_with_filters(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001", kind="area_stay")
    world.push_task("p2", jurisdiction="140105002001")
    world.push_task("p3", jurisdiction="140106001001")

    everything = world.call("sup_city", "GET", "/v1/tasks").json()
    district = world.call("sup_city", "GET", "/v1/tasks", params={"jurisdiction": "140105"})
    area = world.call("sup_d5", "GET", "/v1/tasks", params={"kind": "area_stay"}).json()

    assert everything["total"] == 3
    assert {i["person_id"] for i in district.json()["items"]} == {"p1", "p2"}
    assert [i["person_id"] for i in area["items"]] == ["p1"]


def test_claim_next_gives_the_most_urgent_task_with_contact_details(world: World) -> None:
    world.push_person("p-soon", "140105001001", name="李四")
    world.push_task("p-late", jurisdiction="140105001001", due_in=timedelta(hours=48))
    world.push_task("p-soon", jurisdiction="140105001001", due_in=timedelta(hours=12))

    first = world.call("tracer_a", "POST", "/v1/tasks/claim-next")
    second = world.call("tracer_a2", "POST", "/v1/tasks/claim-next")
    third = world.call("tracer_a", "POST", "/v1/tasks/claim-next")

    assert first.status_code == 200
    assert first.json()["person_id"] == "p-soon"
    assert first.json()["contact"]["name"] == "李四"
    assert first.json()["status"] == "claimed" and first.json()["claimed_by"] == "tracer_a"
    assert second.json()["person_id"] == "p-late"
    assert third.status_code == 204


def test_contact_details_only_for_the_claim_holder_and_supervisors(world: World) -> None:
    world.push_person("p1", "140105001001")
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")

    before = world.call("tracer_a", "GET", f"/v1/tasks/{task}").json()
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")
    holder = world.call("tracer_a", "GET", f"/v1/tasks/{task}").json()
    teammate = world.call("tracer_a2", "GET", f"/v1/tasks/{task}").json()
    supervisor = world.call("sup_d5", "GET", f"/v1/tasks/{task}").json()

    assert before["contact"] is None
    assert holder["contact"]["phone"] == "13800000000"
    assert teammate["contact"] is None
    assert supervisor["contact"]["name"] == "张三"
    assert holder["evidence"][0]["case_id"] == "c1"


def test_a_task_is_worked_to_completion_with_notes_and_history(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")

    world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")
    note = world.call("tracer_a", "POST", f"/v1/tasks/{task}/notes", json={"text": "电话已接通"})
    done = world.call(
        "tracer_a",
        "POST",
        f"/v1/tasks/{task}/complete",
        json={"outcome": "home_quarantine", "note": "居家隔离 7 天"},
    )
    detail = world.call("sup_d5", "GET", f"/v1/tasks/{task}").json()

    assert note.status_code == 201 and note.json()["author"] == "tracer_a"
    assert done.status_code == 200
    assert (done.json()["status"], done.json()["outcome"]) == ("completed", "home_quarantine")
    assert [n["text"] for n in detail["notes"]] == ["电话已接通", "居家隔离 7 天"]
    assert [h["action"] for h in detail["history"]] == [
        "created",
        "claimed",
        "note_added",
        "completed",
    ]
    assert world.publisher.on("cases") == []


def test_tested_positive_publishes_a_case_so_companions_get_traced(world: World) -> None:
    world.push_person("p1", "140105001001")
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")

    done = world.call(
        "tracer_a",
        "POST",
        f"/v1/tasks/{task}/complete",
        json={"outcome": "tested_positive", "classification": "asymptomatic"},
    )

    assert done.status_code == 200
    [case] = world.publisher.on("cases")
    assert case["person_id"] == "p1"
    assert case["classification"] == "asymptomatic"
    assert case["city_code"] == "140100"
    assert case["event_id"] == f"tracking-{task}-r1"


def test_release_returns_the_task_and_a_supervisor_can_release_anyones(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")

    released = world.call("tracer_a", "POST", f"/v1/tasks/{task}/release", json={"reason": "换班"})
    world.call("tracer_a2", "POST", f"/v1/tasks/{task}/claim")
    by_supervisor = world.call("sup_d5", "POST", f"/v1/tasks/{task}/release")

    assert released.status_code == 200 and released.json()["status"] == "open"
    assert by_supervisor.status_code == 200 and by_supervisor.json()["claimed_by"] is None


def test_reassign_moves_the_task_and_drops_the_claim(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")

    moved = world.call(
        "sup_d5",
        "POST",
        f"/v1/tasks/{task}/reassign",
        json={"team_id": "T140105002", "reason": "人手不足"},
    )
    claimed = world.call("tracer_b", "POST", "/v1/tasks/claim-next")
    outside = world.call(
        "sup_city", "POST", f"/v1/tasks/{task}/reassign", json={"team_id": "T140106001"}
    )

    assert moved.status_code == 200 and moved.json()["team"] == "T140105002"
    assert claimed.json()["task_id"] == task
    assert outside.status_code == 422 and outside.json()["field"] == "team_id"


# --- what each endpoint answers when the request is wrong ------------------------------------

ENDPOINTS = [
    ("GET", "/v1/tasks", None),
    ("POST", "/v1/tasks/claim-next", None),
    ("GET", "/v1/tasks/{task}", None),
    ("POST", "/v1/tasks/{task}/claim", None),
    ("POST", "/v1/tasks/{task}/notes", {"text": "x"}),
    ("POST", "/v1/tasks/{task}/release", None),
    ("POST", "/v1/tasks/{task}/complete", {"outcome": "cleared"}),
    ("POST", "/v1/tasks/{task}/reassign", {"team_id": "T140105002"}),
    ("GET", "/v1/admin/users", None),
    ("POST", "/v1/admin/users", {"user_id": "new", "role": "feed", "jurisdiction": "140100"}),
    ("POST", "/v1/admin/users/tracer_a/tokens", None),
    ("POST", "/v1/admin/users/feed/revoke", None),
    ("PUT", "/v1/admin/jurisdictions", {"teams": []}),
    ("GET", "/v1/admin/teams", None),
    ("GET", "/v1/me", None),
]


def test_every_endpoint_answers_401_without_a_valid_token(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")
    for method, path, body in ENDPOINTS:
        url = path.format(task=task)
        missing = world.client.request(method, url, json=body)
        wrong = world.client.request(
            method, url, json=body, headers={"Authorization": "Bearer pch_nope"}
        )
        assert missing.status_code == 401, (method, path)
        assert wrong.status_code == 401, (method, path)
        assert missing.headers["WWW-Authenticate"] == "Bearer"
        assert missing.json()["error"] == "unauthenticated"


def test_a_revoked_users_token_stops_working(world: World) -> None:
    assert world.call("tracer_a", "GET", "/v1/me").status_code == 200
    assert world.call("admin_city", "POST", "/v1/admin/users/tracer_a/revoke").status_code == 200
    assert world.call("tracer_a", "GET", "/v1/me").status_code == 401


def test_roles_that_may_not_use_an_endpoint_get_403(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")
    allowed = {
        "tracer": {0, 1, 2, 3, 4, 5, 6, 14},
        "supervisor": {0, 2, 4, 5, 7, 13, 14},
        "admin": {8, 9, 10, 11, 12, 13, 14},
        "feed": {14},
    }
    callers = {"tracer": "tracer_a", "supervisor": "sup_d5", "admin": "admin_city", "feed": "feed"}
    for role, user in callers.items():
        for index, (method, path, body) in enumerate(ENDPOINTS):
            if index in allowed[role]:
                continue
            answer = world.call(user, method, path.format(task=task), json=body)
            assert answer.status_code == 403, (role, method, path, answer.text)
            assert answer.json()["error"] == "forbidden"


def test_a_missing_task_is_404_on_every_task_endpoint(world: World) -> None:
    for method, path, body in ENDPOINTS[2:8]:
        user = "sup_d5" if path.endswith("reassign") else "tracer_a"
        answer = world.call(user, method, path.format(task="no-such-task"), json=body)
        assert answer.status_code == 404, (method, path)
        assert answer.json() == {"error": "not_found", "reason": "no task no-such-task"}


@pytest.mark.parametrize(
    ("setup", "user", "action", "body", "reason"),
    [
        ("open", "tracer_a", "complete", {"outcome": "cleared"}, "unclaimed task"),
        ("open", "tracer_a", "release", None, "unclaimed task"),
        ("open", "tracer_a", "notes", {"text": "x"}, "unclaimed task"),
        ("claimed", "tracer_a2", "complete", {"outcome": "cleared"}, "claimed by tracer_a"),
        ("claimed", "tracer_a2", "claim", None, "claimed by tracer_a"),
        ("claimed", "tracer_b", "claim", None, "assigned to team T140105001"),
        ("completed", "tracer_a", "claim", None, "completed task"),
        ("completed", "sup_d5", "reassign", {"team_id": "T140105002"}, "completed task"),
        ("closed", "tracer_a", "claim", None, "closed upstream (became_case)"),
        ("closed", "sup_d5", "release", None, "closed upstream"),
    ],
)
def test_invalid_transitions_are_409_with_the_reason_and_change_nothing(
    world: World, setup: str, user: str, action: str, body: object, reason: str
) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")
    if setup in ("claimed", "completed"):
        world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")
    if setup == "completed":
        world.call("tracer_a", "POST", f"/v1/tasks/{task}/complete", json={"outcome": "cleared"})
    if setup == "closed":
        world.push_task(
            "p1",
            jurisdiction="140105001001",
            status="closed",
            version=2,
            close_reason="became_case",
        )
    before = world.call("sup_d5", "GET", f"/v1/tasks/{task}").json()

    answer = world.call(user, "POST", f"/v1/tasks/{task}/{action}", json=body)

    assert answer.status_code == 409, answer.text
    assert answer.json()["error"] == "conflict"
    assert reason in answer.json()["reason"]
    after = world.call("sup_d5", "GET", f"/v1/tasks/{task}").json()
    assert {k: v for k, v in after.items() if k != "history"} == {
        k: v for k, v in before.items() if k != "history"
    }
    assert len(after["history"]) == len(before["history"])


def test_an_expired_claim_cannot_complete(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")
    world.clock.advance(timedelta(minutes=31))

    answer = world.call(
        "tracer_a", "POST", f"/v1/tasks/{task}/complete", json={"outcome": "cleared"}
    )

    assert answer.status_code == 409 and "expired" in answer.json()["reason"]


@pytest.mark.parametrize(
    ("user", "method", "path", "body", "field"),
    [
        ("tracer_a", "GET", "/v1/tasks?limit=0", None, "limit"),
        ("tracer_a", "GET", "/v1/tasks?status=lost", None, "status"),
        ("tracer_a", "GET", "/v1/tasks?kind=x", None, "kind"),
        ("tracer_a", "GET", "/v1/tasks?jurisdiction=14", None, "jurisdiction"),
        ("tracer_a", "GET", "/v1/tasks?offset=-1", None, "offset"),
        ("tracer_a", "POST", "/v1/tasks/{task}/complete", {"outcome": "fine"}, "outcome"),
        ("tracer_a", "POST", "/v1/tasks/{task}/complete", {}, "outcome"),
        (
            "tracer_a",
            "POST",
            "/v1/tasks/{task}/complete",
            {"outcome": "cleared", "extra": 1},
            "extra",
        ),
        ("tracer_a", "POST", "/v1/tasks/{task}/notes", {"text": ""}, "text"),
        ("tracer_a", "POST", "/v1/tasks/{task}/release", {"reason": 5}, "reason"),
        ("sup_d5", "POST", "/v1/tasks/{task}/reassign", {}, "team_id"),
        ("sup_d5", "POST", "/v1/tasks/{task}/reassign", {"team_id": "T9"}, "team_id"),
        ("admin_city", "POST", "/v1/admin/users", {"user_id": "x", "role": "boss"}, "role"),
        ("admin_city", "POST", "/v1/admin/users", {"user_id": "x", "role": "tracer"}, "team_id"),
        (
            "admin_city",
            "POST",
            "/v1/admin/users",
            {"user_id": "y", "role": "feed", "jurisdiction": "110000"},
            "jurisdiction",
        ),
        (
            "admin_city",
            "PUT",
            "/v1/admin/jurisdictions",
            {"teams": [{"name": "x"}]},
            "teams.0.team_id",
        ),
    ],
)
def test_bad_input_is_422_naming_the_field(
    world: World, user: str, method: str, path: str, body: object, field: str
) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    task = task_id_for("p1")
    world.call("tracer_a", "POST", f"/v1/tasks/{task}/claim")

    answer = world.call(user, method, path.format(task=task), json=body)

    assert answer.status_code == 422, answer.text
    assert answer.json()["error"] == "invalid_input"
    assert answer.json()["field"] == field
    assert answer.json()["reason"]


def test_docs_are_served_without_any_remote_asset(world: World) -> None:
    page = world.client.get("/docs")
    script = world.client.get("/docs/assets/swagger-ui-bundle.js")
    spec = world.client.get("/openapi.json").json()

    assert page.status_code == 200
    assert "http://" not in page.text and "https://" not in page.text
    assert script.status_code == 200 and len(script.content) > 100_000
    assert "/v1/tasks/claim-next" in spec["paths"]
