"""The main window: the day's sessions, patient search, the session editor, the idle lock."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable

from PySide6.QtCore import QDate, QItemSelectionModel, QSettings, QSignalBlocker, Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDateEdit,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ptdoc.clock import local
from ptdoc.domain import Patient, SessionStatus, User
from ptdoc.errors import AccountDisabled, KnownError, ServerUnreachable
from ptdoc.permissions import Permission
from ptdoc.services import Workspace
from ptdoc.ui import outage
from ptdoc.ui.admin_window import AdminWindow
from ptdoc.ui.live import LiveDays
from ptdoc.ui.lock import LOCKED, IdleWatcher, LockScreen
from ptdoc.ui.models import SessionListModel
from ptdoc.ui.new_session import PATIENT_ROLE, NewSessionDialog, no_patient_line, patient_line
from ptdoc.ui.patient_form import PatientDialog
from ptdoc.ui.patient_import import ImportDialog
from ptdoc.ui.patient_page import PatientPageView
from ptdoc.ui.pdf_preview import PdfPreview, show_pdf
from ptdoc.ui.session_editor import SessionEditor


def to_qdate(day: dt.date) -> QDate:
    return QDate(day.year, day.month, day.day)


def from_qdate(day: QDate) -> dt.date:
    return dt.date(day.year(), day.month(), day.day())


log = logging.getLogger(__name__)

NATIVE = QKeySequence.SequenceFormat.NativeText
ROW_SELECTED = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows


class MainWindow(QMainWindow):
    def __init__(self, workspace: Workspace, notice: str = ""):
        super().__init__()
        self.workspace = self._watch(workspace)
        self.editor: SessionEditor | None = None
        self.patient: Patient | None = None  # whose page is open (Ctrl+N starts their note)
        self.patient_view: PatientPageView | None = None
        clinic = workspace.clinic()
        self.clinic_name = clinic.name if clinic else "ptdoc"
        self._zone = clinic.time_zone if clinic else None
        # The server out of reach, said once in the status bar under every page, where it
        # moves nothing (ptdoc.ui.outage).
        self.banner = outage.ServerBanner(workspace.store)
        self.banner.back.connect(self._server_back)
        outage.attach(self.banner)
        self._listed: tuple[dt.date, dt.datetime] | None = None  # the day listed, and when
        self._summary_text = ""
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
        self.new_action = self._action("&New session…", "Ctrl+N", self.new_session)
        self.open_action = self._action("&Open session", "Ctrl+O", self.open_selected)
        self.find_action = self._action("&Find patient", "Ctrl+F", self.find_patient)
        self.new_patient_action = self._action("New pa&tient…", "Ctrl+Shift+N",
                                               self.new_patient)
        self.import_action = self._action("&Import patients…", "Ctrl+Shift+I",
                                          self.import_patients)
        self.lock_action = self._action("&Lock / switch user", "Ctrl+L", self.lock)
        self.admin_action = self._action("&Administration…", "Ctrl+Shift+A", self.administer)
        self.admin_window: AdminWindow | None = None
        # Ctrl+P and Ctrl+B print the selected sessions, or the whole day when none is: their
        # text says which (``_name_print_actions``); the day's summaries are also one action.
        self.summaries_action = self._action("Preview &summaries…", "Ctrl+P",
                                             lambda: show_pdf(self.summaries_preview))
        self.day_summaries_action = self._action(
            "Summaries of the &whole day…", "Ctrl+Shift+S",
            lambda: show_pdf(lambda: self.summaries_preview(self.workspace.day_ids(self.day))))
        self.day_sheet_action = self._action("&Day sheet…", "Ctrl+Shift+P",
                                             lambda: show_pdf(self.day_sheet_preview))
        self.superbills_action = self._action("Super&bills…", "Ctrl+B",
                                              lambda: show_pdf(self.superbills_preview))
        self.prev_button = self._button("◀ Previous day", "day_previous", self.prev_action)
        self.next_button = self._button("Next day ▶", "day_next", self.next_action)
        self.today_button = self._button("Today", "day_today", self.today_action)
        self.new_button = self._button("New session", "new_session", self.new_action)
        self.new_patient_button = self._button("New patient", "new_patient",
                                               self.new_patient_action)
        self.summaries_button = self._button("Summaries", "print_summaries",
                                             self.summaries_action)
        self.day_sheet_button = self._button("Day sheet", "print_day_sheet",
                                             self.day_sheet_action)
        self.superbills_button = self._button("Superbills", "print_superbills",
                                              self.superbills_action)

        self.search = QLineEdit(objectName="patient_search")
        # Short enough to read in the room a 1366-pixel screen leaves; the tip says it whole.
        self.search.setPlaceholderText("Name, MRN, DOB")
        self.search.setToolTip("Find a patient by name, MRN or date of birth")
        self.search.setClearButtonEnabled(True)
        search_label = QLabel("Pa&tient:")
        search_label.setBuddy(self.search)
        self.patients = QListWidget(objectName="patient_results")
        self.patients.setAccessibleName("Patients found")
        self.patients.setMaximumHeight(120)
        self.patients.hide()

        self.model = SessionListModel(self)
        self.table = QTableView(objectName="day_sessions")
        self.table.setModel(self.model)
        self.table.setAccessibleName("Sessions")
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        # Escape lets go of the chosen rows, so Ctrl+P and Ctrl+B print the whole day again.
        unselect = QAction("Clear the selection", self.table)
        unselect.setShortcut(QKeySequence(Qt.Key.Key_Escape))
        unselect.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        unselect.triggered.connect(self.table.clearSelection)
        self.table.addAction(unselect)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        # Sized to the contents once per refresh (``_fit_columns``): ResizeToContents would
        # read every cell of a busy day on each layout.
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(SessionListModel.COL_PATIENT, QHeaderView.ResizeMode.Stretch)
        self.table.setColumnHidden(SessionListModel.COL_DATE, True)
        self.summary = QLabel(objectName="day_summary")
        self.summary.setWordWrap(True)
        # Booked today and not documented yet: who is coming, and whose note is missing.
        self.expected = QListWidget(objectName="expected_patients")
        self.expected.setAccessibleName("Expected, not documented")
        self.expected_label = QLabel("E&xpected, not documented (Enter opens the patient):")
        self.expected_label.setBuddy(self.expected)
        self.notice = QLabel(notice, objectName="notice")
        self.notice.setWordWrap(True)
        self.notice.setVisible(bool(notice))
        self.notice.setStyleSheet("QLabel { background: #fff6d5; border: 1px solid #d9c36c; "
                                  "padding: 6px; }")

        bar = QHBoxLayout()
        for widget in (date_label, self.date_edit, self.prev_button, self.next_button,
                       self.today_button):
            bar.addWidget(widget)
        bar.addStretch(1)
        bar.addWidget(search_label)
        bar.addWidget(self.search)
        bar.addWidget(self.new_button)
        bar.addWidget(self.new_patient_button)
        bar.addWidget(self.summaries_button)
        bar.addWidget(self.day_sheet_button)
        bar.addWidget(self.superbills_button)
        self.day_page = QWidget(objectName="day_page")
        day_layout = QVBoxLayout(self.day_page)
        day_layout.addWidget(self.notice)
        day_layout.addLayout(bar)
        day_layout.addWidget(self.patients)
        day_layout.addWidget(self.table, 1)
        day_layout.addWidget(self.summary)
        day_layout.addWidget(self.expected_label)
        day_layout.addWidget(self.expected)
        self.lock_screen = LockScreen(workspace.store, self.clinic_name)
        self.pages = QStackedWidget(objectName="pages")
        self.pages.addWidget(self.day_page)
        self.pages.addWidget(self.lock_screen)
        self.setCentralWidget(self.pages)
        for a, b in ((self.date_edit, self.prev_button), (self.prev_button, self.next_button),
                     (self.next_button, self.today_button), (self.today_button, self.search),
                     (self.search, self.new_button), (self.new_button, self.new_patient_button),
                     (self.new_patient_button, self.summaries_button),
                     (self.summaries_button, self.day_sheet_button),
                     (self.day_sheet_button, self.superbills_button),
                     (self.superbills_button, self.table), (self.table, self.expected)):
            self.setTabOrder(a, b)

        file_menu = self.menuBar().addMenu("&File")
        for action in (self.new_action, self.open_action, self.find_action,
                       self.new_patient_action, self.import_action, self.lock_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.admin_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action("&Quit", QKeySequence.StandardKey.Quit, self.quit))
        print_menu = self.menuBar().addMenu("&Print")
        print_menu.addAction(self.summaries_action)
        print_menu.addAction(self.day_summaries_action)
        print_menu.addAction(self.day_sheet_action)
        print_menu.addAction(self.superbills_action)
        go_menu = self.menuBar().addMenu("&Go")
        for action in (self.prev_action, self.next_action, self.today_action):
            go_menu.addAction(action)

        self.signed_in = QLabel(objectName="signed_in")
        # Permanent widgets, so a passing status message never hides the outage line.
        self.statusBar().addPermanentWidget(self.banner, 1)
        self.statusBar().addPermanentWidget(self.signed_in)
        self.date_edit.setDate(to_qdate(workspace.today()))  # before it refreshes on change
        self.date_edit.dateChanged.connect(self.refresh)
        self.search.textEdited.connect(lambda text: self._guarded(
            lambda: self._find_patients(text)))
        self.search.returnPressed.connect(lambda: self._guarded(self._show_first_patient))
        self.patients.itemActivated.connect(lambda item: self._guarded(
            lambda: self._show_patient(item)))
        self.expected.itemActivated.connect(lambda item: self._guarded(
            lambda: self._show_patient(item)))
        self.table.activated.connect(lambda _index: self._guarded(self.open_selected))
        self.table.selectionModel().selectionChanged.connect(
            lambda _on, _off: self._name_print_actions())
        self.lock_screen.form.signed_in.connect(self._unlocked)
        self.lock_screen.form.cancelled.connect(self.close)
        clinic_idle = clinic.idle_lock_minutes if clinic else 10
        self.idle = IdleWatcher(clinic_idle, self)
        self.idle.idle.connect(self.lock)
        self._page_before_lock: QWidget = self.day_page
        self._apply_user()
        self.refresh()
        # Signatures and drafts saved on other workstations show here within seconds.
        self.live = LiveDays(workspace.store, self)
        self.live.changed.connect(lambda days: self._guarded(
            lambda: self._changed_elsewhere(days)))
        # An idle window learns of an outage from the listening connection it loses.
        self.live.unreachable.connect(self._keep_list)
        self._restore_geometry()
        self.table.setFocus()  # the first thing after signing in is the day's list

    # --- helpers -------------------------------------------------------------------------

    def _action(self, text: str, shortcut: QKeySequence.StandardKey | str,
                slot: Callable[[], object]) -> QAction:
        """Window-wide actions, so their shortcuts work whichever input has the focus."""
        action = QAction(text, self)
        action.setShortcut(QKeySequence(shortcut))
        # triggered(bool) would hand `checked` to a slot's optional parameter: call it bare.
        action.triggered.connect(lambda _checked=False: self._guarded(slot))
        self.addAction(action)
        return action

    def _guarded(self, slot: Callable[[], object]) -> None:
        """What the user asked for, with the server out of reach said in the banner (not in
        a box); nothing was changed."""
        try:
            slot()
        except ServerUnreachable as exc:
            self.banner.report(exc)

    def _button(self, text: str, name: str, action: QAction) -> QPushButton:
        button = QPushButton(text, objectName=name)
        button.setToolTip(f"{action.text().replace('&', '')} "
                          f"({action.shortcut().toString(NATIVE)})")
        button.clicked.connect(action.trigger)
        action.enabledChanged.connect(button.setEnabled)
        return button

    def _apply_user(self) -> None:
        user = self.workspace.actor
        self.signed_in.setText(f"Signed in as {user.display if user else 'command line'} · "
                               f"{self.clinic_name}")
        self.new_action.setEnabled(self.workspace.can(Permission.DOCUMENT))
        self.open_action.setEnabled(self.workspace.can(Permission.VIEW_CLINICAL))
        self.admin_action.setEnabled(self.workspace.can(Permission.MANAGE_USERS))
        self.new_patient_action.setEnabled(self.workspace.can(Permission.MANAGE_PATIENTS))
        self.import_action.setEnabled(self.workspace.can(Permission.MANAGE_PATIENTS))
        printing = self.workspace.can(Permission.PRINT_SUMMARY)
        self.summaries_action.setEnabled(printing)
        self.day_summaries_action.setEnabled(printing)
        self.day_sheet_action.setEnabled(printing)
        self.superbills_action.setEnabled(self.workspace.can(Permission.BILLING))

    def _go_today(self) -> None:
        self.date_edit.setDate(self._follow_clock())

    def _follow_clock(self) -> QDate:
        """Today by the clinic's clock, read now: a window left open past midnight reaches the
        new day (the latest date the day view offers)."""
        today = to_qdate(self.workspace.today())
        self.date_edit.setMaximumDate(today)
        return today

    @property
    def day(self) -> dt.date:
        return from_qdate(self.date_edit.date())

    def _shift(self, days: int) -> None:
        if self.pages.currentWidget() is not self.day_page:
            return
        wanted = self.date_edit.date().addDays(days)
        if wanted > self._follow_clock():
            self.statusBar().showMessage("This is today: there is no later day to show.", 5000)
            return
        self.date_edit.setDate(wanted)

    # --- the day and the patient --------------------------------------------------------

    def refresh(self) -> None:
        try:
            rows = self.workspace.day_overview(self.day, wait_for_codes=False)
            expected = self.workspace.expected_without_note(self.day)
        except ServerUnreachable as exc:
            self._keep_list(exc)
            return
        self._listed = (self.day, self.workspace.now())
        self.summary.setStyleSheet("")
        title = f"{self.day:%A %d %B %Y}"
        # The row the keyboard is on and the rows chosen for printing stay so through a
        # refresh (another workstation's change refreshes the list under the user).
        current = self.table.currentIndex()
        current_id = self.model.row_at(current.row()).id if current.isValid() else None
        chosen = {self.model.row_at(i.row()).id
                  for i in self.table.selectionModel().selectedRows()}
        self.model.set_rows(rows)
        self._fit_columns()
        if rows:  # a current row, not a selection: Enter opens it, Ctrl+P still prints all
            first = next(c for c in range(self.model.columnCount())
                         if not self.table.isColumnHidden(c))
            ids = [r.id for r, _b, _w in rows]
            at = ids.index(current_id) if current_id in ids else 0
            selection = self.table.selectionModel()
            selection.setCurrentIndex(self.model.index(at, first),
                                      QItemSelectionModel.SelectionFlag.NoUpdate)
            for i, sid in enumerate(ids):
                if sid in chosen:
                    selection.select(self.model.index(i, first), ROW_SELECTED)
        self._name_print_actions()
        drafts = sum(r.status == SessionStatus.DRAFT for r, _b, _w in rows)
        judged = [b for _r, b, _w in rows if b is not None]
        blocked = f" ({sum(1 for b in judged if b)} with blockers)" if judged else ""
        self._summary_text = (f"{len(rows)} session{'s' * (len(rows) != 1)} — {title}: "
                              f"{len(rows) - drafts} signed, {drafts} draft"
                              f"{'s' * (drafts != 1)}{blocked}")
        self.summary.setText(self._summary_text)
        self.expected.clear()
        for e in expected:
            time = e.appointment.time.strftime("%H:%M") if e.appointment.time else "--:--"
            item = QListWidgetItem(f"{time}  {patient_line(e.patient)}"
                                   f"{' · with ' + e.clinician if e.clinician else ''}")
            item.setData(PATIENT_ROLE, e.patient)
            self.expected.addItem(item)
        if not self.expected.count():
            self.expected.addItem("Nobody booked this day is without a note.")
        # As tall as its lines, up to four: the day's sessions keep the room.
        lines = min(self.expected.count(), 4)
        self.expected.setFixedHeight(lines * self.expected.sizeHintForRow(0)
                                     + 2 * self.expected.frameWidth())

    def _keep_list(self, exc: ServerUnreachable) -> None:
        """The server is out of reach: the day last listed stays (another day asked for is
        not shown, so the date goes back to it), saying as of when; listed again when the
        server is back (``_server_back``)."""
        self.banner.report(exc)
        self.summary.setStyleSheet("QLabel { color: #9b1c15; font-weight: bold; }")
        if self._listed is None:
            self.summary.setText("The server cannot be reached: the day is listed as soon as "
                                 "it is back.")
            return
        day, at = self._listed
        if day != self.day:
            with QSignalBlocker(self.date_edit):
                self.date_edit.setDate(to_qdate(day))
        self.summary.setText(f"As of {local(at, self._zone):%H:%M}: the server cannot be "
                             "reached, so later changes (and other days) show when it is "
                             f"back. {self._summary_text}")

    def _server_back(self) -> None:
        """The banner saw the server answer again: what is shown is read again, and the live
        lists listen again at once."""
        self.statusBar().showMessage("The server can be reached again.", 10_000)
        self.live.resume()
        if self.locked:
            return
        self._guarded(self.refresh)
        if self.patient_view is not None:
            self._guarded(self.patient_view.refresh)

    def _changed_elsewhere(self, days: list) -> None:
        """Another workstation saved, signed or closed a note: the day shown is listed again
        when it is among the days changed (the lists are refreshed on unlocking anyway), and a
        note shown read-only because it was open there opens for editing once it is closed."""
        if self.locked:
            return
        if self.editor is not None:  # a draft open elsewhere may have been closed there
            self.editor.follow_holder()
            if None in days:  # some day: a backup restored elsewhere, perhaps
                self.editor.follow_stored()
        if not (None in days or self.day in days):
            return
        self.refresh()
        if self.patient_view is not None and self.pages.currentWidget() is self.patient_view:
            self.patient_view.refresh()

    def _fit_columns(self) -> None:
        """Each column as wide as its widest text, measured once for the rows just listed
        (Qt's own fitting asks the model for every cell in several roles: 0.1 s for a busy
        day)."""
        header = self.table.horizontalHeader()
        cells, titles = self.table.fontMetrics(), header.fontMetrics()
        margin = 2 * (self.table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin,
                                                     None, self.table) + 1) + 12
        for column in range(self.model.columnCount()):
            if header.sectionResizeMode(column) == QHeaderView.ResizeMode.Stretch or \
                    self.table.isColumnHidden(column):
                continue
            widest = max((cells.horizontalAdvance(t) for t in set(
                self.model.column_texts(column))), default=0)
            title = titles.horizontalAdvance(self.model.HEADERS[column]) + 2 * margin
            self.table.setColumnWidth(column, max(widest + margin, title))

    def find_patient(self) -> None:
        """Ctrl+F: the day view's patient search. From an open note, the note is closed first
        (it is saved), so nothing is typed into a search box that is not on screen."""
        if self.editor is not None and self.pages.currentWidget() is self.editor:
            self.editor.close_editor()
            if self.editor is not None:  # kept open: a refused value or an unsaved edit
                return
        if self.pages.currentWidget() is self.patient_view:
            self.close_patient()
        if self.pages.currentWidget() is self.day_page:
            self.search.setFocus()
            self.search.selectAll()

    def _find_patients(self, text: str) -> None:
        self.patients.clear()
        if not text.strip():
            self.patients.hide()
            return
        found = self.workspace.search_patients(text, 20)
        for p in found:
            item = QListWidgetItem(patient_line(p))
            item.setData(PATIENT_ROLE, p)
            self.patients.addItem(item)
        if found:
            self.patients.setCurrentRow(0)
        else:  # said where the patients would be, with how the search reads what was typed
            item = QListWidgetItem(no_patient_line(text))
            item.setFlags(Qt.ItemFlag.ItemIsEnabled)  # a line to read: nothing to open
            self.patients.addItem(item)
        self.patients.show()

    def _show_first_patient(self) -> None:
        item = self.patients.currentItem() or self.patients.item(0)
        if item is not None:
            self._show_patient(item)

    def _show_patient(self, item: QListWidgetItem) -> None:
        patient = item.data(PATIENT_ROLE)
        if patient is not None:
            self.patients.hide()
            self.search.clear()  # the search is done: the page names the patient
            self.open_patient(patient)

    def open_patient(self, patient: Patient) -> None:
        """The patient's page, in place of the day view until Back (or Ctrl+F)."""
        self._drop_patient()
        try:
            view = PatientPageView(self.workspace, patient)
        except AccountDisabled:
            return
        except ServerUnreachable as exc:
            self.banner.report(exc)
            return
        except KnownError as exc:
            self.notice.setText(str(exc))
            self.notice.show()
            return
        self.patient, self.patient_view = view.patient, view
        view.closed.connect(self.close_patient)
        view.open_session.connect(self.open_session)
        view.new_session.connect(self.new_session)
        self.pages.addWidget(view)
        self.pages.setCurrentWidget(view)
        view.visits.setFocus()

    def close_patient(self) -> None:
        if self._drop_patient():
            self.refresh()
            self.table.setFocus()

    def _drop_patient(self) -> bool:
        if self.patient_view is None:
            return False
        view, self.patient_view, self.patient = self.patient_view, None, None
        if self.pages.currentWidget() is view:
            self.pages.setCurrentWidget(self.day_page)
        self.pages.removeWidget(view)
        view.deleteLater()
        return True

    def new_patient(self) -> None:
        """Register a patient, then show their page (or the existing one chosen instead)."""
        if self.pages.currentWidget() not in (self.day_page, self.patient_view):
            return
        dialog = PatientDialog(self.workspace, None, self)
        if dialog.exec():
            patient = dialog.saved or dialog.open_existing
            if patient is not None:
                self.open_patient(patient)

    def import_patients(self) -> None:
        """Ctrl+Shift+I: choose a CSV file, import it, show what was added and refused."""
        if not self.workspace.can(Permission.MANAGE_PATIENTS) or self.locked:
            return
        dialog = ImportDialog(self.workspace, self)
        if dialog.panel.choose():
            dialog.exec()
        dialog.deleteLater()

    # --- sessions ------------------------------------------------------------------------

    def new_session(self) -> None:
        if self.pages.currentWidget() not in (self.day_page, self.patient_view):
            return
        dialog = NewSessionDialog(self.workspace, self.day, self.patient, self)
        if dialog.exec() and dialog.session is not None:
            self.open_session(dialog.session.id or 0)

    def open_selected(self) -> None:
        if self.patient_view is not None and self.pages.currentWidget() is self.patient_view:
            index = self.patient_view.visits.currentIndex()
            if index.isValid():
                self.open_session(self.patient_view.visits_model.row_at(index.row()).id)
            return
        index = self.table.currentIndex()
        if self.pages.currentWidget() is self.day_page and index.isValid():
            self.open_session(self.model.row_at(index.row()).id)

    def open_session(self, session_id: int) -> None:
        try:
            session = self.workspace.open_session(session_id)
        except AccountDisabled:
            return  # the sign-in screen says why
        except ServerUnreachable as exc:
            self.banner.report(exc)
            return
        except KnownError as exc:
            self.notice.setText(str(exc))
            self.notice.show()
            if self.pages.currentWidget() is not self.day_page:
                # The day page's notice is out of sight (a patient's page): the status bar.
                self.statusBar().showMessage(str(exc), 10_000)
            return
        self.close_editor()
        self.editor = SessionEditor(self.workspace, session)
        self.editor.closed.connect(self.close_editor)
        self.pages.addWidget(self.editor)
        self.pages.setCurrentWidget(self.editor)
        self.editor.steps[0].setFocus()
        self.editor.step_list.setFocus()

    def close_editor(self) -> None:
        if self._drop_editor():
            self.refresh()
            if self.patient_view is not None:  # back to the page the note was opened from
                self.patient_view.refresh()
                self.pages.setCurrentWidget(self.patient_view)
                self.patient_view.visits.setFocus()
            else:
                self.table.setFocus()

    def _drop_editor(self) -> bool:
        """Remove the editor (what it saved stays saved); False when none was open."""
        if self.editor is None:
            return False
        editor, self.editor = self.editor, None
        editor.release()
        self.pages.setCurrentWidget(self.day_page)
        self.pages.removeWidget(editor)
        editor.deleteLater()
        return True

    # --- paper ------------------------------------------------------------------------------

    def _name_print_actions(self) -> None:
        """The summaries' and superbills' button and menu say what Ctrl+P and Ctrl+B print:
        "Print 1 selected summary", or "Print the day's 16 summaries" when none is selected."""
        chosen = len(self.table.selectionModel().selectedRows())
        count = chosen or self.model.rowCount()
        plural = count != 1
        which = f"{count} selected" if chosen else ("the day's" + (f" {count}" if plural
                                                                   else ""))
        summaries = f"Print {which} summar{'ies' if plural else 'y'}"
        self.summaries_action.setText(f"{summaries.replace('summar', '&summar', 1)}…")
        self.summaries_button.setText(summaries)
        self.superbills_action.setText(f"Super&bills: {which}…")
        self.superbills_button.setText(f"Superbills: {which}")
        for button, action in ((self.summaries_button, self.summaries_action),
                               (self.superbills_button, self.superbills_action)):
            button.setToolTip(f"{action.text().replace('&', '')} "
                              f"({action.shortcut().toString(NATIVE)})")

    def _file_name(self, kind: str, ids: list[int]) -> str:
        """'session-summary-2026-11-26-Lee-Ann.pdf' for one session, whose it is; the day's
        name ('session-summaries-2026-11-26.pdf') for several."""
        day = self.day.isoformat()
        if len(ids) != 1:
            return f"{kind[1]}-{day}.pdf"
        row = next((self.model.row_at(r) for r in range(self.model.rowCount())
                    if self.model.row_at(r).id == ids[0]), None)
        name = "-".join("".join(c for c in part if c.isalnum()) for part in
                        (row.patient_name.replace(",", " ").split() if row else []))
        return f"{kind[0]}-{day}" + (f"-{name}" if name else "") + ".pdf"

    def selected_ids(self) -> list[int]:
        """The selected sessions, or every listed one when none is selected."""
        rows = sorted({index.row() for index in self.table.selectionModel().selectedRows()})
        if not rows:
            rows = list(range(self.model.rowCount()))
        return [self.model.row_at(r).id for r in rows]

    def summaries_preview(self, ids: list[int] | None = None) -> PdfPreview:
        """Two summaries to a page with a cut line; the preview offers one per page. ``ids``:
        the selected sessions (or the whole day when none is) unless given."""
        ids = self.selected_ids() if ids is None else ids
        pdf = self.workspace.summaries_pdf(ids)
        return PdfPreview(pdf, f"Session summaries ({len(ids)})",
                          self._file_name(("session-summary", "session-summaries"), ids),
                          lambda purpose: self.workspace.record_output("summary", ids, purpose),
                          self, option=("&One summary per page", lambda one: self.workspace
                                        .summaries_pdf(ids, per_page=1 if one else 2)))

    def superbills_preview(self) -> PdfPreview:
        """Ctrl+B: a superbill per selected session (every listed one when none is)."""
        ids = self.selected_ids()
        pdf = self.workspace.superbills_pdf(ids)
        return PdfPreview(pdf, f"Superbills ({len(ids)})",
                          self._file_name(("superbill", "superbills"), ids),
                          lambda purpose: self.workspace.record_output("superbill", ids,
                                                                       purpose), self)

    def day_sheet_preview(self) -> PdfPreview:
        ids = self.workspace.day_ids(self.day)
        pdf = self.workspace.day_sheet_pdf(self.day)
        return PdfPreview(pdf, f"Day sheet {self.day}", f"day-sheet-{self.day.isoformat()}.pdf",
                          lambda purpose: self.workspace.record_output("day sheet", ids,
                                                                       purpose), self)

    # --- administration ------------------------------------------------------------------

    def administer(self) -> None:
        """Ctrl+Shift+A: the administration window beside the day view (one at a time)."""
        if not self.workspace.can(Permission.MANAGE_USERS) or self.locked:
            return
        self._close_admin()
        self.admin_window = AdminWindow(self.workspace, self)
        self.admin_window.show()
        self.admin_window.raise_()
        self.admin_window.activateWindow()
        self.admin_window.tabs.setFocus()

    def _close_admin(self) -> None:
        if self.admin_window is not None:
            self.admin_window.close()
            self.admin_window.deleteLater()
            self.admin_window = None

    # --- lock -------------------------------------------------------------------------------

    def lock(self) -> None:
        if self.pages.currentWidget() is self.lock_screen:
            return
        if self.editor is not None:
            self.editor.commit_pending()  # the field being typed is saved first
        self._page_before_lock = self.pages.currentWidget()
        self._close_admin()  # nothing stays on screen while locked
        user = self.workspace.actor
        self._show_lock_screen(user.username if user else None, "Locked", LOCKED)

    def _show_lock_screen(self, preselect: str | None, state: str, why: str) -> None:
        self.lock_screen.explain(why)
        self.lock_screen.form.reload_users(preselect)
        self.pages.setCurrentWidget(self.lock_screen)
        self.menuBar().setEnabled(False)
        for action in self.actions():  # no shortcut may reach patient data while locked
            action.setEnabled(False)
        self.signed_in.setText(f"{state} · {self.clinic_name}")
        self.lock_screen.form.secret.setFocus()

    def _watch(self, workspace: Workspace) -> Workspace:
        """The workspace in use, which tells the window when its user has been disabled (after
        the refused action has unwound, hence the timer)."""
        workspace.on_disabled = lambda: QTimer.singleShot(0, self.account_disabled)
        return workspace

    def account_disabled(self) -> None:
        """The administrator disabled the signed-in user: straight to the sign-in screen with
        a plain message. Everything saved stays; the refused edit is not kept."""
        if self.locked:
            return
        for dialog in self.findChildren(QDialog):
            if dialog.isVisible():
                dialog.reject()
        self._drop_editor()
        self._close_admin()
        self._drop_patient()
        self._page_before_lock = self.day_page
        self._show_lock_screen(None, "Signed out",
                               f"{AccountDisabled.MESSAGE} Patient data is hidden. What was "
                               "saved before stays saved; nothing more is saved in your "
                               "name. Another user may sign in.")

    def _unlocked(self, user: User) -> None:
        same = self.workspace.actor is not None and self.workspace.actor.id == user.id
        if not same:  # nothing of the previous user stays: their note, search, notices
            self._drop_editor()
            self._drop_patient()
            self.workspace = self._watch(Workspace(self.workspace.store, user,
                                                   self.workspace.today, self.workspace.now,
                                                   self.workspace.codes_if_ready))
            self.patient = None
            self.search.clear()
            self.patients.clear()
            self.patients.hide()
            self.notice.clear()
            self.notice.hide()
            self.table.clearSelection()
        if self._page_before_lock not in (self.editor, self.patient_view):
            self._page_before_lock = self.day_page
        if not same or self._page_before_lock is self.day_page:
            self._page_before_lock = self.day_page
            self.refresh()  # a new user's day, or sessions others changed while it was locked
        self.menuBar().setEnabled(True)
        for action in self.actions():
            action.setEnabled(True)
        self.pages.setCurrentWidget(self._page_before_lock)
        self._apply_user()
        self.idle.timer.start()
        if self.pages.currentWidget() is self.day_page:
            self.table.setFocus()

    @property
    def locked(self) -> bool:
        return self.pages.currentWidget() is self.lock_screen

    # --- window state ---------------------------------------------------------------------

    def _restore_geometry(self) -> None:
        geometry = QSettings().value("main/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:  # fits the screen it opens on (a 1366x768 laptop too), with its frame
            screen = self.screen().availableGeometry() if self.screen() else None
            self.resize(min(1280, screen.width() - 40) if screen else 1280,
                        min(760, screen.height() - 60) if screen else 760)

    def quit(self) -> None:
        """Ctrl+Q: close the window, unless the open note's last edits wait to be saved and
        the user keeps it open."""
        if self._may_drop_unsaved():
            self.close()

    def _may_drop_unsaved(self) -> bool:
        """True unless the open note's last edits cannot be saved now (a busy database, a
        server out of reach, a restore under them) and the user keeps the window open."""
        editor = self.editor
        if editor is None or editor.read_only or editor.saved_now():
            return True
        answer = QMessageBox.question(
            self, "Edits not saved",
            f"The last edits of the open note are not saved (the {editor.why_unsaved()}). "
            "Quitting now loses them.\n\nQuit anyway? (No keeps ptdoc open: they are saved "
            "as soon as they can be.)",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        # The window's close button asks as Ctrl+Q does; a close by the program (Ctrl+Q after
        # asking, a logout's signal, which cannot wait for an answer) does not.
        if event.spontaneous() and not self._may_drop_unsaved():
            event.ignore()
            return
        if self.editor is not None:
            self.editor.commit_pending()
            if self.editor.unsaved:
                log.warning("closed with the last edits of session %s not saved (%s)",
                            self.editor.session.id, self.editor.why_unsaved())
            self.editor.release()
        self.live.stop()
        self.banner.stop()
        outage.attach(None)
        QSettings().setValue("main/geometry", self.saveGeometry())
        self.idle.stop()
        super().closeEvent(event)


