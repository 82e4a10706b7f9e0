"""Run ``infraleash server run`` as a real process on a free loopback port; stop it by its PID."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from .pg import free_port


class ServerProcess:
    def __init__(self, database_url: str, data_dir: Path, log: Path, env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        argv = [str(Path(sys.executable).parent / "infraleash"), "server", "run", "--port", str(self.port),
                "--database-url", database_url]
        child_env = {**os.environ, "INFRALEASH_SERVER_DATA_DIR": str(data_dir), **(env or {})}
        with log.open("wb") as err:
            self.proc = subprocess.Popen(argv, env=child_env, stderr=err)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/api/v1/whoami", timeout=2).status_code == 401:
                    return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise AssertionError(f"server did not answer within 30 s: {log.read_text()}")

    def banner(self) -> str:
        return self.log.read_text()

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
