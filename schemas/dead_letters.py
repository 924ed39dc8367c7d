"""``dead-letters``: a record that could not be accepted, with the reason and its original bytes.

Nothing is silently dropped (确保不漏一人): whatever an adapter cannot decode goes here, bytes
intact, so that it can be inspected, fixed upstream and re-sent.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from schemas.fields import Text, Time


class DeadLetterProblem(BaseModel):
    """One thing wrong with the record."""

    model_config = ConfigDict(extra="allow")

    field: Text | None = Field(description="dotted path, e.g. polygon.coordinates.0; null: all")
    reason: Text


class DeadLetter(BaseModel):
    """A rejected record. ``field`` and ``reason`` repeat the first problem for quick reading."""

    model_config = ConfigDict(extra="allow")

    reason: Text
    field: Text | None = None
    problems: list[DeadLetterProblem] = Field(default_factory=list)
    source_topic: Annotated[str, Field(strict=True, min_length=1)] = Field(
        description="the topic (contract) the record was sent to"
    )
    partition: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        default=None, description="Kafka partition; null for file and HTTP input"
    )
    offset: Annotated[int, Field(strict=True, ge=0)] | None = Field(
        default=None, description="Kafka offset, or the line number of a JSON Lines file"
    )
    source: Text | None = Field(
        default=None, description="where it came from when not Kafka: a file path, an HTTP route"
    )
    key_base64: Text | None = Field(default=None, description="the record's key, base64")
    original_base64: Text = Field(description="the record's value exactly as received, base64")
    dead_lettered_at: Time | None = None
