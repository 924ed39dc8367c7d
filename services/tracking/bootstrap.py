"""The tracking service's one wiring place: settings in, a running service out.

Only this module (and the ``paicha serve``/``paicha users`` commands that call it) reads settings;
everything else is handed its adapters. ``serve`` migrates the database, builds the app, starts
the Kafka ingestion consumer and the outbox relay in background threads when a broker is
configured (``KAFKA_BOOTSTRAP_SERVERS``), and runs uvicorn until interrupted.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from paicha.settings import Settings
from services.tracking.api.app import create_app
from services.tracking.api.service import TrackingService
from services.tracking.db.migrate import upgrade
from services.tracking.db.session import Database
from services.tracking.deadlines import DEFAULT_AT_RISK_FRACTION
from services.tracking.intake import FeedIntake, KafkaFeedSink, Limits
from services.tracking.outbox import KafkaPublisher, Publisher, relay

if TYPE_CHECKING:
    from services.tracking.ingest import TrackingConsumer

log = logging.getLogger(__name__)

DEFAULT_LEASE = timedelta(minutes=30)
RELAY_INTERVAL_S = 2.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def kafka_configured(settings: Settings) -> bool:
    """Whether a broker was named (the setting has a localhost default that may not exist)."""
    return "kafka_bootstrap_servers" in settings.model_fields_set


def build_service(
    *,
    database: Database,
    lease: timedelta = DEFAULT_LEASE,
    publisher: Publisher | None = None,
    clock: Callable[[], datetime] = utc_now,
    at_risk_fraction: float = DEFAULT_AT_RISK_FRACTION,
    ingestion_lag: Callable[[], dict[tuple[str, int], int]] | None = None,
    intake: FeedIntake | None = None,
) -> TrackingService:
    """The service the API runs on; without a publisher the outbox waits for one, without an
    intake HTTP ingestion answers 503."""
    flush = None if publisher is None else lambda: relay(database, publisher, clock=clock)
    return TrackingService(
        database=database,
        clock=clock,
        lease=lease,
        relay=flush,
        at_risk_fraction=at_risk_fraction,
        ingestion_lag=ingestion_lag,
        intake=intake,
    )


def ingest_limits(settings: Settings) -> Limits:
    return Limits(
        max_body_bytes=settings.ingest_max_body_bytes, max_records=settings.ingest_max_records
    )


@contextmanager
def background(
    settings: Settings, database: Database, publisher: Publisher
) -> Iterator[TrackingConsumer]:
    """The ingestion consumer and a periodic outbox relay, stopped when the block ends."""
    from services.tracking.ingest import TrackingConsumer

    stop = threading.Event()
    consumer = TrackingConsumer(
        database=database, bootstrap_servers=settings.kafka_bootstrap_servers, clock=utc_now
    )

    def relay_forever() -> None:
        while not stop.wait(RELAY_INTERVAL_S):
            try:
                relay(database, publisher, clock=utc_now)
            except Exception:
                log.exception("outbox relay failed; retrying")

    threads = [
        threading.Thread(target=consumer.run, args=(stop,), name="tracking-ingest", daemon=True),
        threading.Thread(target=relay_forever, name="tracking-outbox", daemon=True),
    ]
    for thread in threads:
        thread.start()
    try:
        yield consumer
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=10)
        consumer.close()


@contextmanager
def watching(
    database: Database,
    *,
    interval_s: float,
    at_risk_fraction: float,
    after_sweep: Callable[[], object] | None = None,
    on_marked: Callable[[list[str]], object] | None = None,
    clock: Callable[[], datetime] = utc_now,
) -> Iterator[threading.Thread]:
    """The deadline watch, sweeping every ``interval_s`` until the block ends.

    Every instance of the service runs one: the sweep's conditional marks make that safe, and a
    second instance is the watch's failover. ``after_sweep`` (the outbox relay) publishes the
    escalations a sweep wrote.
    """
    from services.tracking import watch

    stop = threading.Event()

    def sweep_forever() -> None:
        while True:
            try:
                marked = watch.watch_once(database, clock(), at_risk_fraction=at_risk_fraction)
                if marked:
                    log.info("deadline watch: %d new escalation(s)", len(marked))
                    if on_marked is not None:
                        on_marked([mark.level for mark in marked])
                    if after_sweep is not None:
                        after_sweep()
            except Exception:
                log.exception("deadline watch sweep failed; retrying")
            if stop.wait(interval_s):
                return

    thread = threading.Thread(target=sweep_forever, name="tracking-watch", daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        stop.set()
        thread.join(timeout=10)


def serve(settings: Settings, *, host: str, port: int, lease: timedelta = DEFAULT_LEASE) -> None:
    """Run the tracking service until interrupted."""
    import uvicorn

    upgrade(settings.database_url)
    database = Database(url=settings.database_url, claim_connections=settings.claim_connections)
    publisher: KafkaPublisher | None = None
    sink: KafkaFeedSink | None = None
    if kafka_configured(settings):
        publisher = KafkaPublisher(bootstrap_servers=settings.kafka_bootstrap_servers)
        sink = KafkaFeedSink(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            topic_prefix=settings.topic_prefix,
        )
    else:
        log.warning("KAFKA_BOOTSTRAP_SERVERS is not set: no ingestion, outbox records wait")
    intake = None if sink is None else FeedIntake(sink=sink, limits=ingest_limits(settings))
    consumers: list[TrackingConsumer] = []  # filled once the consumer runs (metrics read it)
    service = build_service(
        database=database,
        lease=lease,
        publisher=publisher,
        at_risk_fraction=settings.at_risk_fraction,
        ingestion_lag=lambda: consumers[0].lag if consumers else {},
        intake=intake,
    )
    app = create_app(service)
    watch = watching(
        database,
        interval_s=settings.watch_interval_seconds,
        at_risk_fraction=settings.at_risk_fraction,
        after_sweep=service.relay,
        on_marked=service.metrics.count_escalations,
    )
    try:
        with watch:
            if publisher is None:
                uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())
            else:
                with background(settings, database, publisher) as consumer:
                    consumers.append(consumer)
                    uvicorn.run(app, host=host, port=port, log_level=settings.log_level.lower())
    finally:
        if publisher is not None:
            publisher.close()
        if sink is not None:
            sink.close()
        database.dispose()
