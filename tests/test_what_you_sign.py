"""What the therapist sees is what is signed: refused values, who may sign, the signer's
password, and a busy database. Driven through the real window with keyboard and mouse."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import replace

import pytest
from conftest import NOW, PASSWORD, TODAY, Clinic
from driving import main_window
from pg_sandbox import attack, busy_writer
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QAbstractItemView, QApplication, QLineEdit, QMessageBox, QWidget

from ptdoc.session_store import LOCK_IDLE_MINUTES
from ptdoc.ui.exercise_table import COLUMN, COLUMNS, display
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.models import SessionListModel
from ptdoc.ui.service_table import ServiceTableModel
from ptdoc.ui.session_editor import SessionEditor

CTRL = Qt.KeyboardModifier.ControlModifier


def make_window(qtbot, clinic: Clinic, username: str) -> MainWindow:
    return main_window(qtbot, clinic.as_(username))


@pytest.fixture
def window(qtbot, clinic: Clinic) -> Iterator[MainWindow]:
    win = make_window(qtbot, clinic, "pt")
    yield win
    win.close()


def open_from_day(qtbot, window: MainWindow, session_id: int) -> SessionEditor:
    """Click the session's row in the day list and press Enter, as a therapist does."""
    window.refresh()
    model = window.model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).id == session_id)
    rect = window.table.visualRect(model.index(row, SessionListModel.COL_PATIENT))
    qtbot.mouseClick(window.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    assert window.editor is not None
    return window.editor


def press(qtbot, key, modifiers=Qt.KeyboardModifier.NoModifier) -> None:
    qtbot.keyClick(QApplication.focusWidget(), key, modifiers)


def step(qtbot, editor: SessionEditor, number: int) -> None:
    press(qtbot, getattr(Qt.Key, f"Key_{number}"), CTRL)
    assert editor.current == number - 1


def retype(qtbot, box: QWidget, text: str) -> None:
    """Click into a field, select what is there, type, and leave it with Tab."""
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    assert box.hasFocus()
    qtbot.keyClick(box, Qt.Key.Key_A, CTRL)
    if text:
        qtbot.keyClicks(box, text)
    else:
        qtbot.keyClick(box, Qt.Key.Key_Delete)
    qtbot.keyClick(box, Qt.Key.Key_Tab)


def click_cell(qtbot, table, row: int, column: int) -> None:
    rect = table.visualRect(table.model().index(row, column))
    table.scrollTo(table.model().index(row, column))
    rect = table.visualRect(table.model().index(row, column))
    qtbot.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert table.currentIndex().row() == row and table.currentIndex().column() == column


def type_in_cell(qtbot, table, row: int, column: int, text: str) -> None:
    """Click the cell, type (the first key opens its editor), Enter commits."""
    click_cell(qtbot, table, row, column)
    qtbot.keyClick(table, text[0])
    editor = QApplication.focusWidget()
    assert editor is not table
    if isinstance(editor, QLineEdit):
        editor.selectAll()
        qtbot.keyClicks(editor, text)
    else:
        qtbot.keyClicks(editor, text[1:])
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    # Qt commits a cell's editor on Enter through the event loop
    qtbot.waitUntil(lambda: table.state() != QAbstractItemView.State.EditingState)


def flag_texts(editor: SessionEditor) -> list[str]:
    return [editor.flags.list.item(i).text() for i in range(editor.flags.list.count())]


def refused_flags(editor: SessionEditor) -> list[str]:
    return [t for t in flag_texts(editor) if "is not saved" in t]


def test_a_refused_time_blocks_signing_until_corrected_or_reverted(qtbot, window, clinic):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    visit, *_rest, sign = editor.steps
    step(qtbot, editor, 1)
    retype(qtbot, visit.time_in, "09:00")
    assert clinic.store.sessions.get(draft.id).time_in == dt.time(9, 0)
    retype(qtbot, visit.time_out, "08:15")  # before the time in

    # on screen, in red, and an open problem of the note
    assert visit.time_out.text() == "08:15"
    assert visit.errors["time_out"].isVisible()
    assert clinic.store.sessions.get(draft.id).time_out is None
    assert refused_flags(editor) == [
        f"Blocker: Time out: '08:15' is not saved. {editor.refused['time_out'].message}"]
    assert "1 blocker" in editor.flags.title.text()
    assert editor.step_list.item(0).text() == "1. Visit — 1 flag"

    # another field saves: the refused time is not replaced by the stored one
    step(qtbot, editor, 4)
    retype(qtbot, editor.steps[3].total, "40")
    assert clinic.store.sessions.get(draft.id).total_treatment_minutes == 40
    step(qtbot, editor, 1)
    assert visit.time_out.text() == "08:15"

    # Sign says what blocks, before the button, and refuses
    step(qtbot, editor, 6)
    blockers = [sign.blockers.item(i).text() for i in range(sign.blockers.count())]
    assert any("Time out: '08:15' is not saved" in b for b in blockers)
    assert not sign.sign_button.isEnabled() and "Nothing blocks" not in sign.state.text()
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    assert clinic.store.sessions.get(draft.id).signature is None

    # the flag jumps to the field; Escape there goes back to the saved (empty) value
    press(qtbot, Qt.Key.Key_F8)
    flags = editor.flags.list
    row = next(i for i in range(flags.count()) if "Time out" in flags.item(i).text())
    flags.setCurrentRow(row)
    qtbot.keyClick(flags, Qt.Key.Key_Return)
    assert editor.current == 0 and visit.time_out.hasFocus()
    qtbot.keyClick(visit.time_out, Qt.Key.Key_Escape)
    assert visit.time_out.text() == ""
    assert refused_flags(editor) == [] and not visit.errors["time_out"].isVisible()

    # corrected: saved, and the note can be signed
    retype(qtbot, visit.time_out, "09:45")
    assert clinic.store.sessions.get(draft.id).time_out == dt.time(9, 45)
    step(qtbot, editor, 6)
    assert sign.sign_button.isEnabled()
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    signed = clinic.store.sessions.get(draft.id)
    assert signed.signature is not None and signed.time_out == dt.time(9, 45)


def test_refused_cells_are_blockers_and_escape_restores_the_saved_value(qtbot, window,
                                                                        clinic):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    exercises, codes, sign = editor.steps[2], editor.steps[3], editor.steps[5]
    step(qtbot, editor, 3)
    table = exercises.table
    type_in_cell(qtbot, table, 0, COLUMN["reps"], "-5")
    type_in_cell(qtbot, table, 0, COLUMN["load"], "900")
    type_in_cell(qtbot, table, 1, COLUMN["minutes"], "ten")
    stored = clinic.store.sessions.get(draft.id)
    assert (stored.exercises[0].reps, stored.exercises[0].load) == (10, draft.exercises[0].load)
    assert stored.exercises[1].minutes == 11
    model = exercises.model
    assert [model.index(0, COLUMN["reps"]).data(), model.index(0, COLUMN["load"]).data(),
            model.index(1, COLUMN["minutes"]).data()] == ["-5", "900", "ten"]
    assert len(refused_flags(editor)) == 3
    assert editor.step_list.item(2).text() == "3. Exercises — 3 flags"

    step(qtbot, editor, 4)
    type_in_cell(qtbot, codes.table, 0, ServiceTableModel.COL_MINUTES, "ten")
    assert codes.model.index(0, ServiceTableModel.COL_MINUTES).data() == "ten"
    assert len(refused_flags(editor)) == 4
    step(qtbot, editor, 6)
    assert not sign.sign_button.isEnabled() and sign.blockers.count() >= 4

    # a saved edit elsewhere keeps the red cells; Escape on one restores its saved value
    step(qtbot, editor, 3)
    type_in_cell(qtbot, table, 1, COLUMN["sets"], "3")
    assert clinic.store.sessions.get(draft.id).exercises[1].sets == 3
    assert model.index(0, COLUMN["reps"]).data() == "-5"
    click_cell(qtbot, table, 0, COLUMN["reps"])
    qtbot.keyClick(table, Qt.Key.Key_Escape)
    assert model.index(0, COLUMN["reps"]).data() == "10"
    assert len(refused_flags(editor)) == 3
    type_in_cell(qtbot, table, 0, COLUMN["load"], "8")
    type_in_cell(qtbot, table, 1, COLUMN["minutes"], "11")
    step(qtbot, editor, 4)
    click_cell(qtbot, codes.table, 0, ServiceTableModel.COL_MINUTES)
    qtbot.keyClick(codes.table, Qt.Key.Key_Escape)
    assert refused_flags(editor) == []
    assert clinic.store.sessions.get(draft.id).exercises[0].load == 8
    step(qtbot, editor, 6)
    assert sign.sign_button.isEnabled()


def test_the_sign_step_says_who_may_not_sign_before_the_button(qtbot, clinic):
    draft = clinic.complete_draft("pt")  # delivered by pt
    win = make_window(qtbot, clinic, "dpt")
    try:
        editor = open_from_day(qtbot, win, draft.id)
        step(qtbot, editor, 6)
        sign = editor.steps[5]
        blockers = [sign.blockers.item(i).text() for i in range(sign.blockers.count())]
        assert blockers == ["Blocker: DPT User, DPT neither delivered nor supervised this "
                            "session, so may not sign it. The clinician who delivered it (or "
                            "the supervising PT) signs."]
        assert "Nothing blocks" not in sign.state.text()
        assert "1 blocker" in sign.state.text()
        assert not sign.sign_button.isEnabled() and not sign.secret.isEnabled()
    finally:
        win.close()


def test_signing_asks_the_signers_own_password(qtbot, window, clinic):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    sign = editor.steps[5]
    step(qtbot, editor, 6)
    assert sign.sign_button.isEnabled()
    qtbot.mouseClick(sign.sign_button, Qt.MouseButton.LeftButton)  # nothing typed
    assert clinic.store.sessions.get(draft.id).signature is None
    assert "Wrong password/PIN for PT User" in sign.errors["signature"].text()
    qtbot.keyClicks(sign.secret, "someone-elses")
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    assert clinic.store.sessions.get(draft.id).signature is None
    assert sign.secret.text() == ""  # a secret is never left on screen
    failed = [e for e in clinic.store.audit.entries()
              if e["action"] == "login failed" and e["detail"] == "sign"]
    assert len(failed) == 2 and failed[0]["actor"] == "pt"
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.mouseClick(sign.sign_button, Qt.MouseButton.LeftButton)
    assert clinic.store.sessions.get(draft.id).signature is not None
    assert "signed" in editor.banner.text()


def test_a_busy_database_never_reports_an_edit_as_saved(qtbot, window, clinic, db_target):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    codes = editor.steps[3]
    step(qtbot, editor, 4)
    other = busy_writer(db_target)  # another program takes the write lock and keeps it
    try:
        started = dt.datetime.now()
        retype(qtbot, codes.total, "44")
        assert (dt.datetime.now() - started).total_seconds() < 2  # no 5-second freeze
        assert codes.total.text() == "44"
        assert editor.status_label.text().startswith("Not saved: the database is busy")
        assert editor.unsaved
        step(qtbot, editor, 6)
        assert not editor.steps[5].sign_button.isEnabled()
    finally:
        other.rollback()
        other.close()
    qtbot.waitUntil(lambda: not editor.unsaved, timeout=5000)
    assert editor.status_label.text().startswith("Saved")
    assert clinic.store.sessions.get(draft.id).total_treatment_minutes == 44
    step(qtbot, editor, 4)
    assert codes.total.text() == "44"


def test_sign_in_waits_for_a_busy_database(clinic, db_target):
    from threading import Timer

    from ptdoc.access import login

    other = busy_writer(db_target)  # another workstation in the middle of a write
    Timer(1.0, other.rollback).start()
    assert login(clinic.store, "pt", PASSWORD, now=lambda: NOW).username == "pt"
    other.close()


def test_wrong_secrets_are_slowed_then_locked_out(clinic):
    from ptdoc.access import LOCKOUT_AFTER, login
    from ptdoc.errors import PermissionDenied

    clock = [NOW]
    tries = []

    def attempt(secret: str) -> str:
        try:
            login(clinic.store, "pta", secret, now=lambda: clock[0])
        except PermissionDenied as exc:
            tries.append(str(exc))
            return str(exc)
        return "ok"

    for _ in range(2):
        assert attempt("nope-nope").startswith("Unknown user name or wrong password/PIN.")
    assert "Wait 2 seconds" in attempt("nope-nope")
    assert "paused for 2 seconds" in attempt(PASSWORD)  # too soon: not even checked
    clock[0] += dt.timedelta(seconds=2)
    assert "Wait 4 seconds" in attempt("nope-nope")
    clock[0] += dt.timedelta(seconds=4)
    assert "Wait 5 minutes" in attempt("nope-nope")
    clock[0] += dt.timedelta(minutes=4)
    assert "locked for 1 minute" in attempt(PASSWORD)
    clock[0] += dt.timedelta(minutes=1)
    assert attempt(PASSWORD) == "ok"
    assert attempt("nope-nope").startswith("Unknown user")  # the count starts again
    actions = [(e["action"], e["detail"]) for e in clinic.store.audit.entries()
               if e["actor"] == "pta"]
    assert actions.count(("login failed", "sign-in")) == LOCKOUT_AFTER + 1
    assert actions.count(("denied", "LOCKED_OUT sign-in")) == 2
    assert actions.count(("login", "sign-in")) == 1


def test_a_refused_value_survives_saves_elsewhere_and_escape_in_each_text_field(
        qtbot, window, clinic):
    """Each text field of the note: nonsense refused, kept, a blocker; Escape reverts."""
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    cases = [(1, editor.steps[0].time_in, "25:99"), (4, editor.steps[3].total, "ten"),
             (4, editor.steps[3].total, "-3")]
    for number, box, text in cases:
        step(qtbot, editor, number)
        saved = box.text()
        retype(qtbot, box, text)
        assert box.text() == text and len(refused_flags(editor)) == 1
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
        qtbot.keyClick(box, Qt.Key.Key_Escape)
        assert box.text() == saved and refused_flags(editor) == []


def shown_cell(model, row: int, key: str) -> str:
    return model.index(row, COLUMN[key]).data()


def test_what_is_shown_is_the_stored_draft_plus_the_listed_refusals(qtbot, clinic,
                                                                    monkeypatch):
    """A property, driven by hypothesis through the real widgets: after any sequence of edits,
    every input shows the stored value, except the refused ones listed as blockers."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st
    from PySide6.QtWidgets import QMessageBox

    # closing the note at the end of each example discards what was refused
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_args: QMessageBox.StandardButton.Yes)

    texts = st.sampled_from(["", "0", "3", "12", "-5", "ten", "900", "25:99", "09:00",
                             "10:15", "08:30", "07:00", "1e9", "2.5", " 4 "])
    targets = st.sampled_from(["time_in", "time_out", "total", "reps", "load", "minutes",
                               "line_minutes"])
    edits = st.lists(st.tuples(targets, st.one_of(texts, st.just("<escape>"))),
                     min_size=1, max_size=7)

    win = make_window(qtbot, clinic, "pt")

    @settings(max_examples=20, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(edits)
    def run(sequence):
        draft = clinic.complete_draft("pt")
        editor = open_from_day(qtbot, win, draft.id)
        visit, _sup, exercises, codes = editor.steps[:4]
        boxes = {"time_in": (1, visit.time_in), "time_out": (1, visit.time_out),
                 "total": (4, codes.total)}
        cells = {"reps": (3, exercises.table, 0, COLUMN["reps"]),
                 "load": (3, exercises.table, 0, COLUMN["load"]),
                 "minutes": (3, exercises.table, 1, COLUMN["minutes"]),
                 "line_minutes": (4, codes.table, 0, ServiceTableModel.COL_MINUTES)}
        for target, text in sequence:
            if target in boxes:
                number, box = boxes[target]
                step(qtbot, editor, number)
                if text == "<escape>":
                    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
                    qtbot.keyClick(box, Qt.Key.Key_Escape)
                    qtbot.keyClick(box, Qt.Key.Key_Tab)
                else:
                    retype(qtbot, box, text)
            else:
                number, table, row, column = cells[target]
                step(qtbot, editor, number)
                if text == "<escape>":
                    click_cell(qtbot, table, row, column)
                    qtbot.keyClick(table, Qt.Key.Key_Escape)
                elif text:
                    type_in_cell(qtbot, table, row, column, text)

        stored = clinic.store.sessions.get(draft.id)
        refused = {r.field: r.text for r in editor.open_refusals()}
        assert len(refused_flags(editor)) == len(refused)

        def hhmm(t):
            return t.strftime("%H:%M") if t else ""
        assert visit.time_in.text() == refused.get("time_in", hhmm(stored.time_in))
        assert visit.time_out.text() == refused.get("time_out", hhmm(stored.time_out))
        total = stored.total_treatment_minutes
        assert codes.total.text() == refused.get("total_treatment_minutes",
                                                 "" if total is None else str(total))
        for row, key in ((0, "reps"), (0, "load"), (1, "minutes")):
            value = display(COLUMNS[COLUMN[key]], getattr(stored.exercises[row], key))
            assert shown_cell(exercises.model, row, key) == refused.get(
                f"exercises[{row}].{key}", value)
        line = stored.services[0]
        assert codes.model.index(0, ServiceTableModel.COL_MINUTES).data() == refused.get(
            "services[0].minutes", "" if line.minutes is None else str(line.minutes))
        press(qtbot, Qt.Key.Key_W, CTRL)
        assert win.editor is None

    try:
        run()
    finally:
        win.close()





def test_another_clinicians_draft_opens_read_only_until_taken_over(qtbot, clinic,
                                                                  monkeypatch):
    from dataclasses import replace as change

    from ptdoc.errors import PermissionDenied

    draft = clinic.complete_draft("pt")  # written by pt
    # The services refuse edits from a clinician who has not taken it over, saying whose it is.
    with pytest.raises(PermissionDenied, match="This draft was written by PT User, PT: take "
                                               "it over to edit it"):
        clinic.as_("dpt").save_draft(change(draft, assessment="not mine"))
    win = make_window(qtbot, clinic, "dpt")
    try:
        editor = open_from_day(qtbot, win, draft.id)
        assert editor.read_only and "read only: a draft by PT User, PT" in editor.banner.text()
        step(qtbot, editor, 4)
        assert editor.steps[3].total.isReadOnly()
        assert editor.take_over_button.isVisible()
        from PySide6.QtWidgets import QMessageBox
        asked = []

        def confirm(_parent, _title, text, *_args):
            asked.append(text)
            return QMessageBox.StandardButton.Yes
        monkeypatch.setattr(QMessageBox, "question", confirm)
        press(qtbot, Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: not editor.read_only)  # a mnemonic animates the click
        assert asked and asked[0].startswith("This draft was written by PT User, PT. Take it "
                                             "over?")
        assert not editor.take_over_button.isVisible()
        retype(qtbot, editor.steps[3].total, "41")
        assert clinic.store.sessions.get(draft.id).total_treatment_minutes == 41
        took = [e for e in clinic.store.audit.entries("session", draft.id)
                if e["action"] == "take over"]
        assert len(took) == 1 and took[0]["actor"] == "dpt"
    finally:
        win.close()
    # Both who wrote it may edit it (the lock decides who has it open); a PTA still may not
    # take it over.
    saved = clinic.as_("pt").save_draft(change(clinic.store.sessions.get(draft.id),
                                               assessment="mine"))
    assert saved.assessment == "mine"
    assert not clinic.as_("pta").may_take_over(clinic.store.sessions.get(draft.id))


def test_the_supervising_pt_takes_a_ptas_draft_over_to_sign_it(qtbot, clinic, monkeypatch):
    from dataclasses import replace as change

    from PySide6.QtWidgets import QMessageBox

    draft = clinic.complete_draft("pta")
    clinic.as_("pta").save_draft(change(draft, supervised_by=clinic.users["dpt"].id))
    win = make_window(qtbot, clinic, "dpt")
    try:
        editor = open_from_day(qtbot, win, draft.id)
        assert editor.read_only
        step(qtbot, editor, 6)  # signing is not offered on a note read-only here
        sign = editor.steps[5]
        assert sign.state.text() == ("Not signable here: a draft by PTA User, PTA. Take it "
                                     "over (Alt+K) to sign it here.")
        assert not sign.secret.isEnabled() and not sign.sign_button.isEnabled()
        monkeypatch.setattr(QMessageBox, "question",
                            lambda *_a: QMessageBox.StandardButton.Yes)
        press(qtbot, Qt.Key.Key_K, Qt.KeyboardModifier.AltModifier)
        qtbot.waitUntil(lambda: not editor.read_only)
        step(qtbot, editor, 6)
        assert sign.state.text() == "Nothing blocks: type your password or PIN and sign."
        qtbot.keyClicks(sign.secret, PASSWORD)
        qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
        signed = clinic.store.sessions.get(draft.id).signature
        assert signed is not None and signed.signer_name == "DPT User"
    finally:
        win.close()


def test_a_value_refused_because_of_another_is_saved_once_that_one_changes(qtbot, window,
                                                                           clinic):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    visit = editor.steps[0]
    step(qtbot, editor, 1)
    retype(qtbot, visit.time_in, "08:00")
    retype(qtbot, visit.time_out, "08:45")
    retype(qtbot, visit.time_in, "09:00")  # after the saved time out: refused, kept in red
    assert "time_in" in editor.refused and visit.time_in.property("refused")
    retype(qtbot, visit.time_out, "09:40")  # now the typed time in fits: both are saved
    saved = clinic.store.sessions.get(draft.id)
    assert (saved.time_in, saved.time_out) == (dt.time(9, 0), dt.time(9, 40))
    assert editor.refused == {} and not visit.time_in.property("refused")
    assert visit.time_in.text() == "09:00"


def test_closing_a_note_with_refused_values_asks_first(qtbot, window, clinic, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    step(qtbot, editor, 4)
    retype(qtbot, editor.steps[3].total, "ten")
    asked = []

    def answer(reply):
        def question(_parent, _title, text, *_args):
            asked.append(text)
            return reply
        return question
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.No))
    press(qtbot, Qt.Key.Key_W, CTRL)
    assert window.editor is editor and editor.steps[3].total.hasFocus()
    assert "Total treatment time: 'ten'" in asked[0]
    monkeypatch.setattr(QMessageBox, "question", answer(QMessageBox.StandardButton.Yes))
    press(qtbot, Qt.Key.Key_W, CTRL)
    assert window.editor is None
    assert clinic.store.sessions.get(draft.id).total_treatment_minutes == 30


def test_a_note_tampered_after_signing_says_so_in_the_window(qtbot, window, clinic, db_target,
                                                            artifacts):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    sign = editor.steps[5]
    step(qtbot, editor, 6)
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    assert "DOES NOT VERIFY" not in editor.banner.text() + sign.state.text()
    qtbot.keyClick(editor, Qt.Key.Key_W, CTRL)
    # Someone with a shell drops the lock and changes the signed minutes underneath.
    attack(db_target, "UPDATE exercises SET minutes = 30 WHERE session_id = "
                      f"{int(draft.id)} AND position = 0")
    editor = open_from_day(qtbot, window, draft.id)
    assert "SIGNATURE DOES NOT VERIFY" in editor.banner.text()
    assert "exercises[0].minutes (signed 12, now 30)" in editor.banner.text()
    step(qtbot, editor, 6)
    sign = editor.steps[5]
    assert sign.state.text().startswith("SIGNATURE DOES NOT VERIFY")
    assert any("SIGNATURE DOES NOT VERIFY" in sign.blockers.item(i).text()
               for i in range(sign.blockers.count()))
    window.grab().save(str(artifacts / "signature-does-not-verify.png"))


def test_escape_while_editing_a_cell_cancels_the_edit(qtbot, window, clinic):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    exercises, codes = editor.steps[2], editor.steps[3]
    for number, table, column in ((3, exercises.table, COLUMN["reps"]),
                                  (4, codes.table, ServiceTableModel.COL_MINUTES)):
        step(qtbot, editor, number)
        click_cell(qtbot, table, 0, column)
        before = table.model().index(0, column).data()
        qtbot.keyClick(table, "7")
        cell_editor = QApplication.focusWidget()
        assert cell_editor is not table
        qtbot.keyClick(cell_editor, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda table=table: table.state() != QAbstractItemView.State.EditingState)
        assert table.model().index(0, column).data() == before
        qtbot.keyClick(table, Qt.Key.Key_Tab)  # Tab into the next cell, then Escape again
        qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Escape)
    assert clinic.store.sessions.get(draft.id) == editor.session


def test_a_note_changed_in_another_window_is_never_signed_or_overwritten_unseen(
        qtbot, window, clinic, db_target, monkeypatch):
    from ptdoc.services import Workspace
    from ptdoc.store import Store

    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    with Store.open(db_target) as other_store:  # a second window, or another workstation
        # Opened read-only while this window has it; the other one takes it over once this
        # one has gone idle (what it shows is then stale).
        later = NOW + dt.timedelta(minutes=LOCK_IDLE_MINUTES)
        ws = Workspace(other_store, other_store.users.by_username("pt"), today=lambda: TODAY,
                       now=lambda: later, codes=clinic.codes)
        elsewhere = main_window(qtbot, ws)
        second = open_from_day(qtbot, elsewhere, draft.id)
        assert second.read_only and "; idle since " in second.banner.text()
        monkeypatch.setattr(QMessageBox, "question",
                            lambda *_a: QMessageBox.StandardButton.Yes)
        qtbot.mouseClick(second.take_over_button, Qt.MouseButton.LeftButton)
        assert not second.read_only
        step(qtbot, second, 3)
        type_in_cell(qtbot, second.steps[2].table, 0, COLUMN["sets"], "4")
        assert other_store.sessions.get(draft.id).exercises[0].sets == 4
        elsewhere.close()

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    # this window still shows 3 sets: signing is refused, and the note reloads
    exercises, sign = editor.steps[2], editor.steps[5]
    assert exercises.model.index(0, COLUMN["sets"]).data() == "3"
    step(qtbot, editor, 6)
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    assert clinic.store.sessions.get(draft.id).signature is None
    assert "changed in another window" in sign.errors["signature"].text()
    assert exercises.model.index(0, COLUMN["sets"]).data() == "4"

    # an edit made on a stale screen is not written over the other one
    clinic.as_("pt").save_draft(replace(clinic.store.sessions.get(draft.id),
                                        assessment="Written on the other workstation."))
    step(qtbot, editor, 4)
    retype(qtbot, editor.steps[3].total, "45")
    stored = clinic.store.sessions.get(draft.id)
    assert stored.assessment == "Written on the other workstation."
    assert stored.total_treatment_minutes == 30 and editor.steps[3].total.text() == "45"
    assert "total_treatment_minutes" in editor.refused
    assert editor.steps[2].assessment.toPlainText() == "Written on the other workstation."
    retype(qtbot, editor.steps[3].total, "45")  # entered again, on top of what is stored now
    stored = clinic.store.sessions.get(draft.id)
    assert stored.total_treatment_minutes == 45
    assert stored.assessment == "Written on the other workstation."
    step(qtbot, editor, 6)
    qtbot.keyClicks(sign.secret, PASSWORD)
    qtbot.keyClick(sign.secret, Qt.Key.Key_Return)
    signed = clinic.store.sessions.get(draft.id)
    assert signed.signature is not None and signed.exercises[0].sets == 4


def test_reasons_beside_fields_go_once_the_note_no_longer_has_them(qtbot, window, clinic):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    visit = editor.steps[0]
    step(qtbot, editor, 1)
    retype(qtbot, visit.time_in, "08:00")
    retype(qtbot, visit.time_out, "07:30")  # refused: before the time in
    assert visit.errors["time_out"].isVisible()
    qtbot.mouseClick(visit.time_out, Qt.MouseButton.LeftButton)
    qtbot.keyClick(visit.time_out, Qt.Key.Key_Escape)
    retype(qtbot, visit.time_in, "07:00")  # saved: nothing is wrong with the time out now
    assert not visit.errors["time_out"].isVisible() and not visit.errors["time_in"].isVisible()


def test_a_long_refused_text_is_quoted_short(qtbot, window, clinic):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    step(qtbot, editor, 4)
    retype(qtbot, editor.steps[3].total, "9" * 500)
    (flag,) = refused_flags(editor)
    assert "(500 characters)" in flag and len(flag) < 400


def test_ctrl_f_in_an_open_note_goes_to_the_patient_search(qtbot, window, clinic):
    draft = clinic.complete_draft("pt")
    editor = open_from_day(qtbot, window, draft.id)
    step(qtbot, editor, 4)
    press(qtbot, Qt.Key.Key_F, CTRL)
    assert window.editor is None and window.search.hasFocus() and window.search.isVisible()
    qtbot.keyClicks(window.search, "Lee")
    assert window.search.text() == "Lee"


def test_a_new_session_needs_a_patient_chosen_first(qtbot, window, clinic):
    from driving import in_modal

    from ptdoc.ui.new_session import NewSessionDialog

    shown = []

    def start_at_once(dialog):
        assert isinstance(dialog, NewSessionDialog)
        assert dialog.results.currentItem() is None  # nothing chosen for the user
        qtbot.keyClick(dialog.date, Qt.Key.Key_Return, CTRL)
        shown.append(dialog.message.text())

    in_modal(lambda: press(qtbot, Qt.Key.Key_N, CTRL), start_at_once)
    assert shown == ["Choose the patient first."]
    assert clinic.store.sessions.count() == 0
