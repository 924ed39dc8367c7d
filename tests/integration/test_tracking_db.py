"""The tracking service's database foundation on a real PostgreSQL (and on SQLite, its twin).

Migrations must build exactly the schema the models declare, on both databases the service runs
on; a task must come back as it went in (evidence as JSON, times as aware UTC); and the
consumed-records key must reject a replay, since idempotent ingestion rests on it.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Column, Engine, MetaData, Text, create_engine, inspect, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.orm import Session

from services.tracking.db.migrate import downgrade, upgrade
from services.tracking.db.models import Base, ConsumedRecord, ScreeningTask

pytestmark = pytest.mark.integration

BEIJING = timezone(timedelta(hours=8))


@pytest.fixture(params=["postgresql", "sqlite"])
def migrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh database of each kind, upgraded to the newest migration."""
    if request.param == "postgresql":
        url: str = request.getfixturevalue("empty_database_url")
    else:
        url = f"sqlite:///{tmp_path / 'tracking.sqlite3'}"
    upgrade(url)
    return url


@pytest.fixture
def engine(migrated_url: str) -> Iterator[Engine]:
    engine = create_engine(migrated_url)
    try:
        yield engine
    finally:
        engine.dispose()


def schema_differences(engine: Engine, metadata: MetaData) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, metadata))


def a_task(**changes: object) -> ScreeningTask:
    fields: dict[str, object] = {
        "task_id": "task-p1-1",
        "person_id": "p1",
        "kind": "co_located",
        "status": "open",
        "detected_at": datetime(2021, 12, 7, 8, 30, tzinfo=BEIJING),
        "due_at": datetime(2021, 12, 8, 8, 30, tzinfo=BEIJING),
        "jurisdiction": "330106",
        "team": "330106001",
        "evidence": [
            {
                "kind": "co_located",
                "case_id": "case-7",
                "cell": "8831aa5ac9fffff",
                "overlap_start": "2021-12-06T01:00:00Z",
                "overlap_end": "2021-12-06T01:40:00Z",
                "note": "西湖区 菜市场",
            }
        ],
    }
    fields.update(changes)
    return ScreeningTask(**fields)


def test_migrations_build_exactly_the_declared_schema(engine: Engine) -> None:
    assert schema_differences(engine, Base.metadata) == []


def test_schema_comparison_notices_a_column_the_migrations_lack(engine: Engine) -> None:
    # Guards the test above: the comparison must be able to fail at all.
    drifted = MetaData(naming_convention=Base.metadata.naming_convention)
    for table in Base.metadata.tables.values():
        table.to_metadata(drifted)
    drifted.tables["screening_tasks"].append_column(Column("priority", Text(), nullable=True))

    differences = schema_differences(engine, drifted)

    assert [(diff[0], diff[3].name) for diff in differences if isinstance(diff, tuple)] == [
        ("add_column", "priority")
    ]


def test_task_round_trips_with_json_evidence_and_utc_times(engine: Engine) -> None:
    written = a_task()
    with Session(engine) as session:
        session.add(written)
        session.commit()

    with Session(engine) as session:
        task = session.get_one(ScreeningTask, "task-p1-1")
        assert task.evidence == a_task().evidence
        assert task.detected_at == datetime(2021, 12, 7, 0, 30, tzinfo=UTC)
        assert task.detected_at.utcoffset() == timedelta(0)
        assert task.due_at - task.detected_at == timedelta(hours=24)
        assert (task.claimed_at, task.outcome, task.version) == (None, None, 1)


def test_postgresql_stores_evidence_as_jsonb_and_times_as_timestamptz(
    empty_database_url: str,
) -> None:
    upgrade(empty_database_url)
    engine = create_engine(empty_database_url)
    try:
        with Session(engine) as session:
            session.add(a_task())
            session.commit()
            evidence_type = session.scalar(
                text("SELECT jsonb_typeof(evidence) FROM screening_tasks")
            )
        columns = {
            column["name"]: column["type"]
            for column in inspect(engine).get_columns("screening_tasks")
        }
    finally:
        engine.dispose()
    assert evidence_type == "array"
    assert type(columns["evidence"]).__name__ == "JSONB"
    assert getattr(columns["due_at"], "timezone", False) is True


def test_naive_times_are_refused(engine: Engine) -> None:
    with Session(engine) as session:
        session.add(a_task(due_at=datetime(2021, 12, 8, 8, 30)))
        with pytest.raises(StatementError, match="naive datetime"):
            session.commit()


def test_a_consumed_record_cannot_be_recorded_twice(engine: Engine) -> None:
    def consumed() -> ConsumedRecord:
        return ConsumedRecord(
            topic="screening-tasks",
            record_id="task-p1-1:v1",
            kafka_partition=0,
            kafka_offset=41,
            consumed_at=datetime.now(UTC),
        )

    with Session(engine) as session:
        session.add(consumed())
        session.commit()
    with Session(engine) as session:
        session.add(consumed())
        with pytest.raises(IntegrityError):
            session.commit()


def test_downgrade_to_base_removes_every_table(migrated_url: str) -> None:
    downgrade(migrated_url)
    engine = create_engine(migrated_url)
    try:
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    finally:
        engine.dispose()


@pytest.mark.parametrize("statement", ["UPDATE {t} SET action = 'x'", "DELETE FROM {t}"])
@pytest.mark.parametrize("table", ["task_history", "audit_log"])
def test_history_and_audit_log_are_append_only(engine: Engine, table: str, statement: str) -> None:
    with Session(engine) as session:
        session.add(a_task())
        session.flush()
        session.execute(
            text(
                "INSERT INTO task_history (task_id, at, actor, action, details) "
                "VALUES ('task-p1-1', '2021-12-07 00:00:00+00:00', NULL, 'created', '{}')"
            )
        )
        session.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, target, details) "
                "VALUES ('2021-12-07 00:00:00+00:00', 'u', 'read_task', 't', '{}')"
            )
        )
        session.commit()
    with Session(engine) as session, pytest.raises(Exception, match="append-only"):
        session.execute(text(statement.format(t=table)))
