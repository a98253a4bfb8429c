"""What every step shares: access to the editor, its fields and their error lines."""

from __future__ import annotations

from collections.abc import Callable, Container
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QFocusEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QLineEdit, QPlainTextEdit, QWidget

from ptdoc.domain import Session
from ptdoc.errors import ServerUnreachable
from ptdoc.ui.refusals import REFUSED_BACKGROUND, REFUSED_TEXT, Refusal, RefusedCells
from ptdoc.ui.widgets import FieldError

if TYPE_CHECKING:
    from ptdoc.ui.session_editor import SessionEditor


class TextArea(QPlainTextEdit):
    """Multi-line text that reports when the user leaves it, like QLineEdit does."""

    editingFinished = Signal()

    def __init__(self, name: str, placeholder: str = ""):
        super().__init__(objectName=name)
        self.setPlaceholderText(placeholder)
        self.setTabChangesFocus(True)
        self.setMaximumHeight(90)

    def focusOutEvent(self, event: QFocusEvent) -> None:
        super().focusOutEvent(event)
        self.editingFinished.emit()


class Step(QWidget):
    title = ""
    # Finding fields that belong to this step: exact names or prefixes before "[" / ".".
    owns: tuple[str, ...] = ()

    def __init__(self, editor: SessionEditor):
        super().__init__(objectName=f"step_{self.title.lower().replace(' ', '_')}")
        self.editor = editor
        self.errors: dict[str, FieldError] = {}
        self.inputs: dict[str, QWidget] = {}
        self._reverting: str | None = None
        self.text_fields: dict[str, QLineEdit | TextArea] = {}
        self.text_labels: dict[str, str] = {}  # what the user calls each text field

    def owns_field(self, field: str) -> bool:
        root = field.split("[")[0].split(".")[0]
        return root in self.owns

    def load(self, session: Session) -> None:
        """Show the session; called after every save and on opening."""

    def entered(self) -> None:
        """The step was just shown (after ``load``): put the focus where work starts."""

    def focus_field(self, field: str) -> bool:
        widget = self.inputs.get(field.split("[")[0].split(".")[0])
        if widget is None:
            return False
        widget.setFocus()
        return True

    def show_error(self, field: str, message: str) -> None:
        error = self.errors.get(field) or self.errors.get(field.split("[")[0].split(".")[0])
        if error is not None:
            if message:
                error.show_message(message)
            else:
                error.clear_message()

    def set_read_only(self, read_only: bool) -> None:
        for widget in self.inputs.values():
            if isinstance(widget, QLineEdit | QPlainTextEdit):
                widget.setReadOnly(read_only)
            else:
                widget.setEnabled(not read_only)

    def clear_errors(self, keep: Container[str]) -> None:
        """After a save, reasons beside fields that no longer hold a refused value go: the
        flags panel says what is still wrong."""
        for name, error in self.errors.items():
            if name not in keep:
                error.clear_message()

    def paint_refusals(self, refused: Container[str]) -> None:
        """Text fields holding a refused value look like the flowsheet's red cells."""
        for field, widget in self.text_fields.items():
            red = field in refused
            if widget.property("refused") != red:
                widget.setProperty("refused", red)
                widget.setStyleSheet(f"background: {REFUSED_BACKGROUND}; color: {REFUSED_TEXT};"
                                     if red else "")

    def refusals(self) -> list[Refusal]:
        """Refused values this step holds beyond its text fields (its tables' red cells)."""
        return []

    def revert_cell(self, model: RefusedCells, index: QModelIndex) -> None:
        """Escape on a table: a red cell goes back to its saved value; on any other cell, the
        rows typed here and kept when another workstation took the note are forgotten."""
        if (index.row(), index.column()) in model.pending:
            model.forget_refused(index)
        elif self.owns and self.owns[0] in self.editor.refused:
            self.editor.revert(self.owns[0])

    def typing_done(self, field: str) -> None:
        """What is in ``field`` is no longer being typed: the next load shows the saved value
        there even while it has the focus (a refused time accepted once the other one
        changed)."""
        widget = self.text_fields.get(field)
        if isinstance(widget, QLineEdit):
            widget.setModified(False)
        elif widget is not None:
            widget.document().setModified(False)

    def show_text(self, field: str, widget: QLineEdit | TextArea, stored: str) -> None:
        """Show the stored value, unless the user is typing there or typed a refused value."""
        typed = widget.isModified() if isinstance(widget, QLineEdit) else \
            widget.document().isModified()
        if widget.hasFocus() and typed and field != self._reverting:
            return
        refusal = self.editor.refused.get(field)
        set_text(widget, refusal.text if refusal else stored)

    def bind_text(self, field: str, widget: QLineEdit | TextArea,
                  change: Callable[[Session, str], Session], label: str) -> None:
        """Save on leaving the field; check (and update the flags) while typing; Escape goes
        back to the saved value. A refused value stays on screen as an open problem."""
        def current() -> str:
            return widget.text() if isinstance(widget, QLineEdit) else widget.toPlainText()

        def finished() -> None:
            if widget.isReadOnly():
                return
            text = current()
            if self.editor.apply(lambda s: change(s, text), field, typed=(label, text)):
                show_stored()  # "1000" or "now" reads back as the time it was taken for

        def show_stored() -> None:
            self._reverting = field  # the saved value shows in the field being typed in
            try:
                self.load(self.editor.session)
            except ServerUnreachable:
                pass  # what the step reads besides the note waits: the field keeps its text
            finally:
                self._reverting = None

        def typing(*_args: object) -> None:
            text = current()
            self.editor.preview(lambda s: change(s, text), field, typed=(label, text))

        def revert() -> None:
            self.editor.revert(field)
            show_stored()

        self.text_fields[field] = widget
        self.text_labels[field] = label
        widget.editingFinished.connect(finished)
        if isinstance(widget, QLineEdit):
            widget.textEdited.connect(typing)
        else:
            widget.textChanged.connect(typing)
        escape = QShortcut(QKeySequence(Qt.Key.Key_Escape), widget, revert)
        escape.setContext(Qt.ShortcutContext.WidgetShortcut)  # the constructor ignores it
        escape.setObjectName(f"revert_{field}")


def set_text(widget: QLineEdit | QPlainTextEdit, text: str) -> None:
    """Replace a field's text without it counting as typing."""
    current = widget.text() if isinstance(widget, QLineEdit) else widget.toPlainText()
    if current == text:
        return
    widget.blockSignals(True)
    if isinstance(widget, QLineEdit):
        widget.setText(text)
    else:
        widget.setPlainText(text)
        widget.document().setModified(False)
    widget.blockSignals(False)
