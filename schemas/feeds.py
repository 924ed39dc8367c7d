"""The five input records of CONTRACTS.md, exactly as the upstream feeds send them.

Required here is required there, nothing more: a field the contract leaves optional stays optional
however useful it would be. Unknown fields are kept (``extra="allow"``), never an error, so a feed
may add fields without asking first.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
)
from pydantic_core import PydanticCustomError

from schemas.fields import CityCode, Id, Latitude, Longitude, Text, Time


class FeedRecordModel(BaseModel):
    """What every feed record shares: unknown fields are kept, not refused."""

    model_config = ConfigDict(extra="allow")


class TrajectoryRecord(FeedRecordModel):
    """``trajectories``: one location ping of one person's phone. Key: person_id."""

    event_id: Id
    person_id: Id
    lat: Latitude
    lon: Longitude
    observed_at: Time
    accuracy_m: Annotated[float, Field(strict=True, ge=0)] | None = Field(
        default=None, description="horizontal accuracy, metres"
    )
    source: Text | None = None


class ItineraryRecord(FeedRecordModel):
    """``itineraries``: a stay in one city, from the telecom itinerary card (行程卡).

    Key: person_id.
    """

    event_id: Id
    person_id: Id
    city_code: CityCode
    arrived_at: Time
    departed_at: Time | None = Field(
        default=None, description="absent: a single moment (the stay is [arrived_at, arrived_at])"
    )
    source: Text | None = None

    @field_validator("departed_at")
    @classmethod
    def _departed_not_before_arrived(
        cls, value: datetime | None, info: ValidationInfo
    ) -> datetime | None:
        arrived = info.data.get("arrived_at")  # absent when arrived_at itself was invalid
        if value is not None and arrived is not None and value < arrived:
            raise PydanticCustomError(
                "departed_before_arrived", "departed_at must not be earlier than arrived_at"
            )
        return value


class CaseRecord(FeedRecordModel):
    """``cases``: a confirmed (确诊) or asymptomatic (无症状感染者) case. Key: person_id."""

    event_id: Id
    case_id: Id
    person_id: Id
    classification: Literal["confirmed", "asymptomatic"]
    reported_at: Time
    city_code: CityCode = Field(description="the city that reported the case (疫情发生地)")
    onset_at: Time | None = None
    isolated_at: Time | None = Field(
        default=None, description="absent: the case's look-back window ends at reported_at"
    )


def _check_position(position: list[float]) -> list[float]:
    lon, lat = position[0], position[1]
    if not -180 <= lon <= 180:
        raise PydanticCustomError("longitude", "longitude must be within [-180, 180]")
    if not -90 <= lat <= 90:
        raise PydanticCustomError("latitude", "latitude must be within [-90, 90]")
    return position


def _check_ring(ring: list[list[float]]) -> list[list[float]]:
    if ring[0][:2] != ring[-1][:2]:
        raise PydanticCustomError("ring_not_closed", "a ring must end at the position it starts at")
    return ring


Position = Annotated[
    list[Annotated[float, Field(strict=True)]],
    Field(min_length=2, max_length=3),
    AfterValidator(_check_position),
    WithJsonSchema(
        {
            "type": "array",
            "description": "[longitude, latitude] in WGS84 degrees (an altitude may follow)",
            "prefixItems": [
                {"type": "number", "minimum": -180, "maximum": 180},
                {"type": "number", "minimum": -90, "maximum": 90},
            ],
            "items": {"type": "number"},
            "minItems": 2,
            "maxItems": 3,
        }
    ),
]
Ring = Annotated[
    list[Position],
    Field(
        min_length=4, description="a closed ring: at least 4 positions, the last equal to the first"
    ),
    AfterValidator(_check_ring),
]


class Polygon(BaseModel):
    """A GeoJSON Polygon (RFC 7946 3.1.6): an outer ring, then any holes, in [lon, lat] order."""

    model_config = ConfigDict(extra="allow")

    type: Literal["Polygon"]
    coordinates: Annotated[list[Ring], Field(min_length=1)]


class RiskAreaRecord(FeedRecordModel):
    """``risk-areas``: a medium- or high-risk area (中高风险地区). Key: area_id.

    A later record for the same area_id replaces the earlier one; that is how an area is lifted.
    """

    event_id: Id
    area_id: Id
    name: Text
    level: Literal["medium", "high"]
    city_code: CityCode = Field(description="the city that holds the area (所在地市)")
    polygon: Polygon
    lookback_from: Time = Field(description="people present from this moment on are matched")
    designated_at: Time
    lifted_at: Time | None = Field(default=None, description="absent or null: still in force")


class PersonRecord(FeedRecordModel):
    """``persons``: a registry entry; a later one for the same person_id replaces it. Key:
    person_id (compacted)."""

    person_id: Id
    residence_code: Annotated[
        str,
        Field(
            strict=True,
            pattern=r"^[0-9]{6}",
            description="the community or village of residence; its first 6 characters are "
            "the district's GB/T 2260 code",
            examples=["330106001001"],
        ),
    ]
    name: Text | None = None
    phone: Text | None = None
