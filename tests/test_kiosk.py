"""A kiosk's start: ``ptdoc gui --user NAME --password-stdin`` opens the window signed in as
NAME, the password read from standard input (never the command line); a refusal is one line
and exit 2, and no window shows. ``--user`` alone chooses NAME in the sign-in form. Each is a
real process, offscreen, through ptdoc's command line (tests/kiosk_window.py says what shows)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PASSWORD, Clinic

from ptdoc.repositories import AuditAction

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.slow


def gui(db: object, *args: str, stdin: str = "", module: bool = False,
        shot: Path | None = None) -> subprocess.CompletedProcess:
    """``ptdoc gui --db DB ARGS`` in a process of its own, ``stdin`` on its standard input."""
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "tests")]),
               QT_QPA_PLATFORM="offscreen")
    env.pop("PTDOC_USER", None)
    if shot is not None:
        env["PTDOC_KIOSK_SHOT"] = str(shot)
    program = ["-m", "ptdoc"] if module else [str(ROOT / "tests" / "kiosk_window.py")]
    return subprocess.run([sys.executable, *program, "gui", "--db", str(db), *args],
                          input=stdin, capture_output=True, text=True, env=env, timeout=120)


def last_sign_in(clinic: Clinic) -> tuple[str, int | None]:
    row = next(iter(clinic.store.db.query(
        "SELECT action, user_id FROM audit WHERE action IN (?, ?) ORDER BY id DESC LIMIT 1",
        [AuditAction.LOGIN.value, AuditAction.LOGIN_FAILED.value])))
    return row["action"], row["user_id"]


def test_a_kiosk_starts_signed_in_with_the_password_from_standard_input(
        clinic: Clinic, db_target: object, artifacts: Path, backend: str) -> None:
    pt = clinic.users["pt"]
    shot = artifacts / f"kiosk-signed-in-{backend}.png"
    shot.unlink(missing_ok=True)
    done = gui(db_target, "--user", "pt", "--password-stdin", stdin=f"{PASSWORD}\n",
               shot=shot)
    assert done.returncode == 0, done.stderr
    assert done.stdout == f"window: Signed in as {pt.display} · ptdoc\n", done.stderr
    assert "Traceback" not in done.stderr
    assert last_sign_in(clinic) == (AuditAction.LOGIN.value, pt.id)
    assert shot.stat().st_size > 0

    # a wrong password: one line, exit 2, no window; the attempt is audited as any other
    refused = gui(db_target, "--user", "pt", "--password-stdin", stdin="not-the-password\n",
                  module=True)
    assert refused.returncode == 2 and refused.stdout == ""
    assert refused.stderr == "ptdoc: Unknown user name or wrong password/PIN.\n"
    assert last_sign_in(clinic) == (AuditAction.LOGIN_FAILED.value, pt.id)


def test_a_kiosk_start_that_cannot_sign_in_says_why_in_one_line(
        clinic: Clinic, db_target: object) -> None:
    clinic.as_("boss").set_secret("aide", "temporary-1")  # a reset: temporary until changed
    for args, stdin, why in (
            (["--user", "aide", "--password-stdin"], "temporary-1\n",
             "the password of aide was set by an administrator and is temporary"),
            (["--user", "nobody", "--password-stdin"], f"{PASSWORD}\n",
             "No active user 'nobody' in this clinic"),
            (["--password-stdin"], f"{PASSWORD}\n", "give --user NAME"),
            (["--user", "pt", "--password-stdin"], "",
             "standard input ended before the password or PIN of pt")):
        refused = gui(db_target, *args, stdin=stdin)
        assert refused.returncode == 2, (args, refused.stderr)
        assert refused.stdout == "", args  # neither the window nor the sign-in showed
        assert refused.stderr.count("\n") == 1 and refused.stderr.startswith("ptdoc: ")
        assert why in refused.stderr, refused.stderr


def test_the_user_alone_is_chosen_in_the_sign_in_form(clinic: Clinic, db_target: object,
                                                      artifacts: Path, backend: str) -> None:
    listed = [u.display for u in clinic.store.users.all(active_only=True)]
    chosen = next(u for u in clinic.users.values() if u.display != listed[0])
    shown = gui(db_target, "--user", chosen.username,
                shot=artifacts / f"kiosk-sign-in-chosen-{backend}.png")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"sign-in: {chosen.display}\n"  # its password is typed there
    assert gui(db_target).stdout == f"sign-in: {listed[0]}\n"
