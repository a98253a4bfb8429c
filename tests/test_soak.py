"""A clinic day's worth of typing in one window process: it stays alive and saves what it shows.

PySide6 6.12.0 made the window abort after about 1,100 typed characters (a reference to None
dropped on every void Qt call). The soak runs in a child process so an abort is a failed test,
not a dead test runner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TODAY, Clinic

from ptdoc.store import Store

ROOT = Path(__file__).resolve().parent.parent
CHARACTERS = 5000


@pytest.mark.slow
def test_five_thousand_typed_characters_and_mouse_moves(clinic: Clinic, db_target):
    draft = clinic.complete_draft("pt", TODAY)
    clinic.store.close()
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
               QT_QPA_PLATFORM="offscreen")
    child = subprocess.run([sys.executable, str(ROOT / "tests" / "soak_window.py"),
                            str(db_target), str(draft.id), TODAY.isoformat(), str(CHARACTERS)],
                           capture_output=True, text=True, env=env, timeout=600)
    assert child.returncode == 0, f"the window process died ({child.returncode}): " \
                                  f"{child.stderr[-2000:]}"
    report = json.loads(child.stdout.strip().splitlines()[-1])
    assert report["typed"] >= CHARACTERS
    if sys.version_info < (3, 12):  # None is immortal from 3.12 on
        assert report["none_lost"] < 1000, report["none_lost"]
    shown = report["shown"]
    assert shown["refused"] == 0
    with Store.open(db_target) as store:
        saved = store.sessions.get(draft.id)
    assert saved.time_in.strftime("%H:%M") == shown["time_in"]
    assert saved.time_out.strftime("%H:%M") == shown["time_out"]
    assert saved.patient_response == shown["patient_response"]
    assert saved.assessment == shown["assessment"]
    assert saved.home_program == shown["home_program"]
    assert str(saved.exercises[0].reps) == shown["reps"]
    assert saved.exercises[1].response == shown["response_1"]
    assert saved.exercises[0].modification == shown["modification_0"]
    assert str(saved.total_treatment_minutes) == shown["total"]
    assert saved.assessment.startswith(f"Round {report['rounds']}: ")
