"""Small shared pieces: labelled fields with an error line, severity icons and text."""

from __future__ import annotations

from typing import TYPE_CHECKING

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

from ptdoc.errors import KnownError, Problem, ValidationError

if TYPE_CHECKING:
    from ptdoc.rules import Severity

# Keyed by Severity's values (it is a StrEnum), so the sign-in, which uses these widgets,
# does not load the rules.
SEVERITY_TEXT = {"blocker": "Blocker", "warning": "Warning", "info": "Info"}
_ICONS = {"blocker": QStyle.StandardPixmap.SP_MessageBoxCritical,
          "warning": QStyle.StandardPixmap.SP_MessageBoxWarning,
          "info": QStyle.StandardPixmap.SP_MessageBoxInformation}


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
        self.setStyleSheet("QLabel { color: #b00020; }")
        self.setText(f"⚠ {message}")
        self.setAccessibleName(message)
        self.setVisible(bool(message))

    def show_done(self, message: str) -> None:
        """What was just saved, in the same place a refusal would show (not in red)."""
        self.setStyleSheet("QLabel { color: #1b5e20; }")
        self.setText(f"✓ {message}")
        self.setAccessibleName(message)
        self.setVisible(bool(message))

    def clear_message(self) -> None:
        self.setText("")
        self.hide()


def show_problems(errors: dict[str, FieldError], exc: KnownError, fallback: str) -> list[str]:
    """Each refused field's reason beside it (several joined), after clearing the old ones; a
    reason for no field of ``errors`` goes beside ``fallback``. The names shown, in order."""
    for error in errors.values():
        error.clear_message()
    problems = exc.problems if isinstance(exc, ValidationError) else (Problem("", str(exc)),)
    shown: dict[str, list[str]] = {}
    for problem in problems:
        name = problem.field.split("[")[0]
        shown.setdefault(name if name in errors else fallback, []).append(problem.message)
    for name, messages in shown.items():
        errors[name].show_message("; ".join(messages))
    return list(shown)


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


def restyle(widget: QWidget) -> None:
    """Polish the widget again: a style sheet picks a look by a property (``readOnly``) only
    when a widget is polished, so a field made read-only or editable later keeps the old look
    until then."""
    widget.style().unpolish(widget)
    widget.style().polish(widget)
