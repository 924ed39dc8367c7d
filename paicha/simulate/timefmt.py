"""Simulated time: Unix seconds inside the simulator, RFC 3339 at +08:00 in the records it writes,
because the feeds it imitates are Chinese ones and stamp local time with its offset."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

CST = timezone(timedelta(hours=8), "CST")
DEFAULT_START = datetime(2021, 12, 1, tzinfo=CST)


def rfc3339(seconds: int) -> str:
    """Unix seconds as ``2021-12-01T08:30:00+08:00``."""
    return datetime.fromtimestamp(seconds, CST).isoformat()


def local_midnight(seconds: int) -> int:
    """The Unix seconds of the +08:00 midnight at or before ``seconds``."""
    moment = datetime.fromtimestamp(seconds, CST)
    return int(moment.replace(hour=0, minute=0, second=0, microsecond=0).timestamp())
