"""An AsyncAPI 3.0 document (:mod:`pfdo_contracts.asyncapi`) as one self-contained HTML page:
servers, operations, channels, messages with their payload schemas and examples, and the shared
schemas. No script and no link to another host: the page reads the same without a network.

    python -m pfdo_contracts.asyncapi_html navigator > navigator.html
"""

from __future__ import annotations

import json
import sys
from html import escape
from typing import Any

STYLE = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; color: #1d2430; background: #fff; }
header { background: #1d3557; color: #fff; padding: 1.5rem 2rem; }
header h1 { margin: 0 0 .3rem; font-size: 1.6rem; }
header p { margin: .2rem 0; opacity: .9; }
nav { padding: .8rem 2rem; background: #f1f4f8; border-bottom: 1px solid #d8dee8; }
nav a { margin-right: 1.2rem; color: #1d3557; }
main { padding: 0 2rem 3rem; max-width: 80rem; }
h2 { margin-top: 2rem; border-bottom: 2px solid #1d3557; padding-bottom: .3rem; }
h3 { margin-top: 1.6rem; font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 1.05rem; }
h4 { margin: 1rem 0 .4rem; }
table { border-collapse: collapse; margin: .5rem 0 1rem; }
th, td { border: 1px solid #d8dee8; padding: .35rem .6rem; text-align: left; vertical-align: top; }
th { background: #f1f4f8; }
code, pre { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: .85rem; }
pre { background: #f6f8fa; border: 1px solid #d8dee8; padding: .7rem; overflow-x: auto; max-height: 32rem; }
details { margin: .4rem 0; }
summary { cursor: pointer; color: #1d3557; }
.message { border-left: 4px solid #457b9d; padding-left: 1rem; margin: 1.2rem 0; }
.action { display: inline-block; padding: .1rem .5rem; border-radius: .3rem; color: #fff; font-size: .8rem; }
.send { background: #2a9d8f; } .receive { background: #e76f51; }
"""

ACTIONS = {"send": "отправляет", "receive": "получает"}


def _anchor(kind: str, name: str) -> str:
    return f"{kind}-" + "".join(c if c.isalnum() or c in "-_." else "-" for c in name)


def _json(value: Any) -> str:
    return escape(json.dumps(value, indent=2, ensure_ascii=False))


def _ref_name(ref: str) -> str:
    return ref.rsplit("/", 1)[-1]


def _servers(doc: dict[str, Any]) -> str:
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td><code>{escape(s.get('host', ''))}</code></td>"
        f"<td>{escape(s.get('protocol', ''))} {escape(s.get('protocolVersion', ''))}</td>"
        f"<td>{escape(s.get('description', ''))}</td></tr>"
        for name, s in doc.get("servers", {}).items()
    )
    return ("<h2 id=\"servers\">Серверы</h2><table><tr><th>имя</th><th>bootstrap</th><th>протокол</th>"
            f"<th>описание</th></tr>{rows}</table>")


def _operations(doc: dict[str, Any]) -> str:
    rows = []
    for name, op in doc.get("operations", {}).items():
        channel = _ref_name(op["channel"]["$ref"])
        group = op.get("bindings", {}).get("kafka", {}).get("groupId", {}).get("enum", [""])[0]
        messages = ", ".join(
            f"<a href=\"#{_anchor('message', _ref_name(m['$ref']))}\"><code>{escape(_ref_name(m['$ref']))}</code></a>"
            for m in op.get("messages", [])
        )
        rows.append(
            f"<tr><td><span class=\"action {escape(op['action'])}\">{ACTIONS.get(op['action'], op['action'])}</span></td>"
            f"<td><a href=\"#{_anchor('channel', channel)}\"><code>{escape(channel)}</code></a></td>"
            f"<td>{f'<code>{escape(group)}</code>' if group else '—'}</td><td>{messages}</td></tr>"
        )
    return ("<h2 id=\"operations\">Операции</h2><table><tr><th>действие</th><th>канал (топик)</th>"
            f"<th>группа потребителей</th><th>сообщения</th></tr>{''.join(rows)}</table>")


def _type_of(prop: dict[str, Any]) -> str:
    if "$ref" in prop:
        name = _ref_name(prop["$ref"])
        return f"<a href=\"#{_anchor('schema', name)}\"><code>{escape(name)}</code></a>"
    if "anyOf" in prop or "oneOf" in prop:
        return " | ".join(_type_of(p) for p in prop.get("anyOf", prop.get("oneOf", [])))
    if "const" in prop:
        return f"<code>{escape(json.dumps(prop['const'], ensure_ascii=False))}</code>"
    text = escape(str(prop.get("type", "any")))
    if prop.get("type") == "array" and isinstance(prop.get("items"), dict):
        text = f"array of {_type_of(prop['items'])}"
    if prop.get("format"):
        text += f" ({escape(prop['format'])})"
    if prop.get("enum"):
        text += ": " + ", ".join(f"<code>{escape(str(v))}</code>" for v in prop["enum"])
    return text


def _fields(schema: dict[str, Any]) -> str:
    """The fields of an event's data schema as a table."""
    required = set(schema.get("required", []))
    rows = "".join(
        f"<tr><td><code>{escape(name)}</code></td><td>{_type_of(prop)}</td>"
        f"<td>{'да' if name in required else 'нет'}</td><td>{escape(prop.get('description', ''))}</td></tr>"
        for name, prop in schema.get("properties", {}).items()
    )
    return ("<table><tr><th>поле data</th><th>тип</th><th>обязательное</th><th>описание</th></tr>"
            f"{rows}</table>")


def _message(mid: str, message: dict[str, Any], schemas: dict[str, Any]) -> str:
    key = message.get("bindings", {}).get("kafka", {}).get("key", {}).get("description", "")
    parts = [
        f"<div class=\"message\" id=\"{_anchor('message', mid)}\"><h4><code>{escape(mid)}</code>"
        f" — {escape(message.get('title', ''))}</h4>",
        f"<p>{escape(message.get('summary', ''))}</p>",
    ]
    if message.get("description"):
        parts.append(f"<p>{escape(message['description'])}</p>")
    parts.append(f"<p>Тип содержимого: <code>{escape(message.get('contentType', ''))}</code>"
                 + (f"; ключ Kafka: {escape(key)}" if key else "") + "</p>")
    payload = message.get("payload", {})
    refs = [_ref_name(p["$ref"]) for p in payload.get("allOf", []) if "$ref" in p]
    refs += [_ref_name(p["properties"]["data"]["$ref"]) for p in payload.get("allOf", [])
             if "$ref" in p.get("properties", {}).get("data", {})]
    if refs:
        parts.append("<p>Схемы: " + ", ".join(
            f"<a href=\"#{_anchor('schema', r)}\"><code>{escape(r)}</code></a>" for r in refs) + "</p>")
    if refs and refs[-1] in schemas and refs[-1] != refs[0]:
        parts.append(_fields(schemas[refs[-1]]))
    parts.append(f"<details><summary>Схема содержимого (payload)</summary><pre>{_json(payload)}</pre></details>")
    if message.get("headers"):
        parts.append(f"<details><summary>Заголовки</summary><pre>{_json(message['headers'])}</pre></details>")
    for example in message.get("examples", []):
        parts.append(f"<details open><summary>Пример: {escape(example.get('name', ''))}</summary>"
                     f"<pre>{_json(example.get('payload'))}</pre></details>")
    parts.append("</div>")
    return "".join(parts)


def _channels(doc: dict[str, Any]) -> str:
    messages = doc.get("components", {}).get("messages", {})
    out = ["<h2 id=\"channels\">Каналы и сообщения</h2>"]
    for name, channel in doc.get("channels", {}).items():
        kafka = channel.get("bindings", {}).get("kafka", {})
        config = kafka.get("topicConfiguration", {})
        out.append(
            f"<h3 id=\"{_anchor('channel', name)}\">{escape(channel.get('address', name))}</h3>"
            f"<p>{escape(channel.get('description', ''))}</p>"
            f"<p>Разделов: {kafka.get('partitions', '—')}; реплик: {kafka.get('replicas', '—')}; "
            f"min.insync.replicas: {config.get('min.insync.replicas', '—')}; "
            f"retention.ms: {config.get('retention.ms', '—')}</p>"
        )
        for ref in channel.get("messages", {}).values():
            mid = _ref_name(ref["$ref"])
            out.append(_message(mid, messages.get(mid, {}), doc.get("components", {}).get("schemas", {})))
    return "".join(out)


def _schemas(doc: dict[str, Any]) -> str:
    out = ["<h2 id=\"schemas\">Схемы</h2>"]
    for name, schema in doc.get("components", {}).get("schemas", {}).items():
        out.append(f"<details id=\"{_anchor('schema', name)}\"><summary><code>{escape(name)}</code></summary>"
                   f"<pre>{_json(schema)}</pre></details>")
    return "".join(out)


def render_html(doc: dict[str, Any]) -> str:
    """The page of one AsyncAPI document."""
    info = doc.get("info", {})
    title = info.get("title", "AsyncAPI")
    return (
        "<!DOCTYPE html>\n<html lang=\"ru\"><head><meta charset=\"utf-8\">"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
        f"<title>{escape(title)} — события (AsyncAPI)</title><style>{STYLE}</style></head><body>"
        f"<header><h1>{escape(title)}: события</h1>"
        f"<p>AsyncAPI {escape(doc.get('asyncapi', ''))}, версия {escape(info.get('version', ''))}</p>"
        f"<p>{escape(info.get('description', ''))}</p></header>"
        "<nav><a href=\"#servers\">Серверы</a><a href=\"#operations\">Операции</a>"
        "<a href=\"#channels\">Каналы и сообщения</a><a href=\"#schemas\">Схемы</a>"
        "<a href=\"asyncapi\">Документ AsyncAPI (JSON)</a><a href=\"/docs\">Вся документация</a></nav>"
        f"<main>{_servers(doc)}{_operations(doc)}{_channels(doc)}{_schemas(doc)}</main></body></html>\n"
    )


def main(argv: list[str] | None = None) -> int:
    from .asyncapi import document

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m pfdo_contracts.asyncapi_html <service>", file=sys.stderr)
        return 2
    sys.stdout.write(render_html(document(args[0])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
