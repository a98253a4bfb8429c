"""The daily note PDF: everything a reviewer looks for, in the order they look for it."""

from __future__ import annotations

from reportlab.graphics.charts.legends import Legend
from reportlab.graphics.charts.lineplots import LinePlot
from reportlab.graphics.shapes import Drawing, Group, String
from reportlab.lib import colors
from reportlab.platypus import CondPageBreak, Flowable, KeepTogether, Spacer, Table, TableStyle

from ptdoc.paper import DOES_NOT_VERIFY, FindingText, NoteData, Progression, date_ticks
from ptdoc.report.base import (
    BOLD,
    FONT,
    MARGIN,
    PAGE,
    TABLE_STYLE,
    WATERMARK,
    build,
    esc,
    para,
)

CELL_LIMIT = 400  # longer text moves below the table, so no row outgrows a page
WIDTH = PAGE[0] - 2 * MARGIN
EXERCISE_COLUMNS = (("Exercise", 0.12), ("Region / side", 0.09), ("Sets x reps, hold", 0.09),
                    ("Load, equipment", 0.10), ("Cues / assist", 0.12),
                    ("Change and why", 0.15), ("Response", 0.17), ("Min", 0.05),
                    ("Delivered", 0.11))


def _table(rows: list[list[Flowable | str]], widths: list[float],
           extra: list | None = None) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(TableStyle(TABLE_STYLE + (extra or [])))
    return table


def _cell(text: str, overflow: list[tuple[str, str]], label: str) -> Flowable:
    if len(text) > CELL_LIMIT:
        overflow.append((label, text))
        text = text[:CELL_LIMIT].rsplit(" ", 1)[0] + f" … (continued below: {label})"
    return para(text, "cell")


def _heading_row(names: list[str]) -> list[Flowable]:
    return [para(name, "cellbold") for name in names]


def _exercises(data: NoteData) -> list[Flowable]:
    if not data.exercises:
        return [para("No exercises documented.")]
    overflow: list[tuple[str, str]] = []
    # An empty Response column says nothing: left out, its width given to the others.
    columns = [c for c in EXERCISE_COLUMNS
               if c[0] != "Response" or any(e.response for e in data.exercises)]
    share = sum(w for _n, w in columns)
    rows: list[list] = [_heading_row([name for name, _w in columns])]
    for i, e in enumerate(data.exercises, start=1):
        cells = {
            "Exercise": _cell(f"{i}. {e.name}", overflow, f"exercise {i} name"),
            "Region / side": _cell(e.region_side, overflow, f"exercise {i} region"),
            "Sets x reps, hold": para(e.dosage, "cell"),
            "Load, equipment": _cell(e.load, overflow, f"exercise {i} load"),
            "Cues / assist": para(e.cues_assist, "cell"),
            "Change and why": _cell(e.change, overflow, f"exercise {i} change"),
            "Response": _cell(e.response, overflow, f"exercise {i} response"),
            "Min": para(e.minutes, "cell"), "Delivered": para(e.delivered_by, "cell")}
        rows.append([cells[name] for name, _w in columns])
    flow: list[Flowable] = [_table(rows, [WIDTH * w / share for _n, w in columns])]
    if overflow:
        flow.append(para("Exercise notes (full text)", "h2"))
        flow += [para(f"<b>{esc(label)}:</b> {esc(text)}", markup=True)
                 for label, text in overflow]
    return flow


def _billing(data: NoteData) -> list[Flowable]:
    rows: list[list] = [_heading_row(["Code", "Service", "Minutes", "Units",
                                      "Modifiers"])]
    for b in data.billing:
        rows.append([para(b.code, "cell"), para(b.description, "cell"), para(b.minutes, "cell"),
                     para(str(b.units), "cell"), para(b.modifiers, "cell")])
    if len(rows) == 1:
        rows.append([para("—", "cell")] * 5)
    flow: list[Flowable] = [_table(rows, [WIDTH * w for w in (0.09, 0.55, 0.11, 0.09, 0.16)])]
    flow.append(Spacer(1, 3))
    flow.append(para(f"Total timed minutes: <b>{data.total_timed_minutes}</b> · "
                     f"Total treatment time: <b>{esc(data.total_treatment_minutes)}</b>"
                     + (" min" if data.total_treatment_minutes.isdigit() else ""),
                     markup=True))
    flow += [para(line, "small") for line in data.unit_explanation]
    flow += [para(reason, "small") for reason in data.modifier_reasons]
    return flow


def _chart(p: Progression) -> Drawing:
    """Load, reps, hold and minutes across visits, each as a percentage of its own highest
    value (the legend gives each highest value with its unit)."""
    drawing = Drawing(WIDTH / 2 - 10, 138)
    drawing.add(String(0, 128, p.exercise, fontName=BOLD, fontSize=8))
    plot = LinePlot()
    plot.x, plot.y, plot.width, plot.height = 34, 40, WIDTH / 2 - 130, 76
    series, names = [], []
    palette = [colors.HexColor("#1f77b4"), colors.HexColor("#d62728"),
               colors.HexColor("#2ca02c"), colors.HexColor("#9467bd")]
    units = {"load": f" {p.load_unit}" if p.load_unit else "", "reps": "", "hold": " s",
             "minutes": " min"}
    for index, label in ((1, "load"), (2, "reps"), (3, "hold"), (4, "minutes")):
        values = [pt[index] for pt in p.points]
        peak = max((v for v in values if v is not None), default=None)
        if not peak:
            continue
        series.append([(i, v / peak * 100) for i, v in enumerate(values) if v is not None])
        names.append(f"{label} (max {peak:g}{units[label]})")
    if not series:
        return drawing
    plot.data = series
    for i in range(len(series)):
        plot.lines[i].strokeColor = palette[i]
        plot.lines[i].strokeWidth = 1.2
    ticks = date_ticks(len(p.points))
    plot.xValueAxis.valueMin, plot.xValueAxis.valueMax = 0, max(1, len(p.points) - 1)
    plot.xValueAxis.valueSteps = ticks
    plot.xValueAxis.labelTextFormat = lambda i: p.points[int(i)][0][5:] \
        if 0 <= int(i) < len(p.points) else ""
    labels = plot.xValueAxis.labels
    labels.fontName, labels.fontSize = FONT, 6
    labels.angle, labels.boxAnchor, labels.dy = 35, "ne", -2
    plot.yValueAxis.valueMin, plot.yValueAxis.valueMax = 0, 100
    plot.yValueAxis.valueSteps = [0, 25, 50, 75, 100]
    plot.yValueAxis.labels.fontName = FONT
    plot.yValueAxis.labels.fontSize = 6
    plot.yValueAxis.labelTextFormat = "%d%%"
    drawing.add(plot)
    drawing.add(String(plot.x + plot.width / 2, 2, "Visit date (month-day)", fontName=FONT,
                       fontSize=6.5, textAnchor="middle"))
    y_title = String(0, 0, "% of its highest value", fontName=FONT, fontSize=6.5,
                     textAnchor="middle")
    y_axis = Group(y_title)
    y_axis.translate(7, plot.y + plot.height / 2)
    y_axis.rotate(90)
    drawing.add(y_axis)
    legend = Legend()
    legend.x, legend.y = WIDTH / 2 - 92, 112
    legend.fontName, legend.fontSize = FONT, 6.5
    legend.colorNamePairs = list(zip(palette, names, strict=False))
    drawing.add(legend)
    return drawing


def _finding(f: FindingText, style: str) -> Flowable:
    """Sentences, not codes: what is wrong, what it rests on, then the fix or the reason."""
    basis = f" <i>Basis:</i> {esc(f.basis)}" if f.basis else ""
    return para(f"<b>{esc(f.label)}.</b> {esc(f.message)} {esc(f.then)}{basis}", style,
                markup=True)


def _section(title: str, body: list[Flowable], room: float = 60) -> list[Flowable]:
    """A heading never ends a page: it moves on with ``room`` points of what follows."""
    return [CondPageBreak(room), para(title, "h2"), *body]


def note_story(data: NoteData) -> list[Flowable]:
    story: list[Flowable] = [para(data.title, "title")]
    if not data.signed:
        story.append(para("DRAFT - NOT SIGNED: this note is not final and may not be billed.",
                          "warn"))
    elif data.signature_problem:
        story.append(para(f"{data.signature_problem} This is not a clean signed note: do not "
                          "bill or release it as signed.", "warn"))
    diagnoses = [para(f"<b>{esc(code)}</b> {esc(text)}", markup=True)
                 for code, text in data.diagnoses] or [para("No diagnosis recorded.")]
    story += _section("Visit", [para(data.time_in_out)])
    story += _section("Diagnoses", diagnoses)
    story += _section("Plan of care", [para(data.plan_of_care)])
    story += _section("Supervision", [para(data.supervision)])
    story += _section("Therapeutic exercise flowsheet", _exercises(data))
    if data.other_services:
        rows: list[list] = [_heading_row(["Code", "Intervention or modality", "What was done",
                                          "Minutes"])]
        rows += [[para(c, "cell"), para(d, "cell"), para(done or "Not described.", "cell"),
                  para(m, "cell")] for c, d, done, m in data.other_services]
        story += _section("Other interventions and modalities",
                          [_table(rows, [WIDTH * w for w in (0.09, 0.33, 0.48, 0.1)])])
    story += _section("Patient response", [para(
        data.patient_response or ("See each exercise's response in the flowsheet."
                                  if any(e.response for e in data.exercises)
                                  else "Not recorded."))])
    story += _section("Assessment", [para(data.assessment or "Not recorded.")])
    if data.home_program:
        story += _section("Home program and education", [para(data.home_program)])
    # The table and its sentences ("the third unit goes to 97110") stay on one page.
    story.append(KeepTogether(_section("Billing", _billing(data))))
    if data.progressions:
        charts = [_chart(p) for p in data.progressions]
        pairs = [charts[i:i + 2] for i in range(0, len(charts), 2)]
        grid = Table([pair + [""] * (2 - len(pair)) for pair in pairs],
                     colWidths=[WIDTH / 2, WIDTH / 2])
        story += _section("Progression of exercises changed today", [grid],
                          room=charts[0].height + 30)
    if data.acknowledged:
        story += _section("Warnings accepted with a reason",
                          [_finding(f, "body") for f in data.acknowledged])
    if data.open_findings:
        story += _section("Open findings (why this draft cannot be signed yet)"
                          if not data.signed else "Open findings",
                          [_finding(f, "warn") for f in data.open_findings])
    signature = [para(data.signature)]
    if data.signature_problem:
        signature.append(para(data.signature_problem, "warn"))
    if data.content_hash:
        signature.append(para(f"Content SHA-256: {data.content_hash}", "small"))
    story.append(KeepTogether(_section("Signature", signature)))
    for heading, reason, text in data.addenda:
        story += _section(f"Addendum: {heading}", [
            para(f"<i>Reason:</i> {esc(reason)}", markup=True), para(text)])
    return story


def render_note(data: NoteData) -> bytes:
    short = data.content_hash[:12] if data.content_hash else "not signed"
    if data.signature_problem:
        short += f" · {DOES_NOT_VERIFY}"
    footer = (f"{data.header.patient} · {data.header.date_of_service} · printed "
              f"{data.printed_at} · content hash {short}")
    return build(note_story(data), title=data.title, footer=footer, header=data.header,
                 draft=not data.signed or bool(data.signature_problem),
                 watermark=DOES_NOT_VERIFY if data.signed else WATERMARK)
