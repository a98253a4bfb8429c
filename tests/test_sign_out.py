"""A user the administrator disables is signed out at their next action, not at their next
sign-in: the services refuse (and audit) it, the window goes back to the sign-in screen."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import PASSWORD, TODAY, Clinic
from driving import main_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from test_cli import ptdoc

from ptdoc.errors import AccountDisabled
from ptdoc.permissions import Permission
from ptdoc.store import Store
from ptdoc.ui.main_window import MainWindow

MESSAGE = "Your account was disabled by the administrator"


def disable_elsewhere(db_target, username: str) -> None:
    """As another workstation would: its own connection to the same database file."""
    with Store.open(db_target) as other:
        user = other.users.by_username(username)
        assert user is not None
        other.users.update(replace(user, active=False))


def disable_with_the_command(db_target, username: str) -> None:
    result = ptdoc("--db", str(db_target), "user", "disable", username, "--user", "boss",
                   "--password-stdin", stdin=f"{PASSWORD}\n")
    assert result.returncode == 0, result.stderr


def test_the_services_refuse_a_disabled_user_and_audit_it(clinic: Clinic,
                                                          db_target) -> None:
    draft = clinic.complete_draft("pt", TODAY)
    pt = clinic.as_("pt")
    told: list[str] = []
    pt.on_disabled = lambda: told.append("disabled")
    assert pt.can(Permission.DOCUMENT)
    proof = pt.prove_signer(PASSWORD)
    disable_elsewhere(db_target, "pt")
    assert not pt.can(Permission.DOCUMENT)
    for attempt in (lambda: pt.open_session(draft.id),
                    lambda: pt.save_draft(replace(draft, assessment="changed")),
                    lambda: pt.sign(draft.id, proof), lambda: pt.note_pdf(draft.id)):
        with pytest.raises(AccountDisabled, match=MESSAGE):
            attempt()
    assert told == ["disabled"] * 4
    denied = [e for e in clinic.store.audit.entries()
              if e["action"] == "denied" and e["detail"] == "DISABLED"]
    assert len(denied) == 4 and {e["actor"] for e in denied} == {"pt"}
    assert clinic.store.sessions.get(draft.id).assessment == draft.assessment
    assert clinic.as_("dpt").open_session(draft.id).id == draft.id  # others go on
    assert clinic.admin.open_session(draft.id).id == draft.id  # and so does the command line


@pytest.fixture
def window(qtbot, clinic: Clinic) -> Iterator[MainWindow]:
    clinic.complete_draft("pt", TODAY)
    win = main_window(qtbot, clinic.as_("pt"), (1280, 760))
    yield win
    win.close()


def open_first_session(qtbot, window: MainWindow) -> None:
    window.table.setFocus()
    window.table.selectRow(0)
    qtbot.keyClick(window.table, Qt.Key.Key_Return)


def assert_signed_out(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.locked, timeout=3000)
    form = window.lock_screen.form
    assert MESSAGE in form.heading.text() and "locked" not in form.heading.text()
    assert window.editor is None and not window.table.isVisible()
    assert not window.new_action.isEnabled() and not window.summaries_action.isEnabled()
    assert form.user_box.findData("pt") == -1  # only active users are offered
    assert "Signed out" in window.signed_in.text()


def sign_in(qtbot, window: MainWindow, username: str) -> None:
    form = window.lock_screen.form
    form.user_box.setCurrentIndex(form.user_box.findData(username))
    qtbot.keyClicks(form.secret, PASSWORD)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)


def test_leaving_a_field_after_being_disabled_signs_out(qtbot, window: MainWindow,
                                                        clinic: Clinic, db_target,
                                                        artifacts: Path) -> None:
    open_first_session(qtbot, window)
    editor = window.editor
    assert editor is not None and not editor.read_only
    session_id = editor.session.id
    before = clinic.store.sessions.get(session_id)
    qtbot.keyClick(editor.step_list, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assessment = editor.steps[2].assessment
    assessment.setFocus()
    qtbot.keyClicks(assessment, " Typed after the account was disabled.")
    disable_elsewhere(db_target, "pt")
    qtbot.keyClick(assessment, Qt.Key.Key_Tab)  # leaving the field saves it: refused
    assert_signed_out(qtbot, window)
    qtbot.wait(20)  # the layout settles as it would on screen
    window.grab().save(str(artifacts / "signed-out-disabled.png"))
    stored = clinic.store.sessions.get(session_id)
    assert stored.assessment == before.assessment  # nothing saved in a disabled user's name
    # another user signs in and finds the day as it was
    sign_in(qtbot, window, "dpt")
    assert not window.locked and window.workspace.actor.username == "dpt"
    assert window.model.rowCount() == 1 and "DPT User" in window.signed_in.text()
    open_first_session(qtbot, window)
    assert window.editor is not None and window.editor.session == stored


@pytest.mark.parametrize("disable", [disable_with_the_command, disable_elsewhere],
                         ids=["ptdoc user disable", "another workstation"])
def test_opening_a_session_after_being_disabled_signs_out(
        qtbot, window: MainWindow, clinic: Clinic, db_target,
        disable: Callable[[Path, str], None]) -> None:
    disable(db_target, "pt")
    open_first_session(qtbot, window)
    assert_signed_out(qtbot, window)
    assert not window.notice.isVisible() or MESSAGE not in window.notice.text()
    sign_in(qtbot, window, "pt")  # the disabled user cannot come back
    assert window.locked


def test_printing_after_being_disabled_signs_out(qtbot, window: MainWindow,
                                                 db_target) -> None:
    disable_elsewhere(db_target, "pt")
    qtbot.keyClick(QApplication.focusWidget() or window, Qt.Key.Key_P,
                   Qt.KeyboardModifier.ControlModifier)
    assert_signed_out(qtbot, window)
