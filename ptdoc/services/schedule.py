"""Appointments: the patient's next visit (set by the front desk or a clinician), and the
day's expected patients who have no note yet."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ptdoc.domain import Appointment, Patient
from ptdoc.errors import DoubleBooking, ValidationError
from ptdoc.permissions import Permission
from ptdoc.repositories import AuditAction
from ptdoc.services.core import WorkspaceCore


@dataclass(frozen=True)
class ExpectedPatient:
    """A patient expected on a day, as the day view lists them."""

    appointment: Appointment
    patient: Patient
    clinician: str      # name and credential, or "" when no clinician was named
    # other patients booked with the same clinician at the same time ('Lee, Ann (MRN-1)')
    double_booked_with: tuple[str, ...] = ()


class Schedule(WorkspaceCore):
    def set_appointment(self, patient_id: int, day: dt.date, time: dt.time | None = None,
                        clinician_id: int | None = None, double_book: bool = False
                        ) -> Appointment:
        """Book the patient's next visit. It replaces the patient's appointment on that day
        and any after today (a patient has one next appointment); today's stays unless it is
        the one moved. The clinician must be an active PT, DPT or PTA. A clinician who has
        another patient at that time is refused (`DoubleBooking`, naming them) unless
        ``double_book`` (a group visit shares its time)."""
        self.require(Permission.SCHEDULE, "patient", patient_id)
        self.store.patients.get(patient_id)
        appointment = Appointment(patient_id, day, time, clinician_id)
        today = self.today()
        if day < today:
            raise ValidationError.single("day", f"Appointment date {day} is in the past (today "
                                                f"is {today})")
        if clinician_id is not None:
            clinician = self.store.users.get(clinician_id)
            if not clinician.active or not clinician.credential.is_clinician:
                raise ValidationError.single("clinician_id", f"{clinician.display} does not see "
                                                             "patients (a PT, DPT or PTA does)")
        with self.store.db.atomic():
            others = [] if double_book else self.store.appointments.same_time(appointment)
            if others:
                names = self._patients(others)
                who = self.store.users.get(clinician_id).display  # type: ignore[arg-type]
                raise DoubleBooking(
                    f"{who} already has {' and '.join(names)} at {appointment.when}: choose "
                    "another time, or book both on purpose (a group visit)", " and ".join(names))
            appointment = self.store.appointments.set_next(appointment, today)
            self.store.audit.record(self.actor, AuditAction.EDIT, "patient", patient_id,
                                    f"appointment {appointment.when}")
        return appointment

    def cancel_next_appointment(self, patient_id: int) -> int:
        """Remove the patient's appointments after today; how many there were."""
        self.require(Permission.SCHEDULE, "patient", patient_id)
        with self.store.db.atomic():
            count = self.store.appointments.cancel_after(patient_id, self.today())
            self.store.audit.record(self.actor, AuditAction.EDIT, "patient", patient_id,
                                    "appointment cancelled")
        return count

    def next_appointment(self, patient_id: int, after: dt.date | None = None
                         ) -> Appointment | None:
        """The patient's first appointment after ``after`` (default: from today on)."""
        self.require(Permission.VIEW_SCHEDULE, "patient", patient_id)
        if after is None:
            return self.store.appointments.next_from(patient_id, self.today())
        return self.store.appointments.next_after(patient_id, after)

    def expected_without_note(self, day: dt.date) -> list[ExpectedPatient]:
        """The day's booked patients who have no session (draft or signed) that day, by
        time (booked without a time last)."""
        self.require(Permission.VIEW_SCHEDULE)
        out = []
        for appointment in self.store.appointments.without_note(day):
            clinician = self.store.users.get(appointment.clinician_id).display \
                if appointment.clinician_id else ""
            out.append(ExpectedPatient(
                appointment, self.store.patients.get(appointment.patient_id), clinician,
                tuple(self._patients(self.store.appointments.same_time(appointment)))))
        return out

    def _patients(self, appointments: list[Appointment]) -> list[str]:
        return [f"{p.display_name} ({p.mrn})" for p in
                (self.store.patients.get(a.patient_id) for a in appointments)]
