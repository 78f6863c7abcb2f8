"""Documents: built from facts by pure functions, numbered, versioned, printed as PDF and
encoded as canonical JSON with a content hash (see ``model``, ``canonical``, ``pdf``)."""

from pfdo_plumbing.documents.canonical import (
    IssuedDocument, Stamp, content_hash, document_number, issue, next_stamp, to_json, to_json_data, value_from_json,
    value_json, verify,
)
from pfdo_plumbing.documents.fonts import FontsMissing, document_fonts
from pfdo_plumbing.documents.model import (
    Column, Document, Fields, Line, Money, Month, Party, Section, Share, Signature, Table, Text, Value,
    regional_date,
)
from pfdo_plumbing.documents.numbers import contract_number
from pfdo_plumbing.documents.pdf import render_pdf, value_text

__all__ = [
    "Column", "Document", "Fields", "FontsMissing", "IssuedDocument", "Line", "Money", "Month", "Party", "Section",
    "Share", "Signature", "Stamp", "Table", "Text", "Value", "content_hash", "contract_number", "document_fonts", "document_number",
    "issue", "next_stamp", "regional_date", "render_pdf", "to_json", "to_json_data", "value_from_json", "value_json", "value_text", "verify",
]
