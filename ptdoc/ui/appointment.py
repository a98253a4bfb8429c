"""Set or move a patient's next appointment: date, time, clinician."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ptdoc.domain import Appointment, Credential, Patient
from ptdoc.errors import DoubleBooking, KnownError
from ptdoc.fields import parse_time
from ptdoc.services import Workspace
from ptdoc.ui.widgets import FieldError, add_field, show_problems


def appointment_text(workspace: Workspace, appointment: Appointment | None) -> str:
    """As the front desk reads it: 2026-11-30 09:30 with Jane Doe, DPT."""
    if appointment is None:
        return "none booked"
    who = workspace.store.users.get(appointment.clinician_id).display \
        if appointment.clinician_id else ""
    return appointment.when + (f" with {who}" if who else "")


class AppointmentDialog(QDialog):
    """After exec(): ``booked`` is the appointment stored."""

    def __init__(self, workspace: Workspace, patient: Patient, parent: QWidget | None = None):
        super().__init__(parent)
        self.workspace = workspace
        self.patient = patient
        self.booked: Appointment | None = None
        title = f"Next appointment of {patient.display_name}"
        self.setWindowTitle(title)
        # The form alone is narrower than its title, which the title bar then cuts short;
        # the bar's icon and buttons take room beside the text too.
        self.setMinimumWidth(max(420, self.fontMetrics().horizontalAdvance(title) + 200))
        self.setObjectName("appointment_dialog")
        today = workspace.today()
        current = workspace.next_appointment(patient.id or 0)
        self.day = QDateEdit(calendarPopup=True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        self.day.setMinimumDate(QDate(today.year, today.month, today.day))
        start = current.day if current else today + dt.timedelta(days=1)
        self.day.setDate(QDate(start.year, start.month, start.day))
        self.time = QLineEdit(placeholderText="HH:MM")
        if current and current.time:
            self.time.setText(current.time.strftime("%H:%M"))
        self.clinician = QComboBox()
        self.clinician.addItem("Any clinician", None)
        for u in workspace.store.users.with_credential(Credential.PT, Credential.DPT,
                                                       Credential.PTA):
            self.clinician.addItem(u.display, u.id)
        chosen = current.clinician_id if current else (
            workspace.actor.id if workspace.actor and workspace.actor.credential.is_clinician
            else None)
        self.clinician.setCurrentIndex(max(0, self.clinician.findData(chosen)))
        now = QLabel(f"Booked now: {appointment_text(workspace, current)}",
                     objectName="appointment_now")
        form = QFormLayout()
        form.addRow(now)
        self.errors = {"day": add_field(form, "&Date:", self.day, "appointment_day"),
                       "time": add_field(form, "&Time:", self.time, "appointment_time"),
                       "clinician_id": add_field(form, "&Clinician:", self.clinician,
                                                 "appointment_clinician"),
                       "form": FieldError("appointment")}
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save |
                                   QDialogButtonBox.StandardButton.Cancel)
        save = buttons.button(QDialogButtonBox.StandardButton.Save)
        save.setText("&Book")
        save.setObjectName("appointment_save")
        buttons.accepted.connect(self._book)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.errors["form"])
        layout.addWidget(buttons)
        self.time.setFocus()

    def _book(self) -> None:
        q = self.day.date()
        double_book = False
        while True:
            try:
                time = parse_time(self.time.text(), "Time", "time")
                self.booked = self.workspace.set_appointment(
                    self.patient.id or 0, dt.date(q.year(), q.month(), q.day()), time,
                    self.clinician.currentData(), double_book)
            except DoubleBooking as exc:
                # A group visit may share a time: booking both is asked, not assumed.
                answer = QMessageBox.question(
                    self, "Double-book?", f"{self.clinician.currentText()} already has "
                    f"{exc.booked} at {self.time.text().strip()} on {q.toString('yyyy-MM-dd')}."
                    f"\n\nBook {self.patient.display_name} at the same time too (a group "
                    "visit)?",
                    QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                    QMessageBox.StandardButton.No)
                if answer == QMessageBox.StandardButton.Yes and not double_book:
                    double_book = True
                    continue
                # Under the buttons' width, not squeezed beside the time field.
                self.errors["form"].show_message(exc.problems[0].message + ".")
                self.adjustSize()
                return
            except KnownError as exc:
                show_problems(self.errors, exc, "form")
                return
            break
        self.accept()
