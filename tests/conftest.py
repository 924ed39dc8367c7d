"""Real services for the tests that need them: a Kafka broker and a PostgreSQL database.

Each comes, in order of preference, from:

1. the environment (`KAFKA_BOOTSTRAP_SERVERS`, a PostgreSQL `DATABASE_URL`): servers you already
   run, e.g. with `make kafka` / `make postgres` in another shell, which saves every run's start-up;
2. testcontainers, when a Docker engine answers a ping;
3. local processes started from `infra/` (Kafka jars from Maven Central, Debian's PostgreSQL).

Each is started at most once per session, and only when a test asks for it, so unit runs
(`-m "not integration and not e2e"`) start nothing. When `CI=true`, a service that cannot be had
fails the tests that need it: CI must never go green by skipping the real-service tests. Outside
CI they are skipped with the reason, so a laptop without Java still runs everything else.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import NoReturn, Protocol, TypeVar

import pytest
from sqlalchemy import make_url

from infra.docker import docker_engine_available
from infra.kafka import KafkaBroker
from infra.postgres import PostgresCluster
from infra.process import InfraError


class _Startable(Protocol):
    def start(self) -> object: ...


Service = TypeVar("Service", bound=_Startable)

KAFKA_IMAGE = "confluentinc/cp-kafka:7.6.0"
POSTGRES_IMAGE = "postgres:15"


def running_in_ci() -> bool:
    """CI sets CI=true (so do most hosted CI systems); there, a missing service is a failure."""
    return os.environ.get("CI", "").strip().lower() in {"true", "1", "yes"}


def service_unavailable(reason: str) -> NoReturn:
    """Fail in CI, skip elsewhere, with the same reason either way."""
    if running_in_ci():
        pytest.fail(f"CI=true, so real-service tests must run, not skip: {reason}", pytrace=False)
    pytest.skip(reason)


def start_or_give_up(service: Service, what: str) -> Service:
    """Start a local service; when it cannot start, fail (CI) or skip with its log's tail."""
    try:
        service.start()
        return service
    except InfraError as error:
        reason = f"no {what}: {error}"
    # Outside the except block, so the report is the reason and not a chained traceback.
    service_unavailable(reason)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`host:port` of a real Kafka broker for this test session."""
    from_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if from_env:
        yield from_env
        return
    if docker_engine_available():
        yield from _kafka_container()
        return
    # The broker's folder (and its log) lives under pytest's temp root, which keeps the last
    # few sessions: after a failure the broker's log is still there to read.
    broker = start_or_give_up(KafkaBroker(workdir=tmp_path_factory.mktemp("kafka")), "Kafka broker")
    try:
        yield broker.bootstrap_servers
    finally:
        broker.stop()


@pytest.fixture(scope="session")
def database_url() -> Iterator[str]:
    """SQLAlchemy URL (`postgresql+psycopg2://...`) of a real PostgreSQL database."""
    from_env = _postgres_url_from_env()
    if from_env:
        yield from_env
        return
    if docker_engine_available():
        yield from _postgres_container()
        return
    cluster = start_or_give_up(PostgresCluster(), "PostgreSQL server")
    try:
        yield cluster.url
    finally:
        cluster.stop()


def _postgres_url_from_env() -> str | None:
    """`DATABASE_URL` when it names a PostgreSQL server, with the psycopg2 driver spelled out.

    The app reads the same variable, and for the embedded runtime it may name SQLite: these
    tests claim PostgreSQL behaviour, so a SQLite URL there means "start a server for the tests".
    A URL without a driver gets psycopg2, since SQLAlchemy 2.1 would pick psycopg 3.
    """
    raw = os.environ.get("DATABASE_URL", "").strip()
    if not raw:
        return None
    url = make_url(raw.replace("postgres://", "postgresql://", 1))
    if url.get_backend_name() != "postgresql":
        return None
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg2")
    return url.render_as_string(hide_password=False)


def _kafka_container() -> Iterator[str]:
    try:
        from testcontainers.community.kafka import KafkaContainer
    except ImportError:  # testcontainers before the "community" split
        from testcontainers.kafka import KafkaContainer

    with KafkaContainer(KAFKA_IMAGE).with_kraft() as container:
        yield container.get_bootstrap_server()


def _postgres_container() -> Iterator[str]:
    try:
        from testcontainers.community.postgres import PostgresContainer
    except ImportError:  # testcontainers before the "community" split
        from testcontainers.postgres import PostgresContainer

    with PostgresContainer(POSTGRES_IMAGE, driver="psycopg2") as container:
        yield container.get_connection_url()


def pytest_configure(config: pytest.Config) -> None:
    # kafka-python 3.x loads its protocol schemas with importlib.resources' legacy calls, about a
    # hundred warnings per session that would bury the project's own.
    config.addinivalue_line(
        "filterwarnings", "ignore:(read_text|open_text) is deprecated:DeprecationWarning"
    )
