"""Reference data: the clinic's settings, users, payers, fees, patients, episodes and the
clinic's own exercises."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ptdoc import auth
from ptdoc.access import issue_key, reauthenticate
from ptdoc.catalog import lookup
from ptdoc.domain import Clinic, Credential, ExerciseEntry, Payer, User
from ptdoc.errors import NotFound, PermissionDenied, ValidationError
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
            user = self.store.users.add(user, auth.hash_secret(secret),
                                        temporary=self._given_by_administrator())
            self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user.id, "create")
            issue_key(self.store, user, secret, self.now(), "account created", self.actor)
        return user

    def _given_by_administrator(self) -> bool:
        """A password a signed-in administrator typed for someone else is temporary: they
        know it, so its owner chooses their own at the next sign-in. The local operator
        (no one signed in: a demo clinic, clinicians brought in with an import) sets none."""
        return self.actor is not None

    def first_administrator(self, user: User, secret: str) -> User:
        """The first user of a new clinic, added with nobody signed in: its administrator,
        who then adds everyone else. Audited as that administrator's own act."""
        if user.credential is not Credential.ADMIN:
            raise ValidationError.single("credential", "The first user of a clinic is its "
                                                       "administrator (credential admin)")
        auth.check_secret(secret)
        with self.store.db.atomic():
            if self.store.users.count():
                raise PermissionDenied("This clinic has users: an administrator adds new ones.")
            user = self.store.users.add(user, auth.hash_secret(secret))
            self.store.audit.record(user, AuditAction.ADMIN, "user", user.id, "create")
            issue_key(self.store, user, secret, self.now(), "account created", user)
        return user

    def set_secret(self, username: str, secret: str, current: str | None = None) -> User:
        """A new password or PIN: one's own with the current one typed again (checked like a
        sign-in), anyone else's by an administrator (a reset)."""
        user = self._user_named(username)
        own = self.actor is not None and user.id == self.actor.id
        if own:
            if current is None:
                raise self._deny("Type your current password or PIN to change it.", "user",
                                 user.id, "NO_PROOF")
            reauthenticate(self.store, self.actor, current, self.now, purpose="password")
            if secret == current:
                raise ValidationError.single("password", "Choose a new password or PIN: this "
                                                         "one is your current one")
        else:
            self.require(Permission.MANAGE_USERS, "user", user.id)
        self._store_secret(user, secret, temporary=not own and self._given_by_administrator())
        return user

    def set_password(self, user_id: int, secret: str) -> None:
        """The administrator sets a user's password or PIN (a reset): a temporary one."""
        self.require(Permission.MANAGE_USERS, "user", user_id)
        self._store_secret(self.store.users.get(user_id), secret,
                           temporary=self._given_by_administrator() and
                           user_id != (self.actor.id if self.actor else None))

    def _store_secret(self, user: User, secret: str, temporary: bool) -> None:
        """A new secret comes with a new key pair: the old private key stays sealed under the
        old secret, and notes signed with it still verify by its public key. ``temporary``:
        the user must replace it at their next sign-in."""
        auth.check_secret(secret)
        with self.store.db.atomic():
            self.store.users.set_password_hash(user.id or 0, auth.hash_secret(secret),
                                               temporary)
            self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user.id,
                                    "temporary password" if temporary else "password")
            issue_key(self.store, user, secret, self.now(), "password set", self.actor)

    def disable_user(self, username: str) -> User:
        """Stop a user from signing in (signed-in windows sign them out at their next action);
        the clinic's last active administrator stays."""
        user = self._user_named(username)
        self.require(Permission.MANAGE_USERS, "user", user.id)
        if user.active and user.credential is Credential.ADMIN and \
                self.store.users.active_with_credential(Credential.ADMIN) <= 1:
            raise self._deny(f"{user.display} is the last active administrator: add another "
                             "administrator before disabling this one.", "user", user.id,
                             "LAST_ADMIN")
        with self.store.db.atomic():
            self.store.users.update(replace(user, active=False))
            self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user.id, "disable")
        return user

    def _user_named(self, username: str) -> User:
        user = self.store.users.by_username(username)
        if user is None:
            raise NotFound(f"No user '{username}' in this clinic")
        return user

    def add_payer(self, payer: Payer) -> Payer:
        """A new payer (administrator); start it from a profile with
        ``catalog.payer_from_profile`` (unit method, GP/CQ/KX, code-pair edits)."""
        self.require(Permission.MANAGE_CLINIC)
        with self.store.db.atomic():
            payer = self.store.payers.add(payer)
            self.store.audit.record(self.actor, AuditAction.ADMIN, "payer", payer.id, "create")
        return payer

    def payers(self) -> list[Payer]:
        """Every payer with its billing rules (anyone signed in)."""
        self.require(Permission.VIEW_SCHEDULE)
        return self.store.payers.all()

    def update_payer(self, payer: Payer) -> None:
        self.require(Permission.MANAGE_CLINIC, "payer", payer.id)
        with self.store.db.atomic():
            self.store.payers.update(payer)
            self.store.draft_flags.forget_all()
            self.store.audit.record(self.actor, AuditAction.ADMIN, "payer", payer.id,
                                    "settings")

    def set_fee(self, code: str, year: int, amount: Decimal) -> None:
        self.require(Permission.MANAGE_CLINIC)
        if lookup(code) is None:
            raise ValidationError.single("code", f"Unknown code '{code}'")
        with self.store.db.atomic():
            self.store.fees.set(code, year, amount)
            self.store.draft_flags.forget_all()
            self.store.audit.record(self.actor, AuditAction.ADMIN, "fee_schedule", year, code)

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

    # --- administration screens -------------------------------------------------------------

    def update_user(self, user: User) -> User:
        """Change a user's name, credential or NPI (not the user name, the password or whether
        they are active: those have their own acts). The last active administrator stays one."""
        old = self.store.users.get(user.id or 0)
        self.require(Permission.MANAGE_USERS, "user", old.id)
        if old.active and old.credential is Credential.ADMIN and \
                user.credential is not Credential.ADMIN and \
                self.store.users.active_with_credential(Credential.ADMIN) <= 1:
            raise self._deny(f"{old.display} is the last active administrator: add another "
                             "administrator before changing this one's credential.", "user",
                             old.id, "LAST_ADMIN")
        user = replace(user, username=old.username, active=old.active)
        with self.store.db.atomic():
            self.store.users.update(user)
            self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user.id, "edit")
        return user
