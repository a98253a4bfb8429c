"""A password an administrator gave is temporary: signing in with it in the window goes
through "Choose your new password" in the same form, at start and on the lock screen."""

from __future__ import annotations

from pathlib import Path

from conftest import PASSWORD, Clinic
from driving import main_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from ptdoc.access import login
from ptdoc.errors import PermissionDenied
from ptdoc.ui.login import NOT_CHANGED, LoginDialog, SignInForm

TEMPORARY = "given-by-boss"


def reset_by_the_administrator(clinic: Clinic, username: str) -> None:
    clinic.as_("boss").set_password(clinic.users[username].id, TEMPORARY)


def type_in(qtbot, text: str) -> None:
    qtbot.keyClicks(QApplication.focusWidget(), text)


def choose(qtbot, new: str, again: str) -> None:
    """Both fields of the new password, as typed: the first, Tab, the second, Enter."""
    type_in(qtbot, new)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)
    type_in(qtbot, again)
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)


def sign_in_with(qtbot, form: SignInForm, username: str, secret: str) -> None:
    form.user_box.setFocus()
    form.user_box.setCurrentIndex(form.user_box.findData(username))
    qtbot.keyClick(form.user_box, Qt.Key.Key_Tab)
    assert QApplication.focusWidget() is form.secret
    type_in(qtbot, secret)
    qtbot.keyClick(form.secret, Qt.Key.Key_Return)


def open_dialog(qtbot, clinic: Clinic) -> LoginDialog:
    dialog = LoginDialog(clinic.store, "Test Clinic")
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.activateWindow()
    qtbot.waitUntil(dialog.isActiveWindow)
    return dialog


def user_rows(clinic: Clinic, username: str) -> list[tuple[str, str, str]]:
    """The audit rows about one user, oldest first."""
    entries = clinic.store.audit.entries("user", clinic.users[username].id)
    return [(e["actor"], e["action"], e["detail"]) for e in reversed(entries)]


def test_a_temporary_password_signs_in_only_through_choosing_a_new_one(
        qtbot, clinic: Clinic, artifacts: Path) -> None:
    reset_by_the_administrator(clinic, "pta")
    key_before = clinic.store.keys.current(clinic.users["pta"].id).key_id
    dialog = open_dialog(qtbot, clinic)
    form = dialog.form
    sign_in_with(qtbot, form, "pta", TEMPORARY)
    assert dialog.isVisible() and dialog.user is None
    assert form.choosing_password and not form.secret.isVisible()
    assert "Choose your new password" in form.change_heading.text()
    assert "PTA User" in form.change_heading.text()
    assert QApplication.focusWidget() is form.new_password.password
    assert form.ok_button.text() == "Save and sign in"
    before = len(user_rows(clinic, "pta"))

    # refusals beside the field, which gets the focus; nothing is changed, the step stays
    choose(qtbot, "short", "short")
    assert "at least 8 characters" in form.new_password.error_text("password")
    assert QApplication.focusWidget() is form.new_password.password
    choose(qtbot, TEMPORARY, TEMPORARY)
    assert "your current one" in form.new_password.error_text("password")
    assert QApplication.focusWidget() is form.new_password.password
    choose(qtbot, "my-own-secret", "my-own-secrat")
    assert "differ" in form.new_password.error_text("password_again")
    assert form.new_password.error_text("password") == ""
    assert QApplication.focusWidget() is form.new_password.again
    assert dialog.isVisible() and dialog.user is None and form.choosing_password
    assert clinic.store.users.must_change_password(clinic.users["pta"].id)
    qtbot.wait(20)  # the layout settles as it would on screen
    (artifacts / "password").mkdir(exist_ok=True)
    dialog.grab().save(str(artifacts / "password" / "choose-new-refused.png"))
    type_in(qtbot, "my-own-secret")  # the wrong one was selected: typing replaces it
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(form.new_password.again, Qt.Key.Key_Return)
    assert dialog.user is not None and dialog.user.username == "pta"

    rows = user_rows(clinic, "pta")
    # the new password is theirs now, with their own new key pair; the temporary one is gone
    assert not clinic.store.users.must_change_password(clinic.users["pta"].id)
    assert clinic.store.keys.current(clinic.users["pta"].id).key_id != key_before
    assert login(clinic.store, "pta", "my-own-secret").username == "pta"
    try:
        login(clinic.store, "pta", TEMPORARY)
        raise AssertionError("the temporary password still signs in")
    except PermissionDenied as exc:
        assert "wrong password" in str(exc)
    assert rows[before - 2:before] == [("pta", "login", "sign-in"),
                                       ("pta", "denied", "MUST_CHANGE_PASSWORD")]
    *_, proved, changed, keyed, signed = rows  # the change, as the user's own acts
    assert (proved, changed, signed) == (("pta", "login", "password"),
                                         ("pta", "admin", "password"),
                                         ("pta", "login", "sign-in"))
    assert keyed[:2] == ("pta", "admin") and keyed[2].startswith("signing key")
    assert ("boss", "admin", "temporary password") in rows


def test_cancel_leaves_them_signed_out_and_the_password_temporary(
        qtbot, clinic: Clinic, artifacts: Path) -> None:
    reset_by_the_administrator(clinic, "pt")
    dialog = open_dialog(qtbot, clinic)
    form = dialog.form
    sign_in_with(qtbot, form, "pt", TEMPORARY)
    assert form.choosing_password
    type_in(qtbot, "half-typed")
    qtbot.wait(20)
    (artifacts / "password").mkdir(exist_ok=True)
    dialog.grab().save(str(artifacts / "password" / "choose-new-password.png"))
    qtbot.mouseClick(form.cancel_button, Qt.MouseButton.LeftButton)
    assert dialog.isVisible() and dialog.user is None  # still the sign-in dialog
    assert not form.choosing_password and form.secret.isVisible()
    assert form.secret.text() == "" and form.message.text() == NOT_CHANGED
    assert form.ok_button.text() == "Sign in" and form.cancel_button.text() == "Cancel"
    assert clinic.store.users.must_change_password(clinic.users["pt"].id)
    assert login(clinic.store, "pt", TEMPORARY, temporary_ok=True).username == "pt"
    # an ordinary password still signs straight in, and one wrong Enter is one failure
    failures = len([r for r in user_rows(clinic, "dpt") if r[1] == "login failed"])
    sign_in_with(qtbot, form, "dpt", "not-it")
    assert "wrong password" in form.message.text()
    assert len([r for r in user_rows(clinic, "dpt") if r[1] == "login failed"]) \
        == failures + 1
    form.secret.selectAll()
    type_in(qtbot, PASSWORD)
    with qtbot.waitSignal(dialog.accepted):
        qtbot.keyClick(form.secret, Qt.Key.Key_Return)
    assert dialog.user is not None and dialog.user.username == "dpt"


def test_the_lock_screen_asks_for_the_new_password_too(qtbot, clinic: Clinic,
                                                         artifacts: Path) -> None:
    window = main_window(qtbot, clinic.as_("desk"), (1280, 760))
    reset_by_the_administrator(clinic, "aide")
    qtbot.keyClick(window.table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.locked
    form = window.lock_screen.form
    sign_in_with(qtbot, form, "aide", TEMPORARY)
    assert window.locked and form.choosing_password
    assert form.cancel_button.text() == "Cancel"  # not the lock screen's Quit
    (artifacts / "password").mkdir(exist_ok=True)
    qtbot.mouseClick(form.cancel_button, Qt.MouseButton.LeftButton)
    assert window.isVisible() and window.locked and form.message.text() == NOT_CHANGED
    assert form.cancel_button.text() == "Quit"
    sign_in_with(qtbot, form, "aide", TEMPORARY)
    qtbot.wait(20)
    window.grab().save(str(artifacts / "password" / "lock-screen-choose-new.png"))
    choose(qtbot, "aide-chosen", "aide-chosen")
    qtbot.waitUntil(lambda: not window.locked)
    assert window.workspace.actor.username == "aide"
    assert "AIDE User" in window.signed_in.text()
    assert login(clinic.store, "aide", "aide-chosen").username == "aide"
    window.close()
