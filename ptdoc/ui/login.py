"""Sign-in: pick a user, type the password or PIN, Enter. Used at start and to unlock."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ptdoc.access import login
from ptdoc.domain import User
from ptdoc.errors import PermissionDenied
from ptdoc.store import Store
from ptdoc.ui.widgets import hbox


class SignInForm(QWidget):
    signed_in = Signal(object)  # the User
    cancelled = Signal()

    def __init__(self, store: Store, heading: str, cancel_text: str = "Cancel"):
        super().__init__(objectName="sign_in")
        self.store = store
        self.user_box = QComboBox(objectName="login_user")
        self.secret = QLineEdit(objectName="login_secret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel(objectName="login_message")
        self.message.setWordWrap(True)
        self.heading = QLabel(heading, objectName="login_heading")
        self.heading.setWordWrap(True)
        form = QFormLayout()
        user_label = QLabel("&User:")
        user_label.setBuddy(self.user_box)
        secret_label = QLabel("Pass&word or PIN:")
        secret_label.setBuddy(self.secret)
        form.addRow(user_label, self.user_box)
        form.addRow(secret_label, self.secret)
        self.ok_button = QPushButton("Sign in", objectName="login_ok")
        self.ok_button.setDefault(True)
        self.cancel_button = QPushButton(cancel_text, objectName="login_cancel")
        buttons = hbox(None, self.ok_button, self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.ok_button.clicked.connect(self.attempt)
        self.secret.returnPressed.connect(self.attempt)
        self.cancel_button.clicked.connect(self.cancelled.emit)
        self.reload_users()

    def reload_users(self, preselect: str | None = None) -> None:
        self.user_box.clear()
        for user in self.store.users.all(active_only=True):
            self.user_box.addItem(user.display, user.username)
        if preselect:
            self.user_box.setCurrentIndex(max(0, self.user_box.findData(preselect)))
        self.secret.clear()
        self.message.clear()

    def attempt(self) -> None:
        try:
            user: User = login(self.store, self.user_box.currentData() or "", self.secret.text())
        except PermissionDenied as exc:
            self.message.setText(str(exc))
            self.secret.selectAll()
            self.secret.setFocus()
            return
        self.secret.clear()
        self.message.clear()
        self.signed_in.emit(user)


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
        self.form.signed_in.connect(self._done)
        self.form.cancelled.connect(self.reject)
        self.form.secret.setFocus()

    def _done(self, user: User) -> None:
        self.user = user
        self.accept()
