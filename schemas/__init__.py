"""The wire contracts of every topic: pydantic models, the single source of truth.

``schemas/json/*.schema.json`` are generated from them (``python -m schemas``) and
``schemas/asyncapi.yaml`` names each topic, its key and its payload. Nothing here knows about
Kafka or the matching core; ``paicha.feeds`` turns these records into the core's dataclasses.
"""

from __future__ import annotations

from schemas.dead_letters import DeadLetter, DeadLetterProblem
from schemas.feeds import (
    CaseRecord,
    FeedRecordModel,
    ItineraryRecord,
    PersonRecord,
    Polygon,
    RiskAreaRecord,
    TrajectoryRecord,
)
from schemas.tasks import EvidenceItem, ScreeningTask
from schemas.topics import INPUT_TOPICS, OUTPUT_TOPICS, TOPICS, Topic
from schemas.tracking import Escalation, TaskEvent

__all__ = [
    "INPUT_TOPICS",
    "OUTPUT_TOPICS",
    "TOPICS",
    "CaseRecord",
    "DeadLetter",
    "DeadLetterProblem",
    "Escalation",
    "EvidenceItem",
    "FeedRecordModel",
    "ItineraryRecord",
    "PersonRecord",
    "Polygon",
    "RiskAreaRecord",
    "ScreeningTask",
    "TaskEvent",
    "Topic",
    "TrajectoryRecord",
]
