"""``POST /ingest/{topic}``: feed records over HTTP, for feeds that cannot speak Kafka.

The body is a JSON array or JSON Lines of one feed's records (role ``feed``). Every record is
validated (``services.tracking.intake``); the valid ones are published, and the answer lists
each invalid one by index, field and reason. 200 when at least one record was accepted, 422 when
none was, 413 over a limit, 503 when the records could not be published (none is acknowledged
then; re-sending the batch is safe, since a re-sent event_id changes nothing).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from services.tracking.access import require_role
from services.tracking.api.auth import CallerDep, ServiceDep
from services.tracking.api.schemas import ErrorOut, Problem
from services.tracking.audit import audit
from services.tracking.errors import NotFound
from services.tracking.intake import (
    FEED_TOPICS,
    BatchTooLarge,
    FeedIntake,
    body_too_large,
    parse_batch,
)

log = logging.getLogger(__name__)
router = APIRouter(tags=["ingest"])


class RecordErrorOut(BaseModel):
    index: int = Field(description="the record's array index, or its line number minus one")
    field: str | None
    reason: str
    problems: list[Problem] = Field(default_factory=list)


class IngestOut(BaseModel):
    """What became of a batch: every record is either accepted or listed in ``errors``."""

    topic: str
    received: int
    accepted: int
    rejected: int
    errors: list[RecordErrorOut]


class TooLargeOut(ErrorOut):
    limit: int
    setting: str


@router.post(
    "/ingest/{topic}",
    response_model=IngestOut,
    responses={
        401: {"model": ErrorOut},
        403: {"model": ErrorOut},
        404: {"model": ErrorOut},
        413: {"model": TooLargeOut},
        422: {"model": IngestOut, "description": "no record was accepted (or no batch at all)"},
        503: {"model": ErrorOut},
    },
)
async def ingest(topic: str, request: Request, caller: CallerDep, tracking: ServiceDep) -> Any:
    """Validate and publish a batch of one feed's records: a JSON array, or JSON Lines.

    Topics: trajectories, itineraries, cases, risk-areas, persons (CONTRACTS.md). Records are
    keyed as the feed contract says (by person; risk areas by area)."""
    require_role(caller, "feed", action="posting feed records")
    if topic not in FEED_TOPICS:
        raise NotFound(f"no feed topic {topic!r}; the feed topics are {', '.join(FEED_TOPICS)}")
    intake = tracking.intake
    if intake is None:
        return _unavailable("this service publishes nowhere: set KAFKA_BOOTSTRAP_SERVERS")
    try:
        body = await _read_body(request, intake)
        batch = await run_in_threadpool(parse_batch, topic, body, intake.limits)
    except BatchTooLarge as error:
        return JSONResponse(
            {
                "error": "payload_too_large",
                "reason": error.reason,
                "limit": error.limit,
                "setting": error.setting,
            },
            status_code=413,
        )
    if batch.records:
        try:
            await run_in_threadpool(intake.sink.publish, topic, batch.records)
        except Exception as error:
            log.exception("ingest: publishing %d %s records failed", len(batch.records), topic)
            return _unavailable(
                f"the records could not be published ({type(error).__name__}); none is "
                "acknowledged: send the batch again (a re-sent event_id changes nothing)"
            )
    answer = {
        "topic": topic,
        "received": batch.received,
        "accepted": len(batch.records),
        "rejected": len(batch.errors),
        "errors": [error.as_json() for error in batch.errors],
    }
    await run_in_threadpool(_audit, tracking, caller.user_id, answer)
    return JSONResponse(answer, status_code=200 if batch.records else 422)


async def _read_body(request: Request, intake: FeedIntake) -> bytes:
    """The body, refusing it as soon as it is over the limit (declared or counted)."""
    limit = intake.limits.max_body_bytes
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        raise body_too_large(int(declared), intake.limits)
    body = bytearray()
    async for part in request.stream():
        body += part
        if len(body) > limit:
            raise body_too_large(len(body), intake.limits)
    return bytes(body)


def _audit(tracking: Any, actor: str, answer: dict[str, Any]) -> None:
    with tracking.database.transaction() as session:
        audit(
            session,
            at=tracking.clock(),
            actor=actor,
            action="ingest",
            target=answer["topic"],
            details={k: answer[k] for k in ("received", "accepted", "rejected")},
        )


def _unavailable(reason: str) -> JSONResponse:
    return JSONResponse({"error": "unavailable", "reason": reason}, status_code=503)
