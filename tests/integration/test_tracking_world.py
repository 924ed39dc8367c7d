"""A small tracking world for the tracking-service tests: no tests of its own.

Two districts of one city, three street teams and the city's duty team, and one user of every
role at several levels, each with a bearer token. Tasks and persons are pushed through the same
handlers the Kafka consumer calls, so tests of the API need no broker.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from paicha.matching.policy import task_id_for
from schemas.feeds import PersonRecord
from schemas.tasks import ScreeningTask as TaskRecord
from services.tracking import jurisdictions, users
from services.tracking.api.app import create_app
from services.tracking.bootstrap import build_service
from services.tracking.db.migrate import upgrade
from services.tracking.db.session import Database
from services.tracking.ingest import coverage_map
from services.tracking.outbox import MemoryPublisher
from services.tracking.upstream import Source, apply_person, apply_task

T0 = datetime(2021, 12, 7, 0, 0, tzinfo=UTC)

DEMO = {
    "province": {
        "code": "140000",
        "name": "山西省",
        "cities": [
            {
                "code": "140100",
                "name": "太原市",
                "districts": [
                    {
                        "code": "140105",
                        "name": "小店区",
                        "communities": [
                            {"code": "140105001001", "name": "平阳里社区", "street": "坞城街道"},
                            {"code": "140105002001", "name": "康宁社区", "street": "营盘街道"},
                        ],
                    },
                    {
                        "code": "140106",
                        "name": "迎泽区",
                        "communities": [
                            {"code": "140106001001", "name": "朝阳园社区", "street": "柳巷街道"}
                        ],
                    },
                ],
            }
        ],
    },
    "teams": [
        {
            "team_id": "T140105001",
            "name": "坞城",
            "jurisdiction": "140105",
            "communities": ["140105001001"],
        },
        {
            "team_id": "T140105002",
            "name": "营盘",
            "jurisdiction": "140105",
            "communities": ["140105002001"],
        },
        {
            "team_id": "T140106001",
            "name": "柳巷",
            "jurisdiction": "140106",
            "communities": ["140106001001"],
        },
        {"team_id": "T140100", "name": "太原市专班", "jurisdiction": "140100", "communities": []},
    ],
}

# user id → (role, jurisdiction, team)
USERS: dict[str, tuple[str, str | None, str | None]] = {
    "tracer_a": ("tracer", None, "T140105001"),
    "tracer_a2": ("tracer", None, "T140105001"),
    "tracer_b": ("tracer", None, "T140105002"),
    "tracer_c": ("tracer", None, "T140106001"),
    "tracer_city": ("tracer", None, "T140100"),
    "sup_city": ("supervisor", "140100", None),
    "sup_d5": ("supervisor", "140105", None),
    "sup_d6": ("supervisor", "140106", None),
    "admin_city": ("admin", "140100", None),
    "admin_d6": ("admin", "140106", None),
    "feed": ("feed", "140100", None),
}


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


@dataclass
class World:
    database: Database
    client: TestClient
    clock: Clock
    publisher: MemoryPublisher
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, user: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def call(self, user: str | None, method: str, path: str, **kwargs: Any) -> Any:
        headers = self.headers(user) if user else {}
        return self.client.request(method, path, headers=headers, **kwargs)

    def push_person(self, person_id: str, residence: str, name: str = "张三") -> None:
        record = PersonRecord(
            person_id=person_id, residence_code=residence, name=name, phone="13800000000"
        )
        with self.database.transaction() as session:
            apply_person(
                session,
                record,
                source=Source("persons"),
                record_id=uuid.uuid4().hex,
                coverage=coverage_map(session),
                now=self.clock(),
            )

    def push_task(self, person_id: str, **fields: Any) -> str:
        """Push one screening-tasks record through the ingestion handler; returns its action."""
        record = task_record(person_id, **fields)
        with self.database.transaction() as session:
            action = apply_task(
                session,
                TaskRecord.model_validate(record),
                source=Source("screening-tasks"),
                coverage=coverage_map(session),
                now=self.clock(),
            )
        return str(action)


def task_record(
    person_id: str,
    *,
    jurisdiction: str | None = None,
    kind: str = "co_located",
    status: str = "open",
    version: int = 1,
    due_in: timedelta = timedelta(hours=24),
    detected_at: datetime = T0,
    exposure_city: str = "140100",
    close_reason: str | None = None,
) -> dict[str, Any]:
    """A screening-tasks record as the stream processors publish it."""
    evidence = {
        "kind": kind,
        "overlap_start": "2021-12-06T01:00:00Z",
        "overlap_end": "2021-12-06T01:40:00Z",
        "detected_at": detected_at.isoformat(),
        "exposure_city": exposure_city,
    }
    if kind == "city_visit":
        evidence.update(city_code=exposure_city, hazard="case:c1")
    else:
        evidence.update(
            {"case_id" if kind == "co_located" else "area_id": "c1", "cell": "8831aa5ac9fffff"}
        )
    return {
        "task_id": task_id_for(person_id),
        "person_id": person_id,
        "kind": kind,
        "status": status,
        "detected_at": detected_at.isoformat(),
        "due_at": (detected_at + due_in).isoformat(),
        "jurisdiction": jurisdiction,
        "team": None,
        "evidence": [evidence],
        "version": version,
        "close_reason": close_reason,
    }


def build_world(url: str, *, lease: timedelta = timedelta(minutes=30)) -> World:
    """Migrate ``url``, load the demo tree and users, and build the app on it."""
    upgrade(url)
    database = Database(url=url, pool_size=5)
    clock = Clock(T0)
    publisher = MemoryPublisher()
    tokens: dict[str, str] = {}
    with database.transaction() as session:
        jurisdictions.load(session, DEMO, actor=None, now=clock())
        for user_id, (role, code, team) in USERS.items():
            users.add_user(
                session,
                user_id=user_id,
                role=role,
                jurisdiction=code,
                team_id=team,
                name=None,
                actor=None,
                now=clock(),
            )
            tokens[user_id] = users.issue_token(
                session, user_id, label=None, actor=None, now=clock()
            )
    service = build_service(database=database, lease=lease, publisher=publisher, clock=clock)
    client = TestClient(create_app(service))
    return World(database, client, clock, publisher, tokens)
