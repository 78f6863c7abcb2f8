"""A private PostgreSQL cluster for the local stack: initdb into ``<stack>/pg/data``.

PostgreSQL refuses to run as root; when this runs as root, the cluster is owned by and run as a
system user (``pfdo-pg``, created on demand) through ``runuser``.
"""

from __future__ import annotations

import glob
import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from .config import SERVICES, StackConfig
from .sign_in import PORTAL_DATABASE
from .proc import StackError, pid_alive, port_in_use_error, port_open, say, stop_group, wait_until

PG_SYSTEM_USER = "pfdo-pg"
ROLE = "pfdo"
_DB_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")


def find_pg_bindir() -> Path:
    """``PFDO_PG_BINDIR``, else ``pg_config --bindir`` when it has the server, else the newest
    ``/usr/lib/postgresql/<v>/bin``, else the folder of ``initdb`` on PATH."""
    env = os.environ.get("PFDO_PG_BINDIR")
    candidates: list[Path] = [Path(env)] if env else []
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            out = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10).stdout.strip()
            if out:
                candidates.append(Path(out))
        except (OSError, subprocess.SubprocessError):
            pass

    def version(p: str) -> tuple[int, ...]:
        m = re.search(r"/postgresql/([\d.]+)/bin", p)
        return tuple(int(x) for x in m.group(1).split(".")) if m else (0,)

    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=version, reverse=True)]
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(Path(os.path.realpath(initdb)).parent)
    for c in candidates:
        if all((c / tool).exists() for tool in ("initdb", "pg_ctl", "postgres", "pg_isready")):
            return c
    raise StackError("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found; run deploy/local/bootstrap.sh")


def _ensure_system_user(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    say(f"postgres: creating system user {name!r} (PostgreSQL does not run as root)")
    useradd = shutil.which("useradd") or "/usr/sbin/useradd"
    subprocess.run(
        [useradd, "--system", "--no-create-home", "--home-dir", "/nonexistent", "--shell", "/usr/sbin/nologin", name],
        check=True,
        capture_output=True,
    )
    return pwd.getpwnam(name)


@dataclass
class PostgresCluster:
    config: StackConfig
    databases: tuple[str, ...] = (*SERVICES, PORTAL_DATABASE)

    @property
    def home(self) -> Path:
        return self.config.stack_dir / "pg"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def socket_dir(self) -> Path:
        return self.home / "socket"

    @property
    def log_file(self) -> Path:
        return self.home / "postgres.log"

    @property
    def port(self) -> int:
        return self.config.pg_port

    # ---- helpers -------------------------------------------------------------------------
    def _bindir(self) -> Path:
        if not hasattr(self, "_bin"):
            self._bin = find_pg_bindir()
        return self._bin

    def _run_as(self) -> list[str]:
        if os.geteuid() != 0:
            return []
        _ensure_system_user(PG_SYSTEM_USER)
        runuser = shutil.which("runuser") or "/usr/sbin/runuser"
        return [runuser, "-u", PG_SYSTEM_USER, "--"]

    def _chown(self, *paths: Path) -> None:
        if os.geteuid() != 0:
            return
        user = _ensure_system_user(PG_SYSTEM_USER)
        for p in paths:
            os.chown(p, user.pw_uid, user.pw_gid)
            if p.is_dir():
                for root, dirs, files in os.walk(p):
                    for n in dirs + files:
                        os.chown(os.path.join(root, n), user.pw_uid, user.pw_gid, follow_symlinks=False)

    def _tool(self, name: str, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        cmd = [*self._run_as(), str(self._bindir() / name), *args]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")
        if check and proc.returncode != 0:
            raise StackError(f"{name} failed (exit {proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
        return proc

    def _check_reachable_by_owner(self) -> None:
        if os.geteuid() != 0:
            return
        probe = subprocess.run([*self._run_as(), "test", "-w", str(self.home)], capture_output=True)
        if probe.returncode != 0:
            raise StackError(
                f"the PostgreSQL user {PG_SYSTEM_USER!r} cannot write {self.home}: a parent folder is not "
                f"traversable for other users; use PFDO_STACK_DIR to put the stack elsewhere"
            )

    # ---- state -----------------------------------------------------------------------------
    def postmaster_pid(self) -> int | None:
        try:
            first = (self.data_dir / "postmaster.pid").read_text().splitlines()[0]
            return int(first)
        except (OSError, IndexError, ValueError):
            return None

    @property
    def pid(self) -> int | None:
        return self.postmaster_pid()

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        pid = self.postmaster_pid()
        return pid_alive(pid, marker=str(self.data_dir)) if pid else False

    def is_ready(self) -> bool:
        proc = subprocess.run(
            [str(self._bindir() / "pg_isready"), "-q", "-h", self.config.host, "-p", str(self.port), "-t", "2"],
            capture_output=True,
        )
        return proc.returncode == 0

    # ---- lifecycle -----------------------------------------------------------------------
    def init(self) -> None:
        if self.is_initialized():
            return
        self.home.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.chmod(0o700)
        self._chown(self.home)
        self._check_reachable_by_owner()
        say(f"postgres: initdb {self.data_dir}")
        self._tool(
            "initdb",
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "--auth-local=trust",
            "--auth-host=reject",
            "--encoding=UTF8",
            "--locale=C.UTF-8" if _has_c_utf8() else "--locale=C",
            "--no-instructions",
        )
        hba = (
            "# written by pfdo_devstack.postgres: local development cluster, trust on loopback only\n"
            "local   all   all                 trust\n"
            "host    all   all   127.0.0.1/32  trust\n"
        )
        (self.data_dir / "pg_hba.conf").write_text(hba)
        self._chown(self.data_dir / "pg_hba.conf")

    def _settings(self) -> str:
        return (
            "# pfdo_devstack: a local cluster tuned for tests; durability stays on\n"
            f"listen_addresses = '{self.config.host}'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "max_connections = 300\n"
            "shared_buffers = 256MB\n"
            "work_mem = 8MB\n"
            "maintenance_work_mem = 64MB\n"
            "fsync = on\n"
            "synchronous_commit = on\n"
            "full_page_writes = on\n"
            "wal_level = replica\n"
            "max_wal_size = 1GB\n"
            "checkpoint_timeout = 15min\n"
            "max_locks_per_transaction = 128\n"
            "timezone = 'UTC'\n"
            "log_timezone = 'UTC'\n"
            "log_line_prefix = '%m [%p] %q%u@%d '\n"
            "log_min_duration_statement = 1000\n"
            "log_lock_waits = on\n"
        )

    def start(self, *, timeout: float = 60.0) -> None:
        if self.is_running():
            say(f"postgres: already running (pid {self.pid}) on {self.config.host}:{self.port}")
        else:
            if port_open(self.port, self.config.host):
                raise port_in_use_error(self.port, "PostgreSQL")
            self.init()
            conf = self.data_dir / "postgresql.auto.conf"  # ALTER SYSTEM file; rewritten each start
            conf.write_text(self._settings())
            self._chown(conf)
            self.log_file.touch()
            self._chown(self.log_file)
            started = time.monotonic()
            say(f"postgres: starting on {self.config.host}:{self.port}")
            # pg_ctl detaches postgres (its own session); -w waits until it accepts connections
            proc = self._tool(
                "pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file), "-w", "-t", str(int(timeout)), "start",
                check=False, timeout=timeout + 10,
            )
            if proc.returncode != 0:
                raise StackError(
                    f"postgres did not start (pg_ctl exit {proc.returncode}); see {self.log_file}\n{proc.stdout}{proc.stderr}"
                )
            say(f"postgres: ready (pid {self.pid}, {time.monotonic() - started:.1f}s)")
        wait_until(self.is_ready, timeout=timeout, what="postgres", log_file=self.log_file)
        self.ensure_role_and_databases()

    def psql(self, sql: str, *, db: str = "postgres", user: str = "postgres") -> str:
        proc = self._tool(
            "psql", "-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", "-h", str(self.socket_dir), "-p", str(self.port),
            "-U", user, "-d", db, "-c", sql,
        )
        return proc.stdout.strip()

    def ensure_role_and_databases(self) -> None:
        exists = self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = '{ROLE}'")
        if exists != "1":
            self.psql(f"CREATE ROLE {ROLE} LOGIN SUPERUSER")
        for db in self.databases:
            self.create_database(db)

    def create_database(self, name: str, *, owner: str = ROLE) -> bool:
        """Create database ``name`` owned by ``pfdo`` if missing; True when it was created."""
        if not _DB_NAME.match(name):
            raise ValueError(f"invalid database name {name!r} (lower case letters, digits, _)")
        if self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1":
            return False
        proc = self._tool(
            "psql", "-X", "-q", "-At", "-h", str(self.socket_dir), "-p", str(self.port), "-U", "postgres",
            "-d", "postgres", "-c", f"CREATE DATABASE {name} OWNER {owner}", check=False,
        )
        if proc.returncode != 0 and "already exists" not in proc.stderr:
            raise StackError(f"CREATE DATABASE {name} failed: {proc.stderr.strip()}")
        return proc.returncode == 0

    def drop_database(self, name: str) -> None:
        if not _DB_NAME.match(name):
            raise ValueError(f"invalid database name {name!r}")
        self.psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def dsn(self, db: str) -> str:
        return self.config.pg_dsn(db)

    def stop(self, *, timeout: float = 30.0) -> None:
        pid = self.postmaster_pid()
        if not (pid and self.is_running()):
            return
        say(f"postgres: stopping (pid {pid})")
        proc = self._tool(
            "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "-t", str(int(timeout)), "stop",
            check=False, timeout=timeout + 10,
        )
        if proc.returncode != 0 or pid_alive(pid):
            say(f"postgres: pg_ctl stop failed ({proc.stderr.strip()}), killing pid {pid}")
            stop_group(pid, timeout=5, name="postgres")
        # the postmaster waits for its children, but make sure none is left
        deadline = time.monotonic() + 10
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)


def _has_c_utf8() -> bool:
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=5).stdout.lower()
    except (OSError, subprocess.SubprocessError):
        return False
    return "c.utf8" in out or "c.utf-8" in out
