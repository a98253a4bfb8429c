"""Reference data: the clinic's settings, users, payers, fees, patients, episodes and the
clinic's own exercises."""

from __future__ import annotations

from decimal import Decimal

from ptdoc import auth
from ptdoc.access import issue_key
from ptdoc.catalog import lookup
from ptdoc.domain import Clinic, Episode, ExerciseEntry, Patient, Payer, User
from ptdoc.errors import ValidationError
from ptdoc.library import LibraryExercise, shipped_library
from ptdoc.permissions import Permission
from ptdoc.repositories import AuditAction
from ptdoc.services.core import WorkspaceCore


class ReferenceData(WorkspaceCore):
    def save_clinic(self, clinic: Clinic) -> None:
        self.require(Permission.MANAGE_CLINIC)
        with self.store.db.atomic():
            self.store.clinic.save(clinic)
            self.store.audit.record(self.actor, AuditAction.ADMIN, "clinic", 1)

    def add_user(self, user: User, secret: str) -> User:
        self.require(Permission.MANAGE_USERS)
        auth.check_secret(secret)
        with self.store.db.atomic():
            user = self.store.users.add(user, auth.hash_secret(secret))
            self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user.id, "create")
            issue_key(self.store, user, secret, self.now(), "account created", self.actor)
        return user

    def set_password(self, user_id: int, secret: str) -> None:
        """The administrator sets a user's password or PIN (a reset). The user gets a new key
        pair: their old private key stays sealed under the old password, which nobody here
        knows, and notes they signed with it still verify by its public key."""
        self.require(Permission.MANAGE_USERS, "user", user_id)
        auth.check_secret(secret)
        user = self.store.users.get(user_id)
        with self.store.db.atomic():
            self.store.users.set_password_hash(user_id, auth.hash_secret(secret))
            self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user_id, "password")
            issue_key(self.store, user, secret, self.now(), "password set", self.actor)

    def add_payer(self, payer: Payer) -> Payer:
        self.require(Permission.MANAGE_CLINIC)
        return self.store.payers.add(payer)

    def update_payer(self, payer: Payer) -> None:
        self.require(Permission.MANAGE_CLINIC, "payer", payer.id)
        with self.store.db.atomic():
            self.store.payers.update(payer)
            self.store.audit.record(self.actor, AuditAction.ADMIN, "payer", payer.id,
                                    "settings")

    def set_fee(self, code: str, year: int, amount: Decimal) -> None:
        self.require(Permission.MANAGE_CLINIC)
        if lookup(code) is None:
            raise ValidationError.single("code", f"Unknown code '{code}'")
        with self.store.db.atomic():
            self.store.fees.set(code, year, amount)
            self.store.audit.record(self.actor, AuditAction.ADMIN, "fee_schedule", year, code)

    def add_patient(self, patient: Patient) -> Patient:
        self.require(Permission.MANAGE_PATIENTS)
        if patient.date_of_birth > self.today():
            raise ValidationError.single("date_of_birth", "Date of birth is in the future")
        with self.store.db.atomic():
            patient = self.store.patients.add(patient)
            self.store.audit.record(self.actor, AuditAction.CREATE, "patient", patient.id)
        return patient

    def update_patient(self, patient: Patient) -> None:
        self.require(Permission.MANAGE_PATIENTS, "patient", patient.id)
        with self.store.db.atomic():
            self.store.patients.update(patient)
            self.store.audit.record(self.actor, AuditAction.EDIT, "patient", patient.id)

    def add_episode(self, episode: Episode) -> Episode:
        self.require(Permission.EVALUATE)
        self.store.patients.get(episode.patient_id)
        with self.store.db.atomic():
            episode = self.store.episodes.add(episode)
            self.store.audit.record(self.actor, AuditAction.CREATE, "episode", episode.id)
        return episode

    def search_patients(self, text: str, limit: int = 50) -> list[Patient]:
        self.require(Permission.VIEW_SCHEDULE)
        return self.store.patients.search(text, limit)

    def exercise_library(self) -> list[LibraryExercise]:
        """The shipped library with the clinic's own entries (which win by name)."""
        own = self.store.clinic_exercises.all(LibraryExercise)
        names = {e.name.lower() for e in own}
        rows = [e for e in shipped_library() if e.name.lower() not in names] + own
        return sorted(rows, key=lambda e: e.name.lower())

    def add_to_library(self, entry: ExerciseEntry) -> LibraryExercise:
        self.require(Permission.DOCUMENT)
        exercise = LibraryExercise.from_entry(entry)
        with self.store.db.atomic():
            self.store.clinic_exercises.save(exercise)
            self.store.audit.record(self.actor, AuditAction.ADMIN, "library", None,
                                    "exercise")
        return exercise
