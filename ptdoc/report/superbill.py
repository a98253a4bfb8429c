"""The superbill: one page per session with the provider, the patient and payer, the
diagnoses with their claim pointers, each line's code, modifiers, units and charge, the total
and whether the note is signed."""

from __future__ import annotations

from reportlab.platypus import Flowable, PageBreak, Spacer, Table, TableStyle

from ptdoc.paper import SuperbillData
from ptdoc.report.base import BOLD, MARGIN, PAGE, TABLE_STYLE, SetDraft, SetHeader, build, para

WIDTH = PAGE[0] - 2 * MARGIN
WATERMARK = "NOT SIGNED - NOT BILLABLE"


def _table(rows: list[list], widths: tuple[float, ...], head: bool = True) -> Table:
    table = Table(rows, colWidths=[WIDTH * w for w in widths], repeatRows=1 if head else 0,
                  hAlign="LEFT")
    style = list(TABLE_STYLE) if head else TABLE_STYLE[:3] + TABLE_STYLE[5:]
    table.setStyle(TableStyle(style))
    return table


def _bill(b: SuperbillData) -> list[Flowable]:
    parties = _table([[para(label, "cellbold"), para(value, "cell")]
                      for label, value in b.parties], (0.22, 0.78), head=False)
    diagnoses = _table([[para(h, "cellbold") for h in ("Pointer", "ICD-10-CM", "Diagnosis")]]
                       + [[para(a, "cell"), para(c, "cell"), para(d, "cell")]
                          for a, c, d in b.diagnoses]
                       + ([] if b.diagnoses else [[para("No diagnosis recorded", "cell"), "",
                                                   ""]]),
                       (0.1, 0.16, 0.74))
    lines = _table([[para(h, "cellbold") for h in ("CPT", "Service", "Modifiers",
                                                   "Dx pointer", "Units", "Fee", "Charge")]]
                   + [[para(v, "cell") for v in line] for line in b.lines]
                   + [[para("No billable lines", "cell"), "", "", "", "", "", ""]]
                   * (not b.lines)
                   + [["", para("Total", "cellbold"), "", "", "", "", para(b.total, "cellbold")]],
                   (0.08, 0.4, 0.12, 0.1, 0.07, 0.1, 0.13))
    lines.setStyle(TableStyle([("LINEABOVE", (0, -1), (-1, -1), 0.8, "#1f3a5f"),
                               ("FONTNAME", (0, -1), (-1, -1), BOLD)]))
    return [SetHeader(b.header), SetDraft(not b.signed), para(b.title, "title"), parties,
            Spacer(1, 6), para("Diagnoses (ICD-10-CM)", "h2"), diagnoses, Spacer(1, 6),
            para("Services", "h2"), lines, Spacer(1, 8),
            para("Signature", "h2"), para(b.status, "body" if b.signed else "warn")]


def render_superbills(bills: list[SuperbillData]) -> bytes:
    story: list[Flowable] = []
    for i, b in enumerate(bills):
        if i:
            story.append(PageBreak())
        story += _bill(b)
    if not bills:
        story = [para("Superbills", "title"), para("No sessions.")]
    printed = bills[0].printed_at if bills else ""
    clinic = bills[0].header.clinic if bills else "ptdoc"
    # An unsigned bill's pages carry the watermark: it is not a claim yet.
    return build(story, title="Superbills", footer=f"Superbill · printed {printed}",
                 header=None, draft=False, heading=clinic, watermark=WATERMARK)
