"""Stand-in upstreams behind a real nginx gateway rendered from deploy/gateway/nginx.conf.template.

The stand-in (deploy/local/tests/standin_app.py) echoes every request as JSON (method, path,
headers, body length, its own service name) and sleeps on ``/api/<name>/slow?s=<seconds>``, so
the gateway's own behaviour (routing, limits, headers, timeouts) is observed without the services.
"""

from __future__ import annotations

import base64
import json
import socket
import uuid
from collections.abc import Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

from pfdo_devstack.config import SERVICES, StackConfig, repo_root
from pfdo_devstack.gateway import Gateway
from pfdo_devstack.services import ServiceProcess

STANDIN_DIR = repo_root() / "deploy" / "local" / "tests"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class StandIns:
    """One stand-in process per service name (and the token issuer and the portal), each on a free port."""

    def __init__(self, work_dir: Path) -> None:
        cfg = StackConfig.for_tests().replace(stack_dir=work_dir)
        self.processes = {
            name: ServiceProcess(name, cfg, app="standin_app:app", app_dir=STANDIN_DIR, run_migrations=False,
                                 port=free_port())
            for name in (*SERVICES, "auth", "portal")
        }

    @property
    def upstreams(self) -> dict[str, str]:
        return {name: f"127.0.0.1:{p.port}" for name, p in self.processes.items()}

    def start(self) -> None:
        with ThreadPoolExecutor(max_workers=len(self.processes)) as pool:
            for future in [pool.submit(p.start, timeout=30) for p in self.processes.values()]:
                future.result()

    def stop(self) -> None:
        for process in self.processes.values():
            process.stop(timeout=10)


@contextmanager
def gateway(work_dir: Path, upstreams: Mapping[str, str], **variables: str) -> Iterator[Gateway]:
    """An nginx gateway in front of ``upstreams`` with template variables overridden."""
    cfg = StackConfig.for_tests().replace(stack_dir=work_dir / f"gw-{uuid.uuid4().hex[:6]}")
    gw = Gateway(cfg, upstreams=dict(upstreams), variables=variables, port=free_port())
    gw.start()
    try:
        yield gw
    finally:
        gw.stop()


def bearer(claims: dict | str, signature: str = "c2ln") -> dict[str, str]:
    """An Authorization header with a JWT-shaped token (the gateway reads nothing inside it; the
    stand-ins, unlike the services, do not verify signatures)."""
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    header = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    payload = claims if isinstance(claims, str) else b64(json.dumps(claims).encode())
    return {"Authorization": f"Bearer {header}.{payload}.{signature}"}
