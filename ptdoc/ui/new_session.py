"""Start a session: find the patient as you type, then date, episode and note type."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate, QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import NoteType, Patient, Session, SessionStatus
from ptdoc.errors import KnownError
from ptdoc.services import Workspace

PATIENT_ROLE = Qt.ItemDataRole.UserRole


def patient_line(p: Patient) -> str:
    return f"{p.display_name} · MRN {p.mrn} · born {p.date_of_birth:%Y-%m-%d}"


def no_patient_line(typed: str) -> str:
    """What a search that finds nobody says, with how it reads what was typed
    (``PatientRepository.search``)."""
    return (f"No patient matches '{typed.strip()}' (names match from their beginning; MRN "
            "and date of birth whole)")


class NewSessionDialog(QDialog):
    def __init__(self, workspace: Workspace, day: dt.date, patient: Patient | None = None,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.session: Session | None = None
        self.setWindowTitle("New session")
        self.search = QLineEdit(objectName="new_patient_search")
        self.search.setPlaceholderText("Name, MRN or date of birth (YYYY-MM-DD or MM/DD/YYYY)")
        self.results = QListWidget(objectName="new_patient_results")
        self.results.setAccessibleName("Patients found")
        self.date = QDateEdit(calendarPopup=True, objectName="new_date")
        self.date.setDisplayFormat("yyyy-MM-dd")
        self._follow_clock()
        self.date.setDate(QDate(day.year, day.month, day.day))
        self.date.installEventFilter(self)
        # A second visit the same day is unusual: said under the date, before it is started.
        self.same_day = QLabel(objectName="new_same_day")
        self.same_day.setWordWrap(True)
        self.same_day.setStyleSheet("QLabel { color: #8a5300; }")
        self.same_day.hide()
        self.episode = QComboBox(objectName="new_episode")
        self.note_type = QComboBox(objectName="new_note_type")
        for t in NoteType:
            self.note_type.addItem(t.value.capitalize(), t.value)
        self.note_reason = QLabel(objectName="new_note_reason")  # why this note type
        self.note_reason.setWordWrap(True)
        # Two lines held for the reason: the form lays a wrapped label out as one line and the
        # patient list takes the rest, which cut the reason in half.
        self.note_reason.setMinimumHeight(3 * self.note_reason.fontMetrics().lineSpacing())
        self._proposed: str | None = None  # the note type last proposed
        self._why = ""  # and why
        self.message = QLabel(objectName="new_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel { color: #b00020; }")
        form = QFormLayout()
        for text, widget in (("&Patient:", self.search), ("", self.results),
                             ("&Date of service:", self.date), ("", self.same_day),
                             ("&Episode:", self.episode),
                             ("Note &type:", self.note_type), ("", self.note_reason)):
            if text:
                label = QLabel(text)
                label.setBuddy(widget)
                form.addRow(label, widget)
            else:
                form.addRow(widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        start = buttons.button(QDialogButtonBox.StandardButton.Ok)
        start.setText("Start session")
        start.setToolTip("Start the session (Ctrl+Enter)")
        # A window action, not a button mnemonic: the date field would swallow the mnemonic.
        start_action = QAction("Start session", self)
        start_action.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        start_action.triggered.connect(self._create)
        self.addAction(start_action)
        buttons.accepted.connect(self._create)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.search.textEdited.connect(self._find)
        self.search.returnPressed.connect(lambda: self.results.setFocus())
        self.results.currentItemChanged.connect(self._picked)
        self.results.itemActivated.connect(lambda _item: self.date.setFocus())
        self.date.dateChanged.connect(lambda _date: self._propose())
        self.episode.activated.connect(lambda _index: self._propose())
        self.note_type.currentIndexChanged.connect(lambda _index: self._say_why())
        self.resize(560, 480)
        self._find(patient.mrn if patient else "")
        if patient is not None:
            self.search.setText(patient.mrn)
            self.results.setCurrentRow(0)
            self.date.setFocus()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        # Enter moves through the choices (patient, then date); only Start starts a session.
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and \
                not event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            return
        super().keyPressEvent(event)

    def _follow_clock(self) -> None:
        """The latest date of service is today by the clinic's clock, read again whenever the
        date field is used: a form left open past midnight offers the new day."""
        today = self.workspace.today()
        self.date.setMaximumDate(QDate(today.year, today.month, today.day))

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        if obj is self.date and event.type() in (QEvent.Type.FocusIn, QEvent.Type.KeyPress,
                                                 QEvent.Type.MouseButtonPress):
            self._follow_clock()
        return super().eventFilter(obj, event)

    def _find(self, text: str) -> None:
        self.results.clear()
        for p in self.workspace.search_patients(text, 30):
            item = QListWidgetItem(patient_line(p))
            item.setData(PATIENT_ROLE, p)
            self.results.addItem(item)
        # Nothing is chosen until something is typed: Ctrl+Enter on a fresh dialog must not
        # start a note for whoever happens to be listed first.
        if self.results.count() and text.strip():
            self.results.setCurrentRow(0)

    def _picked(self, item: QListWidgetItem | None) -> None:
        self.episode.clear()
        if item is None:
            return
        patient: Patient = item.data(PATIENT_ROLE)
        episodes = self.workspace.store.episodes.for_patient(patient.id or 0)
        for e in episodes:
            self.episode.addItem(f"From {e.start_date} · {', '.join(e.diagnoses)}", e.id)
        self.episode.addItem("No episode", None)
        self._proposed = None  # another patient: their proposal, whatever was chosen before
        self._propose()

    def _propose(self) -> None:
        """The note type the patient is due (an evaluation, a progress report, a daily note),
        and why, under the choice; a type the user chose stays theirs."""
        item = self.results.currentItem()
        self._say_same_day()
        if item is None:
            self.note_reason.clear()
            return
        q = self.date.date()
        note_type, why = self.workspace.proposed_note_type(
            item.data(PATIENT_ROLE).id or 0, dt.date(q.year(), q.month(), q.day()),
            self.episode.currentData())
        if self._proposed is None or self.note_type.currentData() == self._proposed:
            self.note_type.setCurrentIndex(self.note_type.findData(note_type.value))
        self._proposed = note_type.value
        self._why = why
        self._say_why()

    def _say_same_day(self) -> None:
        """When the patient already has a signed note on the date chosen (time in, type)."""
        item = self.results.currentItem()
        q = self.date.date()
        signed = [] if item is None else self.workspace.sessions(
            date=dt.date(q.year(), q.month(), q.day()), patient_mrn=item.data(PATIENT_ROLE).mrn,
            status=SessionStatus.SIGNED)
        if not signed:
            self.same_day.clear()
            self.same_day.hide()
            return
        visits = "; ".join(
            f"{s.note_type.named}{f' at {s.time_in:%H:%M}' if s.time_in else ''}"
            f"{f' by {s.clinician}' if s.clinician else ''}" for s in signed)
        self.same_day.setText(f"Already signed this day: {visits}. A second visit the same "
                              "day is unusual.")
        self.same_day.show()

    def _say_why(self) -> None:
        """Why the proposed type; once another is chosen, that it differs from the proposal
        (a line still saying "Progress report: ..." under Daily note misleads)."""
        chosen = self.note_type.currentData()
        if self._proposed is None or chosen == self._proposed:
            self.note_reason.setText(self._why)
            return
        self.note_reason.setText(f"{self.note_type.currentText()} chosen instead of the "
                                 f"proposed {NoteType(self._proposed).value}. {self._why}")

    def _create(self) -> None:
        item = self.results.currentItem()
        if item is None:
            self.message.setText("Choose the patient first.")
            return
        q = self.date.date()
        try:
            self.session = self.workspace.new_session(
                item.data(PATIENT_ROLE).id, dt.date(q.year(), q.month(), q.day()),
                self.episode.currentData(), NoteType(self.note_type.currentData()))
        except KnownError as exc:
            self.message.setText(str(exc))
            return
        self.accept()
