"""Two workstations, two processes, one clinic: this test's window is one, a child process
signed in as the same therapist at another computer is the other (another clinician's draft
is refused anyway). Concurrent drafts are both saved, a draft open on one is refused on the
other, a signature on one shows in the other's day view within seconds, and a workstation
killed while holding a draft frees it (at once on a server; on a file the window that opens
it next sees its process gone and takes it, audited)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import NOW, PASSWORD, TODAY, Clinic
from driving import main_window
from PySide6.QtCore import Qt

from ptdoc.domain import Patient
from ptdoc.session_store import workstation
from ptdoc.ui.models import SessionListModel

ROOT = Path(__file__).resolve().parent.parent

pytestmark = [pytest.mark.server, pytest.mark.slow]

# The other workstation: one command a line on stdin, one answer a line on stdout.
WORKSTATION = """
import datetime as dt, sys
from dataclasses import replace
from ptdoc.errors import KnownError
from ptdoc.services import Workspace
from ptdoc.store import Store
target, username, today, now = sys.argv[1:5]
today, now = dt.date.fromisoformat(today), dt.datetime.fromisoformat(now)
store = Store.open(target)
ws = Workspace(store, store.users.by_username(username), today=lambda: today,
               now=lambda: now)
for line in sys.stdin:
    command, sid, *rest = line.split(maxsplit=2)
    sid = int(sid)
    try:
        if command == "open":
            holder = ws.open_for_editing(sid)
            answer = "held" if holder is None else ws.holder_text(holder)
        elif command == "save":
            ws.save_draft(replace(store.sessions.get(sid), assessment=rest[0].strip()))
            answer = "saved"
        elif command == "sign":
            ws.sign(sid, ws.prove_signer(rest[0].strip()))
            answer = "signed"
    except KnownError as exc:
        answer = str(exc)
    print(answer, flush=True)
"""


class Workstation:
    def __init__(self, target: object, username: str):
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.process = subprocess.Popen(
            [sys.executable, "-c", WORKSTATION, str(target), username, TODAY.isoformat(),
             NOW.isoformat()], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            env=env)

    def ask(self, line: str) -> str:
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        return self.process.stdout.readline().strip()

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)


def status_of(window, session_id: int) -> str:
    model = window.model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).id == session_id)
    return model.data(model.index(row, SessionListModel.COL_STATUS))


def open_from_day(qtbot, window, session_id: int):
    model = window.model
    row = next(r for r in range(model.rowCount()) if model.row_at(r).id == session_id)
    window.table.setFocus()
    window.table.setCurrentIndex(model.index(row, SessionListModel.COL_PATIENT))
    qtbot.keyClick(window.table, Qt.Key.Key_Return)
    assert window.editor is not None
    return window.editor


def test_two_workstations_on_one_clinic(qtbot, clinic: Clinic, db_target, backend: str):
    mine = clinic.complete_draft("pt")
    other = clinic.admin.add_patient(Patient("MRN-2", "Bo", "Park", dt.date(1960, 1, 2),
                                             clinic.payer.id))
    plan = clinic.admin.add_episode(replace(clinic.episode, id=None, patient_id=other.id))
    theirs = clinic.complete_draft("pt", patient=other, episode=plan)
    window = main_window(qtbot, clinic.as_("pt"))
    front = Workstation(db_target, "pt")  # the same therapist, at the other computer
    try:
        # Concurrent drafts: each workstation edits its own, both are saved.
        editor = open_from_day(qtbot, window, mine.id)
        assert not editor.read_only
        assert front.ask(f"open {theirs.id}") == "held"
        box = editor.steps[2].assessment
        qtbot.keyClick(editor, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
        box.setFocus()
        qtbot.keyClick(box, Qt.Key.Key_End, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(box, " Typed here.")
        box.clearFocus()  # leaving the field saves it
        assert front.ask(f"save {theirs.id} Typed on the other workstation.") == "saved"
        assert clinic.store.sessions.get(mine.id).assessment.endswith("Typed here.")
        assert clinic.store.sessions.get(theirs.id).assessment == "Typed on the other workstation."

        # The draft open here is refused there, naming who has it and where.
        assert front.ask(f"open {mine.id}").startswith(f"Open on {workstation()} by PT User")
        assert front.ask(f"save {mine.id} Overwritten.").startswith(
            f"Not saved: Open on {workstation()} by PT User, PT since")
        assert "Overwritten" not in clinic.store.sessions.get(mine.id).assessment

        # A signature there shows in this window's day view within seconds.
        assert front.ask(f"sign {theirs.id} {PASSWORD}") == "signed"
        qtbot.waitUntil(lambda: status_of(window, theirs.id) == "Signed", timeout=5000)

        # Closing the note here frees it for the other workstation, which then dies.
        qtbot.keyClick(editor, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert window.editor is None
        assert front.ask(f"open {mine.id}") == "held"
        front.kill()
        editor = open_from_day(qtbot, window, mine.id)
        if backend == "postgres":  # the server ended the killed workstation's connection
            qtbot.waitUntil(lambda: window.workspace.draft_holder(mine.id) is None,
                            timeout=5000)
            if editor.read_only:  # opened in the moment before the server noticed
                qtbot.keyClick(editor, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
                editor = open_from_day(qtbot, window, mine.id)
            assert not editor.read_only
        else:  # a file sees its process gone from this computer: nothing can be typed there
            assert not editor.read_only
            taken = clinic.store.db.execute(
                "SELECT detail FROM audit WHERE action = 'lock taken' AND entity_id = ?",
                [mine.id]).fetchone()[0]
            assert taken.startswith(f"from pt on {workstation()} (process {front.process.pid}")
            assert "its program was no longer running" in taken
        assert "draft, saved as you go" in editor.banner.text()
    finally:
        if front.process.poll() is None:
            front.kill()
        window.close()
