"""Sign-in: pick a user, type the password or PIN, Enter. Used at start and to unlock.

A temporary password (one an administrator gave) signs in only through a second step of the
same form, "Choose your new password": the user's own change, which also makes their new
signing key pair. Cancel there leaves them signed out."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import User
from ptdoc.errors import KnownError, PasswordChangeRequired, PermissionDenied, ValidationError
from ptdoc.store import Store
from ptdoc.ui.widgets import hbox

if TYPE_CHECKING:
    from ptdoc.ui.admin_forms import PasswordForm

NOT_CHANGED = "Your password was not changed, and you are not signed in."


class SignInForm(QWidget):
    signed_in = Signal(object)  # the User
    cancelled = Signal()
    grown = Signal()  # the second step, or a refusal beside its field: a dialog fits it

    def __init__(self, store: Store, heading: str, cancel_text: str = "Cancel"):
        super().__init__(objectName="sign_in")
        self.store = store
        self.cancel_text = cancel_text
        self.user_box = QComboBox(objectName="login_user")
        self.secret = QLineEdit(objectName="login_secret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel(objectName="login_message")
        self.message.setWordWrap(True)
        self.heading = QLabel(heading, objectName="login_heading")
        self.heading.setWordWrap(True)
        sign_page = QWidget(objectName="sign_in_step")
        form = QFormLayout(sign_page)
        form.setContentsMargins(0, 0, 0, 0)
        user_label = QLabel("&User:")
        user_label.setBuddy(self.user_box)
        secret_label = QLabel("Pass&word or PIN:")
        secret_label.setBuddy(self.secret)
        form.addRow(user_label, self.user_box)
        form.addRow(secret_label, self.secret)
        # The second step: who signed in with a temporary password, and their new one.
        self.change_heading = QLabel(objectName="choose_password_heading")
        self.change_heading.setWordWrap(True)
        self._new_password: PasswordForm | None = None  # made when a step needs it
        change_page = QWidget(objectName="choose_password_step")
        self.change_layout = QVBoxLayout(change_page)
        self.change_layout.setContentsMargins(0, 0, 0, 0)
        self.change_layout.addWidget(self.change_heading)
        self.steps = QStackedWidget(objectName="sign_in_steps")
        self.steps.addWidget(sign_page)
        self.steps.addWidget(change_page)
        self.ok_button = QPushButton("Sign in", objectName="login_ok")
        self.ok_button.setDefault(True)
        self.cancel_button = QPushButton(cancel_text, objectName="login_cancel")
        buttons = hbox(None, self.ok_button, self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.steps)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.ok_button.clicked.connect(self.attempt)
        self.cancel_button.clicked.connect(self._cancel)
        self._temporary: tuple[User, str] | None = None  # who, and the password they typed
        self.reload_users()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter anywhere in the form (a line ignores it and passes it up) is one attempt:
        # taken here, so a dialog's default button does not make it a second, wrong one.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            event.accept()
            self.attempt()
            return
        super().keyPressEvent(event)

    @property
    def new_password(self) -> PasswordForm:
        """The new password's fields, made the first time they are needed: the form and the
        administration forms it comes from are no part of the sign-in's start."""
        if self._new_password is None:
            from ptdoc.ui.admin_forms import PasswordForm

            self._new_password = PasswordForm()
            self._new_password.layout_.setContentsMargins(0, 0, 0, 0)
            self.change_layout.addWidget(self._new_password)
        return self._new_password

    @property
    def choosing_password(self) -> bool:
        return self._temporary is not None

    def reload_users(self, preselect: str | None = None) -> None:
        self._back_to_sign_in()
        self.user_box.clear()
        for user in self.store.users.all(active_only=True):
            self.user_box.addItem(user.display, user.username)
        if preselect:
            self.user_box.setCurrentIndex(max(0, self.user_box.findData(preselect)))
        self.secret.clear()
        self.message.clear()

    def attempt(self) -> None:
        if self._temporary is not None:
            self._change_and_sign_in(*self._temporary)
            return
        from ptdoc.access import login  # it loads signing keys: after the form shows

        try:
            user: User = login(self.store, self.user_box.currentData() or "", self.secret.text())
        except PasswordChangeRequired as exc:
            self._choose_password(exc.user, self.secret.text())
            return
        except PermissionDenied as exc:
            self.message.setText(str(exc))
            self.secret.selectAll()
            self.secret.setFocus()
            return
        self._signed_in(user)

    def _choose_password(self, user: User, temporary: str) -> None:
        """The password was right but temporary: the same form asks for the user's own."""
        self._temporary = (user, temporary)
        self.secret.clear()
        self.message.clear()
        self.change_heading.setText(
            f"<b>Choose your new password</b><p>{user.display}: the password an administrator "
            "set for you is temporary. Type your own twice: 8 or more characters, or a PIN of "
            "4 or more digits.</p>")
        self.new_password.clear()
        self.new_password.clear_errors()
        self.steps.setCurrentIndex(1)
        self.ok_button.setText("Save and sign in")
        self.cancel_button.setText("Cancel")
        self.new_password.password.setFocus()
        self.grown.emit()

    def _change_and_sign_in(self, user: User, temporary: str) -> None:
        """The user's own change (checked like a sign-in, with a new key pair), then the
        sign-in with the new password."""
        self.message.clear()
        try:
            new = self.new_password.value()
            from ptdoc.services import Workspace  # the use cases load after the sign-in shows

            Workspace(self.store, user).set_secret(user.username, new, current=temporary)
            from ptdoc.access import login

            signed = login(self.store, user.username, new)
        except ValidationError as exc:
            self.new_password.show_errors(exc)
            self.grown.emit()
            return
        except KnownError as exc:
            # Locked out or disabled meanwhile: back to the first step, with the reason.
            self._back_to_sign_in()
            self.message.setText(str(exc))
            self.secret.setFocus()
            return
        self._signed_in(signed)

    def _signed_in(self, user: User) -> None:
        self._back_to_sign_in()
        self.secret.clear()
        self.message.clear()
        self.signed_in.emit(user)

    def _cancel(self) -> None:
        if self._temporary is None:
            self.cancelled.emit()
            return
        self._back_to_sign_in()
        self.message.setText(NOT_CHANGED)
        self.secret.setFocus()

    def _back_to_sign_in(self) -> None:
        self._temporary = None  # the temporary password is not kept
        if self._new_password is not None:
            self._new_password.clear()
            self._new_password.clear_errors()
        self.steps.setCurrentIndex(0)
        self.ok_button.setText("Sign in")
        self.cancel_button.setText(self.cancel_text)


class LoginDialog(QDialog):
    def __init__(self, store: Store, clinic_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.user: User | None = None
        self.setWindowTitle(f"Sign in — {clinic_name}")
        self.form = SignInForm(store, f"<b>{clinic_name}</b>")
        layout = QVBoxLayout(self)
        layout.addWidget(self.form)
        self.user_box = self.form.user_box
        self.secret = self.form.secret
        self.message = self.form.message
        self.form.setMinimumWidth(420)
        self.form.grown.connect(self.adjustSize)
        self.form.signed_in.connect(self._done)
        self.form.cancelled.connect(self.reject)
        self.form.secret.setFocus()

    def _done(self, user: User) -> None:
        self.user = user
        self.accept()
