"""The embedded runtime (``paicha run``): the whole system in one process, on one laptop.

The same stream processors as the faust workers (``streams.processors``) run over an in-process
bus instead of Kafka, keep their state in a SQLite file instead of RocksDB and changelog topics,
and hand ``screening-tasks`` and ``persons`` to the same tracking handlers the Kafka consumer
calls. Only the wiring differs from production:

    store.py     the processors' state and the bus's offsets, in one SQLite file
    bus.py       the deterministic dispatcher: records through the processors until quiet
    runtime.py   the one thread that owns the bus; every producer submits to it and waits
    sinks.py     where records leave the bus: the tracking database, the dead-letter file,
                 and the publishers that put records on it (outbox relay, HTTP ingestion)
    feeder.py    a city's feed files onto the bus at a visible pace, resumable
    demo.py      the demo users and their tokens
    runner.py    ``paicha run``: all of the above, uvicorn, and Ctrl-C
"""
