"""The addendum form: an amendment, correction or late entry, with its reason, signed with
the author's password or PIN as a note is."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import AddendumKind
from ptdoc.errors import KnownError

# Saves the addendum (kind, reason, text, the author's password or PIN); raises KnownError
# with the reason it was refused.
Save = Callable[[AddendumKind, str, str, str], None]


class AddendumDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, save: Save | None = None):
        super().__init__(parent)
        self._save = save
        self.setWindowTitle("Add an addendum")
        self.kind_box = QComboBox(objectName="addendum_kind")
        for kind in AddendumKind:
            self.kind_box.addItem(kind.value.capitalize(), kind.value)
        self.reason_box = QLineEdit(objectName="addendum_reason")
        self.text_box = QPlainTextEdit(objectName="addendum_text")
        self.text_box.setTabChangesFocus(True)
        self.secret_box = QLineEdit(objectName="addendum_secret")
        self.secret_box.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret_box.setPlaceholderText("Your password or PIN, as when signing")
        self.message = QLabel(objectName="addendum_message")
        self.message.setStyleSheet("QLabel { color: #b00020; }")
        form = QFormLayout()
        for text, widget in (("&Kind:", self.kind_box), ("&Reason:", self.reason_box),
                             ("&Text:", self.text_box), ("&Password or PIN:", self.secret_box)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        # Own texts with mnemonics: the platform's standard "Save" may have none, and then
        # Alt+S in a text box would type an "s".
        buttons = QDialogButtonBox()
        self.save_button = buttons.addButton("&Save addendum",
                                             QDialogButtonBox.ButtonRole.AcceptRole)
        self.save_button.setObjectName("addendum_save")
        self.save_button.setToolTip("Save the addendum (Ctrl+Enter)")
        self.cancel_button = buttons.addButton("C&ancel", QDialogButtonBox.ButtonRole.RejectRole)
        self.cancel_button.setObjectName("addendum_cancel")
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        save = QAction("Save addendum", self)
        save.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        save.triggered.connect(lambda _checked=False: self._check())
        self.addAction(save)
        self.reason_box.textChanged.connect(self._clear_when_filled)
        self.text_box.textChanged.connect(self._clear_when_filled)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The original note stays as it was; the addendum is added "
                                "after it with your name and the time, signed with your "
                                "password or PIN."))
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _missing(self) -> list[str]:
        return [name for name, value in (("Reason", self.reason()), ("Text", self.text()))
                if not value.strip()]

    def _clear_when_filled(self) -> None:
        """A refusal on screen follows the typing: it names what is still empty, or goes."""
        if self.message.text():
            self._show_missing()

    def _show_missing(self) -> bool:
        missing = self._missing()
        self.message.setText(f"{' and '.join(missing)} {'are' if len(missing) > 1 else 'is'} "
                             "required: the addendum is saved with both." if missing else "")
        return bool(missing)

    def _check(self) -> None:
        if self._show_missing():
            return
        secret = self.secret_box.text()
        self.secret_box.clear()  # never kept on screen, whatever happens next
        if self._save is not None:
            try:
                self._save(self.kind(), self.reason(), self.text(), secret)
            except KnownError as exc:
                # Refused as signing refuses (wrong password, locked out): said here, the
                # form stays open with what was written.
                self.message.setText(str(exc))
                self.secret_box.setFocus()
                return
        self.accept()

    def kind(self) -> AddendumKind:
        return AddendumKind(self.kind_box.currentData())

    def reason(self) -> str:
        return self.reason_box.text()

    def text(self) -> str:
        return self.text_box.toPlainText()
