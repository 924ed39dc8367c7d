"""The embedded system in-process (as ``paicha run`` builds it, without uvicorn): a tracer's
``tested_positive`` goes through the outbox onto the bus, the stream processors make the person
a case, and the task's closing comes back to the tracking service, with no lock held across it;
HTTP ingestion's records reach the processors."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient

from paicha.embedded.demo import ensure_demo_users
from paicha.embedded.feeder import feed_city
from paicha.embedded.system import System, build_system, utc_now
from paicha.settings import Settings
from paicha.simulate import SimulationConfig, simulate_city
from services.tracking import users
from services.tracking.api.app import create_app


@dataclass
class Embedded:
    system: System
    client: TestClient
    tokens: dict[str, str]

    def call(self, role: str, method: str, path: str, **kwargs: Any) -> Any:
        headers = {"Authorization": f"Bearer {self.tokens[role]}"}
        return self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    simulate_city(SimulationConfig(out_dir=folder, persons=150, days=1, seed=11))
    return folder


@pytest.fixture
def embedded(city: Path, tmp_path: Path) -> Iterator[Embedded]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'paicha.sqlite3'}",
        embedded_dir=tmp_path / "embedded",
        partitions=4,
    )
    system = build_system(settings)
    system.start()
    try:
        demo = ensure_demo_users(system.database, settings.embedded_dir, city, now=utc_now())
        feed_city(system.runtime, city, names=system.names, rate=0)
        tokens = {role: token for role, (_, token) in demo.items()}
        with TestClient(create_app(system.service)) as client:
            yield Embedded(system, client, tokens)
    finally:
        system.stop()


def test_a_positive_test_comes_back_round_the_bus_and_the_bus_keeps_going(
    embedded: Embedded,
) -> None:
    queue = embedded.call("supervisor", "GET", "/v1/tasks?limit=1").json()
    task = queue["items"][0]
    with embedded.system.database.transaction() as session:
        now = utc_now()
        users.add_user(session, user_id="t2", role="tracer", jurisdiction=None,
                       team_id=task["team"], name=None, actor=None, now=now)  # fmt: skip
        embedded.tokens["t2"] = users.issue_token(session, "t2", label=None, actor=None, now=now)

    claimed = embedded.call("t2", "POST", f"/v1/tasks/{task['task_id']}/claim")
    done = embedded.call(
        "t2", "POST", f"/v1/tasks/{task['task_id']}/complete", json={"outcome": "tested_positive"}
    )
    detail = embedded.call("supervisor", "GET", f"/v1/tasks/{task['task_id']}").json()

    assert claimed.status_code == 200 and done.status_code == 200
    actions = [entry["action"] for entry in detail["history"]]
    assert "case_reported" in actions
    assert actions[-1] == "upstream_noted", "the processors closed the new case's task"
    assert embedded.system.runtime.failure is None


def test_records_posted_over_http_reach_the_stream_processors(embedded: Embedded) -> None:
    ping = {
        "event_id": "http-1",
        "person_id": "P-http",
        "lat": 37.87,
        "lon": 112.55,
        "observed_at": "2021-12-01T09:00:00+08:00",
    }
    answer = embedded.call("feed", "POST", "/ingest/trajectories", content=orjson.dumps([ping]))
    assert answer.status_code == 200 and answer.json()["accepted"] == 1
    tracks = embedded.system.runtime.bus.nodes[0].state
    assert tracks is not None and "P-http" in tracks.live()
