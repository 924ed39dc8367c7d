"""The trajectories fast path never accepts what pydantic refuses, and agrees with it otherwise."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from paicha.errors import FeedError
from paicha.feeds import _fast_ping, decode
from paicha.matching.model import Ping
from paicha.matching.timeutil import to_micros
from schemas import TrajectoryRecord

offsets = st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
    lambda minutes: timezone(timedelta(minutes=minutes))
)


def spell(moment: datetime, *, separator: str, digits: int, zulu: str | None) -> str:
    """``moment`` (aware, or naive for a naive spelling) as RFC 3339 text."""
    text = (
        f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}{separator}"
        f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}"
    )
    if digits:
        text += "." + f"{moment.microsecond:06d}987"[:digits]
    offset = moment.utcoffset()
    if offset is None:
        return text
    if offset == timedelta(0) and zulu:
        return text + zulu
    minutes = int(offset.total_seconds()) // 60
    sign = "-" if minutes < 0 else "+"
    return text + f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


@st.composite
def rfc3339(draw: st.DrawFn) -> str:
    """Times in every spelling the contract allows, naive ones, and the ends of the range."""
    moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
    offset = draw(st.one_of(st.none(), offsets))
    return spell(
        moment if offset is None else moment.replace(tzinfo=offset),
        separator=draw(st.sampled_from("TtT ")),
        digits=draw(st.integers(0, 9)),
        zulu=draw(st.sampled_from(["Z", "z", None])),
    )


@st.composite
def usual_times(draw: st.DrawFn) -> str:
    """Times as feeds usually spell them: T, Z or +hh:mm, at most microseconds, this era."""
    moment = draw(st.datetimes(min_value=datetime(1971, 1, 1), max_value=datetime(9998, 1, 1)))
    return spell(
        moment.replace(tzinfo=draw(offsets)),
        separator="T",
        digits=draw(st.integers(0, 6)),
        zulu=draw(st.sampled_from(["Z", None])),
    )


anything = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5), st.lists(st.none())
)
numbers = st.one_of(
    st.floats(min_value=-200, max_value=200), st.integers(-200, 200), st.floats(), anything
)
ids = st.one_of(st.text(max_size=4), anything)
MISSING = object()


@st.composite
def pings(draw: st.DrawFn) -> dict[str, Any]:
    fields = {
        "event_id": ids,
        "person_id": ids,
        "lat": numbers,
        "lon": numbers,
        "observed_at": st.one_of(rfc3339(), st.text(max_size=30), anything),
        "accuracy_m": st.one_of(st.none(), numbers),
        "source": st.one_of(st.none(), st.text(max_size=3), anything),
    }
    record = {}
    for name, values in fields.items():
        value = draw(
            st.one_of(st.just(MISSING), values) if draw(st.integers(0, 9)) == 0 else values
        )
        if value is not MISSING:
            record[name] = value
    return record


def by_pydantic(raw: bytes | dict[str, Any]) -> Ping | None:
    try:
        if isinstance(raw, bytes):
            model = TrajectoryRecord.model_validate_json(raw)
        else:
            model = TrajectoryRecord.model_validate(raw)
    except ValueError:
        return None
    return Ping(model.event_id, model.person_id, model.lat, model.lon, to_micros(model.observed_at))


GOOD = {"event_id": "e", "person_id": "p", "lat": 30.0, "lon": 120.0}


@settings(max_examples=1500, deadline=None)
@given(pings())
@example({**GOOD, "observed_at": "2021-12-07T08:30:00+08:00"})
@example({**GOOD, "observed_at": "0001-01-01T00:00:00+08:00"})
@example({**GOOD, "observed_at": "9999-12-31T23:59:59-08:00"})
@example({**GOOD, "observed_at": "2021-12-07T24:00:00Z"})
@example({**GOOD, "observed_at": "2021-12-07T08:30:00+24:00"})
@example({**GOOD, "observed_at": "2021-12-07T08:30:00Z", "lat": True})
@example({**GOOD, "observed_at": "2021-12-07T08:30:00Z", "accuracy_m": float("nan")})
def test_fast_path_accepts_only_what_pydantic_accepts_and_gives_the_same_ping(
    record: dict[str, Any],
) -> None:
    for raw in (record, json.dumps(record).encode()):
        fast = _fast_ping(raw)
        slow = by_pydantic(raw)
        if fast is not None:
            assert fast == slow
        try:
            decoded = decode("trajectories", raw)
        except FeedError:
            assert slow is None
        else:
            assert decoded == slow


@given(usual_times())
def test_times_spelled_the_usual_way_take_the_fast_path(text: str) -> None:
    ping = _fast_ping(orjson.dumps({**GOOD, "observed_at": text}))
    assert ping is not None
    assert ping.observed_at == to_micros(datetime.fromisoformat(text))


@pytest.mark.parametrize(
    "change",
    [
        {"observed_at": "2021-12-07T08:30:00"},
        {"lat": "30.0"},
        {"lat": True},
        {"event_id": ""},
        {"accuracy_m": -1},
        {"source": 5},
    ],
)
def test_fast_path_hands_doubtful_pings_to_pydantic(change: dict[str, Any]) -> None:
    record = {**GOOD, "observed_at": "2021-12-07T08:30:00Z", **change}
    assert _fast_ping(orjson.dumps(record)) is None
    with pytest.raises(FeedError):
        decode("trajectories", orjson.dumps(record))
