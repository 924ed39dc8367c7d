"""Integration tests: one real adapter at a time, against the real broker or database.

Every test under this folder is marked `integration` here, so none can forget the mark and leak
into the fast unit run (`pytest -m "not integration and not e2e"`). The services themselves come
from the session fixtures in `tests/conftest.py`; this file adds per-test isolation on top.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from infra.postgres import scratch_database
from tests.integration.test_tracking_world import World, build_world

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in item.path.resolve().parents:
            item.add_marker(pytest.mark.integration)


@pytest.fixture
def empty_database_url(database_url: str) -> Iterator[str]:
    """A brand-new, empty database on the session's PostgreSQL server, dropped after the test.

    Migration tests need a database with no tables in it, and tests must not see each other's
    rows; creating a database takes milliseconds, far less than a new server.
    """
    with scratch_database(database_url, "test") as url:
        yield url


@pytest.fixture
def topic_suffix() -> str:
    """A suffix that makes this test's topic and group names its own on a shared broker."""
    return uuid.uuid4().hex[:10]


@pytest.fixture
def world(empty_database_url: str) -> Iterator[World]:
    """A tracking service on a fresh database, with its jurisdictions, teams and users."""
    world = build_world(empty_database_url)
    try:
        yield world
    finally:
        world.client.close()
        world.database.dispose()
