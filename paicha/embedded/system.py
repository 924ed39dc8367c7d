"""The embedded system assembled: database, processor state, bus, runtime, tracking service.

``build_system`` is the one place ``paicha run`` turns settings into parts (the tests build it
too); ``runner`` adds the city, uvicorn, the relay loop and Ctrl-C around it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from paicha.embedded.runtime import Runtime
from paicha.embedded.sinks import (
    BusFeedSink,
    BusPublisher,
    OutboxRelay,
    TopicFile,
    TrackingSink,
)
from paicha.embedded.store import StateStore
from paicha.embedded.topology import build_bus
from paicha.settings import Settings
from services.tracking.api.service import TrackingService
from services.tracking.bootstrap import ingest_limits
from services.tracking.db.migrate import upgrade
from services.tracking.db.session import Database
from services.tracking.intake import FeedIntake
from streams.topics import TopicNames

STATE_FILE = "streams.sqlite3"
TOPICS_DIR = "topics"  # a file per topic nothing in the process reads: dead letters…


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class System:
    """The parts of a running embedded system; ``start`` then ``stop`` once."""

    names: TopicNames
    database: Database
    store: StateStore
    runtime: Runtime
    service: TrackingService
    relay: OutboxRelay

    def start(self) -> None:
        self.runtime.start()

    def stop(self) -> None:
        """Finish queued chunks, checkpoint, close the files."""
        self.runtime.stop()
        self.store.close()
        self.database.dispose()


def build_system(settings: Settings, *, clock: Callable[[], datetime] = utc_now) -> System:
    """Migrate the database and wire everything; nothing runs until ``start``."""
    upgrade(settings.database_url)
    database = Database(url=settings.database_url, claim_connections=settings.claim_connections)
    names = TopicNames(settings.topic_prefix)
    store = StateStore(settings.embedded_dir / STATE_FILE)
    tracking = TrackingSink(database=database, clock=clock, tasks_topic=names.screening_tasks)
    bus = build_bus(
        names=names,
        params=settings.match_params(),
        partitions=settings.partitions,
        store=store,
        sinks={names.persons: tracking, names.screening_tasks: tracking},
        unread=lambda topic: TopicFile(settings.embedded_dir / TOPICS_DIR / f"{topic}.jsonl"),
    )
    runtime = Runtime(bus=bus, store=store)
    relay = OutboxRelay(
        database=database,
        publisher=BusPublisher(runtime, prefix=settings.topic_prefix),
        clock=clock,
    )
    service = TrackingService(
        database=database,
        clock=clock,
        lease=timedelta(minutes=settings.claim_lease_minutes),
        at_risk_fraction=settings.at_risk_fraction,
        relay=relay,
        intake=FeedIntake(
            sink=BusFeedSink(runtime, prefix=settings.topic_prefix),
            limits=ingest_limits(settings),
        ),
    )
    return System(names, database, store, runtime, service, relay)
