"""A throwaway PostgreSQL server for the fault tests: initdb in a temporary folder, on its own
loopback port, so a test may stop and start it without touching the machine's shared server
(and the other tests connected to it).

Found through `pg_config --bindir` or the Debian layout (`/usr/lib/postgresql/<version>/bin`);
when the process runs as root the server runs as the `postgres` user (PostgreSQL refuses root).
`PrivatePostgres.find()` returns None, with the reason in `.why`, when none can be run.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

from sqlalchemy.engine import make_url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config:
        found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=False).stdout.strip()
        if found and (Path(found) / "initdb").exists():
            return Path(found)
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parent.parent.name)
    return candidates[-1].parent if candidates else None


class PrivatePostgres:
    """One PostgreSQL cluster of its own: `start`, `stop`, `restart`, `url(database)`."""

    why = ""

    def __init__(self, bindir: Path, user: str | None) -> None:
        self.bindir, self.user = bindir, user
        self.root = Path(tempfile.mkdtemp(prefix="guichet-faults-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        if user is not None:
            record = pwd.getpwnam(user)
            os.chown(self.root, record.pw_uid, record.pw_gid)
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                       f"unix_socket_directories = '{self.root}'\nfsync = off\nmax_connections = 100\n")

    @classmethod
    def find(cls) -> PrivatePostgres | None:
        bindir = _bindir()
        if bindir is None:
            cls.why = "no PostgreSQL server binaries (initdb, pg_ctl) on this machine"
            return None
        user = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                cls.why = "running as root without a postgres user to run the server"
                return None
            user = "postgres"
        try:
            return cls(bindir, user)
        except (OSError, subprocess.CalledProcessError) as exc:
            cls.why = f"cannot create a PostgreSQL cluster: {exc}"
            return None

    def _run(self, tool: str, *args: str) -> None:
        command = [str(self.bindir / tool), *args]
        if self.user is not None:
            command = ["runuser", "-u", self.user, "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.root / "server.log"), "-w", "-t", "60", "start")

    def stop(self) -> None:
        """Fast shutdown: every open connection is cut, as when the server restarts for real."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "60", "stop")

    def running(self) -> bool:
        return (self.data / "postmaster.pid").exists()

    def destroy(self) -> None:
        if self.running():
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")
            except subprocess.CalledProcessError:
                pass
        shutil.rmtree(self.root, ignore_errors=True)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("PostgreSQL did not come back")


