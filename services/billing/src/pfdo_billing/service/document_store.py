"""Billing's issued documents, kept in ``documents``: numbered, versioned, immutable.

Issuing a document (:func:`store`) compares its content hash with the latest version stored
under its number: the same facts answer the stored version; changed facts store the next
version (``pfdo_plumbing.documents.next_stamp``). The canonical JSON and the PDF are written once,
when a version is made, and served as stored ever after, so an older version is still served
byte for byte after its facts changed. Issuers of one number are serialised by a transaction
lock on the number."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from pfdo_plumbing.documents import Document, Stamp, document_number, issue, render_pdf, to_json


@dataclass(frozen=True)
class Subject:
    """What a monthly document is about: a provider, its payer, a month (first day)."""

    provider_id: uuid.UUID
    payer_code: str
    month: dt.date


@dataclass(frozen=True)
class StoredDocument:
    number: str
    version: int
    kind: str
    provider_id: uuid.UUID
    payer_code: str
    month: dt.date
    content_hash: str
    canonical_json: bytes
    pdf: bytes
    created_at: dt.datetime


_COLUMNS = ("number, version, kind, provider_id, payer_code, month, content_hash, canonical_json, pdf, created_at")


def _stored(row) -> StoredDocument:  # noqa: ANN001
    return StoredDocument(number=row.number, version=int(row.version), kind=row.kind, provider_id=row.provider_id,
                          payer_code=row.payer_code, month=row.month, content_hash=row.content_hash.strip(),
                          canonical_json=row.canonical_json.encode("utf-8"), pdf=bytes(row.pdf),
                          created_at=row.created_at)


def number_of(document: Document) -> str:
    return document_number(document.number_prefix, document.kind, document.identity)


async def stored(session: AsyncSession, number: str, version: int | None = None) -> StoredDocument | None:
    """The stored version of a document (the latest when ``version`` is None)."""
    row = (await session.execute(text(
        f"SELECT {_COLUMNS} FROM documents WHERE number = :n AND (CAST(:v AS integer) IS NULL OR version = :v) "
        "ORDER BY version DESC LIMIT 1"), {"n": number, "v": version})).first()
    return None if row is None else _stored(row)


async def store(session: AsyncSession, document: Document, subject: Subject) -> StoredDocument:
    """The document as issued: the stored latest version if its content is the same, otherwise a
    new version written now (JSON and PDF)."""
    number = number_of(document)
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": f"document:{number}"})
    latest = await stored(session, number)
    previous = None if latest is None else Stamp(latest.number, latest.version, latest.content_hash)
    issued = issue(document, previous)
    if latest is not None and issued.stamp == previous:
        return latest
    row = (await session.execute(text(
        "INSERT INTO documents (number, version, kind, provider_id, payer_code, month, content_hash, canonical_json, "
        "pdf) VALUES (:number, :version, :kind, :provider, :payer, :month, :hash, :json, :pdf) "
        f"RETURNING {_COLUMNS}"),
        {"number": number, "version": issued.stamp.version, "kind": document.kind, "provider": subject.provider_id,
         "payer": subject.payer_code, "month": subject.month, "hash": issued.stamp.content_hash,
         "json": to_json(issued).decode("utf-8"), "pdf": render_pdf(issued)})).first()
    return _stored(row)


@dataclass(frozen=True)
class DocumentFilter:
    provider_id: uuid.UUID | None = None
    payer_code: str | None = None
    month: dt.date | None = None
    kind: str | None = None


async def listed(session: AsyncSession, f: DocumentFilter, after: tuple[dt.date, str, int] | None,
                 limit: int) -> list[dict]:
    """Stored documents of the filter (without their bodies), by month, number and version."""
    after_month, after_number, after_version = after or (None, None, None)
    rows = (await session.execute(text(
        "SELECT number, version, kind, provider_id, payer_code, month, content_hash, created_at FROM documents "
        "WHERE (CAST(:p AS uuid) IS NULL OR provider_id = :p) AND (CAST(:payer AS text) IS NULL OR payer_code = :payer) "
        "AND (CAST(:m AS date) IS NULL OR month = :m) AND (CAST(:k AS text) IS NULL OR kind = :k) "
        "AND (CAST(:am AS date) IS NULL OR (month, number, version) > (CAST(:am AS date), CAST(:an AS text), "
        "CAST(:av AS integer))) ORDER BY month, number, version LIMIT :l"),
        {"p": f.provider_id, "payer": f.payer_code, "m": f.month, "k": f.kind, "am": after_month, "an": after_number,
         "av": after_version, "l": limit})).mappings().all()
    return [{**r, "content_hash": r["content_hash"].strip()} for r in rows]
