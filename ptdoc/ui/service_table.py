"""The billing lines of a session: code and minutes typed, units and modifiers computed."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, ClassVar

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QBrush, QColor

from ptdoc import fields as f
from ptdoc.catalog import lookup
from ptdoc.claim import ClaimLine
from ptdoc.domain import ServiceLine
from ptdoc.errors import ValidationError
from ptdoc.ui.models import RowsModel
from ptdoc.ui.refusals import (
    REFUSED_BACKGROUND,
    REFUSED_TEXT,
    Pending,
    RefusedCells,
    carry_pending,
)

Index = QModelIndex | QPersistentModelIndex


class ServiceTableModel(RefusedCells, RowsModel):
    (COL_CODE, COL_DESCRIPTION, COL_DETAIL, COL_MINUTES, COL_UNITS, COL_MODIFIERS,
     COL_WHY) = range(7)
    HEADERS = ("Code", "Service", "What was done", "Minutes", "Units", "Modifiers",
               "Why these modifiers")
    FIELDS: ClassVar[dict[int, str]] = {
        COL_CODE: "code", COL_DETAIL: "detail", COL_MINUTES: "minutes", COL_UNITS: "units",
        COL_MODIFIERS: "modifiers"}
    COLUMNS: ClassVar[dict[str, int]] = {name: col for col, name in FIELDS.items()}

    edited = Signal(tuple)
    refused = Signal(str, str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[ServiceLine] = []
        self._claim: dict[str, ClaimLine] = {}
        self.pending: Pending = {}
        self.last_edit: tuple[int, int, str] | None = None  # (row, column, text) last saved
        self.read_only = False

    def set_rows(self, rows: tuple[ServiceLine, ...], claim: tuple[ClaimLine, ...]) -> None:
        claims = {line.code: line for line in claim}
        if len(rows) == len(self._rows):
            # No reset: it would destroy a cell editor that is still committing its value.
            self._rows, self._claim = list(rows), claims
            if rows:
                self.dataChanged.emit(self.index(0, 0),
                                      self.index(len(rows) - 1, len(self.HEADERS) - 1))
            return
        self.beginResetModel()
        self.pending = carry_pending(self.pending, self._rows, rows)
        self._rows = list(rows)
        self._claim = claims
        self.endResetModel()

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        base = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
        if not self.read_only and index.column() in (self.COL_CODE, self.COL_DETAIL,
                                                     self.COL_MINUTES):
            return base | Qt.ItemFlag.ItemIsEditable
        return base

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        key = (index.row(), index.column())
        if key in self.pending:
            text, message = self.pending[key]
            return {Qt.ItemDataRole.DisplayRole: text, Qt.ItemDataRole.EditRole: text,
                    Qt.ItemDataRole.ToolTipRole: message,
                    Qt.ItemDataRole.BackgroundRole: QBrush(QColor(REFUSED_BACKGROUND)),
                    Qt.ItemDataRole.ForegroundRole: QBrush(QColor(REFUSED_TEXT))}.get(role)
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.EditRole):
            return None
        line = self._rows[index.row()]
        col = index.column()
        info = lookup(line.code)
        claim = self._claim.get(line.code)
        if col == self.COL_CODE:
            return line.code
        if col == self.COL_DESCRIPTION:
            if info is None:
                return "unknown code"
            return f"{info.description} ({'timed' if info.timed else 'untimed'})"
        if col == self.COL_DETAIL:
            return line.detail
        if col == self.COL_MINUTES:
            return "" if line.minutes is None else str(line.minutes)
        if col == self.COL_UNITS:
            return "" if line.units is None else str(line.units)
        if col == self.COL_MODIFIERS:
            return " ".join(line.modifiers)
        if col == self.COL_WHY:
            return "; ".join(f"{m.modifier}: {m.reason}" for m in claim.modifiers) \
                if claim else ""
        return None

    def setData(self, index: Index, value: Any, role: int = Qt.ItemDataRole.EditRole) -> bool:
        if not index.isValid() or role != Qt.ItemDataRole.EditRole or self.read_only:
            return False
        row, col = index.row(), index.column()
        field = self.cell_field(row, col)
        text = str(value or "").strip()
        try:
            if col == self.COL_CODE:
                line = replace(self._rows[row], code=text.upper())
            elif col == self.COL_DETAIL:
                line = replace(self._rows[row], detail=text)
            elif col == self.COL_MINUTES:
                line = replace(self._rows[row], minutes=f.parse_int(text, f.MINUTES, field))
            else:
                return False
        except ValidationError as exc:
            self.pending[(row, col)] = (text, exc.problems[0].message)
            self.dataChanged.emit(index, index)
            self.refused.emit(field, exc.problems[0].message)
            return True
        self.pending.pop((row, col), None)
        self._rows[row] = line
        self.last_edit = (row, col, text)
        self.refused.emit(field, "")
        self.edited.emit(tuple(self._rows))
        return True

    def cell_field(self, row: int, column: int) -> str:
        return f"services[{row}].{self.FIELDS.get(column, '')}"

    def cell_label(self, row: int, column: int) -> str:
        return f"Billed code line {row + 1}, {self.HEADERS[column]}"
