"""Prometheus metrics of the tracking service, served at ``/metrics``.

Task counts are read from the database at scrape time (a custom collector), so every instance
reports the same truth and nothing drifts; escalations are counted by the instance whose watch
made them (sum them across instances); the ingestion lag is what the Kafka consumer saw at its
last poll. Each app has its own registry, so tests can build many apps in one process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, Counter
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from services.tracking.db.models import ScreeningTask
from services.tracking.db.session import Database
from services.tracking.db.sqltime import share_elapsed
from services.tracking.deadlines import ACTIVE_STATUSES, DEFAULT_AT_RISK_FRACTION

log = logging.getLogger(__name__)

Lag = Callable[[], dict[tuple[str, int], int]]


class Metrics:
    """One registry, the escalation counter, and the collector of database-backed gauges."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.escalations = Counter(
            "paicha_escalations",
            "Escalations (at-risk and overdue marks) made by this instance's deadline watch",
            ["level"],
            registry=self.registry,
        )
        for level in ("at_risk", "overdue"):
            self.escalations.labels(level=level)

    def watch(
        self,
        database: Database,
        clock: Callable[[], datetime],
        *,
        fraction: float = DEFAULT_AT_RISK_FRACTION,
        lag: Lag | None = None,
    ) -> None:
        """Start reporting the database's tasks (and the consumer's lag, when there is one)."""
        self.registry.register(TaskCollector(database, clock, fraction, lag))

    def count_escalations(self, levels: list[str]) -> None:
        for level in levels:
            self.escalations.labels(level=level).inc()


class TaskCollector(Collector):
    """Tasks by status and kind, the open ones past each threshold, the consumer's lag."""

    def __init__(
        self, database: Database, clock: Callable[[], datetime], fraction: float, lag: Lag | None
    ) -> None:
        self._database, self._clock, self._fraction, self._lag = database, clock, fraction, lag

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("paicha_database_up", "Whether the last scrape read the database")
        try:
            tasks, standing = self._read()
        except Exception:
            log.exception("metrics: the database could not be read")
            up.add_metric([], 0)
            yield up
        else:
            up.add_metric([], 1)
            yield up
            yield tasks
            yield standing
        yield self._lag_family()

    def _read(self) -> tuple[GaugeMetricFamily, GaugeMetricFamily]:
        task = ScreeningTask
        now = self._clock()
        tasks = GaugeMetricFamily(
            "paicha_tasks", "Screening tasks by status and kind", labels=["status", "kind"]
        )
        standing = GaugeMetricFamily(
            "paicha_tasks_deadline",
            "Tasks still being worked, past the at-risk threshold (at_risk) or the deadline "
            "(overdue), by kind",
            labels=["level", "kind"],
        )
        active = task.status.in_(ACTIVE_STATUSES)
        with self._database.transaction() as session:
            by_status = session.execute(
                select(task.status, task.kind, func.count()).group_by(task.status, task.kind)
            ).all()
            overdue = session.execute(
                select(task.kind, func.count())
                .where(active, task.due_at <= now)
                .group_by(task.kind)
            ).all()
            at_risk = session.execute(
                select(task.kind, func.count())
                .where(
                    active,
                    task.due_at > now,
                    share_elapsed(task.detected_at, task.due_at, self._fraction, now),
                )
                .group_by(task.kind)
            ).all()
        for status, kind, count in by_status:
            tasks.add_metric([status, kind], count)
        for level, rows in (("at_risk", at_risk), ("overdue", overdue)):
            for kind, count in rows:
                standing.add_metric([level, kind], count)
        return tasks, standing

    def _lag_family(self) -> GaugeMetricFamily:
        family = GaugeMetricFamily(
            "paicha_ingestion_lag_records",
            "Records of the tracking service's input topics not yet consumed, per partition, "
            "as of the consumer's last poll",
            labels=["topic", "partition"],
        )
        for (topic, partition), behind in (self._lag() if self._lag else {}).items():
            family.add_metric([topic, str(partition)], behind)
        return family
