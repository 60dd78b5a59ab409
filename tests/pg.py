"""A throw-away PostgreSQL cluster for the tests: started in a temporary folder on
a free local port, listening only on 127.0.0.1, deleted at the end.

PostgreSQL refuses to run as root, and CI runs as root: the cluster then belongs
to the `postgres` OS user that Debian's package creates, and its commands run
through `runuser`. Missing binaries are an error, never a skip, because the
PostgreSQL backend must be proven on every run (`make test` installs them).
"""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg

PG_VERSION = "15"
SERVICE_USER = "postgres"
INSTALL_HINT = "install them with `apt-get install postgresql postgis` (`make test` does this)"


class PostgresUnavailable(RuntimeError):
    """The PostgreSQL server or PostGIS is not installed on this machine."""


def bin_dir() -> Path:
    """The server binaries: `ATLAS_PG_BIN`, or Debian's PostgreSQL 15 folder."""
    folder = Path(os.environ.get("ATLAS_PG_BIN", f"/usr/lib/postgresql/{PG_VERSION}/bin"))
    for program in ("initdb", "pg_ctl", "postgres"):
        if not (folder / program).is_file():
            raise PostgresUnavailable(f"PostgreSQL server program {folder / program} not found; {INSTALL_HINT}")
    return folder


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ThrowAwayCluster:
    """One PostgreSQL cluster in a temporary folder; `stop()` removes every trace."""

    def __init__(self) -> None:
        self.bin = bin_dir()
        self.root = Path(tempfile.mkdtemp(prefix="atlas-pg-"))
        self.data = self.root / "data"
        self.port = 0
        self._as_service_user = os.geteuid() == 0
        if self._as_service_user:
            # The folder must belong to the user who runs the server.
            shutil.chown(self.root, user=SERVICE_USER, group=SERVICE_USER)

    # -- life cycle ----------------------------------------------------------
    def start(self) -> "ThrowAwayCluster":
        try:
            self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "-E", "UTF8", "--no-locale", "--no-sync")
            self._start_server()
            self._check_postgis()
        except BaseException:
            self.stop()
            raise
        return self

    def _start_server(self) -> None:
        # A free port can be taken between probing and binding: try a few.
        for attempt in range(3):
            self.port = _free_port()
            options = (
                f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                # Durability is pointless for a cluster deleted after the run.
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
            )
            result = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"),
                               "-o", options, "-w", "-t", "60", "start", check=False)
            if result.returncode == 0:
                return
        raise RuntimeError(f"PostgreSQL did not start: {result.stderr}\n{self.log_tail()}")

    def _check_postgis(self) -> None:
        available = self.scalar("SELECT count(*) FROM pg_available_extensions WHERE name = 'postgis'")
        if not available:
            raise PostgresUnavailable(f"PostGIS is not installed for PostgreSQL {PG_VERSION}; {INSTALL_HINT}")

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> "ThrowAwayCluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- databases -------------------------------------------------------------
    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str | None = None, template: str | None = None, postgis: bool = True) -> str:
        """Create a database (a copy of `template` when given) and return its URL."""
        name = name or f"atlas_{uuid.uuid4().hex[:12]}"
        clause = f" TEMPLATE {template} STRATEGY FILE_COPY" if template else ""
        self.execute(f"CREATE DATABASE {name}{clause}")
        if postgis and not template:
            with psycopg.connect(self.url(name), autocommit=True) as conn:
                conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        return self.url(name)

    def drop_database(self, name: str) -> None:
        self.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def execute(self, sql: str) -> None:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(sql)

    def scalar(self, sql: str):
        with psycopg.connect(self.url(), autocommit=True) as conn:
            return conn.execute(sql).fetchone()[0]

    # -- helpers -------------------------------------------------------------
    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        command = [str(self.bin / program), *args]
        if self._as_service_user:
            command = ["runuser", "-u", SERVICE_USER, "--", *command]
        # cwd: the service user may not be allowed into the caller's folder.
        result = subprocess.run(command, cwd=self.root, capture_output=True, text=True,
                                stdin=subprocess.DEVNULL, timeout=120)
        if check and result.returncode != 0:
            raise RuntimeError(f"{program} failed ({result.returncode}): {result.stderr or result.stdout}")
        return result

    def log_tail(self, lines: int = 20) -> str:
        log = self.root / "server.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""
