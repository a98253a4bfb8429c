"""The patient's page: demographics and payers, plans of care (for clinicians), visits with
their status (Enter opens one), and the next appointment with a way to set it."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import Episode, Patient
from ptdoc.permissions import Permission
from ptdoc.services import Workspace
from ptdoc.services.patients import PatientPage
from ptdoc.ui.appointment import AppointmentDialog
from ptdoc.ui.episode_form import EpisodeDialog
from ptdoc.ui.models import SessionListModel
from ptdoc.ui.patient_form import PatientDialog
from ptdoc.ui.widgets import hbox

EPISODE_ROLE = Qt.ItemDataRole.UserRole


def episode_line(e: Episode) -> str:
    cert = (f"certified {e.certified_on} through {e.certified_through or 'not set'}"
            if e.certified_on else "order on file, not yet certified" if e.order_on_file
            else "not yet certified")
    state = f"discharged {e.discharged_on}" if e.discharged_on else cert
    return (f"From {e.start_date} · {', '.join(e.diagnoses) or 'no diagnosis'} · "
            f"{e.frequency or 'frequency not set'} · {state}")


class PatientPageView(QWidget):
    """A page of the main window. ``open_session`` asks the window to open a visit,
    ``closed`` to go back to the day."""

    open_session = Signal(int)
    new_session = Signal()
    closed = Signal()

    def __init__(self, workspace: Workspace, patient: Patient, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("patient_page")
        self.workspace = workspace
        self.patient = patient
        self.page: PatientPage | None = None
        self.header = QLabel(objectName="patient_header")
        self.header.setWordWrap(True)
        self.header.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.appointment = QLabel(objectName="patient_appointment")
        self.edit_button = QPushButton("&Edit patient…", objectName="patient_edit")
        self.appointment_button = QPushButton("Next &appointment…",
                                              objectName="patient_set_appointment")
        self.session_button = QPushButton("Start &session… (Ctrl+N)",
                                          objectName="patient_new_session")
        self.back_button = QPushButton("&Back to the day", objectName="patient_back")
        self.new_episode_button = QPushButton("&New plan of care…", objectName="episode_new")
        self.open_episode_button = QPushButton("&Open plan of care…",
                                               objectName="episode_open")
        self.episodes = QListWidget(objectName="patient_episodes")
        self.episodes.setAccessibleName("Plans of care")
        self.episodes.setMaximumHeight(110)
        self.episodes_label = QLabel("Plans of &care (Enter opens):")
        self.episodes_label.setBuddy(self.episodes)
        self.visits_model = SessionListModel(self)
        self.visits = QTableView(objectName="patient_visits")
        self.visits.setModel(self.visits_model)
        self.visits.setAccessibleName("Visits")
        self.visits.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.visits.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.visits.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.visits.verticalHeader().setVisible(False)
        for col in (SessionListModel.COL_PATIENT, SessionListModel.COL_MRN,
                    SessionListModel.COL_PAYER, SessionListModel.COL_MEMBER):
            self.visits.setColumnHidden(col, True)
        header = self.visits.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        # Enter is promised only to who may open a note; the front desk is told why on Enter.
        visits_label = QLabel("&Visits (Enter opens the note):"
                              if workspace.can(Permission.VIEW_CLINICAL) else "&Visits:",
                              objectName="visits_label")
        visits_label.setBuddy(self.visits)
        self.message = QLabel(objectName="patient_message")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel { color: #b00020; }")

        layout = QVBoxLayout(self)
        layout.addLayout(hbox(self.header, None, self.edit_button, self.back_button,
                              grow=self.header))
        layout.addLayout(hbox(self.appointment, self.appointment_button, self.session_button,
                              None))
        layout.addWidget(self.message)
        layout.addLayout(hbox(self.episodes_label, None, self.open_episode_button,
                              self.new_episode_button))
        layout.addWidget(self.episodes)
        layout.addWidget(visits_label)
        layout.addWidget(self.visits, 1)

        ws = workspace
        self.edit_button.setEnabled(ws.can(Permission.MANAGE_PATIENTS))
        self.appointment_button.setEnabled(ws.can(Permission.SCHEDULE))
        self.session_button.setEnabled(ws.can(Permission.DOCUMENT))
        self.new_episode_button.setVisible(ws.can(Permission.EVALUATE))
        clinical = ws.can(Permission.VIEW_CLINICAL)
        self.episodes.setVisible(clinical)
        self.episodes_label.setVisible(clinical)
        self.open_episode_button.setVisible(clinical)
        self.edit_button.clicked.connect(self.edit_patient)
        self.appointment_button.clicked.connect(self.set_appointment)
        self.session_button.clicked.connect(self.new_session.emit)
        self.back_button.clicked.connect(self.closed.emit)
        self.new_episode_button.clicked.connect(lambda: self.open_episode(None))
        self.open_episode_button.clicked.connect(lambda: self.open_episode(
            self.episodes.currentItem().data(EPISODE_ROLE) if self.episodes.currentItem()
            else None))
        self.episodes.itemActivated.connect(
            lambda item: self.open_episode(item.data(EPISODE_ROLE)))
        self.visits.activated.connect(
            lambda index: self.open_session.emit(self.visits_model.row_at(index.row()).id))
        self.refresh()

    def refresh(self) -> None:
        page = self.page = self.workspace.patient_page(self.patient.id or 0)
        p = self.patient = page.patient
        payers = (f"{page.payer.name} (member ID {p.member_id or 'not given'})"
                  if page.payer else "no payer (self-pay)")
        if page.secondary_payer:
            payers += (f"; secondary {page.secondary_payer.name} (member ID "
                       f"{p.secondary_member_id or 'not given'})")
        self.header.setText(
            f"<b>{p.display_name}</b> · MRN {p.mrn} · born {p.date_of_birth:%Y-%m-%d}"
            f"{' · ' + p.sex.value if p.sex else ''}<br>"
            f"Phone {p.phone or 'not given'} · {p.address or 'no address'}<br>{payers}")
        a = page.next_appointment
        self.appointment.setText(
            "Next appointment: " + (f"<b>{a.when}</b>" + (f" with {page.next_appointment_with}"
                                                           if page.next_appointment_with
                                                           else "") if a else "none booked"))
        self.episodes.clear()
        for e in page.episodes:
            item = QListWidgetItem(episode_line(e))
            item.setData(EPISODE_ROLE, e)
            self.episodes.addItem(item)
        if page.episodes_shown and not page.episodes:
            self.episodes.addItem("No plan of care yet.")
        self.episodes.setCurrentRow(0)
        self.open_episode_button.setEnabled(bool(page.episodes))
        self.visits_model.set_rows(self.workspace.with_flags(list(page.visits),
                                                             wait_for_codes=False))
        if page.visits:
            self.visits.selectRow(0)

    def edit_patient(self) -> None:
        dialog = PatientDialog(self.workspace, self.patient, self)
        if dialog.exec() and dialog.saved is not None:
            self.refresh()

    def set_appointment(self) -> None:
        if AppointmentDialog(self.workspace, self.patient, self).exec():
            self.refresh()

    def open_episode(self, episode: Episode | None) -> None:
        if episode is None and not self.workspace.can(Permission.EVALUATE):
            return  # "No plan of care yet." activated by a PTA
        EpisodeDialog(self.workspace, self.patient, episode, self).exec()
        self.refresh()
