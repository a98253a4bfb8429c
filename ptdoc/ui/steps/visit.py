"""Step 1, the visit: date, note type, episode and plan of care, time, diagnoses."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from PySide6.QtCore import QDate, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import NoteType, Session
from ptdoc.errors import ValidationError
from ptdoc.fields import parse_time
from ptdoc.followup import with_time
from ptdoc.icd_index import IcdIndex
from ptdoc.identifiers import icd10_format_ok, normalize_icd10
from ptdoc.ui.steps.base import Step, set_text
from ptdoc.ui.steps.plan_of_care import PLAN_NOTES, PlanOfCareBox
from ptdoc.ui.widgets import FieldError, add_field

CODE_ROLE = Qt.ItemDataRole.UserRole


def find_codes(results: QListWidget, codes: IcdIndex | None, text: str) -> None:
    """ICD-10-CM codes for ``text`` (a code or words) into ``results``, each with its code in
    CODE_ROLE; while the code set is still loading, a well-formed code is offered as typed."""
    results.clear()
    if codes is None:
        code = normalize_icd10(text)
        if icd10_format_ok(code):
            item = QListWidgetItem(f"{code}  (code set still loading: checked later)")
            item.setData(CODE_ROLE, code)
            results.addItem(item)
        return
    for found in codes.search(text, 30):
        label = f"{found.code}  {found.description}"
        if not found.billable:
            label += "  (category: pick a more specific code)"
        item = QListWidgetItem(label)
        item.setData(CODE_ROLE, found.code)
        results.addItem(item)


class SearchBox(QLineEdit):
    """Down moves into the results; Enter takes the chosen (or first) result."""

    def __init__(self, results: QListWidget):
        super().__init__(objectName="field_diagnosis_search")
        self.results = results

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Down and self.results.count():
            self.results.setFocus()
            self.results.setCurrentRow(0)
            return
        super().keyPressEvent(event)


class VisitStep(Step):
    title = "Visit"
    owns = ("date_of_service", "note_type", "episode_id", "time_in", "time_out", "diagnoses")

    def __init__(self, editor):
        super().__init__(editor)
        self.patient_label = QLabel(objectName="visit_patient")
        self.patient_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.patient_label.setWordWrap(True)  # a long name or payer wraps, never widens
        form = QFormLayout()
        form.addRow("Patient:", self.patient_label)

        self.date = QDateEdit(calendarPopup=True)
        self.date.setDisplayFormat("yyyy-MM-dd")
        self.errors["date_of_service"] = add_field(form, "&Date of service:", self.date,
                                                   "date_of_service")
        self.note_type = QComboBox()
        for t in NoteType:
            self.note_type.addItem(t.value.capitalize(), t.value)
        self.errors["note_type"] = add_field(form, "Note &type:", self.note_type, "note_type")
        self.episode = QComboBox()
        # An episode reads "From ... · certified through ... · its diagnoses": with several
        # diagnoses sized to its text it held the window wider than a 1366 screen. It takes
        # the width it is given; the whole text is in its list and tooltip.
        self.episode.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.episode.setMinimumContentsLength(24)
        self.errors["episode_id"] = add_field(form, "&Episode / plan of care:", self.episode,
                                              "episode_id")
        self.episode_info = QLabel(objectName="episode_info")
        self.episode_info.setWordWrap(True)
        form.addRow("", self.episode_info)
        self.time_in = QLineEdit(placeholderText="10:00, 1000, 10a, 2:30p or now")
        self.time_out = QLineEdit(placeholderText="10:00, 1000, 10a, 2:30p or now")
        self.errors["time_in"] = add_field(form, "Time &in:", self.time_in, "time_in")
        self.errors["time_out"] = add_field(form, "Time &out:", self.time_out, "time_out")

        self.diagnoses = QListWidget(objectName="field_diagnoses")
        self.diagnoses.setAccessibleName("Diagnoses")
        self.diagnoses.setMaximumHeight(110)
        # A long description wraps under its code, whole, beside the plan on a 1366 px screen
        # ("Impingement syndrome of right shoulder", not "... of right should").
        self.diagnoses.setWordWrap(True)
        self.diagnoses.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.diagnoses.setTextElideMode(Qt.TextElideMode.ElideNone)
        self.results = QListWidget(objectName="diagnosis_results")
        self.results.setAccessibleName("ICD-10-CM search results")
        self.results.setMaximumHeight(150)
        self.search = SearchBox(self.results)
        self.search.setPlaceholderText("Type a code (M17.11) or words (knee osteoarthritis)")
        search_label = QLabel("ICD-10-CM sea&rch:")
        search_label.setBuddy(self.search)
        diagnoses_label = QLabel("Diag&noses (Delete removes):")
        diagnoses_label.setBuddy(self.diagnoses)
        self.remove_button = QPushButton("Remove diagnosis", objectName="remove_diagnosis")
        self.errors["diagnoses"] = FieldError("diagnoses")
        self.inputs.update(date_of_service=self.date, note_type=self.note_type,
                           episode_id=self.episode, time_in=self.time_in,
                           time_out=self.time_out, diagnoses=self.diagnoses,
                           diagnosis_search=self.search, remove_diagnosis=self.remove_button)

        self.plan = PlanOfCareBox(editor)
        # Scrolls rather than widening the editor past a 1366x768 screen.
        self.plan_area = QScrollArea(objectName="plan_of_care_area")
        self.plan_area.setWidget(self.plan)
        self.plan_area.setWidgetResizable(True)
        self.plan_area.setFrameShape(QFrame.Shape.NoFrame)
        self.plan_area.setMinimumWidth(240)
        self.plan_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        outer = QHBoxLayout(self)
        column = QVBoxLayout()
        outer.addLayout(column, 1)
        outer.addWidget(self.plan_area, 1)
        column.addLayout(form)
        column.addWidget(diagnoses_label)
        row = QHBoxLayout()
        row.addWidget(self.diagnoses, 1)
        row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)
        column.addLayout(row)
        column.addWidget(self.errors["diagnoses"])
        column.addWidget(search_label)
        column.addWidget(self.search)
        column.addWidget(self.results)
        column.addStretch(1)
        self.episodes = []

        self.date.dateChanged.connect(self._date_changed)
        self.note_type.activated.connect(lambda _i: self.editor.apply(
            lambda s: replace(s, note_type=NoteType(self.note_type.currentData())),
            "note_type"))
        self.episode.activated.connect(self._episode_changed)
        for field, box, label in (("time_in", self.time_in, "Time in"),
                                  ("time_out", self.time_out, "Time out")):
            # Before the field is saved: "now" becomes the clock time on screen at once, so
            # a refused "now" is not read again minutes later as another time.
            box.editingFinished.connect(lambda box=box: self._now_to_clock(box))
            self.bind_text(field, box, lambda s, text, field=field, label=label: with_time(
                s, field, parse_time(text, label, field, self.editor.clock_time()), text,
                self._refused_time(field)), label)
        self.search.textEdited.connect(self._search)
        self.search.returnPressed.connect(lambda: self._add(self.results.currentItem()
                                                            or self.results.item(0)))
        self.results.itemActivated.connect(self._add)
        self.remove_button.clicked.connect(self._remove)
        self.diagnoses.installEventFilter(self)

    def _now_to_clock(self, box: QLineEdit) -> None:
        if box.text().strip().lower() == "now" and not box.isReadOnly():
            set_text(box, f"{self.editor.clock_time():%H:%M}")

    def _refused_time(self, field: str) -> dict[str, dt.time | None]:
        """The other time as typed when it was refused: the pair is judged as on screen, so
        either one can be corrected first."""
        other = "time_out" if field == "time_in" else "time_in"
        refused = self.editor.refused.get(other)
        if refused is None:
            return {}
        try:
            return {other: parse_time(refused.text, refused.label, other)}
        except ValidationError:
            return {}

    def eventFilter(self, obj: QWidget, event) -> bool:  # Delete in the diagnosis list
        if obj is self.diagnoses and isinstance(event, QKeyEvent) and \
                event.type() == QKeyEvent.Type.KeyPress and event.key() == Qt.Key.Key_Delete:
            self._remove()
            return True
        return super().eventFilter(obj, event)

    def load(self, session: Session) -> None:
        ws = self.editor.workspace
        patient = self.editor.patient
        payer = ws.store.payers.get(patient.payer_id) if patient.payer_id else None
        self.patient_label.setText(
            f"<b>{patient.display_name}</b> · MRN {patient.mrn} · born "
            f"{patient.date_of_birth:%Y-%m-%d} · {payer.name if payer else 'no payer'}")
        d = session.date_of_service
        today = ws.today()  # by the clinic's clock at each showing: a note open past midnight
        self.date.blockSignals(True)
        self.date.setMaximumDate(QDate(today.year, today.month, today.day))
        self.date.setDate(QDate(d.year, d.month, d.day))
        self.date.blockSignals(False)
        self.note_type.setCurrentIndex(self.note_type.findData(session.note_type.value))
        self.episodes = ws.store.episodes.for_patient(patient.id or 0)
        self.episode.clear()
        self.episode.addItem("No episode", None)
        for e in self.episodes:
            through = e.certified_through.isoformat() if e.certified_through else "not set"
            self.episode.addItem(f"From {e.start_date} · certified through {through} · "
                                 f"{', '.join(e.diagnoses)}", e.id)
        self.episode.setCurrentIndex(max(0, self.episode.findData(session.episode_id)))
        self.episode.setToolTip(self.episode.currentText())
        ctx = self.editor.context
        if session.episode_id and ctx is not None and ctx.episode is not None:
            days = ctx.treatment_days_since_progress_report
            cert = ctx.episode.certified_on or ("order on file" if ctx.episode.order_on_file
                                                else "not yet certified")
            day = (days or 0) + 1
            if session.note_type == NoteType.PROGRESS_REPORT:
                count = (f"This progress report is written on treatment day {day} "
                         f"{ctx.since_report}.")
            else:
                count = f"This visit is treatment day {day} {ctx.since_report}."
                if day >= ctx.pack.progress_report_days and \
                        session.note_type == NoteType.DAILY:
                    count += " A progress report is due: choose it as the Note type (Alt+T)."
            # Where the plan is beside the visit its goals are there, not said twice.
            goals = "Goals: in the plan of care beside." if session.note_type in PLAN_NOTES \
                else f"Goals: {'; '.join(ctx.episode.goals) or 'none recorded'}."
            self.episode_info.setText(
                f"Plan of care from {ctx.episode.start_date}, certified {cert}, through "
                f"{ctx.episode.certified_through or 'not set'}. {count} {goals}")
        else:
            self.episode_info.setText("No plan of care attached.")
        self.plan.load()
        self.plan_area.setVisible(self.plan.isVisibleTo(self.plan_area))
        for field, box, value in (("time_in", self.time_in, session.time_in),
                                  ("time_out", self.time_out, session.time_out)):
            self.show_text(field, box, value.strftime("%H:%M") if value else "")
        self.diagnoses.clear()
        codes = ws.codes_if_ready
        for code in session.diagnoses:
            description = codes.description(code) if codes is not None else None
            item = QListWidgetItem(f"{code}  {description or ''}".strip())
            item.setData(CODE_ROLE, code)
            item.setToolTip(item.text())
            self.diagnoses.addItem(item)

    def focus_field(self, field: str) -> bool:
        if field.startswith("diagnoses["):
            row = int(field[len("diagnoses["):].split("]")[0])
            self.diagnoses.setFocus()
            self.diagnoses.setCurrentRow(row)
            return True
        if field == "diagnoses":
            self.search.setFocus()
            return True
        return super().focus_field(field)

    def _date_changed(self) -> None:
        q = self.date.date()
        day = dt.date(q.year(), q.month(), q.day())
        self.editor.apply(lambda s: replace(s, date_of_service=day), "date_of_service")

    def _episode_changed(self, _index: int) -> None:
        episode_id = self.episode.currentData()
        episode = next((e for e in self.episodes if e.id == episode_id), None)

        def change(s: Session) -> Session:
            diagnoses = s.diagnoses or (episode.diagnoses if episode else ())
            return replace(s, episode_id=episode_id, diagnoses=diagnoses)
        self.editor.apply(change, "episode_id")

    def _search(self, text: str) -> None:
        find_codes(self.results, self.editor.workspace.codes_if_ready, text)

    def _add(self, item: QListWidgetItem | None) -> None:
        if item is None:
            return
        code = item.data(CODE_ROLE)
        if self.editor.apply(lambda s: replace(s, diagnoses=tuple(
                dict.fromkeys((*s.diagnoses, code)))), "diagnoses"):
            self.plan.follow_diagnoses()
            self.search.clear()
            self.results.clear()
            self.search.setFocus()

    def _remove(self) -> None:
        item = self.diagnoses.currentItem()
        if item is None:
            return
        code = item.data(CODE_ROLE)
        if self.editor.apply(lambda s: replace(s, diagnoses=tuple(
                c for c in s.diagnoses if c != code)), "diagnoses"):
            self.plan.follow_diagnoses()
