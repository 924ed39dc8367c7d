"""Which record travels on which topic, and what each topic is keyed by.

The keys put every join on one partition (ARCHITECTURE.md, "The data flow"); ``asyncapi.yaml``
says the same for readers outside Python, and a unit test keeps the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel

from schemas.dead_letters import DeadLetter
from schemas.feeds import (
    CaseRecord,
    ItineraryRecord,
    PersonRecord,
    RiskAreaRecord,
    TrajectoryRecord,
)
from schemas.tasks import ScreeningTask
from schemas.tracking import Escalation, TaskEvent


@dataclass(frozen=True, slots=True)
class Topic:
    """A topic's name, the model of its values, and the field its key is taken from."""

    name: str
    model: type[BaseModel]
    key: str | None
    description: str


INPUT_TOPICS: tuple[Topic, ...] = (
    Topic("trajectories", TrajectoryRecord, "person_id", "location pings of phones"),
    Topic("itineraries", ItineraryRecord, "person_id", "city-level stays (行程卡)"),
    Topic("cases", CaseRecord, "person_id", "confirmed and asymptomatic cases"),
    Topic("risk-areas", RiskAreaRecord, "area_id", "medium- and high-risk areas"),
    Topic("persons", PersonRecord, "person_id", "the person registry (compacted)"),
)
OUTPUT_TOPICS: tuple[Topic, ...] = (
    Topic("screening-tasks", ScreeningTask, "person_id", "screening tasks, one open per person"),
    Topic("dead-letters", DeadLetter, None, "rejected records with the reason and original bytes"),
    Topic("task-events", TaskEvent, "task_id", "what happened to each task"),
    Topic("escalations", Escalation, "task_id", "tasks about to breach or past their deadline"),
)
TOPICS: dict[str, Topic] = {topic.name: topic for topic in INPUT_TOPICS + OUTPUT_TOPICS}
