"""A task as the wire shows it (the ``screening-tasks`` payload and ``paicha match`` output).

The core keeps times as integer microseconds and evidence sources as plain ids; consumers read
RFC 3339 times and evidence items that name their source by what it is: ``case_id`` for
co_located, ``area_id`` for area_stay, ``city_code`` (and the ``hazard`` that made it one) for
city_visit.
"""

from __future__ import annotations

from typing import Any

from paicha.matching.model import Evidence, Task
from paicha.matching.timeutil import isoformat


def evidence_record(item: Evidence) -> dict[str, Any]:
    """One exposure behind a task, as consumers read it."""
    record: dict[str, Any] = {"kind": item.kind}
    if item.kind == "co_located":
        record["case_id"] = item.source_id
        record["cell"] = item.place
    elif item.kind == "area_stay":
        record["area_id"] = item.source_id
        record["cell"] = item.place
    else:
        record["city_code"] = item.place
        record["hazard"] = item.source_id
    record["overlap_start"] = isoformat(item.overlap_start)
    record["overlap_end"] = isoformat(item.overlap_end)
    record["detected_at"] = isoformat(item.detected_at)
    record["exposure_city"] = item.city_code
    return record


def task_record(task: Task) -> dict[str, Any]:
    """The task's whole current state: the latest record per person is the truth."""
    return {
        "task_id": task.task_id,
        "person_id": task.person_id,
        "kind": task.kind,
        "status": task.status,
        "detected_at": isoformat(task.detected_at),
        "due_at": isoformat(task.due_at),
        "jurisdiction": task.jurisdiction,
        "team": None,
        "evidence": [evidence_record(e) for e in task.evidence],
        "claimed_by": None,
        "claimed_at": None,
        "completed_at": None,
        "outcome": None,
        "version": task.version,
        "close_reason": task.close_reason,
    }
