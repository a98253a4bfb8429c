"""Thin Qt item models over lists of core dataclasses."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ptdoc.session_store import SessionListing

Index = QModelIndex | QPersistentModelIndex


class SessionListModel(QAbstractTableModel):
    """The day's sessions: time-independent columns only, no clinical text."""

    COL_TIME, COL_PATIENT, COL_MRN, COL_CLINICIAN, COL_TYPE, COL_STATUS = range(6)
    HEADERS = ("Time", "Patient", "MRN", "Clinician", "Note", "Status")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[SessionListing] = []

    def set_rows(self, rows: list[SessionListing]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> SessionListing:
        return self._rows[row]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole,
                                               Qt.ItemDataRole.ToolTipRole):
            return None
        r = self._rows[index.row()]
        col = index.column()
        if col == self.COL_TIME:
            return r.time_in.strftime("%H:%M") if r.time_in else "—"
        if col == self.COL_PATIENT:
            return r.patient_name
        if col == self.COL_MRN:
            return r.mrn
        if col == self.COL_CLINICIAN:
            return r.clinician or "—"
        if col == self.COL_TYPE:
            return r.note_type.value.capitalize()
        if col == self.COL_STATUS:
            return "Signed" if r.status.value == "signed" else "Draft"
        return None
