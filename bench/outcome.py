"""What one benchmark run found, part by part, and the JSON document it becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bench.city import City, CitySpec
from bench.companions import Companion, Comparison
from bench.engine_runs import PingRun
from bench.match_run import MatchResult
from bench.postgres import PipelineRun
from bench.report import Row
from bench.timing import Timing


@dataclass(slots=True)
class EngineOutcome:
    """Items 1 and 3 on the engine, over every repetition."""

    pings: Timing
    runs: list[PingRun]
    in_process: set[Companion]  # co_located of the loaded city, for the harness check
    person: str
    person_stays: int
    new_case: Timing  # submit + join: the matching
    new_case_tasks: Timing  # submit + join + the task policy
    companions: set[Companion]
    changed_tasks: int
    runs_agree: bool


@dataclass(slots=True)
class PostgresOutcome:
    server: str
    pipelines: list[PipelineRun]  # one per repetition, alternating with ``paicha match``
    new_case: Timing
    companions: set[Companion]

    @property
    def pipeline(self) -> PipelineRun:
        """The least disturbed run, as every figure is taken."""
        return min(self.pipelines, key=lambda run: run.end_to_end_s)

    @property
    def end_to_end(self) -> Timing:
        return Timing("wall", tuple(run.end_to_end_s for run in self.pipelines))


@dataclass(slots=True)
class Outcome:
    spec: CitySpec
    facts: dict[str, Any]
    city: City
    generated: bool
    engine: EngineOutcome
    matches: list[MatchResult]  # one per repetition, alternating with the PostgreSQL pipeline
    pg: PostgresOutcome | None
    checks: list[Comparison] = field(default_factory=list)

    @property
    def match(self) -> MatchResult:
        """The least disturbed ``paicha match`` run, as every figure is taken."""
        return min(self.matches, key=lambda run: run.wall_s)

    @property
    def match_wall(self) -> Timing:
        return Timing("wall", tuple(run.wall_s for run in self.matches))

    @property
    def ok(self) -> bool:
        """Every result equals its baseline (the figures may still miss their targets)."""
        return all(check.identical for check in self.checks)


def document(o: Outcome, rows: list[Row]) -> dict[str, Any]:
    """Everything measured, for ``results.json``: raw samples, not only the best."""
    e, pg = o.engine, o.pg
    return {
        "ok": o.ok,
        "machine": o.facts,
        "city": {
            "persons": o.spec.persons,
            "days": o.spec.days,
            "seed": o.spec.seed,
            "folder": str(o.city.folder),
            "generated_now": o.generated,
            "pings": len(o.city.pings),
        },
        "summary": [row.as_json() for row in rows],
        "checks": [check.as_json() for check in o.checks],
        "engine": {
            "pings": e.pings.as_json(),
            "runs": [
                {
                    "cpu_s": r.cpu_s,
                    "pings": r.pings,
                    "chunks": r.chunks,
                    "stays": r.stays,
                    "cells": r.cells,
                }
                for r in e.runs
            ],
        },
        "paicha_match": {
            "wall": o.match_wall.as_json(),
            "wall_s": o.match.wall_s,
            "cpu_s": o.match.cpu_s,
            "tasks": o.match.tasks,
            "co_located": len(o.match.companions),
        },
        "postgres": None
        if pg is None
        else {
            "server": pg.server,
            "pings": pg.pipeline.pings,
            "stays": pg.pipeline.stays,
            "load_s": pg.pipeline.load_s,
            "phases_s": pg.pipeline.phases_s,
            "set_based_s": pg.pipeline.set_based_s,
            "end_to_end": pg.end_to_end.as_json(),
            "end_to_end_s": pg.pipeline.end_to_end_s,
            "client_cpu_s": pg.pipeline.client_cpu_s,
            "server_cpu_s": pg.pipeline.server_cpu_s,
            "co_located": len(pg.pipeline.companions),
        },
        "new_case": {
            "person_id": e.person,
            "stays": e.person_stays,
            "engine": e.new_case.as_json(),
            "engine_with_tasks": e.new_case_tasks.as_json(),
            "engine_companions": len(e.companions),
            "tasks_changed": e.changed_tasks,
            "sql": None if pg is None else pg.new_case.as_json(),
            "sql_companions": None if pg is None else len(pg.companions),
        },
    }
