"""A throwaway PostgreSQL cluster from the Debian packages, for tests and local runs.

Why: tests that claim PostgreSQL behaviour must run against a real server, and this machine has no
Docker engine. Debian's `postgresql` package puts the server binaries under
`/usr/lib/postgresql/<major>/bin` (not on PATH). `initdb` refuses to run as root, so as root every
server command runs as the `postgres` user via `runuser`, in a folder that user owns. The cluster
trusts loopback connections, listens on a free port and runs with fsync off: it holds test data
only and is deleted on stop.

    with PostgresCluster() as cluster:
        engine = sqlalchemy.create_engine(cluster.url)
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from infra.process import InfraError, free_port, log_tail

SERVER_BIN_GLOB = "/usr/lib/postgresql/*/bin"
SERVICE_USER = "postgres"
SUPERUSER = "postgres"


def find_server_bin_dir() -> Path | None:
    """The newest PostgreSQL server `bin` folder (holding initdb and pg_ctl), or None.

    Debian's folders come first; `pg_ctl` on PATH is only a fallback, for machines (or developers)
    with PostgreSQL installed some other way.
    """
    candidates = sorted(
        (path for path in Path("/").glob(SERVER_BIN_GLOB.lstrip("/")) if _is_server_bin(path)),
        key=lambda path: _major_version(path.parent.name),
        reverse=True,
    )
    if candidates:
        return candidates[0]
    pg_ctl = shutil.which("pg_ctl")
    if pg_ctl is not None and _is_server_bin(Path(pg_ctl).resolve().parent):
        return Path(pg_ctl).resolve().parent
    return None


def install_postgres() -> Path:
    """Install PostgreSQL from Debian packages unless its server binaries are already there."""
    found = find_server_bin_dir()
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise InfraError("PostgreSQL is missing; as root run: apt-get install -y postgresql")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "postgresql"]):
        subprocess.run(command, check=True, env=env)
    found = find_server_bin_dir()
    if found is None:
        raise InfraError(f"installed postgresql, yet no initdb under {SERVER_BIN_GLOB}")
    return found


class PostgresCluster:
    """One PostgreSQL server on 127.0.0.1 with one database, living in a temporary folder.

    The folder is removed on a clean stop and kept when the start fails, so its log can be read.
    """

    def __init__(
        self,
        *,
        database: str = "paicha",
        bin_dir: Path | None = None,
        start_timeout: int = 60,
    ) -> None:
        self._database = database
        self._bin_dir = bin_dir
        self._start_timeout = start_timeout
        self._workdir: Path | None = None
        self._port = 0
        self._running = False

    @property
    def url(self) -> str:
        """SQLAlchemy URL with the psycopg2 driver spelled out (SQLAlchemy 2.1 defaults to v3)."""
        if not self._running:
            raise InfraError("the PostgreSQL cluster is not running")
        return f"postgresql+psycopg2://{SUPERUSER}@127.0.0.1:{self._port}/{self._database}"

    @property
    def log_path(self) -> Path:
        """The server's log file, for reading when something goes wrong."""
        if self._workdir is None:
            raise InfraError("the PostgreSQL cluster has not been started")
        return self._workdir / "postgres.log"

    def start(self) -> PostgresCluster:
        """initdb, start the server (pg_ctl waits until it accepts connections), create the db."""
        if self._running:
            return self
        bin_dir = self._bin_dir or find_server_bin_dir()
        if bin_dir is None:
            raise InfraError("PostgreSQL server binaries not found; run: make postgres-install")
        self._bin_dir = bin_dir
        self._workdir = Path(tempfile.mkdtemp(prefix="paicha-pg-"))
        self._hand_to_service_user(self._workdir)
        self._port = free_port()
        try:
            self._run("initdb", "-D", str(self._data_dir), "-U", SUPERUSER, "-A", "trust",
                      "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
            self._configure()
            self._run("pg_ctl", "-D", str(self._data_dir), "-l", str(self.log_path),
                      "-w", "-t", str(self._start_timeout), "start")  # fmt: skip
            self._running = True
            self._create_database()
        except (InfraError, subprocess.CalledProcessError) as error:
            self._pg_ctl_stop("immediate")
            self._running = False
            output = getattr(error, "stderr", None) or getattr(error, "output", None) or ""
            raise InfraError(
                f"PostgreSQL did not start: {error}\n{output}--- tail of {self.log_path} ---\n"
                f"{log_tail(self.log_path)}"
            ) from None
        return self

    def stop(self) -> None:
        """Fast shutdown (disconnect clients, no waiting for them), then delete the folder."""
        if self._workdir is None:
            return
        if self._running:
            self._pg_ctl_stop("fast")
            self._running = False
        shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None

    def __enter__(self) -> PostgresCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def _data_dir(self) -> Path:
        assert self._workdir is not None
        return self._workdir / "data"

    def _configure(self) -> None:
        settings = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self._port),
            # The socket goes in our own folder: /var/run/postgresql may not exist or be ours.
            "unix_socket_directories": f"'{self._workdir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "100",
            "shared_buffers": "64MB",
        }
        with (self._data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n# paicha test cluster\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _create_database(self) -> None:
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self._port), "-U", SUPERUSER,
                  self._database)  # fmt: skip

    def _pg_ctl_stop(self, mode: str) -> None:
        if self._workdir is None or not (self._data_dir / "postmaster.pid").exists():
            return
        try:
            self._run("pg_ctl", "-D", str(self._data_dir), "-m", mode, "-w", "-t", "30", "stop")
        except subprocess.CalledProcessError:
            if mode != "immediate":
                self._run("pg_ctl", "-D", str(self._data_dir), "-m", "immediate", "-w", "stop")

    def _run(self, program: str, *args: str) -> None:
        """Run a server binary, as the postgres user when we are root; raise with its output."""
        assert self._bin_dir is not None
        command = [str(self._bin_dir / program), *args]
        if os.geteuid() == 0:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, check=False, stdin=subprocess.DEVNULL
        )
        if result.returncode != 0:
            raise subprocess.CalledProcessError(
                result.returncode, command, output=result.stdout, stderr=result.stderr
            )

    @staticmethod
    def _hand_to_service_user(folder: Path) -> None:
        """As root, give the folder to the postgres user (initdb insists on owning its data)."""
        if os.geteuid() != 0:
            return
        try:
            account = pwd.getpwnam(SERVICE_USER)
        except KeyError:
            raise InfraError(f"no '{SERVICE_USER}' user; run: make postgres-install") from None
        os.chown(folder, account.pw_uid, account.pw_gid)
        folder.chmod(0o700)


@contextmanager
def server_or_throwaway(server_url: str | None) -> Iterator[str]:
    """The URL of the server given, or of a throwaway cluster started for the block and
    stopped after it: what the benchmarks run against when no ``--database-url`` is given."""
    if server_url is not None:
        yield server_url
        return
    with PostgresCluster() as cluster:
        yield cluster.url


@contextmanager
def scratch_database(server_url: str, prefix: str) -> Iterator[str]:
    """A new, empty database on the server of ``server_url`` (a SQLAlchemy URL): its URL, and
    the database dropped afterwards, open connections and all. Creating one takes milliseconds,
    far less than a new server, and nothing sees another's rows."""
    from sqlalchemy import create_engine, make_url, text

    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(server_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _is_server_bin(path: Path) -> bool:
    return (path / "initdb").is_file() and (path / "pg_ctl").is_file()


def _major_version(name: str) -> tuple[int, ...]:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return (0,)
