"""A document printed on A4 in Russian: title, number and version, parties, sections,
signatures; each page's footer repeats the number, the version and the start of the content
hash, so a printed page can be matched with its JSON."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from fpdf import FPDF
from fpdf.fonts import FontFace

from pfdo_plumbing import russian_format as ru
from pfdo_plumbing.documents.canonical import IssuedDocument
from pfdo_plumbing.documents.fonts import document_fonts
from pfdo_plumbing.documents.model import (
    REGION_TIMEZONE, Document, Fields, Line, Money, Month, Party, Section, Share, Signature, Table, Text, Value,
)

FONT = "DejaVu"
MARGIN = 18
GREY = (110, 110, 110)
RULE = (170, 170, 170)
HEADING_FILL = (232, 236, 242)
SHORT_SECTION_MM = 120
SIGNATURE_BLOCK_MM = 32


def value_text(value: Value, timezone: str = REGION_TIMEZONE) -> str:
    """A value as Russian readers expect it."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, Money):
        return ru.money(value.kopecks)
    if isinstance(value, dt.datetime):
        local = value.astimezone(ZoneInfo(timezone))
        return f"{ru.date(local.date())} {ru.time(local)}"
    if isinstance(value, dt.date):
        return ru.date(value)
    if isinstance(value, Month):
        return ru.month(value.first_day)
    if isinstance(value, Share):
        return f"{ru.share(value.value)} ({value.detail})" if value.detail else ru.share(value.value)
    if isinstance(value, int):
        return ru.group_thousands(value)
    raise TypeError(f"unsupported document value: {type(value).__name__}")


class _Page(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7)
        self.set_text_color(*GREY)
        self.cell(0, 4, f"{self.footer_text} · стр. {self.page_no()} из {{nb}}", align="C")
        self.set_text_color(0, 0, 0)


def _keep_together(text: str) -> str:
    """A number sign stays on the line of its number (``№ 12``)."""
    return text.replace("№ ", "№\u00a0")


def _keep_short_section_on_one_page(pdf: FPDF, section: Section) -> None:
    """A short table or list starts on a new page rather than leave its end (the totals) alone."""
    if isinstance(section, Table):
        rows = len(section.rows) + 2
    elif isinstance(section, Fields):
        rows = len(section.lines)
    else:
        rows = 0
    height = 12 + rows * 7
    if rows and height < SHORT_SECTION_MM and pdf.will_page_break(height):
        pdf.add_page()


def _heading(pdf: FPDF, text: str) -> None:
    if not text:
        return
    pdf.ln(3)
    pdf.set_font(FONT, "B", 11)
    pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1)


def _two_columns(pdf: FPDF, rows: list[tuple[str, str]]) -> None:
    pdf.set_font(FONT, "", 9)
    with pdf.table(col_widths=(38, 62), first_row_as_headings=False, line_height=5,
                   borders_layout="HORIZONTAL_LINES", text_align=("LEFT", "LEFT"),
                   padding=(1, 2, 1, 0)) as table:
        for label, value in rows:
            row = table.row()
            row.cell(label, style=FontFace(color=GREY))
            row.cell(value)


def _parties(pdf: FPDF, parties: tuple[Party, ...], timezone: str) -> None:
    for party in parties:
        pdf.set_font(FONT, "B", 10)
        pdf.multi_cell(0, 5.5, _keep_together(f"{party.role}: {party.name}"), align="L", new_x="LMARGIN",
                       new_y="NEXT")
        if party.details:
            pdf.set_font(FONT, "", 8.5)
            pdf.set_text_color(*GREY)
            text = "; ".join(f"{d.label}: {value_text(d.value, timezone)}" for d in party.details)
            pdf.multi_cell(0, 4.5, _keep_together(text), align="L", new_x="LMARGIN", new_y="NEXT")
            pdf.set_text_color(0, 0, 0)
        pdf.ln(1.5)


def _lines(lines: tuple[Line, ...], timezone: str) -> list[tuple[str, str]]:
    return [(line.label, value_text(line.value, timezone)) for line in lines]


def _table(pdf: FPDF, table: Table, timezone: str) -> None:
    pdf.set_font(FONT, "", 8.5)
    aligns = tuple(c.align for c in table.columns)
    with pdf.table(col_widths=tuple(c.width for c in table.columns), text_align=aligns, line_height=4.6,
                   first_row_as_headings=True, borders_layout="ALL", padding=(1, 1.5, 1, 1.5),
                   headings_style=FontFace(emphasis="BOLD", fill_color=HEADING_FILL),
                   repeat_headings=1) as grid:
        heading = grid.row()
        for column in table.columns:
            heading.cell(column.title, align="CENTER")
        for cells in table.rows:
            row = grid.row()
            for value in cells:
                row.cell(value_text(value, timezone))
        if table.has_totals:
            totals = table.totals()
            span = next(i for i, c in enumerate(table.columns) if c.total)  # the label spans the columns before
            row = grid.row()
            bold = FontFace(emphasis="BOLD")
            if span:
                row.cell(str(totals[0]), colspan=span, style=bold, align="RIGHT")
            for value in totals[span:]:
                row.cell("" if value is None else value_text(value, timezone), style=bold)


def _text(pdf: FPDF, text: Text) -> None:
    pdf.set_font(FONT, "", 9.5)
    for paragraph in text.paragraphs:
        pdf.multi_cell(0, 5, _keep_together(paragraph), align="J", new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1.5)


def _signature_line(s: Signature, timezone: str) -> str:
    if s.signed_at is None:
        return f"______________ / {s.name} /"
    zone = "МСК" if timezone == REGION_TIMEZONE else timezone
    return f"{s.name}, {value_text(s.signed_at, timezone)} ({zone})"


def _signatures(pdf: FPDF, signatures: tuple[Signature, ...], timezone: str) -> None:
    """Side by side, two to a row, each block kept on one page."""
    if not signatures:
        return
    pdf.ln(5)
    for start in range(0, len(signatures), 2):
        pair = signatures[start:start + 2]
        if pdf.will_page_break(SIGNATURE_BLOCK_MM):
            pdf.add_page()
        pdf.set_font(FONT, "", 9.5)
        with pdf.table(col_widths=(1, 1), borders_layout="NONE", first_row_as_headings=False, line_height=5,
                       text_align=("LEFT", "LEFT"), padding=(1, 3, 1, 0), v_align="TOP") as table:
            roles, lines, notes = table.row(), table.row(), table.row()
            for s in pair:
                roles.cell(s.role, style=FontFace(emphasis="BOLD"))
                lines.cell(_signature_line(s, timezone))
                notes.cell(s.note, style=FontFace(color=GREY, size_pt=8))
            if len(pair) == 1:  # the second column stays empty
                for row in (roles, lines, notes):
                    row.cell("")
        pdf.ln(2)


def render_pdf(issued: IssuedDocument) -> bytes:
    """The PDF of an issued document; the same document gives the same bytes."""
    document: Document = issued.document
    stamp = issued.stamp
    fonts = document_fonts()
    pdf = _Page(orientation="P", unit="mm", format="A4")
    pdf.set_margins(MARGIN, MARGIN, MARGIN)
    pdf.set_auto_page_break(True, margin=MARGIN)
    pdf.add_font(FONT, "", str(fonts.regular))
    pdf.add_font(FONT, "B", str(fonts.bold))
    pdf.set_creation_date(dt.datetime.combine(document.date, dt.time(), tzinfo=dt.UTC))
    pdf.set_title(f"{document.title} № {stamp.number}")
    pdf.set_lang("ru")
    pdf.footer_text = f"№ {stamp.number} · версия {stamp.version} · SHA-256 {stamp.content_hash[:16]}"
    pdf.add_page()

    pdf.set_font(FONT, "B", 14)
    pdf.multi_cell(0, 7, document.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 6, f"№ {stamp.number} от {ru.date(document.date)} · версия {stamp.version}", align="C",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _parties(pdf, document.parties, document.timezone)
    _sections(pdf, document.sections, document.timezone)
    _signatures(pdf, document.signatures, document.timezone)
    if document.appendix:
        pdf.add_page()
        pdf.set_font(FONT, "B", 12)
        pdf.multi_cell(0, 6.5, _keep_together(f"Приложение к документу «{document.title}» № {stamp.number} "
                                             f"от {ru.date(document.date)}"), align="C", new_x="LMARGIN", new_y="NEXT")
        _sections(pdf, document.appendix, document.timezone)
    return bytes(pdf.output())


def _sections(pdf: FPDF, sections: tuple[Section, ...], timezone: str) -> None:
    for section in sections:
        _keep_short_section_on_one_page(pdf, section)
        _heading(pdf, section.heading)
        if isinstance(section, Fields):
            _two_columns(pdf, _lines(section.lines, timezone))
        elif isinstance(section, Table):
            _table(pdf, section, timezone)
        elif isinstance(section, Text):
            _text(pdf, section)
