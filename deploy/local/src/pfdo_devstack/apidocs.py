"""Generated API documents, committed and checked for drift:

    contracts/openapi/<service>.json          each service's OpenAPI document, from its composition
                                              root's app (built, never started: no database, no Kafka)
    clients/typescript/src/generated/<service>.ts   TypeScript types of those documents (openapi-typescript)
    docs/site/*.html                          the gateway's /docs page and the event and error
                                              catalogues rendered from their Markdown

    python -m pfdo_devstack.apidocs openapi typescript site   # write (make openapi, make docs)
    python -m pfdo_devstack.apidocs --check                   # exit 1 naming what is out of date
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import tempfile
from functools import cache
from html import escape
from pathlib import Path
from typing import Any

from .config import SERVICES, repo_root
from . import web

SERVICE_TITLES = {
    "registry": "Реестр: сертификаты, поставщики, программы",
    "navigator": "Навигатор: каталог программ, запись, журнал посещаемости, споры",
    "billing": "Биллинг: расчёт стоимости, резервы, начисления, платёжные поручения",
    "ratings": "Рейтинги программ и поставщиков",
}


def openapi_dir() -> Path:
    return repo_root() / "contracts" / "openapi"


def typescript_dir() -> Path:
    return repo_root() / "clients" / "typescript"


def site_dir() -> Path:
    return repo_root() / "docs" / "site"


def event_catalogue_path() -> Path:
    return repo_root() / "contracts" / "CATALOGUE.md"


def error_catalogue_path() -> Path:
    return repo_root() / "docs" / "ERRORS.md"


# ---- OpenAPI ---------------------------------------------------------------------------------
def build_service_app(service: str) -> Any:
    """The service's app as its composition root builds it; building opens no connection."""
    from pfdo_plumbing.settings import ServiceSettings

    main = importlib.import_module(f"pfdo_{service}.main")
    settings = ServiceSettings(
        service_name=service, database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none",
        kafka_bootstrap="127.0.0.1:1", jwks_url="/nonexistent/jwks.json",
    )
    return main.build_app(settings)


@cache
def openapi_document(service: str) -> dict[str, Any]:
    return build_service_app(service).openapi()


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def openapi_path(service: str, directory: Path | None = None) -> Path:
    return (directory or openapi_dir()) / f"{service}.json"


def openapi_files() -> dict[Path, str]:
    return {openapi_path(s): render_json(openapi_document(s)) for s in SERVICES}


# ---- TypeScript ------------------------------------------------------------------------------
def typescript_path(service: str, directory: Path | None = None) -> Path:
    return (directory or typescript_dir() / "src" / "generated") / f"{service}.ts"


def generate_typescript(source: Path, target: Path) -> None:
    """openapi-typescript (web/package-lock.json's version) from one OpenAPI document."""
    target.parent.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([*web.tool("openapi-typescript"), str(source), "--output", str(target)],
                          capture_output=True, text=True, cwd=repo_root())
    if proc.returncode != 0:
        raise RuntimeError(f"openapi-typescript {source} failed:\n{proc.stdout}\n{proc.stderr}")


def typescript_files(openapi_source: Path | None = None) -> dict[Path, str]:
    """The generated types of every service, from the OpenAPI documents in ``openapi_source``
    (default: the committed ones)."""
    out: dict[Path, str] = {}
    with tempfile.TemporaryDirectory(prefix="pfdo-ts-") as tmp:
        for service in SERVICES:
            generated = Path(tmp) / f"{service}.ts"
            generate_typescript(openapi_path(service, openapi_source), generated)
            out[typescript_path(service)] = generated.read_text(encoding="utf-8")
    return out


# ---- the /docs site --------------------------------------------------------------------------
SITE_STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2430; }
header { background: #1d3557; color: #fff; padding: 1.5rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.6rem; } header p { margin: .2rem 0; opacity: .9; }
header a { color: #fff; }
main { padding: 1rem 2rem 3rem; max-width: 80rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; display: block; max-width: 100%; overflow-x: auto; }
th, td { border: 1px solid #d8dee8; padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { background: #f1f4f8; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: #f6f8fa; border: 1px solid #d8dee8; padding: .7rem; overflow-x: auto; }
a { color: #1d3557; }
@media (max-width: 40rem) { header, main { padding-left: 1rem; padding-right: 1rem; } }
"""


def _page(title: str, subtitle: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)}</title><style>{SITE_STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}</h1><p>{subtitle}</p></header><main>{body}</main></body></html>\n"
    )


def _markdown(text: str) -> str:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)


def index_page() -> str:
    rows = "".join(
        f"<tr><td><b>{s}</b><br>{escape(SERVICE_TITLES[s])}</td>"
        f"<td><a href=\"/api/{s}/docs\">Swagger UI</a></td>"
        f"<td><a href=\"/api/{s}/redoc\">ReDoc</a></td>"
        f"<td><a href=\"/api/{s}/openapi.json\">OpenAPI (JSON)</a></td>"
        f"<td><a href=\"/api/{s}/asyncapi.html\">События (AsyncAPI)</a>"
        f" · <a href=\"/api/{s}/asyncapi\">JSON</a></td></tr>"
        for s in SERVICES
    )
    body = (
        "<h2>Сервисы</h2>"
        "<table><tr><th>сервис</th><th colspan=\"3\">HTTP API</th><th>события Kafka</th></tr>"
        f"{rows}</table>"
        "<h2>Каталоги</h2><ul>"
        "<li><a href=\"/docs/events.html\">Каталог событий</a>: топики, ключи, производители и потребители, "
        "поля каждого события.</li>"
        "<li><a href=\"/docs/errors.html\">Каталог ошибок</a>: машинные коды ответов "
        "<code>application/problem+json</code>, HTTP-статусы и тексты на русском и английском.</li>"
        "</ul>"
        "<h2>Как обращаться к API</h2><ul>"
        "<li>Все адреса — через этот шлюз: <code>/api/&lt;сервис&gt;/…</code>.</li>"
        "<li>Авторизация — заголовок <code>Authorization: Bearer &lt;токен&gt;</code>; поиск по каталогу "
        "программ доступен и без токена.</li>"
        "<li>Ошибки — <code>application/problem+json</code> с полем <code>code</code> из каталога ошибок; язык "
        "текста выбирается заголовком <code>Accept-Language</code> (по умолчанию русский).</li>"
        "<li>Повтор запросов, создающих или меняющих данные, — с заголовком <code>Idempotency-Key</code>.</li>"
        "</ul>"
        "<p>Страницы документации работают без доступа в интернет: все файлы отдаются самими сервисами.</p>"
    )
    return _page("Документация API ПФДО", "Персонифицированное финансирование дополнительного образования", body)


def catalogue_page(title: str, source: Path) -> str:
    if not source.is_file():
        raise FileNotFoundError(f"{source} is missing: generate it first (make schemas; the error catalogue generator)")
    subtitle = "<a href=\"/docs\">← вся документация</a>"
    return _page(title, subtitle, _markdown(source.read_text(encoding="utf-8")))


def site_files() -> dict[Path, str]:
    return {
        site_dir() / "index.html": index_page(),
        site_dir() / "events.html": catalogue_page("Каталог событий", event_catalogue_path()),
        site_dir() / "errors.html": catalogue_page("Каталог ошибок", error_catalogue_path()),
    }


# ---- command line ----------------------------------------------------------------------------
PARTS = {"openapi": openapi_files, "typescript": typescript_files, "site": site_files}


def stale(parts: list[str]) -> list[str]:
    """What differs from the generators' output, as lines naming each file."""
    out = []
    for part in parts:
        for path, text in PARTS[part]().items():
            if not path.is_file():
                out.append(f"{path}: missing")
            elif path.read_text(encoding="utf-8") != text:
                out.append(f"{path}: differs from what the code generates")
    return out


def write(parts: list[str]) -> None:
    for part in parts:
        for path, text in PARTS[part]().items():  # typescript reads the openapi files written just before
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path.relative_to(repo_root())}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pfdo_devstack.apidocs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("parts", nargs="*", metavar="part", help=f"any of {', '.join(PARTS)}; default: all, in this order")
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 when a file is out of date")
    args = parser.parse_args(argv)
    if unknown := sorted(set(args.parts) - set(PARTS)):
        parser.error(f"unknown part(s) {', '.join(unknown)}; choose from {', '.join(PARTS)}")
    parts = [p for p in PARTS if p in args.parts] or list(PARTS)
    if args.check:
        problems = stale(parts)
        for line in problems:
            print(f"error: {line}; regenerate with make openapi / make docs", file=sys.stderr)
        return 1 if problems else 0
    write(parts)
    return 0


if __name__ == "__main__":
    sys.exit(main())
