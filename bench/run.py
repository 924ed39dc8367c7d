"""The benchmark from start to finish: city, engine, ``paicha match``, PostgreSQL, report.

The engine is loaded once per repetition; each loaded engine is then used for item 3 (one new
case), so item 3 gets as many samples as item 1 without loading the city again. The end-to-end
runs (``paicha match`` and the PostgreSQL pipeline, by turns) each have the machine to themselves.
"""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from bench import engine_runs, postgres
from bench.city import City, CitySpec, ensure_city, load_city
from bench.companions import Companion, Comparison, compare, from_tasks
from bench.match_run import MatchResult, run_paicha_match
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
    matches, pg = _end_to_end_part(city, params, options, engine.person, log)
    outcome = Outcome(options.city, facts, city, generated, engine, matches, pg)
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


def _end_to_end_part(
    city: City, params: MatchParams, options: Options, person: str, log: Console
) -> tuple[list[MatchResult], PostgresOutcome | None]:
    """Item 2, ``paicha match`` and the PostgreSQL pipeline by turns, ``repeat`` runs each: a
    disturbance of the machine that lasts a while then falls on both sides, and each side's best
    run is its figure, as for the other items. Then item 3's query on the last run's tables."""
    output = options.out / f"tasks-{city.folder.name}.jsonl"
    pings = len(city.pings)
    matches: list[MatchResult] = []
    with ExitStack() as stack:
        conn, server = None, ""
        if options.postgres:
            conn, server = stack.enter_context(postgres.connection(options.database_url))
        pipelines: list[postgres.PipelineRun] = []
        for rep in range(options.repeat):
            matches.append(run_paicha_match(city.folder, output, city.last_ping))
            done = f"  run {rep + 1}: paicha match {pings / matches[-1].wall_s:,.0f} pings/s"
            if conn is not None:
                pipelines.append(postgres.run_pipeline(conn, city.folder, params))
                done += f", PostgreSQL {pings / pipelines[-1].end_to_end_s:,.0f} pings/s"
            log.log(done + " (wall)")
        if conn is None:
            return matches, None
        postgres.prepare_new_case_query(conn)
        case = engine_runs.new_case(city, person)
        timing, companions = postgres.new_case_companions(conn, case, params, options.repeat)
    return matches, PostgresOutcome(server, pipelines, timing, companions)


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
    for side, found in (
        ("paicha_match", [run.companions for run in o.matches]),
        ("postgresql", [] if o.pg is None else [run.companions for run in o.pg.pipelines]),
    ):
        for rep, other in enumerate(found[1:], start=2):
            if other != found[0]:  # shown only when they differ, as for the engine's runs
                name = f"co_located: {side} run {rep} = run 1"
                checks.append(compare(name, f"run_{rep}", other, "run_1", found[0]))
    if not o.engine.runs_agree:
        differ = ("the engine's runs found different companions", "", "", 0, 0)
        checks.append(
            Comparison("new case: every engine run agrees", "engine", "engine", 0, 0, (differ,), ())
        )
    return checks
