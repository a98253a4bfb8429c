"""The daily note a Medicare reviewer reads: what it must carry (flagged before signing when
missing), what was done on each line that is not exercise, and the PDF read back with pypdf
and rendered to PNG."""

from __future__ import annotations

import datetime as dt
import io
import itertools
import json
import re
import subprocess
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import TODAY, Clinic, sign
from driving import main_window
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_editor import flag_codes, press, start_session, type_cell

from ptdoc import interchange, rules, signature_check
from ptdoc.domain import (
    Acknowledgement,
    ExerciseChange,
    ExerciseEntry,
    Patient,
    ServiceLine,
)
from ptdoc.errors import ValidationError
from ptdoc.paper import MAX_DATE_LABELS, date_ticks
from ptdoc.ui.service_table import ServiceTableModel

GLIDES = "grade III PA glides L4-5, 15 min"


@pytest.fixture
def window(qtbot, clinic: Clinic):
    win = main_window(qtbot, clinic.as_("pt"))
    yield win
    win.close()


def test_the_codes_step_takes_what_was_done_and_the_flag_goes(qtbot, window, clinic: Clinic):
    editor = start_session(qtbot, window)
    codes = editor.steps[3]
    press(qtbot, Qt.Key.Key_4, Qt.KeyboardModifier.ControlModifier)
    press(qtbot, Qt.Key.Key_D, Qt.KeyboardModifier.AltModifier)
    assert codes.code_box.hasFocus()
    qtbot.keyClicks(QApplication.focusWidget(), "97140")
    qtbot.mouseClick(codes.add_button, Qt.MouseButton.LeftButton)
    assert codes.table.currentIndex().column() == ServiceTableModel.COL_MINUTES
    type_cell(qtbot, codes.table, "15")
    assert [(s.code, s.minutes, s.detail) for s in editor.session.services] == [
        ("97140", 15, "")]
    assert "INTERVENTION_UNDESCRIBED" in flag_codes(editor)

    # The flag names the line in words and jumps to its "what was done" cell.
    flags = editor.flags.list
    row = next(i for i in range(flags.count()) if "does not say what was done"
               in flags.item(i).text())
    flags.setCurrentRow(row)
    flags.setFocus()
    qtbot.keyClick(flags, Qt.Key.Key_Return)
    assert editor.current == 3 and codes.table.hasFocus()
    assert codes.table.currentIndex().column() == ServiceTableModel.COL_DETAIL
    type_cell(qtbot, codes.table, GLIDES)
    assert editor.session.services[0].detail == GLIDES
    assert "INTERVENTION_UNDESCRIBED" not in flag_codes(editor)
    assert codes.model.index(0, ServiceTableModel.COL_DETAIL).data() == GLIDES
    assert clinic.store.sessions.get(editor.session.id).services[0].detail == GLIDES

    # Too long is refused beside the table and kept on screen in red.
    editor.focus_field("services[0].detail")
    type_cell(qtbot, codes.table, "x" * 201)
    assert "at most 200 characters" in codes.table_error.text()
    assert clinic.store.sessions.get(editor.session.id).services[0].detail == GLIDES


def test_session_files_carry_what_was_done(clinic: Clinic) -> None:
    pt = clinic.as_("pt")
    draft = clinic.complete_draft()
    draft = pt.save_draft(replace(draft, services=(
        *draft.services, ServiceLine("97140", 15, 1, ("GP",), GLIDES)),
        total_treatment_minutes=40))
    assert pt.review(draft).can_sign, [f.code for f in pt.review(draft).findings]
    sign(pt, draft.id)
    text = interchange.dumps(pt.export_session(draft.id))
    data = json.loads(text)
    assert data["session"]["services"][1]["detail"] == GLIDES
    # A line without it writes nothing: older files and signatures stay as they were.
    assert "detail" not in data["session"]["services"][0]
    assert interchange.loads(text).session.services[1].detail == GLIDES

    data["session"]["services"][1]["detail"] = "grade V thrust L4-5"
    with pytest.raises(ValidationError) as exc:
        interchange.parse_document(data)
    assert "services[1].detail (signed" in exc.value.problems[0].message

    data = json.loads(text)
    data["patient"].update(mrn="MRN-8", first_name="Ole", last_name="Dahl")
    data["session"].update(signature=None, status="draft")
    imported = clinic.admin.import_session(interchange.parse_document(data))
    assert clinic.store.sessions.get(imported.id).services[1].detail == GLIDES


def pdf_pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def flat(text: str) -> str:
    """Words as a reader reads them, whatever line a long field wrapped onto."""
    return " ".join(text.split())


def look(pdf: bytes, artifacts: Path, name: str) -> None:
    """The pages as PNG, to be looked at."""
    path = artifacts / f"{name}.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-png", "-r", "60", str(path), str(artifacts / name)],
                   check=False)


def test_time_in_and_out_are_printed(clinic: Clinic, artifacts: Path) -> None:
    pt = clinic.as_("pt")
    draft = pt.save_draft(replace(clinic.complete_draft(), time_in=dt.time(10, 5),
                                  time_out=dt.time(10, 45)))
    text = flat(" ".join(pdf_pages(pt.note_pdf(draft.id))))
    assert "Time in 10:05, time out 10:45 (40 minutes)." in text
    assert "Total treatment time: 30 min" in text
    bare = pt.save_draft(replace(draft, time_in=None, time_out=None))
    assert "Time in and time out not recorded." in flat(" ".join(pdf_pages(
        pt.note_pdf(bare.id))))


def header_lines(pdf: bytes) -> list[tuple[float, str]]:
    """(y, text) of every piece of text on the first page, top first."""
    found: list[tuple[float, str]] = []
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    page.extract_text(visitor_text=lambda text, cm, tm, _font, _size: found.append(
        (tm[4] * cm[1] + tm[5] * cm[3] + cm[5], text)) if text.strip() else None)
    return sorted(found, key=lambda item: -item[0])


def test_no_header_field_is_cut_off(clinic: Clinic, artifacts: Path) -> None:
    member = "M789270834ABCDEFGH" + "1234567890" * 2 + "XY"
    assert len(member) == 40
    patient = clinic.admin.add_patient(Patient(
        "MRN-LONG", "Maximiliana Josefina Esperanza", "Wolfeschlegelsteinhausen-Bergerdorff",
        dt.date(1948, 2, 29), clinic.payer.id, member_id=member))
    pt = clinic.as_("pt")
    draft = pt.new_session(patient.id or 0, TODAY, None)
    draft = pt.save_draft(replace(
        draft, diagnoses=("M17.11",), assessment="Progressing toward the goals.",
        services=(ServiceLine("97110", 23, 2, ("GP",)),), total_treatment_minutes=30,
        exercises=(ExerciseEntry("Sit to stand", sets=3, reps=10, minutes=23),)))
    pdf = pt.note_pdf(draft.id)
    texts = pdf_pages(pdf)
    for number, text in enumerate(texts, start=1):
        words = flat(text)
        for field in (patient.display_name, f"member {member}", "MRN MRN-LONG",
                      "DOB 1948-02-29", f"Date of service {TODAY}"):
            assert field in words, (number, field)
    # The body begins below the header, however many lines the header took.
    lines = header_lines(pdf)
    member_y = min(y for y, text in lines if member[-6:] in text)
    title_y = next(y for y, text in lines if "therapy daily note" in text)
    assert title_y < member_y - 10
    # a wrapped header keeps each label on the line of its value
    for label, value in (("member", member[:8]), ("MRN", "MRN-LONG"), ("DOB", "1948-02-29"),
                         ("service", str(TODAY))):
        line = next(text for _y, text in lines if label in text)
        assert value in line, (label, line)
    look(pdf, artifacts, "note-long-header")


def test_findings_on_paper_are_sentences_without_internal_codes(clinic: Clinic,
                                                                 artifacts: Path) -> None:
    clinic.complete_draft("pt", TODAY)  # a second session that day: a warning to accept
    pt = clinic.as_("pt")
    draft = clinic.complete_draft("pt", TODAY)
    draft = pt.save_draft(replace(
        draft, services=(*draft.services, ServiceLine("97162", None, 1, ("GP",))),
        exercises=(replace(draft.exercises[0], change=ExerciseChange.PROGRESSED,
                           modification="Added 2 lb"), *draft.exercises[1:]),
        acknowledgements=(Acknowledgement("DUPLICATE_SESSION", "date_of_service",
                                          "Second visit for gait training"),)))
    review = pt.review(draft)
    assert {"CODE_EVAL_FOR_EXERCISE", "MODIFICATION_REASON_MISSING"} <= {
        f.code for f in review.blockers}
    pdf = pt.note_pdf(draft.id)
    text = flat(" ".join(pdf_pages(pdf)))
    internal = set(rules.REGISTRY) | {signature_check.FINDING_CODE, "VALUE_REFUSED"}
    assert not [code for code in internal if code in text]
    assert not re.findall(r"\b[A-Z]{2,}(?:_[A-Z]+)+\b", text)
    for finding in review.findings:
        if finding.severity.value != "info":
            assert flat(finding.message) in text, finding.code
    assert "Blocks signing." in text and "Warning accepted." in text
    assert "The clinician accepted it because: Second visit for gait training." in text
    look(pdf, artifacts, "note-findings")


def test_other_interventions_say_what_was_done(clinic: Clinic, artifacts: Path) -> None:
    pt = clinic.as_("pt")
    draft = clinic.complete_draft()
    draft = pt.save_draft(replace(draft, services=(
        *draft.services, ServiceLine("97140", 15, 1, ("GP",), GLIDES),
        ServiceLine("97010", 10, 1, ("GP",))), total_treatment_minutes=50))
    text = flat(" ".join(pdf_pages(pt.note_pdf(draft.id))))
    assert "What was done" in text
    assert "97140 Manual therapy" in text or "97140" in text
    assert GLIDES in text
    assert "Not described." in text   # the untimed hot pack said nothing: it says so
    look(pt.note_pdf(draft.id), artifacts, "note-other-interventions")


def test_an_empty_assessment_blocks_signing_and_jumps_to_its_field(qtbot, window,
                                                                    clinic: Clinic) -> None:
    pt = clinic.as_("pt")
    draft = pt.save_draft(replace(clinic.complete_draft(), assessment=""))
    finding = next(f for f in pt.review(draft).blockers if f.code == "ASSESSMENT_MISSING")
    assert finding.field == "assessment" and "progressing toward the plan-of-care goals" in \
        finding.message
    window.open_session(draft.id)
    editor = window.editor
    exercises = editor.steps[2]
    flags = editor.flags.list
    row = next(i for i in range(flags.count()) if "assessment is empty" in
               flags.item(i).text())
    flags.setCurrentRow(row)
    flags.setFocus()
    qtbot.keyClick(flags, Qt.Key.Key_Return)
    assert editor.current == 2 and exercises.assessment.hasFocus()
    qtbot.keyClicks(exercises.assessment, "Stairs easier; continue toward the goals.")
    press(qtbot, Qt.Key.Key_Tab)
    assert "ASSESSMENT_MISSING" not in flag_codes(editor)
    assert editor.review.can_sign


def test_date_labels_are_thinned() -> None:
    for count in range(1, 60):
        ticks = date_ticks(count)
        assert ticks[0] == 0 and ticks[-1] == count - 1 and len(ticks) <= MAX_DATE_LABELS
        assert ticks == sorted(set(ticks))
        if count > 1:
            gaps = [b - a for a, b in itertools.pairwise(ticks)]
            assert min(gaps) * 2 >= max(gaps) - 1 or count <= MAX_DATE_LABELS


def test_progression_chart_has_labelled_axes_and_readable_dates(clinic: Clinic,
                                                                 artifacts: Path) -> None:
    pt = clinic.as_("pt")
    for visit in range(9):  # signed visits (the chart plots what was done), before day 10
        session = clinic.complete_draft("pt", dt.date(2026, 10, 2) + dt.timedelta(days=3 * visit))
        sign(pt, pt.save_draft(replace(session, exercises=(replace(
            session.exercises[0], sets=3, reps=8 + visit * 7 // 8, load=Decimal(2 + visit // 3)),
            *session.exercises[1:]))).id or 0)
    draft = clinic.complete_draft()
    draft = pt.save_draft(replace(draft, exercises=(replace(
        draft.exercises[0], load=Decimal(8), change=ExerciseChange.PROGRESSED,
        modification="Added 2 lb", modification_reason="3 sets at 2/10 pain last visit"),
        *draft.exercises[1:])))
    pdf = pt.note_pdf(draft.id)
    text = " ".join(pdf_pages(pdf))
    assert "Visit date (month-day)" in text and "% of its highest value" in text
    assert "load (max 8 lb)" in text and "reps (max 15)" in text
    dates = set(re.findall(r"(?<![\d-])1[01]-\d\d\b", text))  # month-day, not a full date
    assert 2 <= len(dates) <= MAX_DATE_LABELS
    assert "11-26" in dates  # today's visit is always labelled
    look(pdf, artifacts, "note-progression")
