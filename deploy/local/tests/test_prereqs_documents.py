"""``make test`` installs what the document tests need on a fresh Debian machine: poppler-utils
(pdftotext, pdftoppm) and fonts-dejavu-core (the fonts the PDFs are printed with)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pfdo_devstack import prereqs
from pfdo_plumbing.documents import fonts


def _checks() -> dict[str, prereqs.Check]:
    return {c.name: c for c in prereqs.check_all(need_maven=False, need_test_tools=True)}


def test_the_test_tools_include_poppler_and_the_fonts() -> None:
    checks = _checks()
    assert checks["poppler-utils"].packages == ("poppler-utils",)
    assert checks["fonts-dejavu-core"].packages == ("fonts-dejavu-core",)
    assert "poppler-utils" not in {c.name for c in prereqs.check_all(need_maven=False)}


def test_missing_tools_and_fonts_are_reported(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    real_which = prereqs.shutil.which
    monkeypatch.setattr(prereqs.shutil, "which", lambda name: None if name.startswith("pdfto") else real_which(name))
    monkeypatch.setattr(fonts, "SYSTEM_FONT_ROOTS", (str(tmp_path),))
    monkeypatch.delenv(fonts.FONTS_ENV, raising=False)
    try:
        checks = _checks()
        assert not checks["poppler-utils"].ok and not checks["fonts-dejavu-core"].ok
    finally:
        fonts.document_fonts.cache_clear()
