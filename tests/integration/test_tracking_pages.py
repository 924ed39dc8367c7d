"""The supervisors' dashboard and the tracers' page over HTTP (no browser): signing in, who may
see which page, CSRF on every change, the same scoping and audit as the API, and nothing loaded
from outside the site. tests/integration/test_tracking_browser.py opens them in Chromium."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from paicha.matching.policy import task_id_for
from services.tracking.db.models import AuditEntry, ScreeningTask

from .test_tracking_world import World

pytestmark = pytest.mark.integration

H = timedelta(hours=1)


def sign_in(world: World, user: str) -> None:
    response = world.client.post(
        "/login", data={"token": world.tokens[user]}, follow_redirects=False
    )
    assert response.status_code == 303, response.text


def csrf(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([0-9a-f]+)"', html)
    assert match, "the page has no form with a CSRF token"
    return match.group(1)


def test_pages_need_signing_in(world: World) -> None:
    for path in ("/dashboard", "/dashboard/live", "/tracer", "/tracer/tasks/x"):
        response = world.client.get(path, follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == f"/login?next={path}"


def test_signing_in_sets_an_httponly_strict_cookie_and_goes_to_the_roles_page(
    world: World,
) -> None:
    supervisor = world.client.post(
        "/login", data={"token": world.tokens["sup_city"]}, follow_redirects=False
    )
    cookie = supervisor.headers["set-cookie"]

    assert supervisor.headers["location"] == "/dashboard"
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    tracer = world.client.post(
        "/login",
        data={"token": world.tokens["tracer_a"], "next": "//elsewhere.example/x"},
        follow_redirects=False,
    )
    assert tracer.headers["location"] == "/tracer"  # never a redirect off the site


def test_a_wrong_token_or_a_role_without_pages_is_refused(world: World) -> None:
    wrong = world.client.post("/login", data={"token": "nope"})
    admin = world.client.post("/login", data={"token": world.tokens["admin_city"]})

    assert wrong.status_code == 401 and "unknown or revoked token" in wrong.text
    assert admin.status_code == 401 and "tracers and supervisors" in admin.text


def test_each_role_sees_only_its_page(world: World) -> None:
    sign_in(world, "tracer_a")
    assert world.client.get("/dashboard").status_code == 403
    sign_in(world, "sup_city")
    assert world.client.get("/tracer").status_code == 403


def test_the_dashboard_shows_the_databases_figures_and_lists(world: World) -> None:
    world.push_task("p-overdue", jurisdiction="140105001001", due_in=2 * H)
    world.push_task("p-risk", jurisdiction="140106001001", due_in=24 * H)
    world.push_task("p-fine", jurisdiction="140105002001", due_in=48 * H)
    world.clock.advance(19 * H)
    sign_in(world, "sup_city")

    html = world.client.get("/dashboard").text
    live = world.client.get("/dashboard/live").json()

    assert re.search(r'id="tile-open">3<', html)
    assert re.search(r'id="tile-at_risk">1<', html)
    assert re.search(r'id="tile-overdue">1<', html)
    assert task_id_for("p-overdue")[:8] in html.split('id="list-overdue"')[1].split("</table>")[0]
    assert task_id_for("p-risk")[:8] in html.split('id="list-at_risk"')[1].split("</table>")[0]
    assert live["tiles"]["open"] == "3" and live["totals"] == {"at_risk": 1, "overdue": 1}
    assert task_id_for("p-risk") in live["rows"]["at_risk"]
    assert "p-overdue" not in html  # no person ids: polling the dashboard reads no personal data
    areas = html.split('id="rows-areas"')[1].split("</tbody>")[0]
    assert "140105 小店区" in areas and "140106 迎泽区" in areas
    assert "迎泽区" in live["rows"]["areas"]


def test_a_district_supervisors_dashboard_holds_only_their_district(world: World) -> None:
    world.push_task("p5", jurisdiction="140105001001", due_in=2 * H)
    world.push_task("p6", jurisdiction="140106001001", due_in=2 * H)
    world.clock.advance(3 * H)
    sign_in(world, "sup_d6")

    html = world.client.get("/dashboard").text

    assert task_id_for("p6")[:8] in html and task_id_for("p5")[:8] not in html


def test_reassigning_from_the_dashboard_needs_the_forms_csrf_token(world: World) -> None:
    world.push_task("p1", jurisdiction="140105001001", due_in=2 * H)
    world.clock.advance(3 * H)
    task = task_id_for("p1")
    sign_in(world, "sup_city")
    token = csrf(world.client.get("/dashboard").text)

    forged = world.client.post(
        f"/dashboard/tasks/{task}/reassign", data={"team_id": "T140100", "csrf_token": "0" * 64}
    )
    done = world.client.post(
        f"/dashboard/tasks/{task}/reassign",
        data={"team_id": "T140100", "csrf_token": token},
        follow_redirects=False,
    )
    elsewhere = world.client.post(
        f"/dashboard/tasks/{task}/reassign", data={"team_id": "T999", "csrf_token": token}
    )

    assert forged.status_code == 403
    assert done.status_code == 303 and done.headers["location"].startswith("/dashboard?done=")
    assert elsewhere.status_code == 422 and "team_id" in elsewhere.text
    with world.database.transaction() as session:
        assert session.get_one(ScreeningTask, task).team == "T140100"
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == "sup_city")
        ).all()
    assert actions == ["reassign"]


def test_a_tracer_claims_next_reads_the_evidence_and_records_an_outcome(world: World) -> None:
    world.push_person("p1", "140105001001", name="李四")
    world.push_task("p1", jurisdiction="140105001001", due_in=12 * H)
    world.push_task("p2", jurisdiction="140105001001", due_in=24 * H)
    task = task_id_for("p1")
    sign_in(world, "tracer_a")
    queue = world.client.get("/tracer").text
    token = csrf(queue)

    claimed = world.client.post("/tracer/claim-next", data={"csrf_token": token})
    completed = world.client.post(
        f"/tracer/tasks/{task}/complete",
        data={"outcome": "home_quarantine", "note": "reached by phone", "csrf_token": token},
        follow_redirects=False,
    )
    bad = world.client.post(
        f"/tracer/tasks/{task_id_for('p2')}/complete",
        data={"outcome": "vanished", "csrf_token": token},
    )

    assert task[:8] in queue and task_id_for("p2")[:8] in queue
    assert claimed.url.path == f"/tracer/tasks/{task}"
    assert "李四" in claimed.text and "13800000000" in claimed.text
    assert "c1" in claimed.text and "8831aa5ac9fffff" in claimed.text  # the evidence
    assert completed.status_code == 303
    assert bad.status_code == 422 and "outcome" in bad.text
    with world.database.transaction() as session:
        row = session.get_one(ScreeningTask, task)
        assert (row.status, row.outcome) == ("completed", "home_quarantine")
        actions = session.scalars(
            select(AuditEntry.action).where(AuditEntry.actor == "tracer_a").order_by(AuditEntry.id)
        ).all()
    assert actions[-3:] == ["claim_next", "read_task", "complete"]


def test_a_tracer_sees_no_contact_details_without_the_claim_and_no_other_teams_task(
    world: World,
) -> None:
    world.push_person("p1", "140105001001", name="李四")
    world.push_task("p1", jurisdiction="140105001001")
    world.push_task("p3", jurisdiction="140106001001")
    sign_in(world, "tracer_a")

    page = world.client.get(f"/tracer/tasks/{task_id_for('p1')}")
    foreign = world.client.get(f"/tracer/tasks/{task_id_for('p3')}")

    assert page.status_code == 200 and "李四" not in page.text and "13800000000" not in page.text
    assert foreign.status_code == 404


@pytest.mark.parametrize("user", ["sup_city", "tracer_a"])
def test_pages_load_nothing_from_outside_the_site(world: World, user: str) -> None:
    world.push_task("p1", jurisdiction="140105001001")
    sign_in(world, user)
    paths = ["/login", "/dashboard" if user == "sup_city" else "/tracer"]
    if user == "tracer_a":
        paths.append(f"/tracer/tasks/{task_id_for('p1')}")

    for path in paths:
        html = world.client.get(path).text
        references = re.findall(r'(?:src|href|action)="([^"]*)"', html)
        assert references, path
        assert all(ref.startswith("/") and not ref.startswith("//") for ref in references), path
    assert world.client.get("/static/vendor/chart.umd.min.js").status_code == 200
