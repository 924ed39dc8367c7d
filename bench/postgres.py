"""The baseline: the pipeline a team would otherwise build on PostgreSQL, on the same files.

Load: read ``trajectories.jsonl``, parse each line (orjson, ``datetime.fromisoformat``), compute
its H3 cell client-side with ``h3``, and stream the rows into ``COPY ... FROM STDIN`` while they
are made. Then the set-based part, all SQL: stays by a gaps-and-islands window query (a new stay
when the cell changes or the gap exceeds ``max_gap``, per person ordered by ``(observed_at,
cell)``), case stays clipped to each case's window, an index on ``stays (cell, start_at,
end_at)``, and the co-location join (same cell, overlap at least ``min_overlap``, persons who
are cases left out, rule 8) into a ``co_located`` table.

The baseline gets every advantage a careful team would take: unlogged tables, only the columns
matching needs (no event_id, lat, lon), times as bigint microseconds, ``work_mem`` large enough
that the window sort stays in memory, no schema validation on the client, and (on the cluster
``infra.postgres`` starts) fsync off.
"""

from __future__ import annotations

import itertools
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import psycopg2
from h3.api.basic_int import latlng_to_cell

from bench.companions import Companion, from_rows
from bench.timing import ServerCpu, Timing
from infra.postgres import server_or_throwaway
from paicha.feeds import decode
from paicha.matching.model import Case
from paicha.matching.params import MatchParams
from paicha.matching.stays import case_window
from paicha.matching.timeutil import to_micros
from services.tracking.db.session import libpq_dsn

SESSION = ("SET work_mem = '512MB'", "SET maintenance_work_mem = '512MB'")

DROP_TABLES = "DROP TABLE IF EXISTS co_located, case_stays, stays, cases, pings"

CREATE_TABLES = """
CREATE UNLOGGED TABLE pings (person_id text NOT NULL, observed_at bigint NOT NULL,
                             cell bigint NOT NULL);
CREATE UNLOGGED TABLE cases (case_id text PRIMARY KEY, person_id text NOT NULL,
                             reported_at bigint NOT NULL, isolated_at bigint)
"""

# Rule 1, gaps and islands: flag the pings that start a stay, number the stays by a running sum
# of the flags, and each (person, number) is one stay. Both windows sort the same way, so
# PostgreSQL sorts once.
STAYS = """
CREATE UNLOGGED TABLE stays AS
SELECT person_id, min(cell) AS cell, min(observed_at) AS start_at, max(observed_at) AS end_at
FROM (
    SELECT person_id, cell, observed_at,
           sum(starts) OVER (PARTITION BY person_id ORDER BY observed_at, cell
                             ROWS UNBOUNDED PRECEDING) AS stay_no
    FROM (
        SELECT person_id, cell, observed_at,
               CASE WHEN cell = lag(cell) OVER w
                         AND observed_at - lag(observed_at) OVER w <= %(max_gap)s
                    THEN 0 ELSE 1 END AS starts
        FROM pings
        WINDOW w AS (PARTITION BY person_id ORDER BY observed_at, cell)
    ) flagged
) numbered
GROUP BY person_id, stay_no
"""

# Rule 2: a case's stays clipped to [reported_at - lookback, isolated_at or reported_at].
CASE_STAYS = """
CREATE UNLOGGED TABLE case_stays AS
SELECT c.case_id, s.cell,
       greatest(s.start_at, c.reported_at - %(lookback)s) AS start_at,
       least(s.end_at, coalesce(c.isolated_at, c.reported_at)) AS end_at
FROM cases c JOIN stays s ON s.person_id = c.person_id
WHERE greatest(s.start_at, c.reported_at - %(lookback)s)
      <= least(s.end_at, coalesce(c.isolated_at, c.reported_at))
"""

INDEX = "CREATE INDEX stays_cell_time ON stays (cell, start_at, end_at); ANALYZE stays"

# Rule 3 (and 8: no exposure for a person who is a case). The first two conditions on s are what
# the index can use; the third is the rule.
CO_LOCATED = """
CREATE UNLOGGED TABLE co_located AS
SELECT DISTINCT s.person_id, cs.case_id, s.cell,
       greatest(s.start_at, cs.start_at) AS overlap_start,
       least(s.end_at, cs.end_at) AS overlap_end
FROM case_stays cs
JOIN stays s ON s.cell = cs.cell
            AND s.start_at <= cs.end_at - %(min_overlap)s
            AND s.end_at >= cs.start_at + %(min_overlap)s
WHERE least(s.end_at, cs.end_at) - greatest(s.start_at, cs.start_at) >= %(min_overlap)s
  AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = s.person_id)
"""

# Item 3: one new case's companions, straight from the indexed stays.
NEW_CASE = """
SELECT DISTINCT s.person_id, %(case_id)s, s.cell,
       greatest(s.start_at, cs.start_at), least(s.end_at, cs.end_at)
FROM (SELECT cell, greatest(start_at, %(from)s) AS start_at, least(end_at, %(to)s) AS end_at
      FROM stays WHERE person_id = %(person_id)s) cs
JOIN stays s ON s.cell = cs.cell
            AND s.start_at <= cs.end_at - %(min_overlap)s
            AND s.end_at >= cs.start_at + %(min_overlap)s
WHERE cs.start_at <= cs.end_at
  AND least(s.end_at, cs.end_at) - greatest(s.start_at, cs.start_at) >= %(min_overlap)s
  AND s.person_id <> %(person_id)s
  AND NOT EXISTS (SELECT 1 FROM cases c WHERE c.person_id = s.person_id)
"""


@dataclass(frozen=True, slots=True)
class PipelineRun:
    """One end-to-end run of the baseline, its phases in wall seconds."""

    pings: int
    stays: int
    load_s: float  # read, parse, H3 and COPY, streamed together
    phases_s: dict[str, float]  # the set-based part, phase by phase
    companions: set[Companion]
    client_cpu_s: float
    server_cpu_s: float | None  # every server process; None when the server is not local

    @property
    def set_based_s(self) -> float:
        return sum(self.phases_s.values())

    @property
    def end_to_end_s(self) -> float:
        return self.load_s + self.set_based_s


@contextmanager
def connection(database_url: str | None) -> Iterator[tuple[Any, str]]:
    """A psycopg2 connection in a fresh schema, and a description of the server.

    Without ``database_url`` a throwaway cluster is started (``infra.postgres``); with one, the
    schema is dropped afterwards so the server is left as it was.
    """
    throwaway = " (throwaway cluster)" if database_url is None else ""
    schema = f"bench_{uuid.uuid4().hex[:12]}"
    with server_or_throwaway(database_url) as url:
        conn = psycopg2.connect(libpq_dsn(url))
        conn.autocommit = True
        try:
            with conn.cursor() as cursor:
                cursor.execute(f"CREATE SCHEMA {schema}")
                cursor.execute(f"SET search_path TO {schema}")
                for statement in SESSION:
                    cursor.execute(statement)
                cursor.execute("SHOW server_version")
                version = cursor.fetchone()[0]
            yield conn, f"PostgreSQL {version}{throwaway}"
        finally:
            try:
                with conn.cursor() as cursor:
                    cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
            finally:
                conn.close()


def run_pipeline(conn: Any, city_folder: Path, params: MatchParams) -> PipelineRun:
    """The whole baseline on one city folder, end to end, each phase timed in wall seconds."""
    sql_params = {
        "max_gap": params.max_gap,
        "lookback": params.lookback,
        "min_overlap": params.min_overlap,
    }
    phases: dict[str, float] = {}
    with conn.cursor() as cursor:
        cursor.execute(DROP_TABLES)  # a previous run's, untimed
    server_cpu = ServerCpu(conn)
    client_began, server_began = time.process_time(), server_cpu()
    with conn.cursor() as cursor:
        began = time.perf_counter()
        cursor.execute(CREATE_TABLES)
        _insert_cases(cursor, city_folder / "cases.jsonl")
        source = _CopySource(_ping_rows(city_folder / "trajectories.jsonl", params.h3_resolution))
        cursor.copy_expert("COPY pings (person_id, observed_at, cell) FROM STDIN", source)
        pings = cursor.rowcount
        load = time.perf_counter() - began
        for phase, statement in (
            ("stays (window query)", STAYS),
            ("case stays", CASE_STAYS),
            ("index + analyze", INDEX),
            ("co-location join", CO_LOCATED),
        ):
            began = time.perf_counter()
            cursor.execute(statement, sql_params)
            phases[phase] = time.perf_counter() - began
        began = time.perf_counter()
        cursor.execute(
            "SELECT person_id, case_id, cell, overlap_start, overlap_end FROM co_located"
        )
        companions = from_rows(cursor.fetchall())
        phases["fetch exposures"] = time.perf_counter() - began
        client_cpu = time.process_time() - client_began
        server_ended = server_cpu()
        cursor.execute("SELECT count(*) FROM stays")
        stays = cursor.fetchone()[0]
    server = None
    if server_began is not None and server_ended is not None:
        server = server_ended - server_began
    return PipelineRun(pings, stays, load, phases, companions, client_cpu, server)


def prepare_new_case_query(conn: Any) -> None:
    """The index item 3's query looks a case's own stays up by (untimed; it helps the baseline)."""
    with conn.cursor() as cursor:
        cursor.execute("CREATE INDEX stays_person ON stays (person_id); ANALYZE stays")


def new_case_companions(
    conn: Any, case: Case, params: MatchParams, repeat: int
) -> tuple[Timing, set[Companion]]:
    """Item 3 in SQL: the new case's companions from the indexed stays, best of ``repeat``."""
    start, end = case_window(case, params.lookback)
    args = {
        "case_id": case.case_id,
        "person_id": case.person_id,
        "from": start,
        "to": end,
        "min_overlap": params.min_overlap,
    }
    samples = []
    rows: list[Any] = []
    with conn.cursor() as cursor:
        for _ in range(repeat):
            began = time.perf_counter()
            cursor.execute(NEW_CASE, args)
            rows = cursor.fetchall()
            samples.append(time.perf_counter() - began)
    return Timing("wall", tuple(samples)), from_rows(rows)


def _insert_cases(cursor: Any, path: Path) -> None:
    if not path.is_file():
        return
    with path.open("rb") as lines:
        cases = [decode("cases", line) for line in lines if line.strip()]
    cursor.executemany(
        "INSERT INTO cases VALUES (%s, %s, %s, %s)",
        [
            (c.case_id, c.person_id, c.reported_at, c.isolated_at)
            for c in cases
            if isinstance(c, Case)
        ],
    )


def _ping_rows(path: Path, resolution: int) -> Iterator[bytes]:
    """COPY text rows ``person_id \\t observed_at \\t cell`` from a trajectories file."""
    loads, parse = orjson.loads, datetime.fromisoformat
    escaped: dict[str, str] = {}
    with path.open("rb") as lines:
        for line in lines:
            if not line.strip():
                continue
            ping = loads(line)
            person = ping["person_id"]
            field = escaped.get(person)
            if field is None:
                field = escaped[person] = _copy_text(person)
            at = to_micros(parse(ping["observed_at"]))
            cell = latlng_to_cell(ping["lat"], ping["lon"], resolution)
            yield f"{field}\t{at}\t{cell}\n".encode()


def _copy_text(value: str) -> str:
    """A value as COPY's text format needs it: backslash, tab and line ends escaped."""
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


class _CopySource:
    """What ``copy_expert`` reads from: rows made on demand, so parsing, H3 and the server's
    COPY run side by side (two processes) instead of one after the other."""

    def __init__(self, rows: Iterator[bytes], batch: int = 2000) -> None:
        self._rows = rows
        self._batch = batch

    def read(self, size: int = -1) -> bytes:
        return b"".join(itertools.islice(self._rows, self._batch))

    def readline(self, size: int = -1) -> bytes:
        return next(self._rows, b"")
