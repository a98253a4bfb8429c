"""Front-desk paper: session summaries (no clinical narrative), two to a page, and the day sheet."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    Flowable,
    FrameBreak,
    KeepInFrame,
    KeepTogether,
    Spacer,
    Table,
    TableStyle,
)

from ptdoc.paper import DaySheetData, SummaryData, labelled
from ptdoc.report.base import (
    BOLD,
    FONT,
    MARGIN,
    PAGE,
    TABLE_STYLE,
    build,
    esc,
    para,
    register_fonts,
    separated,
    styles,
)

WIDTH = PAGE[0] - 2 * MARGIN


# Two summaries to a letter page, cut apart at its middle: each half carries its own clinic
# line and patient, so it reads alone; each is shrunk to its half, never split across.
CUT_Y = PAGE[1] / 2
GAP = 16                    # between a half's text and the cut line
HALF_TOP = 0.45 * inch
HALF_BOTTOM = 0.5 * inch    # the page footer is below
HALVES = [(MARGIN, CUT_Y + GAP, WIDTH, PAGE[1] - HALF_TOP - CUT_Y - GAP),
          (MARGIN, HALF_BOTTOM, WIDTH, CUT_Y - GAP - HALF_BOTTOM)]
WHOLE = [(MARGIN, HALF_BOTTOM, WIDTH, PAGE[1] - HALF_TOP - HALF_BOTTOM)]
CUT_LABEL = "✂ cut here"


def _facts(s: SummaryData) -> Table:
    payer = s.payer_name + (f" · {labelled('member', s.member_id)}" if s.member_id else "")
    pairs = (("Patient", s.header.patient, "MRN", s.header.mrn),
             ("Born", s.header.date_of_birth, "Date of service", s.header.date_of_service),
             ("Clinician", s.clinician, "Time in / out", s.time_in),
             ("Payer", payer, "Total time", s.total_time),
             ("Status", s.status, "Next appointment", s.next_visit))
    rows = [[para(a, "cellbold"), para(b, "cell"), para(c, "cellbold"), para(d, "cell")]
            for a, b, c, d in pairs]
    table = Table(rows, colWidths=[WIDTH * w for w in (0.13, 0.37, 0.17, 0.33)],
                  hAlign="LEFT")
    table.setStyle(TableStyle(TABLE_STYLE[:3] + TABLE_STYLE[5:]))
    return table


def _codes(s: SummaryData) -> Table:
    rows: list[list] = [["Code", "Service", "Minutes", "Units", "Modifiers"]]
    rows += [[c.code, para(c.description, "cell"), c.minutes, str(c.units), c.modifiers]
             for c in s.codes]
    if len(rows) == 1:
        rows.append(["No codes yet", "", "", "", ""])
    table = Table(rows, colWidths=[WIDTH * w for w in (0.1, 0.55, 0.1, 0.08, 0.17)],
                  repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle([*TABLE_STYLE, ("FONTNAME", (0, 0), (-1, 0), BOLD)]))
    return table


def _heading(s: SummaryData) -> Table:
    """The clinic, as the page header has it, at the top of each half."""
    line = separated(s.header.clinic_line, styles()["smallright"], WIDTH * 0.55)
    table = Table([[para(s.header.clinic, "h2"), line]],
                  colWidths=[WIDTH * 0.45, WIDTH * 0.55], hAlign="LEFT")
    table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "BOTTOM"),
                               ("LEFTPADDING", (0, 0), (-1, -1), 0),
                               ("RIGHTPADDING", (0, 0), (-1, -1), 0),
                               ("LINEBELOW", (0, 0), (-1, 0), 0.8,
                                colors.HexColor("#1f3a5f"))]))
    return table


def summary_block(s: SummaryData, height: float) -> Flowable:
    content = [_heading(s), Spacer(1, 4), para(s.title, "title"), _facts(s), Spacer(1, 6),
               para("Codes billed", "h2"), _codes(s), Spacer(1, 4),
               para(f"Printed {s.printed_at}. No clinical narrative: the signed note is the "
                    "clinician's record.", "small")]
    return KeepInFrame(WIDTH, height, content, mode="shrink")


def _cut_line(canv: Canvas) -> None:
    canv.saveState()
    canv.setStrokeColor(colors.HexColor("#777777"))
    canv.setLineWidth(0.6)
    canv.setDash(4, 3)
    label_width = canv.stringWidth(CUT_LABEL, FONT, 8) + 8
    canv.line(MARGIN / 2 + label_width, CUT_Y, PAGE[0] - MARGIN / 2, CUT_Y)
    canv.setFillColor(colors.HexColor("#555555"))
    canv.setFont(FONT, 8)
    canv.drawString(MARGIN / 2, CUT_Y - 3, CUT_LABEL)
    canv.restoreState()


def render_summaries(summaries: list[SummaryData], title: str = "Session summaries",
                     per_page: int = 2) -> bytes:
    """Two summaries to a page with a cut line between them (``per_page=1``: one each)."""
    if per_page not in (1, 2):
        raise ValueError(f"per_page: {per_page} (expected 1 or 2)")
    frames = HALVES if per_page == 2 else WHOLE
    story: list[Flowable] = []
    for i, s in enumerate(summaries):
        if i:
            story.append(FrameBreak())
        story.append(summary_block(s, frames[i % len(frames)][3]))
    if not summaries:
        story = [para(title, "title"), para("No sessions.")]
    printed = summaries[0].printed_at if summaries else ""
    clinic = summaries[0].header.clinic if summaries else "ptdoc"
    last = len(summaries) - 1

    def decorate(canv: Canvas) -> None:
        # A cut line only where a second summary is below it.
        if per_page == 2 and 2 * (canv.getPageNumber() - 1) + 1 <= last:
            _cut_line(canv)
    return build(story, title=title, footer=f"Session summaries · printed {printed}",
                 header=None, draft=False, heading=clinic, frames=frames, decorate=decorate)


def _grid(header: tuple[str, ...], rows: list[tuple[str, ...]], widths: tuple[float, ...],
          empty: str, bold_last: bool = False) -> Table:
    body: list[list] = [[para(h, "cellbold") for h in header]]
    body += [[para(v, "cell") for v in row] for row in rows]
    if not rows:
        body.append([para(empty, "cell")] + [""] * (len(header) - 1))
    table = Table(body, colWidths=[WIDTH * w for w in widths], repeatRows=1, hAlign="LEFT")
    style = list(TABLE_STYLE)
    if not rows:  # the sentence spans the table, not squeezed into its first column
        style.append(("SPAN", (0, 1), (-1, 1)))
    if bold_last and rows:
        style.append(("BACKGROUND", (0, -1), (-1, -1), colors.HexColor("#f1f4f8")))
    table.setStyle(TableStyle(style))
    return table


TOTALS = ("Sessions", "Signed", "Units signed", "Charges signed")
# The day sheet's columns after the time, as shares of what the time leaves.
DAY_COLUMNS = ("Patient / MRN", "Payer / member ID", "Clinician", "Codes", "Charge", "Status",
               "Next appointment")
DAY_SHARES = (0.155, 0.155, 0.145, 0.155, 0.09, 0.145, 0.155)
CELL_PADDING = 6 + 2   # TABLE_STYLE's left and right padding, and a little air


def _time_share(times: list[str]) -> float:
    """The time column's share of the width: its widest range on one line ("08:00–09:03"
    wrapped mid-number in a fixed column)."""
    register_fonts()
    widest = max((stringWidth(t, FONT, 7.5) for t in times), default=0)
    return max(widest + CELL_PADDING, stringWidth("Time", BOLD, 7.5) + CELL_PADDING) / WIDTH


def _section(heading: str, table: Flowable) -> KeepTogether:
    """A heading stays with its table: never alone at the foot of a page (a table longer
    than a page still starts under its heading and continues)."""
    return KeepTogether([para(heading, "h2"), table])


def render_day_sheet(data: DaySheetData) -> bytes:
    time_share = _time_share([r.time for r in data.rows])
    widths = (time_share, *(w * (1 - time_share) / sum(DAY_SHARES) for w in DAY_SHARES))
    sessions = _grid(("Time", *DAY_COLUMNS),
                     [(r.time, r.patient, r.payer, r.clinician, r.codes, r.charge, r.status,
                       r.next_visit) for r in data.rows], widths, "No sessions")
    story: list[Flowable] = [
        para(f"Day sheet — {esc(data.date)}", "title", markup=True), sessions, Spacer(1, 6),
        para(data.totals),
        _section("Totals by rendering provider and NPI, as billed",
                 _grid(("Rendering provider / NPI", *TOTALS), list(data.by_rendering),
                       (0.36, 0.14, 0.14, 0.16, 0.2), "No sessions", bold_last=True)),
        _section("Sessions by the clinician who delivered them",
                 _grid(("Delivered by", *TOTALS), list(data.by_clinician),
                       (0.36, 0.14, 0.14, 0.16, 0.2), "No sessions", bold_last=True)),
        _section("Totals by payer",
                 _grid(("Payer", *TOTALS), list(data.by_payer),
                       (0.36, 0.14, 0.14, 0.16, 0.2), "No sessions", bold_last=True)),
        _section("Notes not yet signed",
                 _grid(("Time", "Patient", "Status", "Owed by"), list(data.unsigned),
                       (0.12, 0.28, 0.28, 0.32), "Every note of the day is signed.")),
        _section("Booked, not documented",
                 _grid(("Time", "Patient", "Booked with"), list(data.expected),
                       (0.12, 0.56, 0.32), "Nobody booked this day is without a note.")),
        Spacer(1, 6), para(data.audit_head, "small")]
    return build(story, title=f"Day sheet {data.date}",
                 footer=f"{data.clinic} · day sheet {data.date} · printed {data.printed_at}",
                 header=None, draft=False, heading=data.clinic)
