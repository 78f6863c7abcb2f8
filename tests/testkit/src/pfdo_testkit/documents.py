"""Documents read back as a person and a machine would: the PDF's text (``pdftotext``, Debian's
poppler-utils) checked against the document's canonical JSON, and a page rendered to PNG
(``pdftoppm``) under ``.work/test-artefacts/documents/`` to be looked at."""

from __future__ import annotations

import json
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from pfdo_plumbing.documents import value_from_json, value_text

from .browser import artefacts

SUITE = "documents"


def pdf_text(pdf: bytes) -> str:
    """The PDF's text in content order (``pdftotext -raw``)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        return subprocess.run(["pdftotext", "-raw", "-enc", "UTF-8", str(path), "-"], check=True,
                              capture_output=True).stdout.decode("utf-8")


def pdf_page_count(pdf: bytes) -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "document.pdf"
        path.write_bytes(pdf)
        info = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True, text=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))  # type: ignore[union-attr]


def save_pages_png(pdf: bytes, name: str, *, first: int = 1, last: int = 1, dpi: int = 80) -> list[Path]:
    """Pages ``first..last`` as ``<name>-<page>.png`` in the documents' artefacts folder; also the PDF."""
    folder = artefacts(SUITE)
    (folder / f"{name}.pdf").write_bytes(pdf)
    for old in folder.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "-f", str(first), "-l", str(last), str(folder / f"{name}.pdf"),
                    str(folder / name)], check=True)
    return sorted(folder.glob(f"{name}-*.png"))


def squash(text: str) -> str:
    """Without any whitespace: text wrapped in a table cell or justified still matches."""
    return re.sub(r"\s+", "", text)


def expected_texts(data: dict[str, Any]) -> list[str]:
    """Every fact of a document's JSON as the PDF must print it."""
    zone = data["timezone"]

    def text(value: Any) -> str:
        return value_text(value_from_json(value), zone)

    out = [data["title"], data["number"], f"версия {data['version']}", data["content_hash"][:16]]
    for party in data["parties"]:
        out += [party["role"], party["name"], *(f"{d['label']}: {text(d['value'])}" for d in party["details"])]
    for section in (*data["sections"], *data["appendix"]):
        out.append(section["heading"])
        if section["type"] == "fields":
            out += [f"{line['label']}{text(line['value'])}" for line in section["lines"]]
        elif section["type"] == "table":
            out += section["columns"]
            out += [text(v) for row in section["rows"] for v in row]
            out += [text(v) for v in section.get("totals", []) if v is not None]
        else:
            out += section["paragraphs"]
    for signature in data["signatures"]:
        out += [signature["role"], signature["name"], signature["note"]]
        if signature["signed_at"]:
            out.append(text(signature["signed_at"]))
    return [t for t in out if t]


def assert_pdf_matches_json(pdf: bytes, json_bytes: bytes) -> dict[str, Any]:
    """Every fact of the JSON appears in the PDF's text; returns the JSON data."""
    data = json.loads(json_bytes)
    printed = squash(pdf_text(pdf))
    missing = [t for t in expected_texts(data) if squash(t) not in printed]
    assert not missing, f"not in the PDF of {data['kind']} {data['number']}: {missing}"
    return data
