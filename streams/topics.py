"""Topic names, keys and partitioning of the stream processors.

Every keyed topic has the same partition count (``Settings.partitions``), so the topics one
processor joins (trajectories with cases by person; exposures with persons by person) are
co-partitioned, and a table's changelog partition, chosen from its key by the same partitioner
the feeds use, is the partition its records come in on.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

FEEDS = ("trajectories", "itineraries", "cases", "risk-areas", "persons")


@dataclass(frozen=True, slots=True)
class TopicNames:
    """Every topic the stream processors read or write, under one optional prefix."""

    prefix: str = ""

    def name(self, base: str) -> str:
        return f"{self.prefix}{base}"

    @property
    def trajectories(self) -> str:
        return self.name("trajectories")

    @property
    def itineraries(self) -> str:
        return self.name("itineraries")

    @property
    def cases(self) -> str:
        return self.name("cases")

    @property
    def risk_areas(self) -> str:
        return self.name("risk-areas")

    @property
    def persons(self) -> str:
        return self.name("persons")

    @property
    def cell_events(self) -> str:
        """Person stays, case stays and area cover, keyed by H3 cell."""
        return self.name("paicha-cell-events")

    @property
    def city_events(self) -> str:
        """Itinerary records and hazard intervals, keyed by city code."""
        return self.name("paicha-city-events")

    @property
    def exposures(self) -> str:
        """Exposure sets and case marks, keyed by person."""
        return self.name("paicha-exposures")

    @property
    def screening_tasks(self) -> str:
        """Each task's whole current state, keyed by person: compactable."""
        return self.name("screening-tasks")

    @property
    def dead_letters(self) -> str:
        return self.name("dead-letters")

    def all(self) -> tuple[str, ...]:
        return (
            self.trajectories,
            self.itineraries,
            self.cases,
            self.risk_areas,
            self.persons,
            self.cell_events,
            self.city_events,
            self.exposures,
            self.screening_tasks,
            self.dead_letters,
        )

    def compacted(self) -> frozenset[str]:
        """Topics where the latest record per key is the truth."""
        return frozenset({self.persons, self.screening_tasks, self.risk_areas})


def cell_key(cell: int) -> bytes:
    """The key of a cell's messages: its H3 index in decimal."""
    return str(cell).encode()


class TopicLayoutError(RuntimeError):
    """A topic exists with a partition count other than the one co-partitioning needs."""


def ensure_topics(
    bootstrap_servers: str, names: TopicNames, partitions: int, *, replication: int = 1
) -> list[str]:
    """Create the topics that are missing, all with ``partitions``; returns those created.

    Faust subscribes only to topics that exist when the group first assigns partitions, so they
    must all exist before a worker starts; and a topic made by someone else with another
    partition count would break co-partitioning silently, so that is refused by name.
    """
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic
    from kafka.errors import TopicAlreadyExistsError

    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        existing = {
            t["name"]: len(t["partitions"])
            for t in admin.describe_topics()
            if not t.get("error_code")
        }
        wrong = {n: existing[n] for n in names.all() if n in existing and existing[n] != partitions}
        if wrong:
            raise TopicLayoutError(
                f"topics with a partition count other than {partitions}: "
                + ", ".join(f"{n} ({count})" for n, count in sorted(wrong.items()))
            )
        missing = [n for n in names.all() if n not in existing]
        compacted = names.compacted()
        new = [
            NewTopic(
                name,
                num_partitions=partitions,
                replication_factor=replication,
                topic_configs={"cleanup.policy": "compact"} if name in compacted else {},
            )
            for name in missing
        ]
        if new:
            # Another worker may have made them a moment ago.
            with contextlib.suppress(TopicAlreadyExistsError):
                admin.create_topics(new, wait_for_metadata=True)
        return missing
    finally:
        admin.close()
