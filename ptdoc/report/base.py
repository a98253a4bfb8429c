"""What every ptdoc PDF shares: bundled fonts, one stylesheet, page header and footer,
"Page X of Y", the draft watermark, and escaping of user text."""

from __future__ import annotations

import functools
import io
from collections.abc import Callable
from importlib import resources
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.enums import TA_LEFT, TA_RIGHT
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import inch
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import BaseDocTemplate, Flowable, Frame, PageTemplate, Paragraph

from ptdoc.paper import Header

FONT, BOLD, ITALIC = "PtdocSans", "PtdocSans-Bold", "PtdocSans-Oblique"
PAGE = letter
MARGIN = 0.6 * inch
TOP = 1.05 * inch     # room for the header
BOTTOM = 0.75 * inch  # room for the footer
WATERMARK = "DRAFT - NOT SIGNED"


@functools.cache
def register_fonts() -> None:
    """DejaVu Sans ships with ptdoc: identical output everywhere, and it has the accents,
    Greek and Cyrillic that patient names need."""
    folder = resources.files("ptdoc.resources").joinpath("fonts")
    for name, file in ((FONT, "DejaVuSans.ttf"), (BOLD, "DejaVuSans-Bold.ttf"),
                       (ITALIC, "DejaVuSans-Oblique.ttf")):
        with resources.as_file(folder.joinpath(file)) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))
    pdfmetrics.registerFontFamily(FONT, normal=FONT, bold=BOLD, italic=ITALIC, boldItalic=BOLD)


@functools.cache
def styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=9, leading=11.5, alignment=TA_LEFT)
    return {
        "body": body,
        "small": ParagraphStyle("small", parent=body, fontSize=7.5, leading=9),
        "smallright": ParagraphStyle("smallright", parent=body, fontSize=7.5, leading=9,
                                     alignment=TA_RIGHT),
        "cell": ParagraphStyle("cell", parent=body, fontSize=7.5, leading=9),
        "cellbold": ParagraphStyle("cellbold", parent=body, fontName=BOLD, fontSize=7.5,
                                   leading=9),
        "title": ParagraphStyle("title", parent=body, fontName=BOLD, fontSize=14, leading=18,
                                spaceAfter=4),
        "h2": ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=10.5, leading=13,
                             spaceBefore=8, spaceAfter=3, textColor=colors.HexColor("#1f3a5f")),
        "warn": ParagraphStyle("warn", parent=body, textColor=colors.HexColor("#9c1c1c")),
    }


def esc(text: object) -> str:
    """User text into Paragraph markup: escaped, line breaks kept."""
    return escape(str(text)).replace("\n", "<br/>")


def para(text: object, style: str = "body", markup: bool = False) -> Paragraph:
    return Paragraph(str(text) if markup else esc(text), styles()[style])


def separated(text: str, style: ParagraphStyle, width: float) -> Paragraph:
    """A ' · '-separated line (address · phone · NPI) that wraps at ``width``: a line the
    wrap would end with a dangling '·' ends before it instead, the next item starting the
    next line."""
    plain = Paragraph(esc(text), style)
    plain.wrap(width, PAGE[1])
    laid = getattr(plain, "blPara", None)
    if laid is None or getattr(laid, "kind", 1) != 0 or len(laid.lines) < 2:
        return plain
    lines = [" ".join(str(w) for w in words) for _extra, words in laid.lines]
    if not any(line.endswith("·") or line.startswith("·") for line in lines):
        return plain
    lines = [line.removesuffix("·").removeprefix("·").strip() for line in lines]
    return Paragraph("<br/>".join(esc(line) for line in lines), style)


TABLE_STYLE = [
    ("FONTNAME", (0, 0), (-1, -1), FONT),
    ("FONTSIZE", (0, 0), (-1, -1), 7.5),
    ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e4eaf2")),
    ("LINEBELOW", (0, 0), (-1, 0), 0.6, colors.HexColor("#1f3a5f")),
    ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#b8c2cc")),
    ("LEFTPADDING", (0, 0), (-1, -1), 3),
    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ("TOPPADDING", (0, 0), (-1, -1), 2),
    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
]


class SetHeader(Flowable):
    """Zero-size marker: from here on, pages carry this header (one per summary page)."""

    def __init__(self, header: Header | None):
        super().__init__()
        self.header = header

    def wrap(self, *args: Any) -> tuple[float, float]:
        return (0, 0)

    def draw(self) -> None:
        self.canv._ptdoc_header = self.header  # read by the page-end callback


class SetDraft(Flowable):
    """Zero-size marker: from here on, pages carry the watermark or not (a document of several
    papers, some signed, some not)."""

    def __init__(self, draft: bool):
        super().__init__()
        self.draft = draft

    def wrap(self, *args: Any) -> tuple[float, float]:
        return (0, 0)

    def draw(self) -> None:
        self.canv._ptdoc_draft = self.draft  # read by the page-end callback


HEADER_TOP = 14       # above the top margin line, where the header begins
HEADER_SPACE = 14     # between the header's rule and the body


@functools.cache
def _header_styles() -> dict[str, ParagraphStyle]:
    register_fonts()
    return {
        "clinic": ParagraphStyle("hclinic", fontName=BOLD, fontSize=11, leading=13),
        "line": ParagraphStyle("hline", fontName=FONT, fontSize=7.5, leading=9,
                               alignment=TA_RIGHT),
        "patient": ParagraphStyle("hpatient", fontName=FONT, fontSize=8, leading=10.5),
        "footer": ParagraphStyle("footer", fontName=FONT, fontSize=7, leading=8.5,
                                 textColor=colors.HexColor("#444444")),
    }


def _header_parts(header: Header | None, title: str, heading: str
                  ) -> tuple[Paragraph, Paragraph, Paragraph | None]:
    """The header as paragraphs that wrap: no field is ever cut at the page's edge."""
    st = _header_styles()
    if header is None:
        return Paragraph(esc(heading), st["clinic"]), Paragraph(esc(title), st["line"]), None
    # Each label stays with its value when the line wraps (non-breaking spaces).
    patient = (f"<font name='{BOLD}' size='9'>{esc(header.patient)}</font>  "
               f"DOB\u00a0{esc(header.date_of_birth)} · MRN\u00a0{esc(header.mrn)} · "
               f"Date\u00a0of\u00a0service\u00a0{esc(header.date_of_service)} · "
               f"{esc(header.payer)}")
    return (Paragraph(esc(header.clinic), st["clinic"]),
            Paragraph(esc(header.clinic_line), st["line"]),
            Paragraph(patient, st["patient"]))


@functools.lru_cache(maxsize=256)  # laid out once per document and header, not per page
def _layout_header(header: Header | None, title: str, heading: str
                   ) -> tuple[list[tuple[Paragraph, float, float]], float]:
    """Each paragraph with its x and its drop below the header's top; the header's height."""
    width = PAGE[0] - 2 * MARGIN
    left, right, patient = _header_parts(header, title, heading)
    # The clinic's name takes what it needs, up to half the width; its line gets the rest.
    name = header.clinic if header is not None else heading
    split = min(width * 0.5, pdfmetrics.stringWidth(name, BOLD, 11) + 2)
    _w, left_h = left.wrap(split, PAGE[1])
    if header is not None:  # a wrapped clinic line never ends with a dangling '·'
        right = separated(header.clinic_line, right.style, width - split - 12)
    _w, right_h = right.wrap(width - split - 12, PAGE[1])
    placed = [(left, MARGIN, left_h), (right, MARGIN + split + 12, right_h)]
    height = max(left_h, right_h)
    if patient is not None:
        _w, patient_h = patient.wrap(width, PAGE[1])
        height += 3 + patient_h
        placed.append((patient, MARGIN, height))
    return placed, height + 4


def header_height(header: Header | None, title: str = "", heading: str = "ptdoc") -> float:
    return _layout_header(header, title, heading)[1]


def draw_header(canv: rl_canvas.Canvas, header: Header | None, title: str,
                heading: str) -> None:
    width, height = PAGE
    top = height - MARGIN + HEADER_TOP
    placed, total = _layout_header(header, title, heading)
    for paragraph, x, drop in placed:
        paragraph.drawOn(canv, x, top - drop)
    canv.setStrokeColor(colors.HexColor("#1f3a5f"))
    canv.setLineWidth(0.8)
    canv.line(MARGIN, top - total, width - MARGIN, top - total)


def draw_watermark(canv: rl_canvas.Canvas, text: str = WATERMARK) -> None:
    width, height = PAGE
    canv.saveState()
    canv.setFillColor(colors.Color(0.75, 0.1, 0.1, alpha=0.16))
    canv.setFont(BOLD, min(54, 54 * len(WATERMARK) / len(text)))
    canv.translate(width / 2, height / 2)
    canv.rotate(40)
    canv.drawCentredString(0, -18, text)
    canv.restoreState()


class NumberedCanvas(rl_canvas.Canvas):
    """Holds pages until the end so each footer can say 'Page X of Y'."""

    def __init__(self, *args: Any, footer: str = "", **kwargs: Any):
        super().__init__(*args, **kwargs)
        self._pages: list[dict[str, Any]] = []
        self._footer = footer

    def showPage(self) -> None:
        self._pages.append(dict(self.__dict__))
        self._startPage()

    def save(self) -> None:
        total = len(self._pages)
        for number, state in enumerate(self._pages, start=1):
            self.__dict__.update(state)
            width, _height = PAGE
            self.setFont(FONT, 7)
            self.setFillColor(colors.HexColor("#444444"))
            # Wraps upward from the last line, beside the page number, like the header.
            footer = Paragraph(esc(self._footer), _header_styles()["footer"])
            footer.wrap(width - 2 * MARGIN - 70, MARGIN)
            footer.drawOn(self, MARGIN, MARGIN - 24)
            self.drawRightString(width - MARGIN, MARGIN - 22, f"Page {number} of {total}")
            super().showPage()
        super().save()


# (x, y, width, height) of the body under the header and above the footer.
BODY = (MARGIN, BOTTOM, PAGE[0] - 2 * MARGIN, PAGE[1] - TOP - BOTTOM)


def build(story: list[Flowable], *, title: str, footer: str, header: Header | None,
          draft: bool, heading: str = "ptdoc", author: str = "ptdoc",
          watermark: str = WATERMARK,
          frames: list[tuple[float, float, float, float]] | None = None,
          decorate: Callable[[rl_canvas.Canvas], None] | None = None) -> bytes:
    """Lay out ``story`` on letter pages with ptdoc's header, footer and watermark.

    ``frames`` divide a page (a story flows from one to the next, as FrameBreak asks);
    ``decorate``, when given, draws on each page instead of the page header (paper whose
    parts carry their own, such as summaries two to a page)."""
    register_fonts()
    out = io.BytesIO()
    # The body starts below the tallest header of the document: a long name or member ID
    # wraps onto another header line and the body moves down, never under it.
    headers = [header] + [f.header for f in story if isinstance(f, SetHeader)]
    top = max(TOP, MARGIN - HEADER_TOP + HEADER_SPACE
              + max(header_height(h, title, heading) for h in headers))
    doc = BaseDocTemplate(out, pagesize=PAGE, leftMargin=MARGIN, rightMargin=MARGIN,
                          topMargin=top, bottomMargin=BOTTOM, title=title, author=author,
                          invariant=1)
    body = (MARGIN, BOTTOM, PAGE[0] - 2 * MARGIN, PAGE[1] - top - BOTTOM)
    boxes = [Frame(*box, id=f"body{i}", leftPadding=0, rightPadding=0, topPadding=0,
                   bottomPadding=0) for i, box in enumerate(frames or [body])]

    def page_start(canv: rl_canvas.Canvas, _doc: BaseDocTemplate) -> None:
        if draft:
            draw_watermark(canv, watermark)

    def page_end(canv: rl_canvas.Canvas, _doc: BaseDocTemplate) -> None:
        if not draft and getattr(canv, "_ptdoc_draft", False):
            draw_watermark(canv, watermark)
        if decorate is not None:
            decorate(canv)
        else:
            draw_header(canv, getattr(canv, "_ptdoc_header", header), title, heading)

    doc.addPageTemplates([PageTemplate(id="page", frames=boxes, onPage=page_start,
                                       onPageEnd=page_end)])
    maker: Callable[..., rl_canvas.Canvas] = functools.partial(NumberedCanvas, footer=footer)
    doc.build(story, canvasmaker=maker)
    return out.getvalue()
