"""Values the user typed that the note refused: shown in red at their field, and blockers.

What is on screen must be what is signed. A refused value is not stored, so until it is
corrected or reverted (Escape) the screen and the stored draft differ; each such value is an
open problem of the note: a blocker in the flags panel that jumps to its field, the step is not
complete, and signing is refused.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QAbstractItemView

from ptdoc.rules import Finding, Severity

CODE = "VALUE_REFUSED"
REFUSED_BACKGROUND = "#f8d7da"  # a refused cell, and its text
REFUSED_TEXT = "#8b0000"
QUOTE = 60  # characters of a refused value quoted in the flags and messages


@dataclass(frozen=True)
class Refusal:
    field: str      # the finding path of the input, e.g. time_out or exercises[2].reps
    label: str      # what the user calls the input
    text: str       # what they typed, kept on screen
    message: str    # why it was refused

    @property
    def quoted(self) -> str:
        """What was typed, short enough to quote in a list (a refused narrative can be long)."""
        text = " ".join(self.text.split())
        return f"'{text}'" if len(text) <= QUOTE else f"'{text[:QUOTE]}…' ({len(self.text)} " \
                                                        "characters)"

    def finding(self) -> Finding:
        message = self.message if len(self.message) <= 400 else self.message[:400] + "…"
        return Finding(
            CODE, Severity.BLOCKER,
            f"{self.label}: {self.quoted} is not saved. {message.rstrip('.')}.",
            self.field, "ptdoc's limits for this field: the note keeps its saved value until "
            "the typed one is accepted",
            "Correct the value, or press Escape in the field to go back to the saved value.")


Pending = dict[tuple[int, int], tuple[str, str]]  # (row, column) -> (typed text, reason)


def carry_pending(pending: Pending, old: Sequence[object], new: Sequence[object]) -> Pending:
    """Keep red cells on their rows when rows are added, removed or reordered; a refused cell
    of a row that is gone goes with it."""
    if len(old) == len(new):
        return dict(pending)
    kept: Pending = {}
    for (row, column), value in pending.items():
        entry = old[row] if row < len(old) else None
        for i, candidate in enumerate(new):
            if candidate == entry and (i, column) not in kept:
                kept[(i, column)] = value
                break
    return kept


class RefusedCells:
    """Red cells for an editable table model (mixed in before the Qt model class): what was
    typed and refused, by (row, column), and the cell last saved. The model names its cells
    (``cell_field``, ``cell_label``) and has a ``refused(field, message)`` signal."""

    pending: Pending
    last_edit: tuple[int, int, str] | None  # (row, column, text) of the cell last saved

    def cell_field(self, row: int, column: int) -> str:
        raise NotImplementedError

    def cell_label(self, row: int, column: int) -> str:
        raise NotImplementedError

    def refuse_last_edit(self, message: str) -> None:
        """The note refused the cell just edited (the row as a whole did not validate): the
        cell keeps what was typed, in red, and the row its saved values."""
        if self.last_edit is None:
            return
        row, column, text = self.last_edit
        self.pending[(row, column)] = (text, message)
        index = self.index(row, column)
        self.dataChanged.emit(index, index)
        self.refused.emit(self.cell_field(row, column), message)

    def forget_refused(self, index: QModelIndex) -> None:
        """Forget a refused cell: the saved value shows again. (Not ``revert``: Qt's views
        call the model's revert() slot when Escape cancels a cell's editor.)"""
        if self.pending.pop((index.row(), index.column()), None) is not None:
            self.dataChanged.emit(index, index)
            self.refused.emit(self.cell_field(index.row(), index.column()), "")

    def refusals(self) -> list[Refusal]:
        return [Refusal(self.cell_field(r, c), self.cell_label(r, c), text, message)
                for (r, c), (text, message) in sorted(self.pending.items())]


def revert_on_escape(table: QAbstractItemView, revert: Callable[[QModelIndex], None]) -> None:
    """Escape on a red cell (not while editing it) goes back to the saved value."""
    shortcut = QShortcut(QKeySequence(Qt.Key.Key_Escape), table,
                         lambda: revert(table.currentIndex()))
    shortcut.setContext(Qt.ShortcutContext.WidgetShortcut)  # the constructor ignores it
    shortcut.setObjectName(f"{table.objectName()}_revert")
