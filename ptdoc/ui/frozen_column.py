"""A table whose first column stays in sight as it scrolls right, so a cell far to the right
(the reason of a progression) is never shown without the name of its row."""

from __future__ import annotations

from PySide6.QtCore import QAbstractItemModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtWidgets import QAbstractItemView, QTableView, QWidget


class FirstColumnFrozen(QTableView):
    """While the table is scrolled right, a second view over its left edge shows the first
    column, sharing the model, the current cell and the vertical scrolling. Clicking there
    gives the table the keyboard (and scrolls back, so the cell is edited in place)."""

    def __init__(self, parent: QWidget | None = None, objectName: str = ""):
        super().__init__(parent, objectName=objectName)
        self.frozen = QTableView(self, objectName=f"{objectName}_frozen")
        self.frozen.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.frozen.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.frozen.verticalHeader().hide()
        for policy in (self.frozen.setHorizontalScrollBarPolicy,
                       self.frozen.setVerticalScrollBarPolicy):
            policy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.frozen.setStyleSheet("QTableView { border: none; "
                                  "border-right: 2px solid palette(mid); }")
        self.frozen.hide()
        self.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.horizontalScrollBar().valueChanged.connect(self._place_frozen)
        self.horizontalHeader().sectionResized.connect(self._place_frozen)
        self.verticalScrollBar().valueChanged.connect(self.frozen.verticalScrollBar().setValue)
        self.frozen.verticalScrollBar().valueChanged.connect(self.verticalScrollBar().setValue)
        self.frozen.pressed.connect(lambda _index: self.setFocus())

    def setModel(self, model: QAbstractItemModel | None) -> None:
        super().setModel(model)
        self.frozen.setModel(model)
        self.frozen.setSelectionModel(self.selectionModel())
        for column in range(1, model.columnCount() if model is not None else 0):
            self.frozen.setColumnHidden(column, True)

    def _place_frozen(self, *_args: object) -> None:
        scrolled = self.horizontalScrollBar().value() > 0
        self.frozen.setVisible(scrolled)
        if not scrolled:
            return
        frame = self.frameWidth()
        self.frozen.setColumnWidth(0, self.columnWidth(0))
        self.frozen.verticalHeader().setDefaultSectionSize(
            self.verticalHeader().defaultSectionSize())
        self.frozen.horizontalHeader().setFixedHeight(self.horizontalHeader().height())
        self.frozen.setGeometry(self.verticalHeader().width() + frame, frame,
                                self.columnWidth(0) + 2,
                                self.viewport().height() + self.horizontalHeader().height())
        self.frozen.verticalScrollBar().setValue(self.verticalScrollBar().value())
        self.frozen.raise_()

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        self._place_frozen()

    def updateGeometries(self) -> None:
        super().updateGeometries()
        self._place_frozen()

    def scrollTo(self, index: QModelIndex | QPersistentModelIndex,
                 hint: QAbstractItemView.ScrollHint = QAbstractItemView.ScrollHint.EnsureVisible
                 ) -> None:
        super().scrollTo(index, hint)
        # A cell scrolled to the left edge would sit under the frozen column: a bit further.
        bar = self.horizontalScrollBar()
        covered = self.columnWidth(0) + 2 - self.visualRect(index).left()
        if index.column() > 0 and bar.value() > 0 and covered > 0:
            bar.setValue(max(0, bar.value() - covered))
