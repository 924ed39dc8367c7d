"""``make bench`` (``python -m bench``): paicha's matching measured beside its baselines, same run.

It generates a synthetic city once (``paicha simulate``, kept under ``var/bench/``), then measures:

1. the engine's ping throughput on one core (stay builder and cell join), CPU time;
2. ``paicha match`` end to end, beside the pipeline a team would otherwise build on PostgreSQL
   (COPY, a gaps-and-islands window query, an indexed co-location join), wall time, on the same
   files, the two run by turns, and checks that both find the same co_located exposures;
3. one new case matched against a city already loaded, engine against the indexed SQL query.

Every figure is printed with its baseline, ratio and target (Rich tables) and written as JSON
(``var/bench/results.json``). A result that differs from its baseline exits non-zero: a fast
wrong answer is not a result.

    bench.city          generate (or reuse) the city, decode its feeds untimed
    bench.engine_runs   items 1 and 3 on the in-process engine
    bench.match_run     ``paicha match`` as a subprocess
    bench.postgres      the PostgreSQL baseline (items 2 and 3)
    bench.companions    co_located exposures as comparable sets, and their comparison
    bench.timing        clocks, best of N, machine facts, a server's CPU time
    bench.outcome       what a run found, and its JSON document
    bench.tables        the summary rows with their targets, and the detail tables
    bench.report        Rich table and JSON primitives
    bench.run           the order of it all; ``__main__`` is its command line
"""
