"""Booking a clinician's time: a second patient at a time already taken is refused, naming
who is there, unless booked on purpose (a group visit), at the command line and in the
window; the day's list marks the overlap."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from conftest import TODAY, Clinic
from driving import in_modal, main_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from test_charges import run
from test_patient_screens import ALT, CTRL, alt_click, press, type_in

from ptdoc.domain import Patient

DAY = TODAY + dt.timedelta(days=4)


def second_patient(clinic: Clinic) -> Patient:
    return clinic.admin.add_patient(Patient("MRN-2", "Raj", "Patel", dt.date(1948, 7, 9),
                                            clinic.payer.id))


def test_a_clinicians_taken_time_is_refused_unless_double_booked(capsys, clinic: Clinic,
                                                                  db_target):
    other = second_patient(clinic)
    db = ("--db", str(db_target))
    at = f"{DAY} 08:00"
    code, out, err = run(capsys, "desk", "appointment", "set", *db, "--patient", "MRN-1",
                         "--at", at, "--clinician", "pt")
    assert code == 0, err
    code, out, err = run(capsys, "desk", "appointment", "set", *db, "--patient", "MRN-2",
                         "--at", at, "--clinician", "pt")
    assert code == 2 and out == "" and len(err.strip().splitlines()) == 1
    assert "PT User, PT already has Lee, Ann (MRN-1) at" in err and "--double-book" in err
    assert clinic.store.appointments.next_from(other.id, TODAY) is None  # nothing stored
    # another clinician, or another time, is free
    code, _out, err = run(capsys, "desk", "appointment", "set", *db, "--patient", "MRN-2",
                          "--at", f"{DAY} 08:30", "--clinician", "pt")
    assert code == 0, err
    # a group visit: on purpose
    code, out, err = run(capsys, "desk", "appointment", "set", *db, "--patient", "MRN-2",
                         "--at", at, "--clinician", "pt", "--double-book")
    assert code == 0 and f"next appointment {at} with PT User, PT" in out, err
    code, out, err = run(capsys, "desk", "appointments", *db, "--date", str(DAY))
    assert code == 0, err
    rows = out.splitlines()
    assert any("MRN-1" in r and "DOUBLE-BOOKED with Patel, Raj (MRN-2)" in r for r in rows)
    assert any("MRN-2" in r and "DOUBLE-BOOKED with Lee, Ann (MRN-1)" in r for r in rows)
    code, out, _err = run(capsys, "desk", "appointments", *db, "--date", str(DAY), "--json")
    listed = {r["patient"]: r["double_booked_with"] for r in json.loads(out)}
    assert listed == {"MRN-1": ["Patel, Raj (MRN-2)"], "MRN-2": ["Lee, Ann (MRN-1)"]}


def test_the_window_asks_before_double_booking(qtbot, clinic: Clinic, monkeypatch,
                                               artifacts: Path):
    second_patient(clinic)
    clinic.admin.set_appointment(clinic.patient.id, DAY, dt.time(8, 0), clinic.users["pt"].id)
    window = main_window(qtbot, clinic.as_("desk"))
    asked: list[str] = []
    answers = [QMessageBox.StandardButton.No, QMessageBox.StandardButton.Yes]

    def question(_parent, _title, text, *_args):
        asked.append(text)
        return answers[len(asked) - 1]
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    press(qtbot, Qt.Key.Key_F, CTRL)
    qtbot.keyClicks(window.search, "Patel")
    qtbot.waitUntil(lambda: window.patients.count() > 0)
    press(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.patient_view is not None)

    def book(dialog) -> None:
        type_in(qtbot, Qt.Key.Key_T, "08:00")
        type_in(qtbot, Qt.Key.Key_D, DAY.isoformat())
        press(qtbot, Qt.Key.Key_C, ALT)
        for _ in range(dialog.clinician.count()):  # down the list to the PT
            if dialog.clinician.currentText() == "PT User, PT":
                break
            press(qtbot, Qt.Key.Key_Down)
        assert dialog.clinician.currentText() == "PT User, PT"
        press(qtbot, Qt.Key.Key_B, ALT)  # asked; No: nothing booked, the reason shown
        qtbot.waitUntil(lambda: len(asked) == 1)
        assert "already has Lee, Ann (MRN-1) at 08:00" in asked[0]
        error = dialog.errors["form"]
        qtbot.waitUntil(error.isVisible)
        assert "Lee, Ann (MRN-1)" in error.text() and dialog.isVisible()
        dialog.grab().save(str(artifacts / "appointment-double-booking.png"))
        alt_click(qtbot, Qt.Key.Key_B, lambda: not dialog.isVisible())  # Yes: booked

    in_modal(lambda: press(qtbot, Qt.Key.Key_A, ALT), book)
    assert len(asked) == 2
    booked = clinic.store.appointments.next_from(window.patient_view.patient.id, TODAY)
    assert booked is not None and (booked.day, booked.time) == (DAY, dt.time(8, 0))


def test_patient_show_names_each_visit_by_its_session_number(capsys, clinic: Clinic,
                                                            db_target):
    """The number beside a visit is the one 'ptdoc check --session' takes."""
    sid = clinic.complete_draft("pt").id
    code, out, err = run(capsys, "desk", "patient", "show", "MRN-1", "--db", str(db_target))
    assert code == 0, err
    assert f"Session {sid}: {TODAY} daily, draft" in out and "Visit " not in out
    code, out, _err = run(capsys, "pt", "check", "--db", str(db_target), "--session", str(sid))
    assert code in (0, 1) and "Status: draft, not signed." in out
