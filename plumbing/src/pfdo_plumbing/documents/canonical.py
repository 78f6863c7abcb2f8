"""Canonical JSON of a document, its content hash, its number and its version.

- **Canonical JSON**: keys sorted, no insignificant whitespace, UTF-8, integers only (money in
  kopecks, shares as exact fractions ``"5/6"``, dates ``"2027-11-15"``, months ``"2027-11"``,
  timestamps in UTC ``"2027-11-15T13:00:00Z"``). Another system re-encodes the body the same
  way and compares the SHA-256 (``verify``).
- **Number**: ``<prefix>-XXXX-XXXX-XXXX`` from the SHA-256 of the kind and the identity of the
  facts (e.g. the contract id), so the same subject always has the same number.
- **Version**: a pure function of the previous stamp and the new content hash: the first issue
  is 1; the same content keeps its version; changed content is the next version. A document is
  never edited: a changed fact makes a new version.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from pfdo_plumbing.documents.model import (
    Document, Fields, Line, Money, Month, Party, Section, Share, Signature, Table, Text, Value,
)

FORMAT = "pfdo-document/1"


def value_json(value: Value) -> Any:
    """A typed value as JSON: strings and integers as they are, the others as one-key objects."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        raise TypeError("a document value cannot be a bool")
    if isinstance(value, int):
        return value
    if isinstance(value, Money):
        return {"kopecks": value.kopecks}
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("a timestamp in a document must be timezone-aware")
        return {"timestamp": value.astimezone(dt.UTC).replace(tzinfo=None).isoformat(timespec="seconds") + "Z"}
    if isinstance(value, dt.date):
        return {"date": value.isoformat()}
    if isinstance(value, Month):
        return {"month": value.first_day.isoformat()[:7]}
    if isinstance(value, Share):
        fraction = value.value
        body: dict[str, Any] = {"share": f"{fraction.numerator}/{fraction.denominator}"}
        if value.detail:
            body["detail"] = value.detail
        return body
    raise TypeError(f"unsupported document value: {type(value).__name__}")


def value_from_json(data: Any) -> Value:
    """The typed value back from its JSON (the inverse of ``value_json``)."""
    if data is None or isinstance(data, (str, int)):
        return data
    if "kopecks" in data:
        return Money(int(data["kopecks"]))
    if "timestamp" in data:
        return dt.datetime.fromisoformat(data["timestamp"].removesuffix("Z")).replace(tzinfo=dt.UTC)
    if "date" in data:
        return dt.date.fromisoformat(data["date"])
    if "month" in data:
        return Month(dt.date.fromisoformat(data["month"] + "-01"))
    if "share" in data:
        return Share(Fraction(data["share"]), data.get("detail", ""))
    raise ValueError(f"not a document value: {data!r}")


def _lines(lines: tuple[Line, ...]) -> list[Any]:
    return [{"label": line.label, "value": value_json(line.value)} for line in lines]


def _party(party: Party) -> dict[str, Any]:
    return {"role": party.role, "name": party.name, "details": _lines(party.details)}


def _section(section: Section) -> dict[str, Any]:
    if isinstance(section, Fields):
        return {"type": "fields", "heading": section.heading, "lines": _lines(section.lines)}
    if isinstance(section, Table):
        body: dict[str, Any] = {
            "type": "table",
            "heading": section.heading,
            "columns": [c.title for c in section.columns],
            "rows": [[value_json(v) for v in row] for row in section.rows],
        }
        if section.has_totals:
            body["totals"] = [value_json(v) for v in section.totals()]
        return body
    if isinstance(section, Text):
        return {"type": "text", "heading": section.heading, "paragraphs": list(section.paragraphs)}
    raise TypeError(f"unsupported section: {type(section).__name__}")


def _signature(s: Signature) -> dict[str, Any]:
    return {"role": s.role, "name": s.name, "signed_at": value_json(s.signed_at), "note": s.note}


def document_number(prefix: str, kind: str, identity: tuple[str, ...]) -> str:
    """``ОФ-3F9A-C21B-77D0``: the same kind and identity always give the same number."""
    digest = hashlib.sha256("\x1f".join((kind, *identity)).encode("utf-8")).hexdigest()[:12].upper()
    return f"{prefix}-{digest[0:4]}-{digest[4:8]}-{digest[8:12]}"


def body(document: Document) -> dict[str, Any]:
    """Everything the document says, without its version and hash."""
    return {
        "kind": document.kind,
        "number": document_number(document.number_prefix, document.kind, document.identity),
        "identity": list(document.identity),
        "date": document.date.isoformat(),
        "title": document.title,
        "timezone": document.timezone,
        "parties": [_party(p) for p in document.parties],
        "sections": [_section(s) for s in document.sections],
        "signatures": [_signature(s) for s in document.signatures],
        "appendix": [_section(s) for s in document.appendix],
    }


def canonical_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def content_hash(document: Document) -> str:
    """SHA-256 (hex) of the canonical JSON of the body."""
    return hashlib.sha256(canonical_bytes(body(document))).hexdigest()


@dataclass(frozen=True)
class Stamp:
    """What makes an issued document: its number, its version, the hash of its content."""

    number: str
    version: int
    content_hash: str


def next_stamp(document: Document, previous: Stamp | None = None) -> Stamp:
    """The stamp of ``document`` given the latest stamp issued under its number (if any).

    Same content → the previous stamp unchanged; changed content → version + 1; none → 1.
    """
    number = document_number(document.number_prefix, document.kind, document.identity)
    digest = content_hash(document)
    if previous is None:
        return Stamp(number, 1, digest)
    if previous.number != number:
        raise ValueError(f"the previous stamp {previous.number} is not this document's ({number})")
    if previous.content_hash == digest:
        return previous
    return Stamp(number, previous.version + 1, digest)


@dataclass(frozen=True)
class IssuedDocument:
    document: Document
    stamp: Stamp


def issue(document: Document, previous: Stamp | None = None) -> IssuedDocument:
    """The document with its stamp (see ``next_stamp``)."""
    return IssuedDocument(document, next_stamp(document, previous))


def to_json_data(issued: IssuedDocument) -> dict[str, Any]:
    return {**body(issued.document), "format": FORMAT, "version": issued.stamp.version,
            "content_hash": issued.stamp.content_hash}


def to_json(issued: IssuedDocument) -> bytes:
    """The canonical JSON of an issued document (UTF-8)."""
    return canonical_bytes(to_json_data(issued))


def verify(json_bytes: bytes) -> bool:
    """True when the JSON's ``content_hash`` is the SHA-256 of its body re-encoded canonically."""
    data = json.loads(json_bytes)
    claimed = data.pop("content_hash", None)
    data.pop("version", None)
    data.pop("format", None)
    return claimed == hashlib.sha256(canonical_bytes(data)).hexdigest()
