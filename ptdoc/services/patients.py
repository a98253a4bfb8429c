"""Patients: registration (MRN assigned, likely duplicates found before saving), search, the
patient page, and importing a patient list from another system."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from ptdoc import patient_csv
from ptdoc.domain import Appointment, Episode, Patient, Payer
from ptdoc.errors import NotFound, ValidationError
from ptdoc.permissions import Permission
from ptdoc.repositories import AuditAction
from ptdoc.services.core import WorkspaceCore
from ptdoc.session_store import SessionListing

NEW_MRN = "NEW"  # a placeholder MRN for add_patient(..., assign_mrn=True)


@dataclass(frozen=True)
class PatientPage:
    """Everything the patient's page shows, read in one call."""

    patient: Patient
    payer: Payer | None
    secondary_payer: Payer | None
    # The plans of care, newest first; empty for users who may not open clinical content
    # (``episodes_shown`` says which).
    episodes: tuple[Episode, ...]
    episodes_shown: bool
    visits: tuple[SessionListing, ...]   # newest first, each with its status
    next_appointment: Appointment | None
    next_appointment_with: str           # the clinician's name and credential, or ""


@dataclass(frozen=True)
class ImportedRow:
    line: int
    mrn: str
    name: str


@dataclass(frozen=True)
class PatientImport:
    """What ``import_patients`` did: rows added, rows already here, rows refused (why)."""

    added: tuple[ImportedRow, ...]
    already_here: tuple[ImportedRow, ...]
    refused: tuple[patient_csv.CsvProblem, ...]

    def summary(self) -> str:
        return (f"{len(self.added)} added, {len(self.already_here)} already here, "
                f"{len(self.refused)} refused")

    def report(self, source: str) -> str:
        """Every row's outcome in the file's order, under the summary: what a clerk keeps to
        correct the refused rows in the old system's export."""
        lines = [(r.line, f"added as {r.mrn} {r.name}") for r in self.added]
        lines += [(r.line, f"already here as {r.mrn} {r.name}") for r in self.already_here]
        lines += [(p.line, f"refused: {p.message}") for p in self.refused]
        return "\n".join([f"Patients imported from {source}: {self.summary()}", "",
                          *(f"line {line}: {text}" for line, text in sorted(lines))]) + "\n"


class Patients(WorkspaceCore):
    def next_mrn(self) -> str:
        """The MRN a new patient gets: the clinic's initials and the next number (RPT-10025)."""
        clinic = self.clinic()
        initials = "".join(w[0] for w in re.findall(r"[A-Za-z]+", clinic.name if clinic else "")
                           if w[0].isupper())[:4] or "PT"
        return f"{initials.upper()}-{self.store.patients.highest_mrn_number(initials) + 1:05d}"

    def likely_duplicates(self, patient: Patient) -> list[Patient]:
        """Patients already registered who are probably this one: same name (any case) and
        date of birth, or the same member ID. Ask before saving a new patient."""
        self.require(Permission.MANAGE_PATIENTS)
        found = {p.id: p for p in self.store.patients.by_name_and_birth(
            patient.first_name, patient.last_name, patient.date_of_birth)}
        for member_id in {patient.member_id, patient.secondary_member_id} - {""}:
            found.update({p.id: p for p in self.store.patients.by_member_id(member_id)})
        found.pop(patient.id, None)
        return sorted(found.values(), key=lambda p: p.id or 0)

    def add_patient(self, patient: Patient, assign_mrn: bool = False) -> Patient:
        """Register a patient (front desk, PT, PTA, administrator). With ``assign_mrn`` the
        clinic's next MRN replaces the one given (use NEW_MRN), decided inside the transaction
        so two desks never get the same."""
        self.require(Permission.MANAGE_PATIENTS)
        self._check_patient(patient)
        with self.store.db.atomic():
            if assign_mrn:
                patient = replace(patient, mrn=self.next_mrn())
            patient = self.store.patients.add(patient)
            self.store.audit.record(self.actor, AuditAction.CREATE, "patient", patient.id)
        return patient

    def update_patient(self, patient: Patient) -> None:
        """Correct demographics or payers (a signed note keeps the identity it was signed
        with)."""
        self.require(Permission.MANAGE_PATIENTS, "patient", patient.id)
        self.store.patients.get(patient.id or 0)
        self._check_patient(patient)
        with self.store.db.atomic():
            self.store.patients.update(patient)
            self.store.draft_flags.forget_patient(patient.id or 0)
            self.store.audit.record(self.actor, AuditAction.EDIT, "patient", patient.id)

    def _check_patient(self, patient: Patient) -> None:
        if patient.date_of_birth > self.today():
            raise ValidationError.single("date_of_birth", "Date of birth is in the future")
        for name, payer_id in (("payer_id", patient.payer_id),
                               ("secondary_payer_id", patient.secondary_payer_id)):
            if payer_id is not None:
                try:
                    self.store.payers.get(payer_id)
                except NotFound:
                    raise ValidationError.single(name, f"No payer with id {payer_id}") from None

    def search_patients(self, text: str, limit: int = 50) -> list[Patient]:
        """By MRN, first or last name prefix, or date of birth (YYYY-MM-DD or MM/DD/YYYY)."""
        self.require(Permission.VIEW_SCHEDULE)
        return self.store.patients.search(text, limit)

    def patient_by_mrn(self, mrn: str) -> Patient:
        self.require(Permission.VIEW_SCHEDULE)
        patient = self.store.patients.by_mrn(mrn.strip())
        if patient is None:
            raise NotFound(f"No patient with MRN {mrn} (see 'ptdoc patients --search')")
        return patient

    def payer_named(self, name: str) -> Payer:
        """A payer by its name, any case."""
        for payer in self.store.payers.all():
            if payer.name.casefold() == name.strip().casefold():
                return payer
        raise NotFound(f"No payer named '{name}' (see 'ptdoc payers'; an administrator adds "
                       "one with 'ptdoc payer add')")

    def patient_page(self, patient_id: int) -> PatientPage:
        """Demographics, payers, plans of care, visits with their status and the next
        appointment."""
        self.require(Permission.VIEW_SCHEDULE, "patient", patient_id)
        store = self.store
        patient = store.patients.get(patient_id)
        clinical = self.can(Permission.VIEW_CLINICAL)
        upcoming = store.appointments.next_from(patient_id, self.today())
        with_whom = store.users.get(upcoming.clinician_id).display \
            if upcoming and upcoming.clinician_id else ""
        return PatientPage(
            patient=patient,
            payer=store.payers.get(patient.payer_id) if patient.payer_id else None,
            secondary_payer=store.payers.get(patient.secondary_payer_id)
            if patient.secondary_payer_id else None,
            episodes=tuple(store.episodes.for_patient(patient_id)) if clinical else (),
            episodes_shown=clinical,
            visits=tuple(sorted(store.sessions.listing(patient_id=patient_id),
                                key=lambda s: (s.date_of_service, s.id), reverse=True)),
            next_appointment=upcoming, next_appointment_with=with_whom)

    def import_patients(self, data: bytes) -> PatientImport:
        """Register the patients of a CSV file (see ``patient_csv``). Rows already here (the
        same MRN, or without an MRN the same name and date of birth) are not added again, so
        a second run of the same file adds nothing; a row whose MRN belongs to someone else, a
        payer not in the clinic, or a row that repeats another is refused with its line. The
        good rows are added in one transaction."""
        self.require(Permission.MANAGE_PATIENTS)
        rows, refused = patient_csv.read(data)
        payers = {p.name.casefold(): p for p in self.store.payers.all()}
        today = self.today()
        new: list[tuple[patient_csv.CsvPatient, Patient]] = []
        here: list[ImportedRow] = []
        seen: dict[tuple, int] = {}
        for row in rows:
            name = f"{row.last_name}, {row.first_name}"
            key = ("mrn", row.mrn.upper()) if row.mrn else \
                ("who", row.first_name.casefold(), row.last_name.casefold(), row.date_of_birth)
            if key in seen:
                refused.append(patient_csv.CsvProblem(
                    row.line, f"repeats line {seen[key]} (the same "
                              f"{'MRN' if row.mrn else 'name and date of birth'})"))
                continue
            seen[key] = row.line
            existing = self.store.patients.by_mrn(row.mrn) if row.mrn else next(iter(
                self.store.patients.by_name_and_birth(row.first_name, row.last_name,
                                                      row.date_of_birth)), None)
            if existing is not None:
                same = (existing.first_name.casefold(), existing.last_name.casefold(),
                        existing.date_of_birth) == (row.first_name.casefold(),
                                                    row.last_name.casefold(), row.date_of_birth)
                if same:
                    here.append(ImportedRow(row.line, existing.mrn, name))
                else:
                    refused.append(patient_csv.CsvProblem(
                        row.line, f"MRN {row.mrn} belongs to {existing.display_name}, born "
                                  f"{existing.date_of_birth}"))
                continue
            payer = payers.get(row.payer.casefold()) if row.payer else None
            if row.payer and payer is None:
                refused.append(patient_csv.CsvProblem(
                    row.line, f"no payer named '{row.payer}' in this clinic (add it first)"))
                continue
            if row.date_of_birth > today:
                refused.append(patient_csv.CsvProblem(row.line, "the date of birth is in the "
                                                                "future"))
                continue
            try:
                patient = Patient(row.mrn or NEW_MRN, row.first_name, row.last_name,
                                  row.date_of_birth, payer.id if payer else None, row.member_id,
                                  sex=row.sex, phone=row.phone)
            except ValidationError as exc:
                refused.append(patient_csv.CsvProblem(
                    row.line, "; ".join(p.message for p in exc.problems)))
                continue
            new.append((row, patient))
        added = []
        with self.store.db.atomic():
            for row, patient in new:
                if not row.mrn:
                    patient = replace(patient, mrn=self.next_mrn())
                patient = self.store.patients.add(patient)
                self.store.audit.record(self.actor, AuditAction.CREATE, "patient", patient.id,
                                        "csv")
                added.append(ImportedRow(row.line, patient.mrn, patient.display_name))
            result = PatientImport(tuple(added), tuple(here),
                                   tuple(sorted(refused, key=lambda p: p.line)))
            self.store.audit.record(self.actor, AuditAction.IMPORT, "patient", None,
                                    f"csv: {result.summary()}")
        return result
