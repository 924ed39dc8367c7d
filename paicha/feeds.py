"""The edge decoder every feed adapter uses: bytes, text or a mapping in, a core record out.

Kafka agents, the HTTP batch route and the JSON Lines reader all call ``decode``, so a record is
accepted or refused by the same rules (``schemas/``) whichever door it came through. Refusal is a
``FeedError`` carrying the field and the reason, which the adapter turns into a 4xx or a
dead-letter record (``dead_letter``).

``trajectories`` carries millions of pings a day, and going through pydantic (a model built and
thrown away at once, a Python validator per time) costs about twice what a ping needs. So pings
take a fast path first: msgspec (or, for an already parsed mapping, hand checks) applying the
same rules, and for a whole buffer of them (``decode_ping_columns``, what ``paicha match`` uses)
the times parsed a column at a time (``time_column``). It only ever *accepts*; what it does not
like goes to pydantic, which decides and, on failure, words the error. A record is therefore
never refused by the fast path alone, and never accepted by it unless pydantic would accept it
too (property tests hold the two together).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from pathlib import Path
from typing import Annotated, Any

import msgspec
import numpy as np
import orjson
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from paicha.errors import FeedError, Problem
from paicha.matching.model import Case, FeedRecord, Itinerary, Person, Ping, RiskArea
from paicha.matching.timeutil import to_micros
from paicha.time_column import Ints, fixed_layout_micros
from schemas.dead_letters import DeadLetter, DeadLetterProblem
from schemas.feeds import (
    CaseRecord,
    ItineraryRecord,
    PersonRecord,
    RiskAreaRecord,
    TrajectoryRecord,
)
from schemas.fields import RFC3339_WITH_OFFSET

Raw = bytes | bytearray | memoryview | str | Mapping[str, Any]

TOPICS: tuple[str, ...] = ("trajectories", "itineraries", "cases", "risk-areas", "persons")
"""The input topics of CONTRACTS.md, in the order the contract lists them."""


def decode(topic: str, raw: Raw) -> FeedRecord:
    """One feed record of ``topic`` (JSON bytes or text, or an already parsed mapping) as the
    matching core's dataclass, times in UTC microseconds.

    Raises ``FeedError`` (``.field``, ``.reason``, ``.problems``) when it breaks the contract or
    the topic is not an input topic.
    """
    if topic == "trajectories":
        ping = _fast_ping(raw)
        if ping is not None:
            return ping
    decoder = _DECODERS.get(topic)
    if decoder is None:
        raise FeedError(
            topic,
            [Problem("", f"unknown topic {topic!r}; the input topics are {', '.join(TOPICS)}")],
        )
    model_class, to_core = decoder
    return to_core(_validate(topic, model_class, raw))


PingRow = tuple[str, str, float, float, int]
"""A ping as ``(event_id, person_id, lat, lon, observed_at)``: ``Engine.submit_pings``' input."""


def decode_ping_row(raw: Raw) -> PingRow:
    """A ``trajectories`` record as a ``PingRow``, the bulk path's shape; same rules and errors
    as ``decode``, without building a ``Ping`` object per record."""
    row = _fast_ping_row(raw)
    if row is not None:
        return row
    ping = _ping(_validate("trajectories", TrajectoryRecord, raw))
    return (ping.event_id, ping.person_id, ping.lat, ping.lon, ping.observed_at)


UTF8_BOM = b"\xef\xbb\xbf"  # some Windows tools start a UTF-8 file with it


def feed_lines(
    lines: Iterable[bytes], on_line: Callable[[int], None] | None = None
) -> Iterator[tuple[int, bytes]]:
    """The non-blank lines of a JSON Lines feed, stripped, with their 1-based numbers; the first
    without a byte-order mark. ``on_line`` hears the size of every line read, blank ones too
    (progress bars count bytes)."""
    for number, line in enumerate(lines, start=1):
        if on_line is not None:
            on_line(len(line))
        if number == 1:
            line = line.removeprefix(UTF8_BOM)
        line = line.strip()
        if line:
            yield number, line


def read_jsonl(path: str | Path, topic: str) -> Iterator[tuple[int, FeedRecord | FeedError]]:
    """Each non-blank line of a JSON Lines file with its 1-based line number, decoded, or the
    ``FeedError`` that refused it: one bad line never hides the lines after it."""
    with Path(path).open("rb") as lines:
        for number, line in feed_lines(lines):
            try:
                yield number, decode(topic, line)
            except FeedError as error:
                yield number, error


def dead_letter(
    error: FeedError,
    raw: Raw,
    *,
    partition: int | None = None,
    offset: int | None = None,
    source: str | None = None,
    key: bytes | None = None,
    at: datetime | None = None,
) -> DeadLetter:
    """The dead-letter record of a refused record: the reason and the original bytes, intact.

    ``offset`` is the Kafka offset, or the line number for a file; ``at`` defaults to now.
    """
    return DeadLetter(
        reason=error.reason,
        field=error.field or None,
        problems=[
            DeadLetterProblem(field=p.field or None, reason=p.reason) for p in error.problems
        ],
        source_topic=error.topic,
        partition=partition,
        offset=offset,
        source=source,
        key_base64=None if key is None else base64.b64encode(key).decode("ascii"),
        original_base64=base64.b64encode(_original_bytes(raw)).decode("ascii"),
        dead_lettered_at=at or datetime.now(UTC),
    )


# ---------------------------------------------------------------- the pydantic path


def _validate(topic: str, model_class: type[BaseModel], raw: Raw) -> Any:
    try:
        if isinstance(raw, memoryview):
            raw = bytes(raw)
        if isinstance(raw, bytes | bytearray | str):
            return model_class.model_validate_json(raw)
        if isinstance(raw, Mapping):
            return model_class.model_validate(raw if isinstance(raw, dict) else dict(raw))
    except ValidationError as exc:
        raise FeedError(topic, [_problem(error) for error in exc.errors()]) from None
    raise FeedError(
        topic,
        [Problem("", f"a record is JSON bytes, text or a mapping, not {type(raw).__name__}")],
    )


def _problem(error: ErrorDetails) -> Problem:
    return Problem(".".join(str(part) for part in error["loc"]), error["msg"])


def _original_bytes(raw: Raw) -> bytes:
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogatepass")
    if isinstance(raw, bytes | bytearray | memoryview):
        return bytes(raw)
    return orjson.dumps(dict(raw), default=repr)


def _micros(moment: datetime | None) -> int | None:
    return None if moment is None else to_micros(moment)


def _ping(record: TrajectoryRecord) -> Ping:
    return Ping(
        event_id=record.event_id,
        person_id=record.person_id,
        lat=record.lat,
        lon=record.lon,
        observed_at=to_micros(record.observed_at),
    )


def _itinerary(record: ItineraryRecord) -> Itinerary:
    return Itinerary(
        event_id=record.event_id,
        person_id=record.person_id,
        city_code=record.city_code,
        arrived_at=to_micros(record.arrived_at),
        departed_at=_micros(record.departed_at),
    )


def _case(record: CaseRecord) -> Case:
    return Case(
        event_id=record.event_id,
        case_id=record.case_id,
        person_id=record.person_id,
        classification=record.classification,
        reported_at=to_micros(record.reported_at),
        city_code=record.city_code,
        onset_at=_micros(record.onset_at),
        isolated_at=_micros(record.isolated_at),
    )


def _risk_area(record: RiskAreaRecord) -> RiskArea:
    return RiskArea(
        event_id=record.event_id,
        area_id=record.area_id,
        name=record.name,
        level=record.level,
        city_code=record.city_code,
        # [lon, lat] only: an altitude would confuse h3.geo_to_h3shape and matters to no rule.
        polygon={
            "type": "Polygon",
            "coordinates": [
                [position[:2] for position in ring] for ring in record.polygon.coordinates
            ],
        },
        lookback_from=to_micros(record.lookback_from),
        designated_at=to_micros(record.designated_at),
        lifted_at=_micros(record.lifted_at),
    )


def _person(record: PersonRecord) -> Person:
    return Person(
        person_id=record.person_id,
        residence_code=record.residence_code,
        name=record.name,
        phone=record.phone,
    )


_DECODERS: dict[str, tuple[type[BaseModel], Callable[[Any], FeedRecord]]] = {
    "trajectories": (TrajectoryRecord, _ping),
    "itineraries": (ItineraryRecord, _itinerary),
    "cases": (CaseRecord, _case),
    "risk-areas": (RiskAreaRecord, _risk_area),
    "persons": (PersonRecord, _person),
}

# ---------------------------------------------------------------- the trajectories fast path


class _WirePing(msgspec.Struct):
    """A ping as bytes on the wire: msgspec parses and checks it in one compiled pass, the same
    checks as ``TrajectoryRecord`` (strict numbers, no booleans, non-empty ids); the time stays a
    string for ``time_column`` and ``_fast_micros``, which hold it to the contract's spelling."""

    event_id: Annotated[str, msgspec.Meta(min_length=1)]
    person_id: Annotated[str, msgspec.Meta(min_length=1)]
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    lon: Annotated[float, msgspec.Meta(ge=-180, le=180)]
    observed_at: str
    accuracy_m: Annotated[float, msgspec.Meta(ge=0)] | None = None
    source: str | None = None


_PING_DECODER = msgspec.json.Decoder(_WirePing)

# Compared by exact type: bool is an int subclass, and pydantic's strict float refuses it.
_NUMBER = (int, float)
# Near the ends of datetime's range converting to UTC overflows, and pydantic refuses the time.
_FAST_UNTIL = to_micros(datetime(9999, 1, 1, tzinfo=UTC))


@dataclass(frozen=True, slots=True)
class PingColumns:
    """The pings of a JSON Lines buffer, field by field, in line order: the bulk path's shape."""

    event_ids: list[str]
    person_ids: list[str]
    lats: list[float]
    lons: list[float]
    times: Ints  # observed_at, UTC microseconds


def decode_ping_columns(data: bytes | memoryview) -> PingColumns | None:
    """Every record of a JSON Lines buffer of pings, in order (blank lines skipped), when each
    one is plainly valid; else None, and the caller decodes line by line to learn which line is
    refused and why. One compiled pass over the buffer, then each field taken out of all the
    records at once, without a Python statement per record: the per-record loop this replaced
    cost twice what msgspec's parsing does."""
    try:
        wires = _PING_DECODER.decode_lines(data)
    except msgspec.MsgspecError:
        return None
    spellings = list(map(_OBSERVED_AT, wires))
    times, known = fixed_layout_micros(spellings, _FAST_UNTIL)
    if not known.all():  # other spellings: each decided one at a time
        for at in np.flatnonzero(~known).tolist():
            micros = _fast_micros(spellings[at])
            if micros is None:
                return None
            times[at] = micros
    return PingColumns(
        list(map(_EVENT_ID, wires)),
        list(map(_PERSON_ID, wires)),
        list(map(_LAT, wires)),  # floats already: msgspec turns a JSON integer into a float
        list(map(_LON, wires)),
        times,
    )


_EVENT_ID, _PERSON_ID, _LAT, _LON, _OBSERVED_AT = map(
    attrgetter, ("event_id", "person_id", "lat", "lon", "observed_at")
)


def _fast_ping(raw: Raw) -> Ping | None:
    """The ping when the record is plainly valid, else None (pydantic decides)."""
    row = _fast_ping_row(raw)
    return None if row is None else Ping(*row)


def _fast_ping_row(raw: Raw) -> PingRow | None:
    """The ping's fields when the record is plainly valid, else None (pydantic decides). Same
    rules as ``schemas.feeds.TrajectoryRecord``: it may turn away what pydantic would accept (it
    then takes the slow path), never the reverse."""
    record: Any
    if type(raw) is bytes or type(raw) is str:
        try:
            wire = _PING_DECODER.decode(raw)
        except msgspec.MsgspecError:
            return None
        observed_at = _fast_micros(wire.observed_at)
        if observed_at is None:
            return None
        return (wire.event_id, wire.person_id, float(wire.lat), float(wire.lon), observed_at)
    if type(raw) is dict:
        record = raw
    else:
        return None
    event_id = record.get("event_id")
    person_id = record.get("person_id")
    lat = record.get("lat")
    lon = record.get("lon")
    accuracy = record.get("accuracy_m")
    source = record.get("source")
    if (
        type(event_id) is not str
        or not event_id
        or type(person_id) is not str
        or not person_id
        or type(lat) not in _NUMBER
        or not -90 <= lat <= 90
        or type(lon) not in _NUMBER
        or not -180 <= lon <= 180
        or (accuracy is not None and (type(accuracy) not in _NUMBER or not accuracy >= 0))
        or (source is not None and type(source) is not str)
    ):
        return None
    observed_at = _fast_micros(record.get("observed_at"))
    if observed_at is None:
        return None
    return (event_id, person_id, float(lat), float(lon), observed_at)


def _fast_micros(value: object) -> int | None:
    """An RFC 3339 time with an offset as UTC microseconds, or None to let pydantic look.

    Equal to ``to_micros(parse_time(value, ...))`` wherever it answers (a property test checks).
    A city's phones report the same second many times over, so each spelling that passed the
    full check is remembered (bounded): most pings cost one dictionary look-up here.
    """
    if type(value) is not str:
        return None
    known = _TIMES.get(value)
    if known is not None:
        return known
    if RFC3339_WITH_OFFSET.match(value) is None:
        return None
    try:
        # Upper-case T and Z only: lower case makes this raise, and pydantic takes the record.
        micros = to_micros(datetime.fromisoformat(value))
    except ValueError:
        return None
    if not 0 <= micros < _FAST_UNTIL:
        return None
    if len(_TIMES) >= _TIMES_KEPT:
        _TIMES.clear()
    _TIMES[value] = micros
    return micros


# Spelling of a time -> its UTC microseconds; only spellings that passed the full check.
_TIMES: dict[str, int] = {}
_TIMES_KEPT = 200_000
