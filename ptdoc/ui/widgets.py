"""Small shared pieces: labelled fields with an error line, severity icons and text."""

from __future__ import annotations

from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QApplication,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QStyle,
    QVBoxLayout,
    QWidget,
)

from ptdoc.rules import Severity

SEVERITY_TEXT = {Severity.BLOCKER: "Blocker", Severity.WARNING: "Warning", Severity.INFO: "Info"}
_ICONS = {Severity.BLOCKER: QStyle.StandardPixmap.SP_MessageBoxCritical,
          Severity.WARNING: QStyle.StandardPixmap.SP_MessageBoxWarning,
          Severity.INFO: QStyle.StandardPixmap.SP_MessageBoxInformation}


def severity_icon(severity: Severity) -> QIcon:
    return QApplication.style().standardIcon(_ICONS[severity])


class FieldError(QLabel):
    """The reason a value was refused, shown beside its field (never a modal box)."""

    def __init__(self, name: str):
        super().__init__(objectName=f"error_{name}")
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { color: #b00020; }")
        self.hide()

    def show_message(self, message: str) -> None:
        self.setText(f"⚠ {message}")
        self.setAccessibleName(message)
        self.setVisible(bool(message))

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


def hbox(*items: QWidget | None, grow: QWidget | None = None) -> QHBoxLayout:
    """A row of widgets; ``None`` is an empty stretch, ``grow`` takes the spare width."""
    row = QHBoxLayout()
    for item in items:
        if item is None:
            row.addStretch(1)
        else:
            row.addWidget(item, 1 if item is grow else 0)
    return row


def add_field(form: QFormLayout, label: str, widget: QWidget, name: str) -> FieldError:
    """A row: a label with its mnemonic and buddy, the input, and its error line."""
    widget.setObjectName(f"field_{name}")
    caption = QLabel(label)
    caption.setBuddy(widget)
    error = FieldError(name)
    box = QWidget()
    column = QVBoxLayout(box)
    column.setContentsMargins(0, 0, 0, 0)
    column.setSpacing(2)
    column.addWidget(widget)
    column.addWidget(error)
    form.addRow(caption, box)
    return error
