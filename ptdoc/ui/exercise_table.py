"""The exercise flowsheet: a table model over ExerciseEntry rows and its keyboard-first view.

A cell that does not parse keeps what was typed, shown in red with the reason; the session is
only changed by values the domain accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFocusEvent, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QAbstractItemView,
    QApplication,
    QComboBox,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from ptdoc import fields as f
from ptdoc.domain import (
    Assistance,
    Cue,
    DeliveryMode,
    DistanceUnit,
    ExerciseChange,
    ExerciseEntry,
    LoadUnit,
    Provider,
    Side,
)
from ptdoc.errors import ValidationError
from ptdoc.ui.frozen_column import FirstColumnFrozen
from ptdoc.ui.refusals import (
    REFUSED_BACKGROUND,
    REFUSED_TEXT,
    Pending,
    RefusedCells,
    carry_pending,
)

Index = QModelIndex | QPersistentModelIndex
# Computed once: Qt asks for a cell's flags and roles on every paint.
_READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_EDITABLE = _READ_ONLY | Qt.ItemFlag.ItemIsEditable
_ROLES = frozenset((Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole,
                    Qt.ItemDataRole.ToolTipRole, Qt.ItemDataRole.BackgroundRole,
                    Qt.ItemDataRole.ForegroundRole))


@dataclass(frozen=True)
class Column:
    key: str
    header: str
    choices: tuple[str, ...] = ()      # a combo editor; "" means not recorded
    rng: f.Range | None = None
    decimal: bool = False
    multi: tuple[str, ...] = ()        # comma-separated choices (cues)


def _values(enum: Any, blank: bool = True) -> tuple[str, ...]:
    return (("",) if blank else ()) + tuple(e.value for e in enum)


COLUMNS = (
    Column("name", "Exercise"),
    Column("change", "Today", _values(ExerciseChange, blank=False)),
    Column("sets", "Sets", rng=f.SETS),
    Column("reps", "Reps", rng=f.REPS),
    Column("load", "Load", rng=f.LOAD_LB, decimal=True),
    Column("load_unit", "Unit", _values(LoadUnit)),
    Column("hold_seconds", "Hold (s)", rng=f.HOLD_SECONDS),
    Column("duration_minutes", "Duration (min)", rng=f.DURATION_MINUTES),
    Column("distance", "Distance", rng=f.DISTANCE, decimal=True),
    Column("distance_unit", "Dist. unit", _values(DistanceUnit)),
    Column("side", "Side", _values(Side)),
    Column("region", "Region"),
    Column("position", "Position"),
    Column("equipment", "Equipment"),
    Column("assistance", "Assistance", _values(Assistance)),
    Column("cues", "Cues", multi=tuple(c.value for c in Cue)),
    Column("modification", "Modification / progression"),
    Column("modification_reason", "Reason"),
    Column("pain_before", "Pain before", rng=f.PAIN),
    Column("pain_after", "Pain after", rng=f.PAIN),
    Column("response", "Response"),
    Column("minutes", "Minutes", rng=f.MINUTES),
    Column("code", "Code"),
    Column("mode", "Delivery", _values(DeliveryMode, blank=False)),
    Column("delivered_by", "By", _values(Provider, blank=False)),
)
COLUMN = {c.key: i for i, c in enumerate(COLUMNS)}
_ENUMS = {"change": ExerciseChange, "load_unit": LoadUnit, "distance_unit": DistanceUnit,
          "side": Side, "assistance": Assistance, "mode": DeliveryMode,
          "delivered_by": Provider}


def display(column: Column, value: Any) -> str:
    if value is None:
        return ""
    if column.multi:
        return ", ".join(v.value for v in value)
    if hasattr(value, "value"):
        return value.value
    return str(value)


def parse(column: Column, text: str, field: str) -> Any:
    """Text typed in a cell to the field's value; ValidationError names the field."""
    text = text.strip()
    if column.rng is not None:
        if column.decimal:
            return f.parse_decimal(text, column.rng, field)
        return f.parse_int(text, column.rng, field)
    if column.key in _ENUMS:
        if not text:
            if "" in column.choices:
                return None
            raise ValidationError.single(field, f"{column.header} is required")
        try:
            return _ENUMS[column.key](text)
        except ValueError:
            raise ValidationError.single(field, f"{column.header} must be one of "
                                                f"{', '.join(c for c in column.choices if c)}"
                                         ) from None
    if column.multi:
        parts = [p.strip().lower() for p in text.split(",") if p.strip()]
        bad = [p for p in parts if p not in column.multi]
        if bad:
            raise ValidationError.single(field, f"Cues must be among {', '.join(column.multi)} "
                                                f"(got '{', '.join(bad)}')")
        return tuple(dict.fromkeys(Cue(p) for p in parts))
    if column.key == "code":
        return text.upper()
    return text


class ExerciseTableModel(RefusedCells, QAbstractTableModel):
    """Rows of the flowsheet. ``edited`` carries the new rows; ``refused`` a field's reason."""

    edited = Signal(tuple)
    refused = Signal(str, str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ExerciseEntry] = []
        self.pending: Pending = {}
        self.last_edit: tuple[int, int, str] | None = None  # (row, column, text) last saved
        self.read_only = False

    def set_rows(self, rows: tuple[ExerciseEntry, ...]) -> None:
        if list(rows) == self._rows:
            return
        if len(rows) != len(self._rows):
            self.beginResetModel()
            self.pending = carry_pending(self.pending, self._rows, rows)
            self._rows = list(rows)
            self.endResetModel()
        else:
            old, self._rows = self._rows, list(rows)
            for r, (before, after) in enumerate(zip(old, rows, strict=True)):
                if before != after:  # repaint the changed cells, not the whole sheet
                    changed = [c for c, column in enumerate(COLUMNS)
                               if getattr(before, column.key) != getattr(after, column.key)]
                    self.dataChanged.emit(self.index(r, changed[0]),
                                          self.index(r, changed[-1]))

    def rows(self) -> tuple[ExerciseEntry, ...]:
        return tuple(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        if orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section].header if 0 <= section < len(COLUMNS) else None
        return str(section + 1)

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return _READ_ONLY if self.read_only else _EDITABLE

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        # A repaint asks every visible cell for about ten roles: answer the others at once.
        if role not in _ROLES or not index.isValid():
            return None
        key = (index.row(), index.column())
        column = COLUMNS[index.column()]
        if key in self.pending:
            text, message = self.pending[key]
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
                return text
            if role == Qt.ItemDataRole.ToolTipRole:
                return message
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(REFUSED_BACKGROUND))
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor(REFUSED_TEXT))
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return display(column, getattr(self._rows[index.row()], column.key))
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.header
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or self.read_only:
            return False
        row, col = index.row(), index.column()
        column = COLUMNS[col]
        field = self.cell_field(row, col)
        text = "" if value is None else str(value)
        try:
            parsed = parse(column, text, field)
            entry = replace(self._rows[row], **{column.key: parsed})
        except ValidationError as exc:
            message = exc.problems[0].message if exc.problems else str(exc)
            self.pending[(row, col)] = (text, message)
            self.dataChanged.emit(index, index)
            self.refused.emit(field, message)
            return True
        self.pending.pop((row, col), None)
        self._rows[row] = entry
        self.last_edit = (row, col, text)
        self.dataChanged.emit(index, index)
        self.refused.emit(field, "")
        self.edited.emit(tuple(self._rows))
        return True

    def cell_field(self, row: int, column: int) -> str:
        return f"exercises[{row}].{COLUMNS[column].key}"

    def cell_label(self, row: int, column: int) -> str:
        name = f" ({self._rows[row].name})" if row < len(self._rows) else ""
        return f"Exercise row {row + 1}{name}, {COLUMNS[column].header}"


class ChoiceDelegate(QStyledItemDelegate):
    """A combo box for columns with a fixed set of values."""

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem,
                     index: Index) -> QWidget:
        column = COLUMNS[index.column()]
        if not column.choices:
            return super().createEditor(parent, option, index)
        combo = QComboBox(parent)
        combo.addItems(list(column.choices))
        combo.setAccessibleName(column.header)
        return combo

    def setEditorData(self, editor: QWidget, index: Index) -> None:
        if isinstance(editor, QComboBox):
            editor.setCurrentText(index.data(Qt.ItemDataRole.EditRole) or "")
        else:
            super().setEditorData(editor, index)

    def setModelData(self, editor: QWidget, model: Any, index: Index) -> None:
        if isinstance(editor, QComboBox):
            model.setData(index, editor.currentText(), Qt.ItemDataRole.EditRole)
        else:
            super().setModelData(editor, model, index)


class ExerciseTable(FirstColumnFrozen):
    """Tab moves through cells, typing edits, Enter on the last row asks for a new row,
    Delete removes the row (the step offers undo). The exercise's name stays in sight."""

    add_requested = Signal()
    remove_requested = Signal(int)

    def __init__(self, model: ExerciseTableModel):
        super().__init__(objectName="exercise_table")
        self.setModel(model)
        self.setItemDelegate(ChoiceDelegate(self))
        self.setAccessibleName("Exercise flowsheet")
        self.setEditTriggers(QAbstractItemView.EditTrigger.AnyKeyPressed |
                             QAbstractItemView.EditTrigger.EditKeyPressed |
                             QAbstractItemView.EditTrigger.DoubleClicked)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectItems)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setTabKeyNavigation(True)
        self.verticalHeader().setDefaultSectionSize(24)
        self.horizontalHeader().setDefaultSectionSize(80)
        self.setColumnWidth(COLUMN["name"], 180)
        # "carried forward", the longest of Today's words, in full
        self.setColumnWidth(COLUMN["change"],
                            self.fontMetrics().horizontalAdvance("carried forward") + 16)
        for key in ("modification", "modification_reason", "response"):
            self.setColumnWidth(COLUMN[key], 180)
        # Each heading in full ("Duration (min)" was cut at both ends).
        metrics = self.horizontalHeader().fontMetrics()
        for i, column in enumerate(COLUMNS):
            self.setColumnWidth(i, max(self.columnWidth(i),
                                       metrics.horizontalAdvance(column.header) + 16))
        self._lent_to_editor = False  # the keyboard is in this table's own cell editor

    # Qt repaints the whole sheet whenever the table gains or loses the keyboard: half of a
    # cell commit's time. Between the table and its own cell editor only the current cell
    # changes looks, so only it is repainted; anywhere else, Qt's own handling.
    def focusOutEvent(self, event: QFocusEvent) -> None:
        focus = QApplication.focusWidget()
        if focus is not None and self.viewport().isAncestorOf(focus):
            self._lent_to_editor = True
            self.viewport().update(self.visualRect(self.currentIndex()))
            return
        super().focusOutEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        if self._lent_to_editor:  # back from the cell editor
            self._lent_to_editor = False
            current = self.currentIndex()
            self.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled,
                              bool(current.flags() & Qt.ItemFlag.ItemIsEditable))
            self.viewport().update(self.visualRect(current))
            return
        super().focusInEvent(event)

    def closeEditor(self, editor: QWidget, hint: QAbstractItemDelegate.EndEditHint) -> None:
        super().closeEditor(editor, hint)
        if self._lent_to_editor:  # the keyboard left for another widget, not back here
            self._lent_to_editor = False
            self.update()
            self.viewport().update()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        editing = self.state() == QAbstractItemView.State.EditingState
        index = self.currentIndex()
        if not editing and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            if not index.isValid() or index.row() == self.model().rowCount() - 1:
                self.add_requested.emit()
                return
            self.setCurrentIndex(index.sibling(index.row() + 1, index.column()))
            return
        if not editing and event.key() == Qt.Key.Key_Delete and index.isValid():
            self.remove_requested.emit(index.row())
            return
        super().keyPressEvent(event)
