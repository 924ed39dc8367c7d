"""``screening-tasks``: the screening task (排查任务) as the stream processors push it and the
tracking service shows it (CONTRACTS.md, "The task as the tracking service shows it").

One open task per person, so the topic is keyed by person_id and a later record replaces the
earlier one (``version`` increases). Times are UTC on the way out; unknown fields are kept so that
an older consumer survives a newer producer.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError

from schemas.fields import Cell, CityCode, Id, Text, Time

TaskKind = Literal["co_located", "area_stay", "city_visit"]
TaskStatus = Literal["open", "closed", "withdrawn"]

# Which fields say *what* an exposure is about, by kind (model.ExposureKey: source_id and place).
_REQUIRED_BY_KIND: dict[str, tuple[str, ...]] = {
    "co_located": ("case_id", "cell"),
    "area_stay": ("area_id", "cell"),
    "city_visit": ("city_code", "hazard"),
}


class EvidenceItem(BaseModel):
    """One exposure behind a task: which case, area or city; the person's cell; the overlap.

    - ``co_located`` (时空伴随): case_id and cell.
    - ``area_stay`` (重点区域驻留): area_id and cell.
    - ``city_visit`` (所在地市/疫情发生地 旅居史): city_code and hazard (``area:<id>`` or
      ``case:<id>``, what made the city a hazard).
    """

    model_config = ConfigDict(extra="allow")

    kind: TaskKind
    case_id: Id | None = None
    area_id: Id | None = None
    city_code: CityCode | None = None
    hazard: Annotated[str, Field(strict=True, pattern=r"^(area|case):.+")] | None = None
    cell: Cell | None = Field(default=None, description="the person's H3 cell (cell exposures)")
    overlap_start: Time
    overlap_end: Time
    detected_at: Time = Field(description="when the system pushed this exposure")

    @model_validator(mode="after")
    def _fits_its_kind(self) -> EvidenceItem:
        missing = [name for name in _REQUIRED_BY_KIND[self.kind] if getattr(self, name) is None]
        if missing:
            raise PydanticCustomError(
                "evidence_incomplete",
                "{kind} evidence needs {missing}",
                {"kind": self.kind, "missing": " and ".join(missing)},
            )
        if self.overlap_end < self.overlap_start:
            raise PydanticCustomError(
                "overlap_inverted", "overlap_end must not be earlier than overlap_start"
            )
        return self


class ScreeningTask(BaseModel):
    """A screening task: who must be screened, by when, by which team, and why."""

    model_config = ConfigDict(extra="allow")

    task_id: Id
    person_id: Id
    kind: TaskKind = Field(
        description="the strongest exposure: co_located > area_stay > city_visit"
    )
    status: TaskStatus
    detected_at: Time = Field(description="when the system pushed the exposure that set due_at")
    due_at: Time = Field(description="the screening deadline")
    jurisdiction: Text | None = Field(
        default=None,
        description="from the person's residence; unknown residence: the exposure's city",
    )
    team: Text | None = None
    evidence: list[EvidenceItem] = Field(default_factory=list)
    claimed_by: Text | None = None
    claimed_at: Time | None = None
    completed_at: Time | None = None
    outcome: Text | None = None
    version: Annotated[int, Field(strict=True, ge=1)] = 1
    close_reason: Text | None = None
