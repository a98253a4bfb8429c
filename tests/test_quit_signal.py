"""A logout (SIGTERM) or Ctrl+C (SIGINT) closes the window as its user would: the draft being
typed is saved, the database closed, and the process exits 0 without a traceback."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD, Clinic

from ptdoc import db as dbmod
from ptdoc.services import Workspace
from ptdoc.store import Store

ROOT = Path(__file__).resolve().parent.parent
TYPED = " Quit by the session's logout while typing."


@pytest.mark.slow
@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_window_quits_on_a_signal_saving_the_draft_being_typed(
        clinic: Clinic, db_target, number: signal.Signals, backend: str) -> None:
    # On a file, the running marker beside it says a window has it open (a server keeps none).
    marker = dbmod.running_marker(db_target) if backend == "sqlite" else None
    therapist = Workspace(clinic.store, clinic.users["pt"])  # today is the day view's day
    draft = therapist.new_session(clinic.patient.id or 0, therapist.today(), clinic.episode.id)
    clinic.store.close()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
               QT_QPA_PLATFORM="offscreen")
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "quit_window.py"), str(db_target), str(draft.id),
         TYPED, PASSWORD], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout is not None
        said = child.stdout.readline().strip()
        assert said == "typed", child.stderr.read() if child.stderr else said
        with Store.open(db_target) as store:  # still in the field: nothing saved yet
            assert not store.sessions.get(draft.id).assessment.endswith(TYPED)
        assert marker is None or marker.exists()

        child.send_signal(number)
        _out, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, f"exit {child.returncode}: {err[-2000:]}"
    assert "Traceback" not in err and "Error" not in err, err
    with Store.open(db_target) as store:
        assert store.sessions.get(draft.id).assessment.endswith(TYPED)
        # the window's draft lock went with it: the note is free for another workstation
        assert store.db.execute("SELECT count(*) FROM draft_locks WHERE session_id = ?",
                                [draft.id]).fetchone()[0] == 0
    assert marker is None or not marker.exists()  # a clean close, as the next start sees
