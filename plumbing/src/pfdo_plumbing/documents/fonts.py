"""The fonts documents are printed with: DejaVu Sans (full Cyrillic, the rouble sign).

Found in the system's font folders (Debian's ``fonts-dejavu-core`` package puts them in
``/usr/share/fonts/truetype/dejavu``), or in the folder named by ``PFDO_DOCUMENT_FONTS``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cache
from pathlib import Path

FONTS_ENV = "PFDO_DOCUMENT_FONTS"
DEBIAN_PACKAGE = "fonts-dejavu-core"
SYSTEM_FONT_ROOTS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.local/share/fonts", "~/.fonts")
REGULAR, BOLD = "DejaVuSans.ttf", "DejaVuSans-Bold.ttf"


class FontsMissing(RuntimeError):
    """The DejaVu fonts are not installed."""


@dataclass(frozen=True)
class DocumentFonts:
    regular: Path
    bold: Path


def _find(root: Path, name: str) -> Path | None:
    if not root.is_dir():
        return None
    direct = root / name
    if direct.is_file():
        return direct
    return next((p for p in sorted(root.rglob(name)) if p.is_file()), None)


@cache
def document_fonts() -> DocumentFonts:
    """The regular and bold DejaVu Sans files; ``FontsMissing`` names the package to install."""
    roots = [os.environ[FONTS_ENV]] if os.environ.get(FONTS_ENV) else []
    roots += list(SYSTEM_FONT_ROOTS)
    for root in roots:
        folder = Path(root).expanduser()
        regular = _find(folder, REGULAR)
        if regular is None:
            continue
        bold = regular.with_name(BOLD)
        if bold.is_file():
            return DocumentFonts(regular, bold)
    raise FontsMissing(
        f"Шрифты DejaVu Sans ({REGULAR}, {BOLD}) не найдены: установите пакет Debian {DEBIAN_PACKAGE} "
        f"(apt-get install {DEBIAN_PACKAGE}) или укажите папку со шрифтами в {FONTS_ENV}."
    )
