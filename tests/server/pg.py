"""A real, throw-away PostgreSQL for the server tests (Debian's binaries under /usr/lib/postgresql/*/bin).

``PostgresServer.start()`` runs ``initdb`` into a temporary directory and starts ``postgres`` on a free loopback
port (trust authentication on 127.0.0.1 only, Unix socket inside the temporary directory); ``stop()`` sends
SIGTERM to the postmaster PID recorded in ``postmaster.pid`` and waits for it.  When running as root the
server runs as the ``postgres`` user (``runuser -u postgres``): PostgreSQL refuses to run as root.
``scripts/system-deps.sh`` installs the binaries when they are missing.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg


def postgres_bin_dir() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"), key=lambda p: int(p.split("/")[4]))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    def __init__(self) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            raise RuntimeError("PostgreSQL binaries not found under /usr/lib/postgresql/*/bin: "
                               "run scripts/system-deps.sh (apt-get install postgresql)")
        self.bin_dir = bin_dir
        self.port = free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="infraleash-pg-"))
        self.data = self.tmp / "data"
        self.pid: int | None = None
        self._proc: subprocess.Popen[bytes] | None = None
        self._as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *argv: str) -> None:
        subprocess.run([*self._as_user, *argv], check=True, capture_output=True, timeout=120)

    def start(self) -> PostgresServer:
        if self._as_user:
            shutil.chown(self.tmp, "postgres", "postgres")
        self._run(str(self.bin_dir / "initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres",
                  "-E", "UTF8", "--no-sync")
        log = open(self.tmp / "postgres.log", "wb")  # noqa: SIM115 - kept open for the server's life
        self._proc = subprocess.Popen(
            [*self._as_user, str(self.bin_dir / "postgres"), "-D", str(self.data), "-p", str(self.port),
             "-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.tmp}",
             "-c", "fsync=off", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._proc.poll() is not None:
                raise RuntimeError(f"postgres exited: {(self.tmp / 'postgres.log').read_text()[-2000:]}")
            try:
                with psycopg.connect(self.admin_dsn, connect_timeout=2):
                    pass
                pid_file = self.data / "postmaster.pid"
                self.pid = int(pid_file.read_text().split()[0])
                return self
            except (psycopg.OperationalError, FileNotFoundError, ValueError):
                time.sleep(0.2)
        raise RuntimeError("postgres did not accept connections within 60 s")

    @property
    def admin_dsn(self) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname=postgres"

    def create_database(self, name: str, template: str | None = None) -> str:
        """A fresh database (a copy of ``template`` when given, which must have no open connections); its URL."""
        with psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"' + (f' TEMPLATE "{template}"' if template else ""))
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        if self.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        if self._proc is not None:
            try:
                self._proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                if self.pid is not None:
                    os.kill(self.pid, signal.SIGKILL)
                self._proc.wait(timeout=10)
        shutil.rmtree(self.tmp, ignore_errors=True)
