"""Process plumbing shared by the stack parts: detached start, pid files, liveness, stop."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Mapping, Sequence

# Popen objects of the children this Python process started, so they can be reaped (a dead
# child stays a zombie, and a zombie still answers os.kill(pid, 0)).
_CHILDREN: dict[int, subprocess.Popen] = {}


class StackError(RuntimeError):
    """A part of the stack could not be started or stopped; the message says where to look."""


def say(msg: str) -> None:
    print(f"[pfdo-stack] {msg}", file=sys.stderr, flush=True)


def start_detached(
    cmd: Sequence[str],
    *,
    log_file: Path,
    pid_file: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> int:
    """Start ``cmd`` in its own session (process group), stdout+stderr appended to ``log_file``.

    The pid (== process group id) is written to ``pid_file``. The child survives the caller.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    with open(log_file, "ab") as log:
        log.write(f"\n=== {time.strftime('%Y-%m-%d %H:%M:%S')} starting: {' '.join(cmd)}\n".encode())
        log.flush()
        popen = subprocess.Popen(
            list(cmd),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=dict(env) if env is not None else None,
            cwd=str(cwd) if cwd else None,
            start_new_session=True,
            close_fds=True,
        )
    _CHILDREN[popen.pid] = popen
    pid_file.write_text(f"{popen.pid}\n")
    return popen.pid


def read_pid(pid_file: Path) -> int | None:
    try:
        text = pid_file.read_text().split()
    except (FileNotFoundError, PermissionError):
        return None
    try:
        return int(text[0]) if text else None
    except ValueError:
        return None


def _reap(pid: int) -> None:
    popen = _CHILDREN.get(pid)
    if popen is not None and popen.poll() is not None:
        _CHILDREN.pop(pid, None)


def pid_alive(pid: int | None, marker: str | None = None) -> bool:
    """True when ``pid`` runs (not a zombie) and, if given, its command line contains ``marker``
    (guards against a recycled pid)."""
    if not pid or pid <= 0:
        return False
    popen = _CHILDREN.get(pid)
    if popen is not None:
        # our own child: poll() is exact (and right after fork its cmdline is still ours, not
        # the exec'ed program's, so the marker check would give a false "dead")
        if popen.poll() is None:
            return True
        _CHILDREN.pop(pid, None)
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode(errors="replace")
        state = stat.rsplit(")", 1)[1].split()[0]
        if state in ("Z", "X"):
            return False
    except FileNotFoundError:
        return False
    except (OSError, IndexError):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            pass
    if marker:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            return True
        return marker in cmdline
    return True


def group_pids(pgid: int) -> list[int]:
    """Live processes (not zombies) whose process group is ``pgid``."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        # fields: state ppid pgrp ...
        if len(fields) > 2 and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def stop_group(pid: int, *, timeout: float = 15.0, sig: int = signal.SIGTERM, name: str = "process") -> None:
    """Send ``sig`` to the process group led by ``pid``, wait, then SIGKILL what is left."""

    def alive() -> list[int]:
        _reap(pid)
        left = group_pids(pid)
        if pid_alive(pid) and pid not in left:
            left.append(pid)
        return left

    if not alive():
        return
    for target, s in ((pid, sig),):
        try:
            os.killpg(target, s)
        except ProcessLookupError:
            pass
        except PermissionError:
            os.kill(target, s)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not alive():
            return
        time.sleep(0.1)
    say(f"{name} (pid {pid}) did not stop within {timeout:.0f}s, sending SIGKILL")
    for p in alive():
        try:
            os.kill(p, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if not alive():
            return
        time.sleep(0.1)
    raise StackError(f"{name} (pid {pid}) survived SIGKILL: {alive()}")


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(
    check: Callable[[], bool],
    *,
    timeout: float,
    what: str,
    log_file: Path | None = None,
    alive: Callable[[], bool] | None = None,
    interval: float = 0.2,
) -> None:
    """Poll ``check`` until true; fail early when ``alive`` says the process died."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if check():
                return
        except Exception:  # noqa: BLE001 - readiness probes fail in many ways while starting
            pass
        if alive is not None and not alive():
            raise StackError(f"{what}: the process exited while starting{_log_hint(log_file)}")
        if time.monotonic() > deadline:
            raise StackError(f"{what}: not ready after {timeout:.0f}s{_log_hint(log_file)}")
        time.sleep(interval)


def _log_hint(log_file: Path | None) -> str:
    if log_file is None:
        return ""
    return f"; see {log_file}\n--- last lines of {log_file.name} ---\n{tail(log_file, 25)}"


def tail(path: Path, lines: int = 50) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            data = f.read().decode(errors="replace")
    except OSError:
        return f"(no log at {path})"
    return "\n".join(data.splitlines()[-lines:])


def port_in_use_error(port: int, what: str) -> StackError:
    return StackError(
        f"port {port} needed by {what} is already in use by another program; "
        f"stop it or choose another port (see `pfdo-stack env` / PFDO_*_PORT variables)"
    )
