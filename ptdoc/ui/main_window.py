"""The main window: the day's sessions for the signed-in user."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from PySide6.QtCore import QDate, QSettings
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import SessionStatus
from ptdoc.services import Workspace
from ptdoc.ui.models import SessionListModel


def to_qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, notice: str = ""):
        super().__init__()
        self.workspace = workspace
        clinic = workspace.clinic()
        self.clinic_name = clinic.name if clinic else "ptdoc"
        self.setWindowTitle(f"ptdoc — {self.clinic_name}")
        self.setObjectName("main_window")

        self.date_edit = QDateEdit(objectName="day_date")
        self.date_edit.setCalendarPopup(True)
        self.date_edit.setDisplayFormat("ddd d MMM yyyy")
        self.date_edit.setMaximumDate(to_qdate(workspace.today()))
        date_label = QLabel("&Date of service:")
        date_label.setBuddy(self.date_edit)
        self.prev_action = self._action("&Previous day", "Alt+Left", lambda: self._shift(-1))
        self.next_action = self._action("&Next day", "Alt+Right", lambda: self._shift(1))
        self.today_action = self._action("&Today", "Ctrl+T", self._go_today)
        self.prev_button = self._button("◀ Previous day", "day_previous", self.prev_action)
        self.next_button = self._button("Next day ▶", "day_next", self.next_action)
        self.today_button = self._button("Today", "day_today", self.today_action)

        self.model = SessionListModel(self)
        self.table = QTableView(objectName="day_sessions")
        self.table.setModel(self.model)
        self.table.setAccessibleName("Sessions of the day")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(SessionListModel.COL_PATIENT, QHeaderView.ResizeMode.Stretch)
        self.summary = QLabel(objectName="day_summary")
        self.notice = QLabel(notice, objectName="notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(bool(notice))
        self.notice.setStyleSheet("QLabel { background: #fff6d5; border: 1px solid #d9c36c; "
                                  "padding: 6px; }")

        bar = QHBoxLayout()
        bar.addWidget(date_label)
        bar.addWidget(self.date_edit)
        bar.addWidget(self.prev_button)
        bar.addWidget(self.next_button)
        bar.addWidget(self.today_button)
        bar.addStretch(1)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.notice)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        self.setCentralWidget(central)
        self.setTabOrder(self.date_edit, self.prev_button)
        self.setTabOrder(self.prev_button, self.next_button)
        self.setTabOrder(self.next_button, self.today_button)
        self.setTabOrder(self.today_button, self.table)

        quit_action = self._action("&Quit", QKeySequence.StandardKey.Quit, self.close)
        self.menuBar().addMenu("&File").addAction(quit_action)
        go_menu = self.menuBar().addMenu("&Go")
        for action in (self.prev_action, self.next_action, self.today_action):
            go_menu.addAction(action)

        user = workspace.actor
        self.signed_in = QLabel(f"Signed in as {user.display if user else 'command line'} · "
                                f"{self.clinic_name}", objectName="signed_in")
        self.statusBar().addPermanentWidget(self.signed_in)

        self.date_edit.dateChanged.connect(self.refresh)
        self.date_edit.setDate(to_qdate(workspace.today()))
        self.refresh()
        self._restore_geometry()

    def _action(self, text: str, shortcut: QKeySequence.StandardKey | str,
                slot: Callable[[], object]) -> QAction:
        """Window-wide actions, so their shortcuts work whichever input has the focus."""
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _button(self, text: str, name: str, action: QAction) -> QPushButton:
        button = QPushButton(text, objectName=name)
        button.setToolTip(f"{action.text().replace('&', '')} "
                          f"({action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)})")
        button.clicked.connect(action.trigger)
        action.enabledChanged.connect(button.setEnabled)
        return button

    def _go_today(self) -> None:
        self.date_edit.setDate(to_qdate(self.workspace.today()))

    @property
    def day(self) -> dt.date:
        return from_qdate(self.date_edit.date())

    def _shift(self, days: int) -> None:
        self.date_edit.setDate(self.date_edit.date().addDays(days))

    def refresh(self) -> None:
        rows = self.workspace.sessions(date=self.day)
        self.model.set_rows(rows)
        drafts = sum(r.status == SessionStatus.DRAFT for r in rows)
        self.summary.setText(f"{len(rows)} session{'s' * (len(rows) != 1)} on "
                             f"{self.day:%A %d %B %Y}: {len(rows) - drafts} signed, "
                             f"{drafts} draft{'s' * (drafts != 1)}")
        self.next_action.setEnabled(self.day < self.workspace.today())

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            self.resize(1100, 700)

    def closeEvent(self, event: QCloseEvent) -> None:
        QSettings().setValue("main/geometry", self.saveGeometry())
        super().closeEvent(event)


