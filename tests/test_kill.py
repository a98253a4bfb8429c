"""Killing the process mid-session loses at most the edit being made (a real SIGKILL)."""

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import Clinic

from ptdoc.store import Store

CHILD = textwrap.dedent("""
    import sys, time
    from dataclasses import replace
    from ptdoc.domain import ExerciseEntry
    from ptdoc.services import Workspace
    from ptdoc.store import Store

    store = Store.open(__import__("ptdoc.paths").paths.db_target(sys.argv[1]))
    ws = Workspace(store, store.users.by_username("pt"))
    session = ws.new_session(int(sys.argv[2]), __import__("datetime").date.today())
    print("created", session.id, flush=True)
    i = 0
    while True:  # a therapist typing: every field edit is saved as it happens
        i += 1
        session = replace(session, assessment=f"edit {i}",
                          exercises=session.exercises + (ExerciseEntry(f"Exercise {i}", sets=2,
                                                                       reps=10),))
        session = ws.save_draft(session)
        print("saved", i, flush=True)
        time.sleep(0.002)
""")


@pytest.mark.slow
def test_sigkill_during_editing_loses_at_most_the_current_edit(clinic: Clinic,
                                                               db_target) -> None:
    patient_id = clinic.patient.id
    clinic.store.close()
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db_target), str(patient_id)],
                             stdout=subprocess.PIPE, text=True, env=env)
    assert child.stdout is not None
    session_id = int(child.stdout.readline().split()[1])
    confirmed = 0
    for line in child.stdout:
        confirmed = int(line.split()[1])
        if confirmed >= 40:
            break
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    with Store.open(db_target) as store:
        session = store.sessions.get(session_id)
    saved = int(session.assessment.split()[1])
    assert saved >= confirmed  # everything confirmed before the kill is there
    assert len(session.exercises) == saved  # and the draft is whole, never half-written
    assert [e.name for e in session.exercises] == [f"Exercise {i}" for i in range(1, saved + 1)]
