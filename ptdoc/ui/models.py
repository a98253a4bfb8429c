"""Thin Qt item models over lists of core dataclasses."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt

from ptdoc.review import draft_status
from ptdoc.session_store import SessionListing

Index = QModelIndex | QPersistentModelIndex


class RowsModel(QAbstractTableModel):
    """A flat table over a Python list: row and column counts, horizontal headers."""

    HEADERS: tuple[str, ...] = ()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

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


def status_text(listing: SessionListing, blockers: int | None, warnings: int | None) -> str:
    if listing.status.value == "signed":
        return "Signed"
    if blockers is None:
        return "Draft"  # not judged yet
    return draft_status(blockers, warnings or 0)


class SessionListModel(RowsModel):
    """Sessions with their status, a draft's open flags counted in it as the day sheet prints
    it; no clinical text (the front desk sees it)."""

    COL_DATE, COL_TIME, COL_PATIENT, COL_MRN, COL_PAYER, COL_MEMBER, COL_CLINICIAN, COL_TYPE, \
        COL_STATUS = range(9)
    HEADERS = ("Date", "Time", "Patient", "MRN", "Payer", "Member ID", "Clinician", "Note",
               "Status")

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._texts: list[tuple[str, ...]] = []

    def set_rows(self, rows: list[tuple[SessionListing, int | None, int | None]]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        # Each cell's text made once: a view asks for it many times (paint, size, tooltip).
        self._texts = [tuple(self._text(row, col) for col in range(len(self.HEADERS)))
                       for row in self._rows]
        self.endResetModel()

    def row_at(self, row: int) -> SessionListing:
        return self._rows[row][0]

    def column_texts(self, column: int) -> list[str]:
        return [texts[column] for texts in self._texts]

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole) or \
                not index.isValid():
            return None
        return self._texts[index.row()][index.column()]

    def _text(self, row: tuple[SessionListing, int | None, int | None], col: int) -> str:
        r, blockers, warnings = row
        if col == self.COL_DATE:
            return r.date_of_service.isoformat()
        if col == self.COL_TIME:
            return r.time_in.strftime("%H:%M") if r.time_in else "—"
        if col == self.COL_PATIENT:
            return r.patient_name
        if col == self.COL_MRN:
            return r.mrn
        if col == self.COL_PAYER:
            return r.payer or "self-pay"  # as the paper says it
        if col == self.COL_MEMBER:
            return r.member_id or "—"
        if col == self.COL_CLINICIAN:
            return r.clinician or "—"
        if col == self.COL_TYPE:
            return r.note_type.value.capitalize()
        if col == self.COL_STATUS:
            return status_text(r, blockers, warnings)
        return ""
