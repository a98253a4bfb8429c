"""Two workstations on one clinic, seen in the window: a draft open elsewhere opens read-only
with who and where, a stale one is taken over with the button, one whose holder is killed
becomes editable without reopening it, and a note signed by another process shows in the day
view within seconds. On the file and on the server; on the server also a window that stays
open across a restart (it holds its draft again) and one whose draft was taken while it could
not reach the server (read-only, what was typed kept)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import NOW, PASSWORD, TODAY, Clinic, sign
from driving import admin_clinic_tab, main_window
from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QMessageBox
from test_setup import alt, fill
from test_what_you_sign import click_cell, open_from_day, retype, step, type_in_cell
from test_workstations import (
    HOLDER,
    connected_again,
    drop_every_connection,
    other_workstation,
)

from ptdoc.clock import local
from ptdoc.domain import NoteType, Patient
from ptdoc.errors import DraftOpenElsewhere
from ptdoc.session_store import LOCK_IDLE_MINUTES, workstation
from ptdoc.ui.models import SessionListModel

ROOT = Path(__file__).resolve().parent.parent
SETS = 2  # the flowsheet's column

pytestmark = pytest.mark.server


def status_text(window, row: int = 0) -> str:
    model = window.model
    return model.data(model.index(row, SessionListModel.COL_STATUS))


def test_a_draft_open_elsewhere_opens_read_only_and_a_stale_one_can_be_taken_over(
        qtbot, clinic: Clinic, db_target, monkeypatch, artifacts: Path):
    draft = clinic.complete_draft("pt")
    there = other_workstation(clinic, db_target, "pt")  # the same therapist, another computer
    asleep = other_workstation(clinic, db_target, "pt", -(LOCK_IDLE_MINUTES + 5))
    win = main_window(qtbot, clinic.as_("pt"))
    try:
        assert there.open_for_editing(draft.id) is None
        qtbot.keyClick(win.table, Qt.Key.Key_Return)
        editor = win.editor
        assert editor is not None and editor.read_only
        since = f"{local(NOW, clinic.store.clinic.time_zone()):%H:%M}"
        assert f"read only: Open on {workstation()} by PT User, PT since {since}" in \
            editor.banner.text()
        assert editor.steps[0].isVisible() and not editor.take_over_button.isVisible()
        win.grab().save(str(artifacts / "draft-open-elsewhere.png"))
        # What the other workstation saves shows here; once it closes the note, it is
        # editable here, within seconds and without reopening it.
        there.save_draft(replace(draft, assessment="Typed on the other workstation."))
        box = editor.steps[2].assessment
        qtbot.waitUntil(lambda: box.toPlainText() == "Typed on the other workstation.",
                        timeout=5000)
        assert editor.read_only and box.isReadOnly()
        there.release_draft(draft.id)
        qtbot.waitUntil(lambda: not editor.read_only, timeout=5000)
        assert "draft, saved as you go" in editor.banner.text() and not box.isReadOnly()
        assert there.open_for_editing(draft.id) is not None  # held here now
        qtbot.keyClick(editor, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert win.editor is None

        # One that then went idle holds it.
        assert asleep.open_for_editing(draft.id) is None
        qtbot.keyClick(win.table, Qt.Key.Key_Return)
        editor = win.editor
        assert editor.read_only and editor.take_over_button.isVisible()
        assert "; idle since " in editor.banner.text()
        asked = []
        monkeypatch.setattr(QMessageBox, "question", lambda _parent, _title, text, *_a:
                            asked.append(text) or QMessageBox.StandardButton.Yes)
        qtbot.mouseClick(editor.take_over_button, Qt.MouseButton.LeftButton)
        assert asked and asked[0].startswith(f"Open on {workstation()} by PT User, PT")
        assert not editor.read_only and "draft, saved as you go" in editor.banner.text()
        assert not editor.take_over_button.isVisible()
        # What the idle workstation still has on screen is no longer saved over it.
        with pytest.raises(DraftOpenElsewhere):
            asleep.save_draft(asleep.store.sessions.get(draft.id))
        qtbot.keyClick(editor, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert win.editor is None
        assert there.open_for_editing(draft.id) is None  # closing the note released it
    finally:
        win.close()
        there.store.close()
        asleep.store.close()


def test_the_plan_of_care_says_why_it_is_read_only(qtbot, clinic: Clinic, db_target,
                                                   artifacts: Path):
    """A PT's progress report open on another workstation: its plan of care is read-only
    here because the note is open there, not because of who is reading it."""
    ws = clinic.as_("pt")
    report = ws.save_draft(ws.new_session(clinic.patient.id, TODAY, clinic.episode.id,
                                          NoteType.PROGRESS_REPORT))
    there = other_workstation(clinic, db_target, "pt")
    win = main_window(qtbot, ws)
    try:
        assert there.open_for_editing(report.id) is None
        editor = open_from_day(qtbot, win, report.id)
        plan = editor.steps[0].plan
        qtbot.waitUntil(plan.isVisible)
        since = f"{local(NOW, clinic.store.clinic.time_zone()):%H:%M}"
        assert plan.note.text() == (f"Read-only: Open on {workstation()} by PT User, PT since "
                                    f"{since}.")
        assert plan.physician.isReadOnly() and looks_read_only(plan.physician)
        qtbot.wait(300)  # laid out, for the picture
        win.grab().save(str(artifacts / "plan-of-care-open-elsewhere.png"))
        there.release_draft(report.id)
        qtbot.waitUntil(lambda: not editor.read_only, timeout=5000)
        assert plan.note.text().startswith("Update the goals")
        assert not plan.physician.isReadOnly() and not looks_read_only(plan.physician)
    finally:
        win.close()
        there.store.close()


SIGNER = """
import datetime as dt, sys
from ptdoc.store import Store
from ptdoc.services import Workspace
store = Store.open(sys.argv[1])
today, now = dt.date.fromisoformat(sys.argv[3]), dt.datetime.fromisoformat(sys.argv[4])
ws = Workspace(store, store.users.by_username("pt"), today=lambda: today, now=lambda: now)
ws.sign(int(sys.argv[2]), ws.prove_signer(sys.stdin.readline().strip()))
store.close()
"""


@pytest.mark.slow
def test_a_note_signed_on_another_workstation_shows_in_the_day_view(
        qtbot, clinic: Clinic, db_target, artifacts: Path):
    draft = clinic.complete_draft("pt")
    other = clinic.admin.add_patient(Patient("MRN-2", "Bo", "Park", dt.date(1960, 1, 2),
                                             clinic.payer.id))
    plan = clinic.admin.add_episode(replace(clinic.episode, id=None, patient_id=other.id))
    clinic.complete_draft("dpt", patient=other, episode=plan)  # a row that stays as it was
    win = main_window(qtbot, clinic.as_("desk"))
    try:
        ids = [win.model.row_at(r).id for r in range(win.model.rowCount())]
        row = ids.index(draft.id)
        before = status_text(win, row)
        assert before != "Signed"
        win.table.setCurrentIndex(win.model.index(1 - row, 0))  # the desk is on the other row
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-c", SIGNER, str(db_target), str(draft.id),
                        TODAY.isoformat(), NOW.isoformat()], input=PASSWORD + "\n",
                       text=True, env=env, check=True, timeout=60)
        started = dt.datetime.now()
        qtbot.waitUntil(lambda: status_text(win, row) == "Signed", timeout=5000)
        assert (dt.datetime.now() - started).total_seconds() < 5
        assert status_text(win, 1 - row) == before
        assert win.table.currentIndex().row() == 1 - row  # the keyboard stayed where it was
        assert "1 signed, 1 draft" in win.summary.text()
        win.grab().save(str(artifacts / "day-view-signed-elsewhere.png"))
    finally:
        win.close()


def test_a_lost_listening_connection_is_made_again(qtbot, clinic: Clinic, db_target,
                                                   backend: str, monkeypatch):
    if backend != "postgres":
        pytest.skip("a file has no listening connection")
    monkeypatch.setattr("ptdoc.ui.live.RECONNECT_MS", 200)
    draft = clinic.complete_draft("pt")
    win = main_window(qtbot, clinic.as_("desk"))
    there = other_workstation(clinic, db_target, "pt")
    try:
        listener = win.live.changes._listener.raw.info.backend_pid
        there.store.db.execute("SELECT pg_terminate_backend(?)", [listener])
        # The window neither crashes nor spins on the dead socket; it listens again.
        qtbot.waitUntil(lambda: win.live.changes is not None and
                        win.live.changes._listener.raw.info.backend_pid != listener,
                        timeout=5000)
        sign(there, draft.id)
        qtbot.waitUntil(lambda: status_text(win) == "Signed", timeout=5000)
    finally:
        win.close()
        there.store.close()


def looks_read_only(box) -> bool:
    """Whether a text field (or a table's empty part) is painted as read-only (the window's
    colour) rather than as a field to type in (the base colour): read from its pixels, away
    from its text."""
    image = box.grab().toImage()
    inside = image.pixelColor(box.width() - 12, box.height() - 8)
    palette = QApplication.palette()  # the field's own follows the style sheet
    window, base = (palette.color(role) for role in (QPalette.ColorRole.Window,
                                                     QPalette.ColorRole.Base))
    assert window != base and inside in (window, base)
    return inside == window


@pytest.mark.slow
@pytest.mark.parametrize("holder", ["pt", "dpt"])
def test_a_killed_holder_frees_the_draft_shown_read_only(qtbot, clinic: Clinic, db_target,
                                                          backend: str, holder: str,
                                                          artifacts: Path):
    """The same clinician on another computer, or another clinician who took the draft over
    there: killed, its draft is this window's to edit at once, nothing said reloaded (nothing
    changed) and no take-over asked."""
    draft = clinic.complete_draft("pt")
    name = clinic.users[holder].display
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_target), str(draft.id),
                              holder], stdout=subprocess.PIPE, text=True, env=env)
    win = main_window(qtbot, clinic.as_("pt"))
    try:
        assert child.stdout.readline().strip() == "holding"
        editor = open_from_day(qtbot, win, draft.id)
        box = editor.steps[2].assessment
        assert editor.read_only and box.isReadOnly()
        assert f"read only: Open on {workstation()} by {name} since " in editor.banner.text()
        assert not editor.take_over_button.isVisible()
        step(qtbot, editor, 3)
        table = editor.steps[2].table
        assert looks_read_only(box) and looks_read_only(table.viewport())
        win.grab().save(str(artifacts / f"draft-held-elsewhere-{holder}-{backend}.png"))
        child.send_signal(signal.SIGKILL)  # no word sent: the window finds out by asking
        child.wait(timeout=10)
        qtbot.waitUntil(lambda: not editor.read_only, timeout=15000)
        assert "draft, saved as you go" in editor.banner.text()
        assert editor.status_label.text().startswith(
            f"No longer open on {workstation()} (closed or stopped there): you can edit it "
            "here now")
        assert "Reloaded" not in editor.status_label.text()
        assert not editor.take_over_button.isVisible()
        assert not box.isReadOnly() and not looks_read_only(box)
        assert not looks_read_only(table.viewport())
        win.grab().save(str(artifacts / f"draft-free-after-kill-{holder}-{backend}.png"))
        retype(qtbot, box, "Written here after the other window stopped.")
        assert clinic.store.sessions.get(draft.id).assessment == \
            "Written here after the other window stopped."
        detail = clinic.store.db.execute(
            "SELECT detail FROM audit WHERE action = 'lock taken' AND entity_id = ?",
            [draft.id]).fetchone()[0]
        assert detail.startswith(f"from {holder} on {workstation()} (process {child.pid}; "
                                 "held since")
        assert detail.endswith(f"taken on {workstation()}")
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        win.close()


@pytest.mark.slow
def test_a_killed_holder_of_a_note_another_may_only_read_changes_nothing_there(
        qtbot, clinic: Clinic, db_target):
    """A PTA reading a PT's draft while the PT's window holds it: killed there, the note stays
    read-only for the PTA, saying why now, and nothing is said reloaded."""
    draft = clinic.complete_draft("pt")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_target), str(draft.id)],
                             stdout=subprocess.PIPE, text=True, env=env)
    win = main_window(qtbot, clinic.as_("pta"))
    try:
        assert child.stdout.readline().strip() == "holding"
        editor = open_from_day(qtbot, win, draft.id)
        assert f"read only: Open on {workstation()} by PT User, PT since " in \
            editor.banner.text()
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
        qtbot.waitUntil(lambda: editor.holder is None, timeout=15000)
        assert editor.read_only and "read only: a draft by PT User, PT" in editor.banner.text()
        assert editor.status_label.text().startswith(
            f"No longer open on {workstation()} (closed or stopped there); read only here "
            "still: a draft by PT User, PT")
        assert not editor.take_over_button.isVisible()  # a PTA does not take a PT's note
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=10)
        win.close()


def test_a_draft_taken_over_and_closed_there_is_editable_again_by_its_first_writer(
        qtbot, clinic: Clinic, db_target, monkeypatch, artifacts: Path):
    """James's draft, taken over by Maria on another workstation: read-only at James's (not
    signable there, saying where it is open) while she has it open; once she closes it, his
    window edits it again, and so does reopening it."""
    draft = clinic.complete_draft("pt")
    james = main_window(qtbot, clinic.as_("pt"))
    maria = main_window(qtbot, other_workstation(clinic, db_target, "dpt"))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *_a: QMessageBox.StandardButton.Yes)
    try:
        theirs = open_from_day(qtbot, maria, draft.id)
        assert theirs.read_only and "read only: a draft by PT User, PT" in theirs.banner.text()
        qtbot.mouseClick(theirs.take_over_button, Qt.MouseButton.LeftButton)
        assert not theirs.read_only

        james.activateWindow()
        qtbot.waitUntil(james.isActiveWindow)
        editor = open_from_day(qtbot, james, draft.id)
        since = f"{local(NOW, clinic.store.clinic.time_zone()):%H:%M}"
        where = f"Open on {workstation()} by DPT User, DPT since {since}"
        assert editor.read_only and f"read only: {where}" in editor.banner.text()
        step(qtbot, editor, 6)
        sign_step = editor.steps[5]
        assert sign_step.state.text() == (f"Not signable here: {where}. Sign it there, or "
                                          "here once it is closed there.")
        assert not sign_step.secret.isEnabled() and not sign_step.sign_button.isEnabled()
        assert not editor.take_over_button.isVisible()
        james.grab().save(str(artifacts / "sign-step-open-elsewhere.png"))

        maria.activateWindow()
        qtbot.waitUntil(maria.isActiveWindow)
        qtbot.keyClick(theirs, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert maria.editor is None
        # Her lock is gone with her note: his window edits it, without reopening it.
        qtbot.waitUntil(lambda: not editor.read_only, timeout=5000)
        assert "draft, saved as you go" in editor.banner.text()
        assert sign_step.state.text() == "Nothing blocks: type your password or PIN and sign."
        assert sign_step.secret.isEnabled()
        james.activateWindow()
        qtbot.waitUntil(james.isActiveWindow)
        qtbot.keyClick(editor, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert james.editor is None
        # Reopened: his to edit, as it was before she took it over.
        editor = open_from_day(qtbot, james, draft.id)
        assert not editor.read_only and "draft, saved as you go" in editor.banner.text()
        step(qtbot, editor, 3)
        retype(qtbot, editor.steps[2].assessment, "Finished by James.")
        assert clinic.store.sessions.get(draft.id).assessment == "Finished by James."
        james.grab().save(str(artifacts / "draft-editable-again-after-take-over.png"))
    finally:
        james.close()
        maria.close()
        maria.workspace.store.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_window_open_across_a_server_restart_holds_its_draft_again(
        qtbot, clinic: Clinic, db_target, pg_server):
    draft = clinic.complete_draft("pt")
    win = main_window(qtbot, clinic.as_("pt"))
    there = other_workstation(clinic, db_target, "pt")
    try:
        editor = open_from_day(qtbot, win, draft.id)
        assert not editor.read_only and there.draft_holder(draft.id) is not None
        drop_every_connection(pg_server, db_target)  # the window's connection ends too
        connected_again(there)
        # Without a word from anyone, the window connects again and holds the draft again
        # (until then the draft reads as free: its holder's connection has ended).
        qtbot.waitUntil(lambda: there.draft_holder(draft.id) is not None, timeout=15000)
        holder = there.open_for_editing(draft.id)
        assert holder is not None and not holder.stale
        assert not editor.read_only
        step(qtbot, editor, 3)
        retype(qtbot, editor.steps[2].assessment, "Typed after the restart.")
        assert editor.status_label.text().startswith("Saved")
        assert there.store.sessions.get(draft.id).assessment == "Typed after the restart."
    finally:
        win.close()
        there.store.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_draft_taken_while_the_server_was_away_turns_read_only_keeping_what_was_typed(
        qtbot, clinic: Clinic, db_target, pg_server, artifacts: Path):
    draft = clinic.complete_draft("pt")
    win = main_window(qtbot, clinic.as_("pt"))
    name = urlsplit(str(db_target)).path.lstrip("/")
    there = None
    try:
        editor = open_from_day(qtbot, win, draft.id)
        assert not editor.read_only
        step(qtbot, editor, 3)
        box = editor.steps[2].assessment
        table = editor.steps[2].table
        pg_server.cut_off(name)
        try:
            retype(qtbot, box, "Typed while the server was away.")
            type_in_cell(qtbot, table, 0, SETS, "4")
            assert editor.status_label.text().startswith("Not saved: server unreachable")
        finally:
            pg_server.let_in(name)
        # Before this window reaches the server again, another workstation takes the draft.
        there = other_workstation(clinic, db_target, "pt")
        assert there.open_for_editing(draft.id) is None
        qtbot.waitUntil(lambda: editor.read_only, timeout=20000)
        assert f"read only: Open on {workstation()} by PT User" in editor.banner.text()
        assert editor.status_label.text().startswith(
            f"Read-only now: Open on {workstation()} by PT User, PT since ")
        assert "; what you typed and was not saved stays in red" in editor.status_label.text()
        assert box.toPlainText() == "Typed while the server was away."
        assert box.isReadOnly() and box.property("refused")
        assert any(f.code == "VALUE_REFUSED" and "Typed while the server" in f.message
                   for f in editor.review.findings)
        assert table.model().index(0, SETS).data() == "3"  # as stored; as typed here, in red:
        assert editor.refused["exercises"].text.startswith("Sit to stand · new · 4 · 10 · 4 · lb")
        assert "Step ups" not in editor.refused["exercises"].text  # that row is as stored
        win.grab().save(str(artifacts / "draft-taken-while-away.png"))
        assert there.store.sessions.get(draft.id).assessment == draft.assessment
        # Still held there: this window does not take it back.
        qtbot.wait(3500)
        assert there.holds_draft(draft.id) and editor.read_only
        # Closing asks before what was typed here goes.
        asked = []
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(QMessageBox, "question", lambda _parent, _title, text, *_a:
                          asked.append(text) or QMessageBox.StandardButton.No)
            qtbot.keyClick(editor, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert asked and "Typed while the server was away." in asked[0]
        assert "Exercises rows: 'Sit to stand · new · 4 · 10 · 4 · lb" in asked[0]
        assert win.editor is editor
        # Escape in the table forgets the rows kept, as in a field it forgets what it holds.
        click_cell(qtbot, table, 0, 0)
        qtbot.keyClick(table, Qt.Key.Key_Escape)
        assert "exercises" not in editor.refused and "assessment" in editor.refused
    finally:
        win.close()
        if there is not None:
            there.store.close()


def test_the_open_draft_idle_time_is_a_clinic_setting(qtbot, clinic: Clinic, db_target,
                                                      artifacts: Path):
    window = main_window(qtbot, clinic.as_("boss"))
    try:
        admin = admin_clinic_tab(qtbot, window)
        form = admin.clinic.form
        assert form.draft_idle.value() == LOCK_IDLE_MINUTES  # ptdoc's rule until set
        fill(qtbot, "m", "Lakeside Physical Therapy")
        assert fill(qtbot, "r", "45") is form.draft_idle
        alt(qtbot, "v", button=True)
        assert admin.clinic.message.text() == "✓ Clinic settings saved."
        admin.grab().save(str(artifacts / "admin-clinic-draft-idle.png"))
        assert clinic.store.clinic.get().draft_idle_minutes == 45
        admin.close()
    finally:
        window.close()
    # A draft left open elsewhere 44 minutes ago is not idle any more; 45 minutes ago it is.
    draft = clinic.complete_draft("pt")
    for minutes, idle in ((44, False), (45, True)):
        there = other_workstation(clinic, db_target, "pt", -minutes)
        try:
            assert there.open_for_editing(draft.id, stale_too=True) is None
            holder = clinic.as_("dpt").draft_holder(draft.id)
            assert holder is not None and holder.idle == idle
        finally:
            there.store.close()
