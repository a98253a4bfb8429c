"""Front-desk paper: one summary page per session (no clinical narrative), and the day sheet."""

from __future__ import annotations

from reportlab.platypus import Flowable, PageBreak, Spacer, Table, TableStyle

from ptdoc.paper import DaySheetData, SummaryData
from ptdoc.report.base import BOLD, MARGIN, PAGE, TABLE_STYLE, SetHeader, build, esc, para

WIDTH = PAGE[0] - 2 * MARGIN


# Plain strings, not Paragraphs, where nothing wraps: a 200-page day renders several times faster.
PLAIN = [("FONTNAME", (0, 0), (0, -1), BOLD), ("FONTSIZE", (0, 0), (-1, -1), 8)]


def _facts(s: SummaryData) -> Table:
    rows = [[label, value] for label, value in (
        ("Patient", f"{s.header.patient} (MRN {s.header.mrn}, born {s.header.date_of_birth})"),
        ("Date of service", s.header.date_of_service), ("Clinician", s.clinician),
        ("Time in / out", s.time_in), ("Total time", s.total_time), ("Payer", s.header.payer),
        ("Status", s.status), ("Next appointment", s.next_visit))]
    table = Table(rows, colWidths=[WIDTH * 0.25, WIDTH * 0.75], hAlign="LEFT")
    table.setStyle(TableStyle(TABLE_STYLE[:3] + TABLE_STYLE[5:] + PLAIN))
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


def summaries_story(summaries: list[SummaryData]) -> list[Flowable]:
    story: list[Flowable] = []
    for i, s in enumerate(summaries):
        if i:
            story.append(PageBreak())
        story += [SetHeader(s.header), para(f"Session summary #{s.session_id}", "title"),
                  _facts(s), Spacer(1, 10), para("Codes billed", "h2"), _codes(s)]
    return story


def render_summaries(summaries: list[SummaryData], title: str = "Session summaries") -> bytes:
    if not summaries:
        story: list[Flowable] = [para(title, "title"), para("No sessions.")]
        printed = ""
    else:
        story = summaries_story(summaries)
        printed = summaries[0].printed_at
    clinic = summaries[0].header.clinic if summaries else "ptdoc"
    return build(story, title=title, footer=f"Session summaries · printed {printed}",
                 header=None, draft=False, heading=clinic)


def render_day_sheet(data: DaySheetData) -> bytes:
    rows: list[list] = [[para(h, "cellbold") for h in ("Time", "Patient", "MRN", "Clinician",
                                                        "Codes", "Status")]]
    rows += [[para(v, "cell") for v in row] for row in data.rows]
    if len(rows) == 1:
        rows.append([para("No sessions", "cell")] + [""] * 5)
    table = Table(rows, colWidths=[WIDTH * w for w in (0.12, 0.19, 0.11, 0.17, 0.23, 0.18)],
                  repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(TABLE_STYLE))
    story: list[Flowable] = [para(f"Day sheet — {esc(data.date)}", "title", markup=True),
                             table, Spacer(1, 6), para(data.totals),
                             para(data.audit_head, "small")]
    return build(story, title=f"Day sheet {data.date}",
                 footer=f"{data.clinic} · day sheet {data.date} · printed {data.printed_at}",
                 header=None, draft=False, heading=data.clinic)
