"""Real services for tests and development, started on this machine without Docker.

`infra.kafka` runs a single-node KRaft Apache Kafka from Maven Central jars, `infra.postgres` a
throwaway PostgreSQL cluster from Debian's packages, `infra.docker` tells whether testcontainers
could be used instead. `python -m infra kafka|postgres` runs one in the foreground.
"""
