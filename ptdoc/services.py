"""Use cases: what a signed-in user can do, with permissions checked and audited on every call.

The UI and the CLI go through a Workspace; neither talks to the store for anything that
changes data. Services return values and raise KnownErrors; they never touch Qt.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from ptdoc import auth, clock
from ptdoc.access import SignerProof, reauthenticate
from ptdoc.catalog import lookup
from ptdoc.claim import build_claim
from ptdoc.domain import (
    Addendum,
    AddendumKind,
    Clinic,
    Credential,
    Episode,
    ExerciseChange,
    ExerciseEntry,
    NoteType,
    Patient,
    Payer,
    Session,
    SessionStatus,
    Signature,
    User,
    require_valid_dates,
)
from ptdoc.errors import (
    AccountDisabled,
    NotFound,
    PermissionDenied,
    Problem,
    RecordLocked,
    ValidationError,
)
from ptdoc.icd_index import IcdIndex
from ptdoc.interchange import (
    SessionContext,
    SessionDocument,
    content_hash,
    remap_users,
    verify_signature,
)
from ptdoc.library import LibraryExercise, carried, shipped_library
from ptdoc.paper import NoteFacts, SummaryData, day_sheet, note_data, summary_data
from ptdoc.permissions import PT_ONLY_NOTES, Permission, allowed, describe
from ptdoc.repositories import AuditAction
from ptdoc.review import Review, review_context
from ptdoc.rule_context import CodeSet, RuleContext
from ptdoc.session_store import SessionListing
from ptdoc.store import Store


class Workspace:
    """The database as seen by one actor (``None``: code that builds a clinic, such as the
    demo; the window and the command line act as a signed-in user)."""

    def __init__(self, store: Store, actor: User | None,
                 today: Callable[[], dt.date] | None = None,
                 now: Callable[[], dt.datetime] = clock.utcnow,
                 codes: CodeSet | None = None):
        self.store = store
        self.actor = actor
        self.today = today or (lambda: clock.today(self.time_zone(), self.now()))
        self.now = now
        self._codes = codes
        # Told (once per refusal) that the actor was disabled meanwhile: the window signs out.
        self.on_disabled: Callable[[], None] | None = None

    # --- permission gate -----------------------------------------------------------------

    def _who(self) -> str:
        return self.actor.display if self.actor else "The command line"

    def _deny(self, message: str, entity: str = "", entity_id: int | None = None,
              detail: str = "") -> PermissionDenied:
        self.store.audit.record(self.actor, AuditAction.DENIED, entity, entity_id, detail)
        return PermissionDenied(message)

    def require(self, permission: Permission, entity: str = "",
                entity_id: int | None = None) -> None:
        if not self._still_active():
            self._deny(AccountDisabled.MESSAGE, entity, entity_id, "DISABLED")
            if self.on_disabled is not None:
                self.on_disabled()
            raise AccountDisabled(AccountDisabled.MESSAGE)
        if not allowed(self.actor, permission):
            raise self._deny(f"{self._who()} may not {describe(permission)}.", entity,
                             entity_id, permission.name)

    def can(self, permission: Permission) -> bool:
        return allowed(self.actor, permission) and self._still_active()

    def _still_active(self) -> bool:
        """The actor was loaded at sign-in; the administrator may have disabled them since
        (here or on another workstation), so every permission check reads it again."""
        return self.actor is None or self.store.users.is_active(self.actor.id or 0)

    def _require_scope(self, note_type: NoteType, delivered_by: int | None,
                       session_id: int | None) -> None:
        """PT-only note types, and a PTA documents only their own sessions."""
        actor = self.actor
        if actor is None:
            return
        if note_type in PT_ONLY_NOTES and not actor.credential.is_therapist:
            raise self._deny(f"{actor.display} may not write a {note_type}: only a "
                             "physical therapist may (a PTA cannot write evaluations, "
                             "re-evaluations or progress reports).", "session", session_id,
                             "PTA_SCOPE")
        if not actor.credential.is_therapist and delivered_by not in (None, actor.id):
            raise self._deny(f"{actor.display} may only document sessions they delivered.",
                             "session", session_id, "OWN_SESSIONS_ONLY")

    def _require_scope_of(self, session: Session) -> None:
        self._require_scope(session.note_type, session.delivered_by, session.id)

    # --- reference data ------------------------------------------------------------------

    def clinic(self) -> Clinic | None:
        return self.store.clinic.get()

    def time_zone(self) -> str | None:
        """The clinic's zone, in which every time is shown (None: this computer's zone)."""
        return self.store.clinic.time_zone()

    def save_clinic(self, clinic: Clinic) -> None:
        self.require(Permission.MANAGE_CLINIC)
        self.store.clinic.save(clinic)
        self.store.audit.record(self.actor, AuditAction.ADMIN, "clinic", 1)

    def add_user(self, user: User, secret: str) -> User:
        self.require(Permission.MANAGE_USERS)
        auth.check_secret(secret)
        user = self.store.users.add(user, auth.hash_secret(secret))
        self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user.id, "create")
        return user

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
        return user

    def set_secret(self, username: str, secret: str, current: str | None = None) -> User:
        """A new password or PIN: one's own with the current one typed again (checked like a
        sign-in), anyone else's by an administrator."""
        user = self._user_named(username)
        if self.actor is not None and user.id == self.actor.id:
            if current is None:
                raise self._deny("Type your current password or PIN to change it.", "user",
                                 user.id, "NO_PROOF")
            reauthenticate(self.store, self.actor, current, self.now, purpose="password")
        else:
            self.require(Permission.MANAGE_USERS, "user", user.id)
        auth.check_secret(secret)
        self.store.users.set_password_hash(user.id or 0, auth.hash_secret(secret))
        self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user.id, "password")
        return user

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
        self.store.users.update(replace(user, active=False))
        self.store.audit.record(self.actor, AuditAction.ADMIN, "user", user.id, "disable")
        return user

    def _user_named(self, username: str) -> User:
        user = self.store.users.by_username(username)
        if user is None:
            raise NotFound(f"No user '{username}' in this clinic")
        return user

    def add_payer(self, payer: Payer) -> Payer:
        self.require(Permission.MANAGE_CLINIC)
        return self.store.payers.add(payer)

    def update_payer(self, payer: Payer) -> None:
        self.require(Permission.MANAGE_CLINIC, "payer", payer.id)
        self.store.payers.update(payer)
        self.store.audit.record(self.actor, AuditAction.ADMIN, "payer", payer.id, "settings")

    def set_fee(self, code: str, year: int, amount: Decimal) -> None:
        self.require(Permission.MANAGE_CLINIC)
        if lookup(code) is None:
            raise ValidationError.single("code", f"Unknown code '{code}'")
        self.store.fees.set(code, year, amount)
        self.store.audit.record(self.actor, AuditAction.ADMIN, "fee_schedule", year, code)

    def add_patient(self, patient: Patient) -> Patient:
        self.require(Permission.MANAGE_PATIENTS)
        if patient.date_of_birth > self.today():
            raise ValidationError.single("date_of_birth", "Date of birth is in the future")
        patient = self.store.patients.add(patient)
        self.store.audit.record(self.actor, AuditAction.CREATE, "patient", patient.id)
        return patient

    def update_patient(self, patient: Patient) -> None:
        self.require(Permission.MANAGE_PATIENTS, "patient", patient.id)
        self.store.patients.update(patient)
        self.store.audit.record(self.actor, AuditAction.EDIT, "patient", patient.id)

    def add_episode(self, episode: Episode) -> Episode:
        self.require(Permission.EVALUATE)
        self.store.patients.get(episode.patient_id)
        episode = self.store.episodes.add(episode)
        self.store.audit.record(self.actor, AuditAction.CREATE, "episode", episode.id)
        return episode

    def search_patients(self, text: str, limit: int = 50) -> list[Patient]:
        self.require(Permission.VIEW_SCHEDULE)
        return self.store.patients.search(text, limit)

    # --- sessions ------------------------------------------------------------------------

    def sessions(self, date: dt.date | None = None, patient_mrn: str | None = None,
                 status: SessionStatus | None = None) -> list[SessionListing]:
        self.require(Permission.VIEW_SCHEDULE)
        patient_id = None
        if patient_mrn is not None:
            patient = self.store.patients.by_mrn(patient_mrn)
            if patient is None:
                raise NotFound(f"No patient with MRN {patient_mrn}")
            patient_id = patient.id
        return self.store.sessions.listing(date=date, patient_id=patient_id, status=status)

    def open_session(self, session_id: int) -> Session:
        self.require(Permission.VIEW_CLINICAL, "session", session_id)
        session = self.store.sessions.get(session_id)
        self.store.audit.record(self.actor, AuditAction.VIEW, "session", session_id)
        return session

    def new_session(self, patient_id: int, date_of_service: dt.date,
                    episode_id: int | None = None,
                    note_type: NoteType = NoteType.DAILY) -> Session:
        """A draft for the patient, with the episode's diagnoses and the actor as clinician."""
        self.require(Permission.DOCUMENT)
        diagnoses: tuple[str, ...] = ()
        if episode_id is not None:
            episode = self.store.episodes.get(episode_id)
            if episode.patient_id != patient_id:
                raise ValidationError.single("episode_id", "The episode belongs to another "
                                                           "patient")
            diagnoses = episode.diagnoses
        clinician = self.actor.id if self.actor and self.actor.credential.is_clinician \
            else None
        session = Session(patient_id=patient_id, date_of_service=date_of_service,
                          episode_id=episode_id, note_type=note_type, delivered_by=clinician,
                          diagnoses=diagnoses)
        session = self._store_draft(session)
        self.store.audit.record(self.actor, AuditAction.CREATE, "session", session.id)
        return session

    def save_draft(self, session: Session) -> Session:
        """Persist an edited draft (called on every field edit). Returns it with its id."""
        self.require(Permission.DOCUMENT, "session", session.id)
        if session.id is not None:
            status, note_type, delivered_by = self.store.sessions.header(session.id)
            if status == SessionStatus.SIGNED:
                raise RecordLocked("This session is signed and locked; add an addendum to "
                                   "correct it.")
            self._require_scope(note_type, delivered_by, session.id)
            if not self.writes(session.id):
                raise self._deny(f"{self.writer(session.id)} is writing this draft: take it "
                                 "over to edit it.", "session", session.id, "NOT_TAKEN_OVER")
        saved = self._store_draft(session)
        self.store.audit.record(self.actor, AuditAction.EDIT, "session", saved.id)
        return saved

    def writes(self, session_id: int) -> bool:
        """Whether the actor writes this draft (made it or took it over); anyone else opens it
        read-only until they take it over."""
        owner = self.store.audit.draft_owner(session_id)
        return self.actor is None or owner is None or owner == self.actor.id

    def writer(self, session_id: int) -> str:
        owner = self.store.audit.draft_owner(session_id)
        return self.store.users.get(owner).display if owner else "Nobody"

    def may_take_over(self, session: Session) -> bool:
        """A clinician allowed to document this note may take over another's draft."""
        actor = self.actor
        if actor is None or session.status != SessionStatus.DRAFT or session.id is None or \
                not self.can(Permission.DOCUMENT) or self.writes(session.id):
            return False
        if session.note_type in PT_ONLY_NOTES and not actor.credential.is_therapist:
            return False
        return actor.credential.is_therapist or session.delivered_by == actor.id

    def take_over(self, session_id: int) -> Session:
        """Make the actor the writer of another clinician's draft (audited)."""
        self.require(Permission.DOCUMENT, "session", session_id)
        session = self.store.sessions.get(session_id)
        if not self.may_take_over(session):
            raise self._deny(f"{self._who()} may not take over this draft.", "session",
                             session_id, "TAKE_OVER")
        previous = self.store.audit.draft_owner(session_id)
        self.store.audit.record(self.actor, AuditAction.TAKE_OVER, "session", session_id,
                                f"from user {previous}" if previous else "")
        return session

    def _store_draft(self, session: Session) -> Session:
        self._require_scope_of(session)
        patient = self.store.patients.get(session.patient_id)
        require_valid_dates(session, self.today(), patient)
        return self.store.sessions.save_draft(session, self.now())

    def document(self, session: Session,
                 context: SessionContext | None = None) -> SessionDocument:
        """The session with everything it refers to, as the interchange file carries it."""
        patient = self.store.patients.get(session.patient_id)
        payer = self.store.payers.get(patient.payer_id) if patient.payer_id else None
        episode = self.store.episodes.get(session.episode_id) if session.episode_id else None
        user_ids = {session.delivered_by, session.supervised_by,
                    session.signature.signer if session.signature else None,
                    *(a.author for a in session.addenda)} - {None}
        users = tuple(sorted((self.store.users.get(uid) for uid in user_ids),
                             key=lambda u: u.username))
        return SessionDocument(session=session, patient=patient, clinicians=users, payer=payer,
                               episode=episode, context=context or SessionContext())

    def use_codes(self, codes: CodeSet) -> None:
        """Hand over the ICD-10-CM index once it is open (the GUI opens it in the background)."""
        self._codes = codes

    @property
    def codes_if_ready(self) -> CodeSet | None:
        """The ICD-10-CM index when it is open already (never builds it: the UI asks this)."""
        return self._codes

    @property
    def can_addendum(self) -> bool:
        return self.can(Permission.ADDENDUM) and self.actor is not None

    @property
    def codes(self) -> CodeSet:
        """The ICD-10-CM index (built into the cache folder the first time: seconds)."""
        if self._codes is None:
            self._codes = IcdIndex.open()
        return self._codes

    def rule_context(self, session: Session, wait_for_codes: bool = True) -> RuleContext:
        """Everything the rules need about the session, read from the database.

        ``wait_for_codes=False`` (the editor, on the GUI thread) never builds the ICD-10-CM
        index: until it is open the code-set checks are skipped; signing always waits.
        """
        store = self.store
        patient = store.patients.get(session.patient_id)
        payer = store.payers.get(patient.payer_id) if patient.payer_id else None
        episode = store.episodes.get(session.episode_id) if session.episode_id else None
        ids = {session.delivered_by, session.supervised_by,
               session.signature.signer if session.signature else None} - {None}
        users = {uid: store.users.get(uid) for uid in ids if uid is not None}
        days = store.sessions.reporting_days(episode.id or 0, session.date_of_service,
                                             session.id) if episode else None
        ctx = RuleContext(session=session, today=self.today(), patient=patient, payer=payer,
                          episode=episode, users=users,
                          treatment_days_since_progress_report=days,
                          same_day_sessions=store.sessions.same_day_count(
                              session.patient_id, session.date_of_service, session.id),
                          codes=self.codes if wait_for_codes else self._codes)
        return self._with_year_to_date(ctx)

    def _with_year_to_date(self, ctx: RuleContext) -> RuleContext:
        """Add the patient's PT amount of the year, this session included, by the fee
        schedule; codes without a fee are listed instead of guessed."""
        s = ctx.session
        year = s.date_of_service.year
        fees = self.store.fees.for_year(year)
        units = self.store.sessions.billed_units(s.patient_id, year, s.date_of_service, s.id)
        units += [(line.code, line.units) for line in build_claim(ctx).lines]
        missing = sorted({code for code, n in units if n and code not in fees})
        amount = None if missing else sum((fees[c] * n for c, n in units if n), Decimal(0))
        return replace(ctx, year_to_date_amount=amount, missing_fees=tuple(missing))

    def review(self, session: Session, wait_for_codes: bool = True) -> Review:
        return review_context(self.rule_context(session, wait_for_codes))

    def signing_obstacles(self, session: Session) -> list[str]:
        """Why the signed-in user may not sign this note, whatever it says (nothing audited:
        the sign step shows these before the button)."""
        actor = self.actor
        if actor is None or not allowed(actor, Permission.SIGN):
            return [f"{self._who()} may not sign notes: only a PT, DPT or PTA signs."]
        if session.status == SessionStatus.SIGNED:
            return ["This note is signed already."]
        if session.note_type in PT_ONLY_NOTES and not actor.credential.is_therapist:
            return [f"{actor.display} may not sign a {session.note_type}: only a physical "
                    "therapist may."]
        if actor.id not in (session.delivered_by, session.supervised_by):
            return [f"{actor.display} neither delivered nor supervised this session, so may "
                    "not sign it. The clinician who delivered it (or the supervising PT) signs."]
        return []

    def prove_signer(self, secret: str) -> SignerProof:
        """The signed-in clinician's password or PIN, typed again to sign (slowed and locked
        out after wrong tries, like sign-in)."""
        if self.actor is None:
            raise self._deny("Signing needs a signed-in clinician.")
        return reauthenticate(self.store, self.actor, secret, self.now)

    def sign(self, session_id: int, proof: SignerProof) -> Session:
        self.require(Permission.SIGN, "session", session_id)
        actor = self.actor
        assert actor is not None  # SIGN is never allowed without a named user
        if proof.user_id != actor.id:
            raise self._deny("Type your password or PIN to sign.", "session", session_id,
                             "NO_PROOF")
        session = self.store.sessions.get(session_id)
        if session.status == SessionStatus.SIGNED:
            raise RecordLocked("This session is already signed.")
        self._require_scope_of(session)
        obstacles = self.signing_obstacles(session)
        if obstacles:
            raise self._deny(obstacles[0], "session", session_id, "NOT_TREATING")
        judged = self.review(session)
        if not judged.can_sign:
            raise ValidationError(
                [Problem(f.field, f"{f.code}: {f.message}") for f in judged.blockers] +
                [Problem(f.field, f"{f.code} needs a written reason to sign: {f.message}")
                 for f in judged.open_warnings])
        require_valid_dates(session, self.today(), self.store.patients.get(session.patient_id))
        # The hash leaves the signature out, so a placeholder stands in while it is computed.
        signature = Signature(signer=actor.id or 0, signer_name=actor.full_name,
                              credential=actor.credential, npi=actor.npi,
                              signed_at=self.now(), content_hash="0" * 64)
        signed = replace(session, status=SessionStatus.SIGNED, signature=signature)
        digest = content_hash(self.document(signed))
        signature = replace(signature, content_hash=digest)
        self.store.sessions.sign(session_id, signature)
        self.store.audit.record(actor, AuditAction.SIGN, "session", session_id, digest[:12])
        return self.store.sessions.get(session_id)

    def add_addendum(self, session_id: int, kind: AddendumKind, reason: str,
                     text: str) -> Addendum:
        self.require(Permission.ADDENDUM, "session", session_id)
        actor = self.actor
        if actor is None:
            raise self._deny("An addendum needs a named author; sign in to add one.")
        session = self.store.sessions.get(session_id)
        if session.status != SessionStatus.SIGNED:
            raise RecordLocked("This session is a draft: edit it directly instead of adding an "
                               "addendum.")
        self._require_scope_of(session)
        addendum = Addendum(kind=kind, author=actor.id or 0, author_name=actor.display,
                            created_at=self.now(), reason=reason, text=text)
        addendum = self.store.sessions.add_addendum(session_id, addendum)
        self.store.audit.record(actor, AuditAction.ADDENDUM, "session", session_id, kind.value)
        return addendum

    def verify(self, session: Session) -> bool:
        """Whether a signed session's stored content still matches its signature hash."""
        if session.signature is None:
            return False
        return session.signature.content_hash == content_hash(self.document(session))

    # --- the editor's helpers -------------------------------------------------------------

    def exercise_library(self) -> list[LibraryExercise]:
        """The shipped library with the clinic's own entries (which win by name)."""
        own = self.store.clinic_exercises.all(LibraryExercise)
        names = {e.name.lower() for e in own}
        rows = [e for e in shipped_library() if e.name.lower() not in names] + own
        return sorted(rows, key=lambda e: e.name.lower())

    def add_to_library(self, entry: ExerciseEntry) -> LibraryExercise:
        self.require(Permission.DOCUMENT)
        exercise = LibraryExercise.from_entry(entry)
        self.store.clinic_exercises.save(exercise)
        self.store.audit.record(self.actor, AuditAction.ADMIN, "library", None, "exercise")
        return exercise

    def carry_forward(self, session: Session) -> Session:
        """Last visit's exercises added to the draft, each to be confirmed (CARRIED)."""
        self.require(Permission.DOCUMENT, "session", session.id)
        previous = self.store.sessions.previous_with_exercises(session.patient_id,
                                                               session.date_of_service)
        if previous is None:
            raise NotFound("This patient has no earlier visit with exercises to carry forward.")
        have = {e.name.lower() for e in session.exercises}
        rows = tuple(carried(e) for e in previous.exercises if e.name.lower() not in have)
        return replace(session, exercises=session.exercises + rows)

    def exercise_history(self, patient_id: int, name: str) -> list[dict]:
        self.require(Permission.VIEW_CLINICAL, "patient", patient_id)
        return self.store.sessions.exercise_history(patient_id, name)

    def day_overview(self, day: dt.date, wait_for_codes: bool = True
                     ) -> list[tuple[SessionListing, int | None, int | None]]:
        """The day's sessions with the blockers and open warnings of each draft (None where
        they are not judged: signed notes, and users who may not open clinical notes)."""
        rows = self.sessions(date=day)
        out: list[tuple[SessionListing, int | None, int | None]] = []
        for row in rows:
            if row.status == SessionStatus.SIGNED or not self.can(Permission.VIEW_CLINICAL):
                out.append((row, None, None))
                continue
            judged = self.review(self.store.sessions.get(row.id), wait_for_codes)
            out.append((row, len(judged.blockers), len(judged.open_warnings)))
        return out

    # --- paper -----------------------------------------------------------------------------

    def note_facts(self, session: Session, wait_for_codes: bool = True) -> NoteFacts:
        ctx = self.rule_context(session, wait_for_codes)
        histories = {e.name: self.store.sessions.exercise_history(session.patient_id, e.name)
                     for e in session.exercises
                     if e.change in (ExerciseChange.PROGRESSED, ExerciseChange.MODIFIED)}
        users = dict(ctx.users)
        for uid in {a.author for a in session.addenda} - set(users):
            users[uid] = self.store.users.get(uid)
        return NoteFacts(clinic=self.clinic(), patient=ctx.patient or self.store.patients.get(
            session.patient_id), payer=ctx.payer, episode=ctx.episode, users=users,
            review=review_context(ctx),
            treatment_days_since_progress_report=ctx.treatment_days_since_progress_report,
            printed_at=self.now(), codes=ctx.codes, histories=histories)

    def note_pdf(self, session_id: int, wait_for_codes: bool = True) -> bytes:
        """The daily note as PDF (drafts carry the watermark and their open findings)."""
        from ptdoc.report import render_note

        self.require(Permission.EXPORT_NOTE, "session", session_id)
        session = self.store.sessions.get(session_id)
        return render_note(note_data(session, self.note_facts(session, wait_for_codes)))

    def summary_data(self, session_ids: list[int]) -> list[SummaryData]:
        self.require(Permission.PRINT_SUMMARY)
        out = []
        for sid in session_ids:
            session = self.store.sessions.get(sid)
            out.append(summary_data(session, self.note_facts(session)))
        return out

    def summaries_pdf(self, session_ids: list[int]) -> bytes:
        """One summary page per session, for the front desk."""
        from ptdoc.report import render_summaries

        return render_summaries(self.summary_data(session_ids))

    def day_ids(self, day: dt.date) -> list[int]:
        """The day's sessions in the order of the day."""
        return [r.id for r in sorted(self.sessions(date=day),
                                     key=lambda r: (r.time_in or dt.time(), r.patient_name))]

    def day_sheet_pdf(self, day: dt.date) -> bytes:
        from ptdoc.report import render_day_sheet

        data = day_sheet(self.clinic(), day, self.summary_data(self.day_ids(day)),
                         self.now())
        return render_day_sheet(data)

    def record_output(self, kind: str, session_ids: list[int], purpose: str) -> None:
        """Audit paper leaving ptdoc: ``purpose`` is 'print' or 'save' (a PDF file)."""
        action = AuditAction.PRINT if purpose == "print" else AuditAction.EXPORT
        for sid in session_ids:
            self.store.audit.record(self.actor, action, "session", sid, f"{kind} pdf")

    # --- interchange ---------------------------------------------------------------------

    def export_session(self, session_id: int) -> SessionDocument:
        self.require(Permission.EXPORT_NOTE, "session", session_id)
        session = self.store.sessions.get(session_id)
        ctx = self.rule_context(session)
        doc = self.document(session, SessionContext(ctx.treatment_days_since_progress_report,
                                                    ctx.year_to_date_amount))
        self.store.audit.record(self.actor, AuditAction.EXPORT, "session", session_id, "json")
        return doc

    def import_session(self, doc: SessionDocument) -> Session:
        """Store a parsed file as a new session: the patient is matched by MRN (registered if
        new), users by username (they must exist), a signed session keeps its signature."""
        self.require(Permission.DOCUMENT)
        problems: list[Problem] = []
        mapping = {}
        for i, user in enumerate(doc.clinicians):
            found = self.store.users.by_username(user.username)
            if found is None:
                problems.append(Problem(f"clinicians[{i}].username", f"No user '{user.username}'"
                                        " in this clinic; add the user first"))
            else:
                mapping[user.id or 0] = found.id or 0
        existing = self.store.patients.by_mrn(doc.patient.mrn)
        if existing is not None and (existing.first_name, existing.last_name,
                                     existing.date_of_birth) != (
                doc.patient.first_name, doc.patient.last_name, doc.patient.date_of_birth):
            problems.append(Problem("patient.mrn", f"MRN {doc.patient.mrn} belongs to a patient "
                                                   "with another name or date of birth here"))
        signature = doc.session.signature
        if signature is not None:
            same = self.store.sessions.with_content_hash(signature.content_hash)
            if same is not None:
                problems.append(Problem("session.signature", f"This signed session is already "
                                                             f"here as session {same}"))
        if problems:
            raise ValidationError(problems)
        session = remap_users(doc.session, mapping)
        with self.store.db.atomic():
            patient = existing or self._register(doc)
            episode_id = self._episode_for(doc, patient) if doc.episode else None
            draft = replace(session, id=None, patient_id=patient.id or 0, episode_id=episode_id,
                            status=SessionStatus.DRAFT, signature=None, addenda=())
            saved = self._store_draft(draft)
            if session.signature is not None:
                bound = replace(saved, status=SessionStatus.SIGNED, signature=session.signature,
                                addenda=session.addenda)
                verify_signature(self.document(bound))
                self.store.sessions.sign(saved.id or 0, session.signature)
                for addendum in session.addenda:
                    self.store.sessions.add_addendum(saved.id or 0, replace(addendum, id=None))
        self.store.audit.record(self.actor, AuditAction.IMPORT, "session", saved.id)
        return self.store.sessions.get(saved.id or 0)

    def _register(self, doc: SessionDocument) -> Patient:
        payer_id = None
        if doc.payer is not None:
            match = [p for p in self.store.payers.all() if p.name == doc.payer.name]
            payer_id = (match[0] if match else self.store.payers.add(doc.payer)).id
        return self.add_patient(replace(doc.patient, id=None, payer_id=payer_id))

    def _episode_for(self, doc: SessionDocument, patient: Patient) -> int:
        assert doc.episode is not None
        for episode in self.store.episodes.for_patient(patient.id or 0):
            if episode.start_date == doc.episode.start_date:
                return episode.id or 0
        return self.store.episodes.add(replace(doc.episode, id=None,
                                               patient_id=patient.id or 0)).id or 0
