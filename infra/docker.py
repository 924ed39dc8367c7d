"""Is a Docker engine reachable? Asked by pinging it, not by looking for the `docker` command.

Why: the `docker` client binary can be installed where no engine runs (as on these machines), so
its presence proves nothing. testcontainers' own client raises within a fraction of a second when
no engine answers, which keeps the check cheap enough to run at every test session start.
"""

from __future__ import annotations

import functools


@functools.cache
def docker_engine_available() -> bool:
    """True when a Docker engine answers a ping; False fast (and quietly) otherwise."""
    try:
        from testcontainers.core.docker_client import DockerClient

        client = DockerClient(timeout=3)
        try:
            return bool(client.client.ping())
        finally:
            client.client.close()
    except Exception:  # no SDK, no socket, refused, timed out: all mean "no engine"
        return False
