"""The supervisors' dashboard and the tracer's page in headless Chromium: what a person sees
must be the database's figures, the page must refresh by itself, reassignment and a tracer's
outcome must work by clicking, and no request may leave the site. Screenshots are saved under
var/test-artifacts/."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from paicha.matching.policy import task_id_for
from services.tracking.db.models import ScreeningTask
from tests.conftest import service_unavailable

from .browser import chromium, chromium_missing, screenshot, serving
from .test_tracking_world import World

pytestmark = pytest.mark.integration

H = timedelta(hours=1)
WAIT_MS = 30_000  # the longest a page may take to show a change (it polls every 5 s)


@pytest.fixture
def browser() -> Iterator[Any]:
    missing = chromium_missing()
    if missing:
        service_unavailable(missing)
    with chromium() as instance:
        yield instance


@pytest.fixture
def site(world: World) -> Iterator[str]:
    with serving(world.client.app) as base:
        yield base


def sign_in(page: Any, base: str, token: str) -> None:
    page.goto(f"{base}/login")
    page.fill("#token", token)
    page.click("button[type=submit]")


def seed(world: World) -> None:
    """A day of one city: done on time, done late, overdue, at risk, on track."""
    world.push_task("p-on-time", jurisdiction="140105001001", due_in=24 * H)
    world.push_task("p-late", jurisdiction="140105002001", due_in=2 * H)
    world.push_task("p-overdue", jurisdiction="140105001001", due_in=4 * H)
    world.push_task("p-risk", jurisdiction="140106001001", kind="area_stay", due_in=7 * H)
    world.push_task("p-fine", jurisdiction="140106001001", kind="area_stay", due_in=48 * H)
    world.clock.advance(H)
    complete(world, "p-on-time", "tracer_a")
    world.clock.advance(2 * H)  # 3 h: p-late's deadline passed an hour ago
    complete(world, "p-late", "tracer_b")
    world.clock.advance(3 * H)  # 6 h: p-overdue past due, p-risk past 75 % of 7 h


def complete(world: World, person: str, tracer: str) -> None:
    task = task_id_for(person)
    assert world.call(tracer, "POST", f"/v1/tasks/{task}/claim").status_code == 200
    done = world.call(tracer, "POST", f"/v1/tasks/{task}/complete", json={"outcome": "cleared"})
    assert done.status_code == 200


def watch_requests(page: Any, base: str) -> list[str]:
    """Every URL the page asks for that is not this site's (must stay empty)."""
    outside: list[str] = []
    page.on(
        "request",
        lambda request: None if request.url.startswith(base) else outside.append(request.url),
    )
    return outside


def test_the_dashboard_shows_the_databases_figures_refreshes_and_reassigns(
    world: World, site: str, browser: Any
) -> None:
    seed(world)
    report = world.call("sup_city", "GET", "/v1/compliance").json()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside = watch_requests(page, site)

    sign_in(page, site, world.tokens["sup_city"])
    page.wait_for_url(f"{site}/dashboard")

    totals = report["totals"]
    assert (totals["open"], totals["at_risk"], totals["overdue"]) == (3, 1, 1)
    assert page.text_content("#tile-open") == "3"
    assert page.text_content("#tile-at_risk") == "1"
    assert page.text_content("#tile-overdue") == "1"
    assert page.text_content("#tile-completed_on_time") == "1"
    assert page.text_content("#tile-completed_late") == "1"
    # p-on-time met its deadline; p-late and p-overdue missed theirs: 1 of 3.
    assert page.text_content("#tile-on_time_rate") == "33.3 %"
    chart = page.evaluate(
        "() => window.paichaChart.data.datasets.map(d => ({label: d.label, data: d.data}))"
    )
    assert chart[0]["data"] == [row["backlog"] for row in report["hourly"]]
    assert chart[1]["data"] == [row["backlog_overdue"] for row in report["hourly"]]
    assert chart[2]["data"] == [row["backlog_at_risk"] for row in report["hourly"]]
    assert chart[2]["data"][-1] == 1 and chart[1]["data"][-1] == 1
    assert max(chart[0]["data"]) == 5
    overdue_rows = page.locator("#rows-overdue tr[data-task]")
    assert overdue_rows.count() == 1
    assert overdue_rows.first.get_attribute("data-task") == task_id_for("p-overdue")
    assert page.locator("#rows-at_risk tr[data-task]").first.get_attribute(
        "data-task"
    ) == task_id_for("p-risk")
    screenshot(page, "dashboard")

    # Live: a new task pushed behind the page's back shows up without a reload.
    world.push_task("p-new", jurisdiction="140105002001", due_in=24 * H)
    page.wait_for_function(
        "() => document.getElementById('tile-open').textContent === '4'", timeout=WAIT_MS
    )

    # Reassign the overdue task to the city's duty team, by clicking.
    row = page.locator(f"#rows-overdue tr[data-task='{task_id_for('p-overdue')}']")
    row.locator("select[name=team_id]").select_option("T140100")
    row.locator("button[type=submit]").click()
    page.wait_for_selector(".notice")
    assert "reassigned" in (page.text_content(".notice") or "")
    with world.database.transaction() as session:
        team = session.scalar(
            select(ScreeningTask.team).where(ScreeningTask.task_id == task_id_for("p-overdue"))
        )
    assert team == "T140100"
    assert outside == []


def test_a_tracer_claims_reads_the_evidence_and_records_an_outcome_in_the_browser(
    world: World, site: str, browser: Any
) -> None:
    world.push_person("p1", "140105001001", name="李四")
    world.push_task("p1", jurisdiction="140105001001", due_in=12 * H)
    world.push_task("p2", jurisdiction="140105001001", due_in=24 * H)
    task = task_id_for("p1")
    page = browser.new_page(viewport={"width": 1100, "height": 800})
    outside = watch_requests(page, site)

    sign_in(page, site, world.tokens["tracer_a"])
    page.wait_for_url(f"{site}/tracer")
    assert page.text_content("#queue-total") == "2"
    assert page.locator("#queue tbody tr").count() == 2
    screenshot(page, "tracer-queue")

    page.click("#claim-next")
    page.wait_for_url(f"{site}/tracer/tasks/{task}")
    assert "李四" in (page.text_content("#contact") or "")
    evidence = page.text_content("#evidence") or ""
    assert "c1" in evidence and "8831aa5ac9fffff" in evidence
    page.select_option("#outcome", "central_quarantine")
    page.fill("#note", "sent to the quarantine hotel")
    screenshot(page, "tracer-task")
    page.click("#complete button[type=submit]")
    page.wait_for_url(f"{site}/tracer?done=*")

    assert page.text_content("#queue-total") == "1"
    with world.database.transaction() as session:
        row = session.get_one(ScreeningTask, task)
        assert (row.status, row.outcome) == ("completed", "central_quarantine")
    assert outside == []
