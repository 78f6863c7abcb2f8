"""nginx as the API gateway of the local stack, from ``deploy/gateway/nginx.conf.template``.

The template is the whole nginx configuration (also used by the docker image through envsubst);
this module renders it with the stack's upstreams, with pid, logs and temp folders in
``<stack>/gateway`` and the njs module of the machine's nginx (``libnginx-mod-http-js`` on
Debian; the per-subject rate limit reads the bearer token's subject with it). nginx runs as a
detached child with ``daemon off`` in its own process group, so stopping the group stops master
and workers.
"""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping

from .config import StackConfig
from .gateway_vars import DEFAULTS, LOCAL_PORTAL_CLIENT_ADDRESS
from .proc import (
    StackError,
    pid_alive,
    port_in_use_error,
    port_open,
    read_pid,
    say,
    start_detached,
    stop_group,
    wait_until,
)


_VAR = re.compile(r"\$\{([A-Z][A-Z0-9_]*)\}")


def template_path(config: StackConfig) -> Path:
    return config.repo_root / "deploy" / "gateway" / "nginx.conf.template"


def problem_body(code: str, language: str) -> str:
    """The problem+json body the gateway itself answers with for ``code``, as the template writes it:
    the text of the error catalogue's gateway entry, nginx's request id, ``${RETRY_AFTER}`` where the
    wait is named (filled when the template is rendered)."""
    import json

    from pfdo_plumbing.http.errors import lookup
    from pfdo_plumbing.http.problems import status_title

    entry = lookup(code, "gateway")
    if entry is None or entry.service != "gateway":
        raise KeyError(f"{code!r} is not one of the gateway's codes in the error catalogue")
    body = {"type": "about:blank", "title": status_title(entry.status, language), "status": entry.status,
            "code": code, "detail": entry.message(language, {"retry_after": "${RETRY_AFTER}"}),
            "request_id": "$pfdo_request_id"}
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))


def render_template(text: str, variables: Mapping[str, str]) -> str:
    """envsubst semantics restricted to ``${UPPER_CASE}`` names; every one must be given."""
    missing = sorted({m.group(1) for m in _VAR.finditer(text)} - set(variables))
    if missing:
        raise StackError(f"gateway template variables without a value: {', '.join(missing)}")
    return _VAR.sub(lambda m: str(variables[m.group(1)]), text)


NJS_MODULE_CANDIDATES = (
    "/usr/lib/nginx/modules/ngx_http_js_module.so",  # Debian/Ubuntu: libnginx-mod-http-js
    "/usr/lib64/nginx/modules/ngx_http_js_module.so",  # Fedora/RHEL: nginx-mod-njs
    "/etc/nginx/modules/ngx_http_js_module.so",  # nginx.org packages and the official image
    "/usr/local/nginx/modules/ngx_http_js_module.so",  # built from source
)


def find_njs_module() -> str:
    """The njs module (ngx_http_js_module.so) for ``load_module``."""
    found = next((p for p in NJS_MODULE_CANDIDATES if os.path.isfile(p)), None)
    if not found:
        raise StackError("the nginx njs module (ngx_http_js_module.so) was not found; install libnginx-mod-http-js "
                         "(deploy/local/bootstrap.sh does)")
    return found


def find_nginx() -> str:
    nginx = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx") if os.access(p, os.X_OK)),
        None,
    )
    if not nginx:
        raise StackError("nginx not found; run deploy/local/bootstrap.sh")
    return nginx


@dataclass
class Gateway:
    config: StackConfig
    upstreams: Mapping[str, str] | None = None
    """service name -> host:port; default: the stack's service ports on 127.0.0.1."""
    variables: Mapping[str, str] = field(default_factory=dict)
    """extra template variable overrides (after DEFAULTS and config.gateway_vars)."""
    port: int | None = None

    @property
    def home(self) -> Path:
        return self.config.stack_dir / "gateway"

    @property
    def listen_port(self) -> int:
        return self.port or self.config.gateway_port

    @property
    def url(self) -> str:
        return f"http://{self.config.host}:{self.listen_port}"

    @property
    def main_conf(self) -> Path:
        """The rendered template."""
        return self.home / "nginx.conf"

    @property
    def pid_file(self) -> Path:
        return self.home / "nginx.pid"

    @property
    def error_log(self) -> Path:
        return self.home / "logs" / "error.log"

    @property
    def access_log(self) -> Path:
        return self.home / "logs" / "access.log"

    @property
    def stdout_file(self) -> Path:
        return self.home / "logs" / "nginx.out"

    def template_variables(self) -> dict[str, str]:
        cfg = self.config
        ups = {name: f"{cfg.host}:{cfg.service_port(name)}"
               for name in ("registry", "navigator", "billing", "ratings", "auth", "portal")}
        ups.update(self.upstreams or {})
        try:
            njs_module = find_njs_module()
        except StackError:
            njs_module = NJS_MODULE_CANDIDATES[0]  # nginx -t says what is missing, with the hint of start()
        return {
            **DEFAULTS,
            "NJS_MODULE": njs_module,
            "NJS_PATH": str(template_path(cfg).parent),
            "NGINX_USER": "root root" if os.geteuid() == 0 else pwd.getpwuid(os.geteuid()).pw_name,
            "WORKER_PROCESSES": "2",
            "PID_FILE": str(self.pid_file),
            "ERROR_LOG": str(self.error_log),
            "TEMP_DIR": str(self.home / "temp"),
            "GATEWAY_LISTEN": f"{cfg.host}:{self.listen_port}",
            "ACCESS_LOG": str(self.access_log),
            "DOCS_ROOT": str(cfg.repo_root / "docs" / "site"),
            "PORTAL_CLIENT_ADDRESS": LOCAL_PORTAL_CLIENT_ADDRESS,
            **{f"{name.upper()}_UPSTREAM": addr for name, addr in ups.items()},
            **dict(cfg.gateway_vars),
            **dict(self.variables),
        }

    def write_config(self) -> None:
        for sub in ("logs", "temp/client_body", "temp/proxy", "temp/fastcgi", "temp/uwsgi", "temp/scgi"):
            (self.home / sub).mkdir(parents=True, exist_ok=True)
        self.main_conf.write_text(render_template(template_path(self.config).read_text(), self.template_variables()))

    def _cmd(self, *extra: str) -> list[str]:
        return [find_nginx(), "-p", f"{self.home}/", "-e", str(self.error_log), "-c", str(self.main_conf),
                "-g", "daemon off;", *extra]

    def test_config(self) -> str:
        """``nginx -t`` on the rendered config; raises with nginx's message when it fails."""
        self.write_config()
        proc = subprocess.run(self._cmd("-t"), capture_output=True, text=True)
        if proc.returncode != 0:
            raise StackError(f"nginx -t failed for {self.main_conf}:\n{proc.stderr}")
        return proc.stderr

    @property
    def pid(self) -> int | None:
        return read_pid(self.pid_file)

    def is_running(self) -> bool:
        return pid_alive(self.pid, marker=str(self.main_conf))

    def start(self, *, timeout: float = 15.0) -> None:
        if self.is_running():
            say(f"gateway: already running (pid {self.pid}) on {self.url}")
            return
        if port_open(self.listen_port, self.config.host):
            raise port_in_use_error(self.listen_port, "the gateway (nginx)")
        self.test_config()
        started = time.monotonic()
        # nginx writes its own pid file (same pid: daemon off); ours is written first
        start_detached(self._cmd(), log_file=self.stdout_file, pid_file=self.pid_file, cwd=self.home)
        try:
            wait_until(
                lambda: port_open(self.listen_port, self.config.host),
                timeout=timeout,
                what="gateway (nginx)",
                log_file=self.error_log,
                alive=self.is_running,
            )
        except BaseException:
            self.stop()
            raise
        say(f"gateway: ready on {self.url} (pid {self.pid}, {time.monotonic() - started:.1f}s)")

    def reload(self) -> None:
        """Re-render the template and make the running nginx pick it up (SIGHUP)."""
        self.test_config()
        pid = self.pid
        if pid and self.is_running():
            os.kill(pid, 1)

    def stop(self, *, timeout: float = 10.0) -> None:
        pid = self.pid
        if pid and self.is_running():  # checks the command line too: a stale pid file is harmless
            say(f"gateway: stopping (pid {pid})")
            stop_group(pid, timeout=timeout, name="gateway (nginx)")
        self.pid_file.unlink(missing_ok=True)
