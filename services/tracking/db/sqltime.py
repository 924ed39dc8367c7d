"""Time arithmetic in SQL that runs on both databases the service uses.

PostgreSQL and SQLite share no function for "seconds since the epoch" of a stored time:
``EXTRACT(EPOCH FROM …)`` on one, ``julianday(…)`` on the other (SQLite stores UTC text, see
``UTCDateTime``). ``epoch_seconds`` compiles to the right one, so queries that compare times
with arithmetic on them (the deadline watch's 75 % threshold) stay one SQLAlchemy construct.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Float, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import FunctionElement

# julianday('1970-01-01 00:00:00')
UNIX_EPOCH_JULIAN_DAY = 2440587.5


class epoch_seconds(FunctionElement[float]):  # lower case: it reads as an SQL function
    """Seconds since 1970-01-01 UTC of a time column, as a float."""

    type = Float()
    inherit_cache = True
    name = "epoch_seconds"

    def __init__(self, column: Any) -> None:
        super().__init__(column)


@compiles(epoch_seconds, "postgresql")
def _postgresql(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@compiles(epoch_seconds, "sqlite")
def _sqlite(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    column = compiler.process(element.clauses, **kw)
    return f"((julianday({column}) - {UNIX_EPOCH_JULIAN_DAY}) * 86400.0)"


@compiles(epoch_seconds)
def _other(element: epoch_seconds, compiler: SQLCompiler, **kw: Any) -> str:
    raise NotImplementedError(f"epoch_seconds has no form for {compiler.dialect.name}")


def share_elapsed(start: Any, end: Any, share: float, now: datetime) -> ColumnElement[bool]:
    """``start + share * (end - start) <= now``: ``share`` of the interval has run by ``now``."""
    begin, finish = epoch_seconds(start), epoch_seconds(end)
    fraction = bindparam("share", share, type_=Float())
    return begin + fraction * (finish - begin) <= bindparam(
        "now_epoch", now.timestamp(), type_=Float()
    )
