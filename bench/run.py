"""The benchmark from start to finish: city, engine, ``paicha match``, PostgreSQL, report.

The engine is loaded once per repetition; each loaded engine is then used for item 3 (one new
case), so item 3 gets as many samples as item 1 without loading the city again. The end-to-end
runs (``paicha match``, then the PostgreSQL pipeline) each have the machine to themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bench import engine_runs, postgres
from bench.city import City, CitySpec, ensure_city, load_city
from bench.companions import Companion, Comparison, compare, from_tasks
from bench.match_run import run_paicha_match
from bench.outcome import EngineOutcome, Outcome, PostgresOutcome, document
from bench.report import summary_table, write_json
from bench.tables import detail_tables, machine_table, summary_rows
from bench.timing import Timing, load_average, machine_facts
from paicha.matching.params import MatchParams


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    city: CitySpec
    out: Path
    repeat: int = 3
    postgres: bool = True
    database_url: str | None = None
    case_person: str | None = None


def run(options: Options, out: Console, log: Console) -> int:
    """Run everything, print the tables to ``out`` (progress to ``log``); 1 when results differ."""
    facts = machine_facts()
    out.print(machine_table(facts))
    params = MatchParams()
    log.log(f"city {options.city} under {options.out}")
    folder, generated = ensure_city(options.city, options.out)
    log.log("decoding the feeds (not timed)")
    city = load_city(folder)
    log.log(f"{len(city.pings):,} pings; the engine, {options.repeat} runs")
    engine = _engine_part(city, params, options, log)
    log.log("paicha match, end to end")
    match = run_paicha_match(folder, options.out / f"tasks-{folder.name}.jsonl", city.last_ping)
    pg = None
    if options.postgres:
        log.log("the PostgreSQL pipeline, end to end")
        pg = _postgres_part(city, params, options, engine.person)
    outcome = Outcome(options.city, facts, city, generated, engine, match, pg)
    outcome.checks = _checks(outcome)
    facts["load_average_at_end"] = load_average()
    rows = summary_rows(outcome)
    for table in detail_tables(outcome):
        out.print(table)
    out.print(summary_table(rows, outcome.checks))
    for check in outcome.checks:
        out.print(f"{check.name}: {check.summary()}", highlight=False)
    out.print(f"load average at end: {' '.join(str(x) for x in facts['load_average_at_end'])}")
    results = options.out / "results.json"
    write_json(results, document(outcome, rows))
    out.print(f"results written to {results}")
    if not outcome.ok:
        out.print("[bold red]RESULTS DIFFER from their baseline: see the checks above.[/]")
        return 1
    return 0


def _engine_part(city: City, params: MatchParams, options: Options, log: Console) -> EngineOutcome:
    runs: list[engine_runs.PingRun] = []
    new_case_s: list[float] = []
    new_case_tasks_s: list[float] = []
    found: list[set[Companion]] = []
    in_process: set[Companion] = set()
    person, person_stays, changed = options.case_person or "", 0, 0
    for rep in range(options.repeat):
        engine = engine_runs.loaded_engine(city, params)
        runs.append(engine_runs.submit_all_pings(engine, city))
        log.log(f"  run {rep + 1}: {runs[-1].pings / runs[-1].cpu_s:,.0f} pings/s (CPU)")
        if rep == 0:
            in_process = from_tasks(engine.open_tasks().values())
            if not person:
                person = engine_runs.pick_case_person(engine, city, params)
            elif person not in engine.tracks or any(c.person_id == person for c in city.cases):
                raise SystemExit(f"--case-person {person}: no pings, or already a case")
            person_stays = len(engine.tracks[person].stays)
        case = engine_runs.new_case(city, person)
        matched, with_tasks, tasks = engine_runs.match_new_case(engine, case)
        new_case_s.append(matched)
        new_case_tasks_s.append(with_tasks)
        found.append(from_tasks(tasks, case.case_id))
        changed = len(tasks)
        del engine
    return EngineOutcome(
        pings=Timing("cpu", tuple(r.cpu_s for r in runs)),
        runs=runs,
        in_process=in_process,
        person=person,
        person_stays=person_stays,
        new_case=Timing("cpu", tuple(new_case_s)),
        new_case_tasks=Timing("cpu", tuple(new_case_tasks_s)),
        companions=found[0],
        changed_tasks=changed,
        runs_agree=all(f == found[0] for f in found),
    )


def _postgres_part(
    city: City, params: MatchParams, options: Options, person: str
) -> PostgresOutcome:
    with postgres.connection(options.database_url) as (conn, server):
        pipeline = postgres.run_pipeline(conn, city.folder, params)
        postgres.prepare_new_case_query(conn)
        case = engine_runs.new_case(city, person)
        timing, companions = postgres.new_case_companions(conn, case, params, options.repeat)
    return PostgresOutcome(server, pipeline, timing, companions)


def _checks(o: Outcome) -> list[Comparison]:
    """Where two sides compute the same thing, they must agree exactly."""
    checks = [
        compare(
            "co_located: paicha match = in-process engine (harness)",
            "paicha_match",
            o.match.companions,
            "engine",
            o.engine.in_process,
        ),
    ]
    if o.pg is not None:
        checks.append(
            compare(
                "co_located of the city (item 2)",
                "paicha_match",
                o.match.companions,
                "postgresql",
                o.pg.pipeline.companions,
            )
        )
        checks.append(
            compare(
                "companions of the new case (item 3)",
                "engine",
                o.engine.companions,
                "postgresql",
                o.pg.companions,
            )
        )
    if not o.engine.runs_agree:
        differ = ("the engine's runs found different companions", "", "", 0, 0)
        checks.append(
            Comparison("new case: every engine run agrees", "engine", "engine", 0, 0, (differ,), ())
        )
    return checks
