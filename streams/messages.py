"""The messages between the stream processors, as bytes on the internal topics.

Each is one of the core's change records (``paicha.matching.model``), tagged with its type and
spelled compactly: these topics carry one message per stay change, so a few bytes each matter.
They replace by key downstream, so a message re-delivered after a crash changes nothing.
"""

from __future__ import annotations

from typing import Any

import orjson

from paicha.errors import PaichaError
from paicha.matching.model import (
    AreaCellChange,
    CaseStayChange,
    CityHazardChange,
    ExposureChange,
    ExposureKey,
    ItineraryChange,
    StayChange,
)

CellMessage = StayChange | CaseStayChange | AreaCellChange
CityMessage = ItineraryChange | CityHazardChange


class CaseMark:
    """Tells the task policy that a person is a case (rule 8): no task, an open one closes."""

    __slots__ = ("case_id", "person_id")

    def __init__(self, person_id: str, case_id: str) -> None:
        self.person_id = person_id
        self.case_id = case_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, CaseMark) and (self.person_id, self.case_id) == (
            other.person_id,
            other.case_id,
        )

    def __hash__(self) -> int:
        return hash((self.person_id, self.case_id))


class Watermark:
    """The newest event time a stay builder has seen, sent to every partition of the exposures
    topic once a day of it: the task policy's retention horizon moves with it, so a stretch
    without exposures does not keep what aged out (its own event time is the exposures')."""

    __slots__ = ("at",)

    def __init__(self, at: int) -> None:
        self.at = at

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Watermark) and self.at == other.at

    def __hash__(self) -> int:
        return hash(self.at)


PersonMessage = ExposureChange | CaseMark | Watermark


class MessageError(PaichaError):
    """An internal message that does not decode: a bug or a foreign producer, never a feed."""


def _interval(value: Any) -> tuple[int, int] | None:
    return None if value is None else (int(value[0]), int(value[1]))


def encode(message: CellMessage | CityMessage | PersonMessage) -> bytes:
    """One message as JSON bytes."""
    match message:
        case StayChange(person_id, cell, start, end):
            body: dict[str, Any] = {"t": "stay", "p": person_id, "c": cell, "s": start, "e": end}
        case CaseStayChange(case_id, person_id, city, cell, origin, start, interval, record):
            body = {
                "t": "case_stay",
                "r": record,
                "k": case_id,
                "p": person_id,
                "y": city,
                "c": cell,
                "o": origin,
                "s": start,
                "i": interval,
            }
        case AreaCellChange(area_id, city, cell, interval):
            body = {"t": "area_cell", "a": area_id, "y": city, "c": cell, "i": interval}
        case ItineraryChange(person_id, city, event_id, interval):
            body = {"t": "itinerary", "p": person_id, "y": city, "v": event_id, "i": interval}
        case CityHazardChange(city, source, interval, record):
            body = {"t": "hazard", "y": city, "src": list(source), "i": interval, "r": record}
        case ExposureChange(person_id, key, overlaps, city):
            body = {
                "t": "exposure",
                "p": person_id,
                "kind": key.kind,
                "src": key.source_id,
                "at": key.place,
                "o": overlaps,
                "y": city,
            }
        case CaseMark():
            body = {"t": "case", "p": message.person_id, "k": message.case_id}
        case Watermark():
            body = {"t": "watermark", "at": message.at}
        case _:
            raise MessageError(f"cannot encode {type(message).__name__}")
    return orjson.dumps(body)


def decode(raw: bytes) -> CellMessage | CityMessage | PersonMessage:
    """The message behind ``encode``'s bytes; ``MessageError`` when they are not one."""
    try:
        body = orjson.loads(raw)
        kind = body["t"]
        if kind == "stay":
            return StayChange(body["p"], body["c"], body["s"], body["e"])
        if kind == "case_stay":
            return CaseStayChange(
                body["k"], body["p"], body["y"], body["c"], body["o"], body["s"],
                _interval(body["i"]), body["r"],
            )  # fmt: skip
        if kind == "area_cell":
            return AreaCellChange(body["a"], body["y"], body["c"], _interval(body["i"]))
        if kind == "itinerary":
            return ItineraryChange(body["p"], body["y"], body["v"], _interval(body["i"]))
        if kind == "hazard":
            source = (body["src"][0], body["src"][1])
            return CityHazardChange(body["y"], source, _interval(body["i"]), body["r"])
        if kind == "exposure":
            overlaps = tuple((int(lo), int(hi)) for lo, hi in body["o"])
            key = ExposureKey(body["kind"], body["src"], body["at"])
            return ExposureChange(body["p"], key, overlaps, body["y"])
        if kind == "case":
            return CaseMark(body["p"], body["k"])
        if kind == "watermark":
            return Watermark(int(body["at"]))
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, IndexError) as error:
        raise MessageError(f"undecodable internal message: {error!r}") from error
    raise MessageError(f"unknown internal message type {kind!r}")
