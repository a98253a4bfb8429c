"""Small shared pieces: labelled fields with an error line, severity icons and text."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QSize
from PySide6.QtGui import QIcon, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractButton,
    QApplication,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
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
    """The reason a value was refused, shown beside its field (never a modal box).

    A wrapped label's height depends on its width, which Qt's form and window layouts do
    not ask nested widgets for: they gave a two-line reason one line's room (cut at top and
    bottom) or squeezed the field below it to a strip. So the label asks for no such thing
    and instead claims the height its text needs at the width it has, as a minimum every
    layout respects (and a window grows to)."""

    def __init__(self, name: str):
        super().__init__(objectName=f"error_{name}")
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { color: #b00020; }")
        self.hide()

    def hasHeightForWidth(self) -> bool:
        return False

    def sizeHint(self) -> QSize:
        # Qt's hint for wrapped text guesses a narrower width, hence more lines than shown.
        hint = super().sizeHint()
        if self.minimumHeight() > 0:
            hint.setHeight(self.minimumHeight())
        return hint

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit(self.width())

    def _fit(self, width: int) -> None:
        need = super().heightForWidth(width) if self.text() and width > 0 else 0
        if need != self.minimumHeight():
            self.setMinimumHeight(need)

    def show_message(self, message: str) -> None:
        self.setStyleSheet("QLabel { color: #b00020; }")
        self._show(f"⚠ {message}", message)

    def show_done(self, message: str) -> None:
        """What was just saved, in the same place a refusal would show (not in red)."""
        self.setStyleSheet("QLabel { color: #1b5e20; }")
        self._show(f"✓ {message}", message)

    def _show(self, text: str, message: str) -> None:
        self.setText(text)
        self.setAccessibleName(message)
        # Hidden, the label may not have been laid out yet: its parent's width is the width
        # it will get (near enough; the resize that follows corrects it).
        parent = self.parentWidget()
        self._fit(self.width() if self.isVisible() or parent is None else parent.width())
        self.setVisible(bool(message))

    def clear_message(self) -> None:
        self.setText("")
        self.setMinimumHeight(0)
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


def clear_when_edited(widget: QWidget, error: FieldError) -> None:
    """The reason a value was refused goes once the person changes that value: a reason
    left under a corrected field reads as if the correction were refused too. Only a
    person's edits count (what a form loads itself is no correction); whatever is still
    wrong is said again at the next check."""
    lines = [widget] if isinstance(widget, QLineEdit) else widget.findChildren(QLineEdit)
    for line in lines:  # an editable list's or a spin box's text
        line.textEdited.connect(error.clear_message)
    if isinstance(widget, QComboBox):
        widget.activated.connect(error.clear_message)
    elif isinstance(widget, QAbstractButton):
        widget.clicked.connect(error.clear_message)
    elif isinstance(widget, QPlainTextEdit):
        widget.textChanged.connect(error.clear_message)


def add_field(form: QFormLayout, label: str, widget: QWidget, name: str) -> FieldError:
    """A row: a label with its mnemonic and buddy, the input, and its error line (which
    clears when the input is edited)."""
    widget.setObjectName(f"field_{name}")
    caption = QLabel(label)
    caption.setBuddy(widget)
    error = FieldError(name)
    clear_when_edited(widget, error)
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
