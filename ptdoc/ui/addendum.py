"""The addendum form: an amendment, correction or late entry, with its reason."""

from __future__ import annotations

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


class AddendumDialog(QDialog):
    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Add an addendum")
        self.kind_box = QComboBox(objectName="addendum_kind")
        for kind in AddendumKind:
            self.kind_box.addItem(kind.value.capitalize(), kind.value)
        self.reason_box = QLineEdit(objectName="addendum_reason")
        self.text_box = QPlainTextEdit(objectName="addendum_text")
        self.text_box.setTabChangesFocus(True)
        self.message = QLabel(objectName="addendum_message")
        self.message.setStyleSheet("QLabel { color: #b00020; }")
        form = QFormLayout()
        for text, widget in (("&Kind:", self.kind_box), ("&Reason:", self.reason_box),
                             ("&Text:", self.text_box)):
            label = QLabel(text)
            label.setBuddy(widget)
            form.addRow(label, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self._check)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("The original note stays as it was; the addendum is added "
                                "after it with your name and the time."))
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)

    def _check(self) -> None:
        if not self.reason().strip() or not self.text().strip():
            self.message.setText("Reason and text are both required.")
            return
        self.accept()

    def kind(self) -> AddendumKind:
        return AddendumKind(self.kind_box.currentData())

    def reason(self) -> str:
        return self.reason_box.text()

    def text(self) -> str:
        return self.text_box.toPlainText()
