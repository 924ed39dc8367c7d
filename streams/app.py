"""The faust app: topics, tables and agents wired to the processors (``python -m streams``).

``build_app`` is the only place that turns settings into a running topology. Every agent is the
same thin loop (``agents.run_batches``); what differs is which processor it runs and which state
it keeps. Nothing connects until the app starts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import faust

from paicha.matching import cell_join, city_join, hazards, policy, stays
from paicha.settings import Settings
from streams import processors
from streams.agents import AgentStats, BatchLoop, Route
from streams.consumer import BatchTransport
from streams.state import KeyedState
from streams.topics import TopicNames
from streams.transaction import WorkerTransaction, default_worker_id

log = logging.getLogger(__name__)


def store_url(settings: Settings) -> str:
    """RocksDB (rocksdict) when asked for or, with ``auto``, when installed; memory otherwise."""
    if settings.state_store == "memory":
        return "memory://"
    try:
        import rocksdict  # noqa: F401
    except ImportError:
        if settings.state_store == "rocksdb":
            raise
        return "memory://"
    return "rocksdb://"


def producer_options(app: faust.App) -> dict[str, Any]:
    """Faust's own producer settings (connection, credentials, batching, time-outs), as its
    aiokafka driver builds its producers, for the worker's transactional producer."""
    producer: Any = app.producer
    return {**producer._settings_default(), **producer._settings_auth()}


def build_app(
    settings: Settings,
    *,
    datadir: Path | None = None,
    clock: Callable[[], int] = processors.wall_clock,
) -> faust.App:
    """The stream processors as one faust app: run by ``app.main()`` or ``await app.start()``."""
    names = TopicNames(settings.topic_prefix)
    params = settings.match_params()
    partitions = settings.partitions
    app = faust.App(
        f"{settings.topic_prefix}paicha-streams",
        broker=[f"kafka://{host}" for host in settings.kafka_bootstrap_servers.split(",")],
        store=store_url(settings),
        datadir=str(datadir or settings.worker_datadir),
        topic_partitions=partitions,
        web_enabled=settings.worker_web_port > 0,
        web_port=settings.worker_web_port or 6066,
        consumer_auto_offset_reset="earliest",
        broker_commit_interval=1.0,
        # The most records one fetch brings, so the most a batch holds (agents.BatchLoop).
        broker_max_poll_records=settings.worker_batch,
        producer_acks=-1,
        table_standby_replicas=0,
    )

    def topic(*topic_names: str, compacting: bool = False) -> Any:
        return app.topic(
            *topic_names,
            key_type=bytes,
            value_type=bytes,
            key_serializer="raw",
            value_serializer="raw",
            partitions=partitions,
            compacting=compacting or None,
        )

    def table(name: str) -> Any:
        # key_type/value_type, not only the schema: the table derives the changelog topic's
        # serializers from them (json by default), and those override the schema's, so
        # recovery would decode the raw bytes as JSON.
        return app.Table(
            name,
            default=None,
            key_type=bytes,
            value_type=bytes,
            schema=faust.Schema(
                key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw"
            ),
            partitions=partitions,
            use_partitioner=True,
        )

    common: dict[str, Any] = {"topics": names, "params": params}

    def keyed(name: str, factory: Callable[[str], Any]) -> KeyedState[Any]:
        return KeyedState(table(name), factory)

    tracks = keyed("tracks", stays.PersonTrack)
    areas = keyed("areas", hazards.AreaState)
    cells = keyed("cells", lambda key: cell_join.CellState(int(key)))
    cities = keyed("cities", city_join.CityState)
    policies = keyed("policies", policy.PersonPolicy)

    outputs = {
        name: topic(name, compacting=name in names.compacted())
        for name in (names.screening_tasks, names.dead_letters)
    }
    wiring = [
        ("people", (names.trajectories, names.cases),
         processors.PeopleProcessor(tracks=tracks, **common), tracks),
        ("areas", (names.risk_areas,), processors.AreaProcessor(areas=areas, **common), areas),
        ("itineraries", (names.itineraries,), processors.ItineraryProcessor(**common), None),
        ("cells", (names.cell_events,), processors.CellProcessor(cells=cells, **common), cells),
        ("cities", (names.city_events,),
         processors.CityProcessor(cities=cities, **common), cities),
        ("policy", (names.exposures, names.persons),
         processors.PolicyProcessor(policies=policies, clock=clock, **common), policies),
    ]  # fmt: skip
    routes = [
        Route(processor, state, AgentStats(name), sources)
        for name, sources, processor, state in wiring
    ]
    worker_id = settings.worker_id or default_worker_id(Path(app.conf.datadir))
    transaction = WorkerTransaction(
        bootstrap_servers=settings.kafka_bootstrap_servers.split(","),
        transactional_id=f"{app.conf.id}-{worker_id}",
        group_id=app.conf.id,
        producer_options=producer_options(app),
    )
    batches = BatchLoop(
        app, routes, transaction=transaction, partitions=partitions, batch=settings.worker_batch
    )
    app.transport = BatchTransport(app.conf.broker_consumer, app, handler=batches)
    # Subscribed, so that faust's group assigns their partitions (with the tables' changelog
    # partitions of the same numbers); their records never reach a faust stream.
    sources = [topic(*route.topics) for route in routes]
    for source in sources:
        app.topics.add(source)

    @app.task
    async def fence_previous_incarnation() -> None:
        # At once rather than at the first output: what this worker's previous incarnation left
        # open holds readers of the partitions it wrote to back until it is aborted.
        await transaction.start()

    @app.task
    async def declare_outputs() -> None:
        for output in outputs.values():
            await output.maybe_declare()

    @app.timer(10.0)
    async def report_progress() -> None:
        for route in routes:
            route.stats.report(log, batches.lag(app, route.topics))

    async def before_partitions_go(*args: Any, **kwargs: Any) -> None:
        # Faust's own commit before this has checkpointed already, unless configured not to.
        await batches.checkpoint(app.consumer)
        await batches.reset()

    async def after_partitions_come(*args: Any, **kwargs: Any) -> None:
        # A partition that comes back may have been worked on elsewhere meanwhile.
        await batches.reset()

    app.on_partitions_revoked.connect(before_partitions_go)
    app.on_partitions_assigned.connect(after_partitions_come)
    return app
