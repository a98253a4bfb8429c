"""Sign-in: pick a user, type the password or PIN, Enter."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import User
from ptdoc.errors import PermissionDenied
from ptdoc.services import login
from ptdoc.store import Store


class LoginDialog(QDialog):
    def __init__(self, store: Store, clinic_name: str, parent: QWidget | None = None):
        super().__init__(parent)
        self.store = store
        self.user: User | None = None
        self.setWindowTitle(f"Sign in — {clinic_name}")
        self.user_box = QComboBox(objectName="login_user")
        for user in store.users.all(active_only=True):
            self.user_box.addItem(user.display, user.username)
        self.secret = QLineEdit(objectName="login_secret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.message = QLabel(objectName="login_message")
        self.message.setWordWrap(True)
        form = QFormLayout()
        user_label = QLabel("&User:")
        user_label.setBuddy(self.user_box)
        secret_label = QLabel("&Password or PIN:")
        secret_label.setBuddy(self.secret)
        form.addRow(user_label, self.user_box)
        form.addRow(secret_label, self.secret)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Sign in")
        buttons.accepted.connect(self._try)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"<b>{clinic_name}</b>"))
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.setTabOrder(self.user_box, self.secret)
        self.secret.setFocus()

    def _try(self) -> None:
        try:
            self.user = login(self.store, self.user_box.currentData(), self.secret.text())
        except PermissionDenied as exc:
            self.message.setText(str(exc))
            self.secret.selectAll()
            self.secret.setFocus()
            return
        self.accept()
