"""What leaves the building: real PDFs read back with pypdf and rendered to PNG."""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from conftest import PASSWORD, TODAY, Clinic, sign
from pypdf import PdfReader

from ptdoc.domain import (
    Acknowledgement,
    AddendumKind,
    Cue,
    ExerciseChange,
    ExerciseEntry,
    LoadUnit,
    Patient,
    ServiceLine,
)
from ptdoc.domain import Clinic as Clinic_
from ptdoc.errors import PermissionDenied
from ptdoc.paper import DaySheetData, DaySheetRow
from ptdoc.report.base import WATERMARK
from ptdoc.report.summary import render_day_sheet


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def save_pngs(pdf: bytes, artifacts: Path, name: str) -> list[Path]:
    doc = pdfium.PdfDocument(pdf)
    paths = []
    for i in range(len(doc)):
        path = artifacts / f"{name}-page{i + 1}.png"
        doc[i].render(scale=1.2).to_pil().save(path)
        paths.append(path)
    return paths


def signed_with_everything(clinic: Clinic):
    """A signed note with an acknowledged warning and an addendum."""
    other = clinic.complete_draft("pt", TODAY)  # makes the second one a duplicate: a warning
    draft = clinic.complete_draft("pt", TODAY)
    pt = clinic.as_("pt")
    draft = pt.save_draft(replace(draft, acknowledgements=(Acknowledgement(
        "DUPLICATE_SESSION", "date_of_service", "Second visit for gait training"),)))
    sign(pt, draft.id)
    pt.add_addendum(draft.id, AddendumKind.LATE_ENTRY, "Phone call",
                    "Patient called: no soreness the next day.", pt.prove_signer(PASSWORD))
    return other, clinic.store.sessions.get(draft.id)


def test_signed_note_has_every_element_a_reviewer_needs(clinic: Clinic, artifacts: Path):
    _other, session = signed_with_everything(clinic)
    pdf = clinic.as_("pt").note_pdf(session.id)
    texts = pages(pdf)
    everything = " ".join("\n".join(texts).split())  # a sentence may wrap onto a new line
    total = len(texts)
    for number, text in enumerate(texts, start=1):
        for required in ("Lee, Ann", "DOB 1950-03-04", "MRN MRN-1",
                         f"Date of service {TODAY}", "Medicare Part B", f"Page {number} of "
                         f"{total}", session.signature.content_hash[:12]):
            assert required in text, (number, required)
        assert WATERMARK not in text
    for required in ("M17.11", "Unilateral primary osteoarthritis, right knee",
                     "Plan of care from 2026-10-01", "Treatment day",
                     "Delivered one-on-one by PT User, PT", "Sit to stand", "3 x 10",
                     "4 lb", "verbal cues", "97110", "GP", "23 timed minutes = 2 units",
                     "Total timed minutes: 23", "Total treatment time: 30",
                     "Second visit for gait training", "Warning accepted.",
                     "Electronically signed by PT User, PT, NPI 1111111112",
                     session.signature.content_hash, "Late entry — PT User, PT",
                     "Phone call", "Patient called: no soreness the next day.",
                     "Improving sit to stand control."):
        assert required in everything, required
    save_pngs(pdf, artifacts, "note-signed")


def test_draft_carries_the_watermark_and_its_open_findings(clinic: Clinic, artifacts: Path):
    draft = clinic.complete_draft("pt", TODAY)
    draft = clinic.as_("pt").save_draft(replace(draft, exercises=(
        replace(draft.exercises[0], sets=None, reps=None), *draft.exercises[1:])))
    pdf = clinic.as_("pt").note_pdf(draft.id)
    texts = pages(pdf)
    assert all(WATERMARK in text for text in texts)
    everything = "\n".join(texts)
    assert "Blocks signing. 'Sit to stand' has no sets x reps" in " ".join(everything.split())
    assert "Not signed." in everything
    assert "content hash not signed" in everything
    save_pngs(pdf, artifacts, "note-draft")


def test_long_note_paginates_cleanly(clinic: Clinic, artifacts: Path):
    patient = clinic.admin.add_patient(Patient("MRN-RU", "Анастасия", "Κωνσταντίνου",
                                               dt.date(1961, 5, 6), clinic.payer.id))
    ws = clinic.as_("pt")
    session = ws.new_session(patient.id, TODAY)
    long_text = ("Patient reports stiffness on waking that eases after ten minutes; "
                 "tolerated the progression without pain increase. ") * 15
    rows = tuple(ExerciseEntry(f"Exercise {i} — шаг {i}", region="knee", sets=3, reps=10,
                               load=Decimal(5), load_unit=LoadUnit.LB, cues=(Cue.VERBAL,),
                               minutes=1, response=long_text if i % 10 == 0 else "ok",
                               change=ExerciseChange.AS_BEFORE) for i in range(40))
    session = ws.save_draft(replace(session, exercises=rows, assessment=long_text * 2,
                                    services=(ServiceLine("97110", 40, 3, ("GP",)),),
                                    total_treatment_minutes=60, diagnoses=("M17.11",)))
    pdf = ws.note_pdf(session.id)
    texts = pages(pdf)
    assert len(texts) >= 3
    for text in texts:
        assert "Κωνσταντίνου, Анастасия" in text
    table_pages = [t for t in texts if "— шаг" in t]
    assert len(table_pages) >= 2
    assert all("Sets x" in t and "Delivered" in t for t in table_pages)  # header repeats
    everything = " ".join(" ".join(texts).split())
    assert all(f"Exercise {i} — шаг {i}" in everything for i in range(40))
    assert "continued below: exercise 1 response" in everything  # long cells never split
    assert "Exercise notes (full text)" in everything
    save_pngs(pdf, artifacts, "note-long")


def test_same_note_same_bytes(clinic: Clinic):
    _other, session = signed_with_everything(clinic)
    a = clinic.as_("pt").note_pdf(session.id)
    b = clinic.as_("pt").note_pdf(session.id)
    assert a == b


def test_summaries_two_to_a_page_named_by_patient_and_date(clinic: Clinic, artifacts: Path):
    other, session = signed_with_everything(clinic)
    third = clinic.complete_draft("pta", TODAY)
    clinic.admin.set_appointment(clinic.patient.id, TODAY + dt.timedelta(3), dt.time(9, 30),
                                 clinic.users["pt"].id)
    desk = clinic.as_("desk")
    ids = desk.day_ids(TODAY)
    assert set(ids) == {other.id, session.id, third.id}
    pdf = desk.summaries_pdf(ids)
    texts = pages(pdf)
    assert len(texts) == 2  # three summaries: two on the first page, one on the second
    title = f"Session summary — Lee, Ann — {TODAY}"
    assert [t.count(title) for t in texts] == [2, 1]
    assert texts[0].count("✂ cut here") == 1 and "cut here" not in texts[1]
    assert all(f"#{sid}" not in t for t in texts for sid in ids)  # no internal ids
    everything = "\n".join(texts)
    assert everything.count("Signed") >= 1
    assert everything.lower().count("awaiting signature") == 2
    for text in texts:
        assert "Riverside" not in text and "Lee, Ann" in text and "97110" in text
        assert "PT User, PT" in text and "Medicare Part B" in text
        assert f"{TODAY + dt.timedelta(3)} 09:30 with PT User, PT" in text  # next appointment
        assert "Improving sit to stand" not in text and "Sit to stand" not in text
    # each half fits above or below the cut: the first summary's text ends above it
    doc = pdfium.PdfDocument(pdf)
    page = doc[0]
    height = page.get_height()
    found = page.get_textpage().search("Codes billed")
    tops = []
    while (hit := found.get_next()) is not None:
        tops.append(page.get_textpage().get_charbox(hit[0])[1])
    assert len(tops) == 2 and tops[0] > height / 2 > tops[1]
    save_pngs(pdf, artifacts, "summaries")
    one = pages(desk.summaries_pdf(ids, per_page=1))
    assert len(one) == 3 and all(t.count(title) == 1 and "cut here" not in t for t in one)
    save_pngs(desk.summaries_pdf(ids, per_page=1), artifacts, "summaries-one-per-page")


def test_day_sheet_closes_the_day(clinic: Clinic, artifacts: Path):
    _other, signed = signed_with_everything(clinic)
    clinic.complete_draft("pta", TODAY)
    clinic.admin.set_appointment(clinic.patient.id, TODAY + dt.timedelta(3), dt.time(9, 30),
                                 clinic.users["pt"].id)
    clinic.admin.update_patient(replace(clinic.patient, member_id="1EG4TE5MK73"))
    booked = clinic.admin.add_patient(Patient("MRN-7", "Wei", "Zhang", dt.date(1961, 2, 3),
                                              clinic.payer.id))
    desk = clinic.as_("desk")
    desk.set_appointment(booked.id, TODAY, dt.time(16, 30), clinic.users["pt"].id)
    pdf = desk.day_sheet_pdf(TODAY)
    text = " ".join(" ".join(pages(pdf)).split())
    assert f"Day sheet — {TODAY}" in text
    assert text.count("MRN-1") >= 3
    assert "3 sessions: 1 signed, 2 not signed; 6 units" in text
    # payer and member ID, each line's charge (97110 x2 at $29.50), the next appointment
    assert "Medicare Part B 1EG4TE5MK73" in text and text.count("$59.00") >= 3
    assert f"{TODAY + dt.timedelta(3)} 09:30 with PT User, PT" in text
    # totals by rendering provider (as billed), by who delivered and by payer: signed
    # sessions, their units and charges
    assert "Totals by rendering provider" in text and "Totals by payer" in text
    assert "Sessions by the clinician who delivered them" in text
    assert "PT User, PT 2 1 2 $59.00" in text and "PTA User, PTA 1 0 0 $0.00" in text
    assert "Medicare Part B 3 1 2 $59.00" in text and "Day total 3 1 2 $59.00" in text
    assert "charges of the signed sessions $59.00" in text
    # the notes not signed yet, with who owes them
    assert "Notes not yet signed" in text
    # (both drafts repeat Ann Lee's visit of the day: a warning each, open until accepted)
    assert "Open flags (1 warning) — awaiting signature PT User, PT" in text
    assert "Open flags (1 warning) — awaiting signature PTA User, PTA" in text
    assert signed.status.value == "signed"
    # booked today, no note yet: in its own section, as the day view lists them
    assert "Booked, not documented" in text
    assert "16:30 Zhang, Wei (MRN-7) PT User, PT" in text
    save_pngs(pdf, artifacts, "day-sheet")


def a_day_of(count: int) -> DaySheetData:
    """A day sheet of ``count`` visits of the same clinician and payer, each its own hour."""
    rows = tuple(DaySheetRow(f"{8 + i % 10:02d}:00–{8 + i % 10:02d}:53",
                             f"Patient {i}, Long-Named\nMRN-{i}", "Medicare Part B\n1EG4TE5MK73",
                             "PT User, PT", "97110 x3 GP", "$88.50", "Awaiting signature",
                             "—") for i in range(count))
    return DaySheetData(
        clinic="Riverside", date="2026-11-26", rows=rows, totals=f"{count} sessions",
        by_clinician=(("PT User, PT", str(count), "0", "0", "$0.00"),
                      ("Day total", str(count), "0", "0", "$0.00")),
        by_payer=(("Medicare Part B", str(count), "0", "0", "$0.00"),
                  ("Day total", str(count), "0", "0", "$0.00")),
        by_rendering=(("PT User, PT, NPI 1111111112", str(count), "0", "0", "$0.00"),
                      ("Day total", str(count), "0", "0", "$0.00")),
        unsigned=tuple((r.time, f"Patient {i}", r.status, "PT User, PT")
                       for i, r in enumerate(rows)),
        printed_at="2026-11-26 18:00 CST", audit_head="Audit log at printing: chain head 0.")


@pytest.mark.parametrize("count", range(8, 40))
def test_day_sheet_keeps_times_whole_and_headings_with_their_tables(count: int):
    pdf = render_day_sheet(a_day_of(count))
    texts = pages(pdf)
    lines = [line for text in texts for line in text.splitlines()]
    # every time range is read whole on one line: no "08:00–08:5 / 3"
    for i in range(count):
        time = f"{8 + i % 10:02d}:00–{8 + i % 10:02d}:53"
        assert sum(time in line for line in lines) >= 2, time  # visits and unsigned notes
    # a heading is on the page of its table's header row and first row, never alone at
    # the foot of the page before
    for heading, first in (("Totals by rendering provider", "NPI 1111111112"),
                           ("Sessions by the clinician", "PT User, PT"),
                           ("Totals by payer", "Medicare Part B"),
                           ("Notes not yet signed", "Patient 0")):
        page = next(t for t in texts if heading in t)
        after = page[page.index(heading):]
        assert "Sessions" in after or "Owed by" in after, (count, heading)
        assert first in after, (count, heading)


def test_superbill_has_what_a_claim_needs(clinic: Clinic, artifacts: Path):
    clinic.admin.save_clinic(Clinic_(name="Riverside Physical Therapy",
                                     address="1 River Rd, Springfield", phone="555-0100",
                                     npi="1234567893", time_zone="UTC"))
    clinic.admin.update_patient(replace(clinic.patient, member_id="1EG4TE5MK73"))
    pt = clinic.as_("pt")
    draft = clinic.complete_draft("pt")
    draft = pt.save_draft(replace(draft, diagnoses=("M17.11", "M25.561")))
    signed = sign(pt, draft.id)
    pending = clinic.complete_draft("pta", TODAY + dt.timedelta(0))
    desk = clinic.as_("desk")
    pdf = desk.superbills_pdf([signed.id, pending.id])
    texts = pages(pdf)
    assert len(texts) == 2
    first = " ".join(texts[0].split())
    for required in (f"Superbill — Lee, Ann — {TODAY}", "Riverside Physical Therapy",
                     "NPI 1234567893", "1 River Rd, Springfield",
                     "Rendering clinician PT User, PT, NPI 1111111112",
                     "Referring physician Dr. Ada Park, NPI 1234567893",
                     "Lee, Ann · born 1950-03-04 · MRN MRN-1", "Payer Medicare Part B",
                     "Member ID 1EG4TE5MK73", f"Date of service {TODAY}",
                     "Place of service 11", "A M17.11", "B M25.561",
                     "Unilateral primary osteoarthritis, right knee",
                     "97110", "GP", "AB 2 $29.50 $59.00", "Total $59.00",
                     "Signed electronically by PT User, PT, NPI 1111111112"):
        assert required in first, required
    assert "NOT BILLABLE" not in first
    second = " ".join(texts[1].split())
    assert "NOT SIGNED: not billable until signed by PTA User, PTA" in second
    assert "NOT SIGNED - NOT BILLABLE" in second and "CQ" in second
    save_pngs(pdf, artifacts, "superbill")
    with pytest.raises(PermissionDenied):
        clinic.as_("aide").superbills_pdf([signed.id])


def test_front_desk_may_print_summaries_but_not_export_notes(clinic: Clinic):
    draft = clinic.complete_draft("pt", TODAY)
    with pytest.raises(PermissionDenied):
        clinic.as_("desk").note_pdf(draft.id)
    with pytest.raises(PermissionDenied):
        clinic.as_("aide").summaries_pdf([draft.id])


def test_printing_and_saving_are_audited(clinic: Clinic):
    draft = clinic.complete_draft("pt", TODAY)
    desk = clinic.as_("desk")
    desk.record_output("summary", [draft.id], "print")
    clinic.as_("pt").record_output("note", [draft.id], "save")
    entries = clinic.store.audit.entries("session", draft.id)
    assert {(e["actor"], e["action"], e["detail"]) for e in entries} >= {
        ("desk", "print", "summary pdf"), ("pt", "export", "note pdf")}


def print_and_save_by_hand(qtbot, preview) -> None:
    """In an open preview: click Print… and Save as PDF…, then press Ctrl+P and Ctrl+S."""
    from PySide6.QtCore import Qt

    assert preview.images  # the pages are shown before anything leaves
    qtbot.mouseClick(preview.print_button, Qt.MouseButton.LeftButton)
    # The printer is a file here (PaperOut): the status says where it went, not "to the
    # printer".
    status = preview.status.text()
    assert status.startswith("Wrote ") and "to the printer" not in status, status
    written = Path(status.split(" to ", 1)[1])
    assert written.name.startswith("printed-") and written.is_file(), status
    preview.activateWindow()  # as the window manager does when the print dialog closes
    qtbot.waitUntil(preview.isActiveWindow)
    qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)
    assert preview.status.text().startswith("Saved ")
    qtbot.keyClick(preview, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
    preview.activateWindow()
    qtbot.waitUntil(preview.isActiveWindow)
    qtbot.keyClick(preview, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)


def check_paper(out, *required: str, pages_each: int | None = None) -> None:
    """Two prints and two saves came out, each a PDF whose text has what is required."""
    assert (len(out.printed), len(out.saved)) == (2, 2)
    for path in out.printed + out.saved:
        assert path.stat().st_mode & 0o777 == 0o600, path.name  # patient data: private
        texts = [page.extract_text() for page in PdfReader(str(path)).pages]
        if pages_each is not None:
            assert len(texts) == pages_each, path.name
        for text in required:
            assert text in "\n".join(texts), (path.name, text)


def output_audit(clinic: Clinic, detail: str) -> list[tuple[str, str]]:
    """Who printed (action "print") or saved (action "export") this kind of paper."""
    return sorted((e["actor"], e["action"]) for e in clinic.store.audit.entries()
                  if e["detail"] == detail)


@pytest.fixture
def desk_window(qtbot, clinic: Clinic):
    from ptdoc.ui.main_window import MainWindow

    signed_with_everything(clinic)
    window = MainWindow(clinic.as_("desk"))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    yield window
    window.close()


def test_front_desk_prints_and_saves_summaries(qtbot, clinic: Clinic, desk_window,
                                               tmp_path: Path, monkeypatch, artifacts: Path):
    from driving import PaperOut, in_modal
    from PySide6.QtCore import Qt

    window = desk_window
    out = PaperOut(monkeypatch, tmp_path)
    assert window.summaries_button.isEnabled() and not window.new_button.isEnabled()
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Down)
    qtbot.keyClick(window.table, Qt.Key.Key_Up)
    assert len(window.table.selectionModel().selectedRows()) == 1  # one session: one page

    def act(preview) -> None:
        assert preview.objectName() == "pdf_preview" and len(preview.images) == 1
        preview.grab().save(str(artifacts / "summaries-preview.png"))
        print_and_save_by_hand(qtbot, preview)

    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_P,
                                    Qt.KeyboardModifier.ControlModifier), act)
    check_paper(out, "Lee, Ann", str(TODAY), pages_each=1)
    assert output_audit(clinic, "summary pdf") == [("desk", "export")] * 2 + [("desk", "print")] * 2


def test_save_as_pdf_starts_in_documents_then_where_the_last_was_saved(
        qtbot, clinic: Clinic, desk_window, tmp_path: Path, monkeypatch):
    """The system's save dialog is replaced at its boundary: it notes where ptdoc opens it
    and with what name, and answers a file in a folder the front desk chose."""
    from driving import in_modal
    from PySide6.QtCore import QSettings, QStandardPaths, Qt
    from PySide6.QtWidgets import QFileDialog

    from ptdoc.ui.pdf_preview import LAST_FOLDER

    QSettings().remove(LAST_FOLDER)  # a workstation where nothing was saved yet
    offered: list[Path] = []
    chosen = tmp_path / "closing"
    chosen.mkdir()

    def save_name(_parent, _caption: str, start: str, _filter: str) -> tuple[str, str]:
        offered.append(Path(start))
        return str(chosen / f"saved-{len(offered)}.pdf"), "PDF (*.pdf)"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))
    window = desk_window
    ctrl, shift = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier

    def save(preview) -> None:
        qtbot.keyClick(preview, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
        assert preview.status.text() == f"Saved {chosen / f'saved-{len(offered)}.pdf'}"
    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_P, ctrl | shift), save)
    documents = Path(QStandardPaths.writableLocation(
        QStandardPaths.StandardLocation.DocumentsLocation))
    home = Path.home()
    assert documents.is_relative_to(home) and documents != Path.cwd()
    # the user's documents folder (made when the system names one not there yet), and a
    # name that says what the file is
    assert offered == [documents / f"day-sheet-{TODAY}.pdf"] and documents.is_dir()
    # then the folder last saved to, for every paper
    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_P, ctrl), save)
    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_B, ctrl), save)
    assert offered[1:] == [chosen / f"session-summaries-{TODAY}.pdf",
                           chosen / f"superbills-{TODAY}.pdf"]
    assert [p.name for p in sorted(chosen.iterdir())] == ["saved-1.pdf", "saved-2.pdf",
                                                          "saved-3.pdf"]


def test_the_front_desks_day_view_shows_the_flags_its_paper_prints(
        qtbot, clinic: Clinic, desk_window, artifacts: Path):
    from PySide6.QtCore import Qt

    from ptdoc.ui.models import SessionListModel

    pt = clinic.as_("pt")
    draft = clinic.complete_draft("pt", TODAY)
    blocked = pt.save_draft(replace(draft, services=(ServiceLine("97162", None, 1, ("GP",)),
                                                     *draft.services)))
    window = desk_window
    # the day before and back: the list is read again, with the draft saved since it opened
    qtbot.keyClick(window.table, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
    qtbot.keyClick(window.table, Qt.Key.Key_Right, Qt.KeyboardModifier.AltModifier)
    assert window.day == TODAY
    table = window.table
    shown = {}
    headers = [table.model().headerData(c, Qt.Orientation.Horizontal)
               for c in range(table.model().columnCount())]
    assert headers[SessionListModel.COL_PAYER] == "Payer" and \
        headers[SessionListModel.COL_MEMBER] == "Member ID"
    paid = {}
    for row in range(table.model().rowCount()):
        cell = {col: table.model().index(row, col).data()
                for col in (SessionListModel.COL_TIME, SessionListModel.COL_STATUS,
                            SessionListModel.COL_PAYER, SessionListModel.COL_MEMBER)}
        sid = window.model.row_at(row).id
        shown[sid] = cell[SessionListModel.COL_STATUS]
        paid[sid] = (cell[SessionListModel.COL_PAYER], cell[SessionListModel.COL_MEMBER])
    sheet = " ".join(" ".join(pages(clinic.as_("desk").day_sheet_pdf(TODAY))).split())
    drafts = {sid: status for sid, status in shown.items() if status != "Signed"}
    assert len(drafts) == 2 and blocked.id in drafts
    # 97162 billed for exercise
    assert drafts[blocked.id].startswith("Open flags (1 blocker") and \
        drafts[blocked.id].endswith(") — awaiting signature")
    for status in drafts.values():
        assert status in sheet, (status, sheet)  # what the day sheet prints, word for word
    # payer and member ID as the paper prints them for the same patient
    for sid, (payer, member) in paid.items():
        patient = clinic.store.patients.get(clinic.store.sessions.get(sid).patient_id)
        expected_member = patient.member_id or "—"
        assert payer == "Medicare Part B" and member == expected_member
        assert (f"{payer} {patient.member_id}" if patient.member_id else payer) in sheet
    window.grab().save(str(artifacts / "desk-day-view.png"))


def test_front_desk_prints_and_saves_the_day_sheet(qtbot, clinic: Clinic, desk_window,
                                                   tmp_path: Path, monkeypatch):
    from driving import PaperOut, in_modal
    from PySide6.QtCore import Qt

    window = desk_window
    out = PaperOut(monkeypatch, tmp_path)

    def act(sheet) -> None:
        assert "Day sheet" in sheet.windowTitle()
        print_and_save_by_hand(qtbot, sheet)

    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_P,
                                    Qt.KeyboardModifier.ControlModifier |
                                    Qt.KeyboardModifier.ShiftModifier), act)
    check_paper(out, "Lee, Ann", str(TODAY))
    # the day has two sessions: each print and each save is recorded for both
    assert output_audit(clinic, "day sheet pdf") == [("desk", "export")] * 4 + \
        [("desk", "print")] * 4


def test_note_preview_from_the_editor(qtbot, clinic: Clinic, artifacts: Path, tmp_path: Path,
                                      monkeypatch):
    from driving import PaperOut, in_modal
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    from ptdoc.ui.main_window import MainWindow

    draft = clinic.complete_draft("pt", TODAY)
    window = MainWindow(clinic.as_("pt"))
    qtbot.addWidget(window)
    window.show()
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    assert window.editor is not None and window.editor.session.id == draft.id

    def act(preview) -> None:
        assert preview.images and WATERMARK in pages(preview.pdf)[0]
        preview.grab().save(str(artifacts / "note-preview.png"))
        print_and_save_by_hand(qtbot, preview)

    out = PaperOut(monkeypatch, tmp_path / "by-key")
    out.folder.mkdir()
    in_modal(lambda: qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_E,
                                    Qt.KeyboardModifier.ControlModifier), act)
    check_paper(out, "Lee, Ann", f"Date of service {TODAY}", WATERMARK)
    out = PaperOut(monkeypatch, tmp_path / "by-button")
    out.folder.mkdir()
    in_modal(lambda: qtbot.mouseClick(window.editor.pdf_button, Qt.MouseButton.LeftButton),
             act)
    check_paper(out, "Lee, Ann", f"Date of service {TODAY}", WATERMARK)
    assert output_audit(clinic, "note pdf") == [("pt", "export")] * 4 + [("pt", "print")] * 4
    window.close()


def test_summaries_preview_offers_one_per_page(qtbot, clinic: Clinic, desk_window,
                                               tmp_path: Path, monkeypatch, artifacts: Path):
    from driving import PaperOut, in_modal
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication

    window = desk_window
    out = PaperOut(monkeypatch, tmp_path)
    window.table.setFocus()
    qtbot.keyClick(window.table, Qt.Key.Key_A, Qt.KeyboardModifier.ControlModifier)
    assert len(window.table.selectionModel().selectedRows()) == 2

    def act(preview) -> None:
        assert len(preview.images) == 1 and preview.status.text() == "1 page"
        qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)
        preview.activateWindow()
        qtbot.waitUntil(preview.isActiveWindow)
        # Alt+O, where the keyboard is: the box clicks itself a moment later
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_O,
                       Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(preview.option.isChecked)
        assert len(preview.images) == 2 and preview.status.text() == "2 pages"
        preview.grab().save(str(artifacts / "summaries-preview-one-per-page.png"))
        qtbot.mouseClick(preview.save_button, Qt.MouseButton.LeftButton)

    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_P,
                                    Qt.KeyboardModifier.ControlModifier), act)
    two_up, one_each = ([p.extract_text() for p in PdfReader(str(path)).pages]
                        for path in out.saved)
    title = f"Session summary — Lee, Ann — {TODAY}"
    assert [t.count(title) for t in two_up] == [2] and "cut here" in two_up[0]
    assert [t.count(title) for t in one_each] == [1, 1]
    assert output_audit(clinic, "summary pdf") == [("desk", "export")] * 4


def test_front_desk_prints_superbills_from_the_day_view(qtbot, clinic: Clinic, desk_window,
                                                        tmp_path: Path, monkeypatch,
                                                        artifacts: Path):
    from driving import PaperOut, in_modal
    from PySide6.QtCore import Qt

    window = desk_window
    out = PaperOut(monkeypatch, tmp_path)
    assert window.superbills_button.isEnabled()
    signed_id = next(r.id for r in window.workspace.sessions(date=TODAY)
                     if r.status.value == "signed")
    row = next(r for r in range(window.model.rowCount())
               if window.model.row_at(r).id == signed_id)
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton,
                     pos=window.table.visualRect(window.model.index(row, 1)).center())
    assert window.selected_ids() == [signed_id]

    def act(preview) -> None:
        assert preview.windowTitle() == "Superbills (1)" and len(preview.images) == 1
        preview.grab().save(str(artifacts / "superbill-preview.png"))
        print_and_save_by_hand(qtbot, preview)

    in_modal(lambda: qtbot.mouseClick(window.superbills_button, Qt.MouseButton.LeftButton),
             act)
    check_paper(out, f"Superbill — Lee, Ann — {TODAY}", "Total", "$59.00",
                "Signed electronically by PT User, PT", pages_each=1)
    assert output_audit(clinic, "superbill pdf") == [("desk", "export")] * 2 + \
        [("desk", "print")] * 2
    assert {e["entity_id"] for e in clinic.store.audit.entries()
            if e["detail"] == "superbill pdf"} == {signed_id}
    # Ctrl+B opens the same for the whole day when nothing is selected
    window.table.clearSelection()
    seen = in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_B,
                                           Qt.KeyboardModifier.ControlModifier),
                    lambda preview: None)
    assert seen.windowTitle() == "Superbills (2)"


def test_a_wrapped_header_keeps_each_label_with_its_value(clinic: Clinic, artifacts: Path):
    """However the clinic's line and the patient's line wrap, "NPI" and "member" stay on the
    line of their number (the summaries' header, as the biller reads it)."""
    from test_daily_note import header_lines

    member = "1EG4TE5MK73"
    clinic.admin.update_patient(replace(clinic.patient, member_id=member))
    sid = clinic.complete_draft("pt", TODAY).id
    desk = clinic.as_("desk")
    for words in range(0, 24):
        address = "Suite 12, 1 River Road " + "Springfield " * words + "IL 62701"
        clinic.admin.save_clinic(Clinic_("Riverside Physical Therapy", address=address,
                                         phone="555-0100", npi="1234567893"))
        pdf = desk.summaries_pdf([sid], per_page=1)
        lines = [text for _y, text in header_lines(pdf)]
        for label, value in (("NPI", "1234567893"), ("member", member)):
            line = next(text for text in lines if label in text)
            assert value in line, (words, label, lines[:4])
        # and a wrapped line never ends (or starts) with a dangling separator
        assert not [t for t in lines if t.strip().endswith("·") or t.strip().startswith("·")],\
            (words, lines[:6])
        if words == 2:  # where "NPI" used to end the line
            save_pngs(pdf, artifacts, "summary-wrapped-header")


def test_the_print_buttons_say_what_they_print_and_the_whole_day_stays_one_key_away(
        qtbot, clinic: Clinic, desk_window, tmp_path: Path, monkeypatch, artifacts: Path):
    """A clicked row makes Ctrl+P print that one summary: the button and the menu say so,
    Ctrl+Shift+S prints the whole day, and a single summary's file is named for whose."""
    from driving import in_modal
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QFileDialog

    window = desk_window
    count = window.model.rowCount()
    assert count >= 2
    assert window.summaries_button.text() == f"Print the day's {count} summaries"
    assert window.superbills_button.text() == f"Superbills: the day's {count}"
    offered: list[Path] = []

    def save_name(_parent, _caption: str, start: str, _filter: str) -> tuple[str, str]:
        offered.append(Path(start))
        return str(tmp_path / f"saved-{len(offered)}.pdf"), "PDF (*.pdf)"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(save_name))
    titles: list[str] = []

    def save(preview) -> None:
        titles.append(preview.windowTitle())
        qtbot.keyClick(preview, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)

    # a row clicked: one selected, and the button and the menu say it
    rect = window.table.visualRect(window.model.index(0, 1))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert len(window.table.selectionModel().selectedRows()) == 1
    assert window.summaries_button.text() == "Print 1 selected summary"
    assert window.summaries_action.text() == "Print 1 selected &summary…"
    assert window.superbills_button.text() == "Superbills: 1 selected"
    assert window.summaries_button.toolTip() == "Print 1 selected summary… (Ctrl+P)"
    window.grab().save(str(artifacts / "desk-day-view-one-selected.png"))
    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_P,
                                    Qt.KeyboardModifier.ControlModifier), save)
    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_B,
                                    Qt.KeyboardModifier.ControlModifier), save)
    patient = window.model.row_at(0).patient_name  # "Lee, Ann"
    last, first = (part.strip() for part in patient.split(","))
    assert [p.name for p in offered] == [f"session-summary-{TODAY}-{last}-{first}.pdf",
                                         f"superbill-{TODAY}-{last}-{first}.pdf"]
    # the whole day, whatever is selected
    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_S,
                                    Qt.KeyboardModifier.ControlModifier |
                                    Qt.KeyboardModifier.ShiftModifier), save)
    assert titles[-1].endswith(f"({count})") and offered[-1].name == \
        f"session-summaries-{TODAY}.pdf"
    assert len(PdfReader(tmp_path / "saved-3.pdf").pages) == (count + 1) // 2
    # Escape lets go of the row: Ctrl+P prints the day again, as the button says
    assert len(window.table.selectionModel().selectedRows()) == 1
    qtbot.keyClick(window.table, Qt.Key.Key_Escape)
    assert window.table.selectionModel().selectedRows() == []
    assert window.summaries_button.text() == f"Print the day's {count} summaries"
    in_modal(lambda: qtbot.keyClick(window.table, Qt.Key.Key_P,
                                    Qt.KeyboardModifier.ControlModifier), save)
    assert titles[-1].endswith(f"({count})") and offered[-1].name == \
        f"session-summaries-{TODAY}.pdf"
