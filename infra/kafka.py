"""A real single-node Apache Kafka (KRaft) broker, started from Maven Central jars.

Why: tests that claim Kafka behaviour must run against a real broker, and this machine has no
Docker engine. Apache Kafka 3.9.1 runs on Java 17 and still speaks the older protocol versions the
Python clients use. The jars come from `infra/kafka/pom.xml` into `var/kafka-libs/`
(see `ensure_kafka_jars`); the broker runs as broker and controller at once on two free loopback
ports, with storage in a fresh folder, tuned for fast tests (one offsets partition, no initial
rebalance delay).

    with KafkaBroker() as broker:
        produce_to(broker.bootstrap_servers)
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

from infra.process import InfraError, free_ports, log_tail, terminate

KAFKA_DIR = Path(__file__).resolve().parent / "kafka"
POM = KAFKA_DIR / "pom.xml"
LOG4J_CONFIG = KAFKA_DIR / "log4j.properties"
REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_LIBS_DIR = REPO_ROOT / "var" / "kafka-libs"
HEAP_OPTS = ("-Xms256m", "-Xmx512m")


def ensure_kafka_jars(libs_dir: Path = DEFAULT_LIBS_DIR) -> Path:
    """Make sure `libs_dir` holds the broker's runtime classpath for the current pom.xml.

    A stamp records which pom.xml the jars came from: after a version bump the folder is emptied
    and filled again, since old and new jars side by side on one classpath break the broker.
    Maven caches downloads in ~/.m2, so a refill on the same machine is a copy, not a download.
    """
    wanted = hashlib.sha256(POM.read_bytes()).hexdigest()
    stamp = libs_dir / ".pom-sha256"
    if stamp.exists() and stamp.read_text().strip() == wanted:
        return libs_dir
    mvn = shutil.which("mvn")
    if mvn is None:
        raise InfraError("Maven (mvn) is not on PATH; install it: apt-get install -y maven")
    libs_dir.mkdir(parents=True, exist_ok=True)
    for stale in libs_dir.glob("*.jar"):  # jars only: never wipe a folder someone pointed us at
        stale.unlink()
    command = [
        mvn,
        "-q",
        "-B",
        "-f",
        str(POM),
        f"-Dkafka.libs.dir={libs_dir}",
        "dependency:copy-dependencies",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not any(libs_dir.glob("kafka_2.13-*.jar")):
        raise InfraError(
            f"fetching Kafka jars failed ({' '.join(command)}):\n{result.stdout}{result.stderr}"
        )
    stamp.write_text(wanted + "\n")
    return libs_dir


def _cluster_id() -> str:
    """A KRaft cluster id as Kafka's own `Uuid.randomUuid()` writes it (saves a JVM start)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):  # Kafka rejects ids that look like command-line flags
            return text


class KafkaBroker:
    """One Kafka 3.9 process acting as broker and KRaft controller on 127.0.0.1.

    `workdir` given: the caller owns that folder and it is left in place. Not given: a temporary
    folder is made and removed on a clean stop, but kept when the start fails so the log can be
    read.
    """

    def __init__(
        self,
        *,
        libs_dir: Path = DEFAULT_LIBS_DIR,
        workdir: Path | None = None,
        java: str | None = None,
        start_timeout: float = 90.0,
        stop_timeout: float = 30.0,
        extra_properties: dict[str, str] | None = None,
    ) -> None:
        self._libs_dir = libs_dir
        self._requested_workdir = workdir
        self._java = java or _find_java()
        self._start_timeout = start_timeout
        self._stop_timeout = stop_timeout
        self._extra_properties = dict(extra_properties or {})
        self._process: subprocess.Popen[bytes] | None = None
        self._workdir: Path | None = None
        self._port = 0
        self._controller_port = 0

    @property
    def bootstrap_servers(self) -> str:
        """`host:port` for clients; valid only while the broker runs."""
        if self._process is None:
            raise InfraError("the Kafka broker is not running")
        return f"127.0.0.1:{self._port}"

    @property
    def log_path(self) -> Path:
        """The broker's combined stdout/stderr log, for reading when something goes wrong."""
        if self._workdir is None:
            raise InfraError("the Kafka broker has not been started")
        return self._workdir / "kafka.log"

    def start(self) -> KafkaBroker:
        """Format fresh storage, launch the JVM and return once the broker answers metadata."""
        if self._process is not None:
            return self
        ensure_kafka_jars(self._libs_dir)
        self._workdir = self._requested_workdir or Path(tempfile.mkdtemp(prefix="paicha-kafka-"))
        self._workdir.mkdir(parents=True, exist_ok=True)
        self._port, self._controller_port = free_ports(2)
        properties = self._write_properties()
        try:
            self._format_storage(properties)
            with self.log_path.open("ab") as log:
                self._process = subprocess.Popen(
                    self._java_command("kafka.Kafka", str(properties)),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    # Own process group: a Ctrl-C at the terminal reaches us, and we stop the
                    # broker in order, instead of the JVM racing us on the same signal.
                    start_new_session=True,
                )
            self._wait_until_ready()
        except BaseException as error:
            self._abort()
            if isinstance(error, InfraError):
                raise InfraError(
                    f"{error}\n--- tail of {self.log_path} ---\n{self._tail()}"
                ) from None
            raise
        return self

    def stop(self) -> None:
        """SIGTERM (Kafka shuts down cleanly on it), SIGKILL after `stop_timeout` seconds."""
        if self._process is not None:
            terminate(self._process, timeout=self._stop_timeout)
            self._process = None
        if self._workdir is not None and self._requested_workdir is None:
            shutil.rmtree(self._workdir, ignore_errors=True)
        self._workdir = None

    def __enter__(self) -> KafkaBroker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def _abort(self) -> None:
        """Kill a half-started broker but keep its folder, so its log can still be read."""
        if self._process is not None:
            terminate(self._process, timeout=5)
            self._process = None

    def _tail(self) -> str:
        return log_tail(self.log_path) if self._workdir is not None else "(no log)"

    def _write_properties(self) -> Path:
        assert self._workdir is not None
        data_dir = self._workdir / "data"
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.voters": f"1@127.0.0.1:{self._controller_port}",
            "listeners": (
                f"PLAINTEXT://127.0.0.1:{self._port},CONTROLLER://127.0.0.1:{self._controller_port}"
            ),
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self._port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(data_dir),
            "num.partitions": "1",
            "auto.create.topics.enable": "true",
            "offsets.topic.replication.factor": "1",
            "offsets.topic.num.partitions": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "transaction.state.log.num.partitions": "1",
            "group.initial.rebalance.delay.ms": "0",
        }
        settings.update(self._extra_properties)
        path = self._workdir / "server.properties"
        path.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
        return path

    def _format_storage(self, properties: Path) -> None:
        command = self._java_command(
            "kafka.tools.StorageTool",
            "format",
            "-t",
            _cluster_id(),
            "-c",
            str(properties),
            "--ignore-formatted",
        )
        with self.log_path.open("ab") as log:
            result = subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False)
        if result.returncode != 0:
            raise InfraError(f"formatting Kafka storage failed (exit {result.returncode})")

    def _java_command(self, main_class: str, *args: str) -> list[str]:
        return [
            self._java,
            *HEAP_OPTS,
            "-XX:+UseSerialGC",  # two cores: no parallel GC threads competing with the tests
            "-XX:TieredStopAtLevel=1",  # quicker start; a test broker never gets hot
            "-Djava.awt.headless=true",
            f"-Dlog4j.configuration=file:{LOG4J_CONFIG}",
            "-cp",
            f"{self._libs_dir}/*",
            main_class,
            *args,
        ]

    def _wait_until_ready(self) -> None:
        """Poll with kafka-python's admin client until the broker lists itself in metadata."""
        from kafka import KafkaAdminClient  # imported late: only needed while starting

        deadline = time.monotonic() + self._start_timeout
        last_error: Exception | None = None
        while time.monotonic() < deadline:
            assert self._process is not None
            if self._process.poll() is not None:
                raise InfraError(f"the Kafka broker exited with code {self._process.returncode}")
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=self.bootstrap_servers,
                    request_timeout_ms=5000,
                    bootstrap_timeout_ms=2000,
                )
                try:
                    if admin.describe_cluster().get("brokers"):
                        return
                finally:
                    admin.close()
            except Exception as error:  # any client error only means "not yet"
                last_error = error
            time.sleep(0.3)
        raise InfraError(
            f"the Kafka broker did not become ready within {self._start_timeout:.0f}s "
            f"(last error: {last_error!r})"
        )


def _find_java() -> str:
    """`$JAVA_HOME/bin/java` when set, else `java` on PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and Path(java_home, "bin", "java").exists():
        return str(Path(java_home, "bin", "java"))
    java = shutil.which("java")
    if java is None:
        raise InfraError("Java 17 is needed for Kafka; install it: apt-get install -y default-jre")
    return java
