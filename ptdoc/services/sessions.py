"""Sessions: the day's list, opening, drafts saved on every edit, taking a draft over,
carry-forward and addenda."""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, replace

from ptdoc.access import SignerProof
from ptdoc.codec import to_plain
from ptdoc.domain import (
    Addendum,
    AddendumKind,
    Credential,
    Episode,
    ExerciseEntry,
    NoteType,
    Provider,
    Session,
    SessionStatus,
    require_valid_dates,
)
from ptdoc.errors import (
    ChangedElsewhere,
    DatabaseLocked,
    NotFound,
    RecordLocked,
    ValidationError,
)
from ptdoc.followup import rounded
from ptdoc.library import carried
from ptdoc.permissions import PT_ONLY_NOTES, Permission
from ptdoc.repositories import AuditAction
from ptdoc.rule_context import since_report
from ptdoc.rulepack import rule_pack
from ptdoc.services.core import WorkspaceCore
from ptdoc.session_store import DraftHolder, SessionListing


@dataclass(frozen=True)
class CarriedForward:
    """What carry-forward made: the draft with the rows added, and the visit they came from."""

    session: Session
    source: Session
    added: int

    @property
    def told(self) -> str:
        """Which visit was carried, as the clinician is told ("Carried from 24 Nov, signed by
        Luis Rivera, PTA")."""
        sig = self.source.signature
        signer = f", signed by {sig.signer_name}, {sig.credential}" if sig is not None else ""
        day = self.source.date_of_service
        return f"Carried from {day.day} {day:%b}{signer}"


class Sessions(WorkspaceCore):
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
        """A draft for the patient, with the episode's diagnoses and the actor as clinician.

        The plan of care is written with the initial evaluation: an EVALUATION by a PT for a
        patient with no open episode opens one (starting on the date of service, the rest
        filled in from the evaluation's Visit step) and attaches it."""
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
        # A note started on the day of the visit starts at the visit: time in is now.
        time_in = rounded(self.clock_time()) if date_of_service == self.today() else None
        session = Session(patient_id=patient_id, date_of_service=date_of_service,
                          episode_id=episode_id, note_type=note_type, delivered_by=clinician,
                          diagnoses=diagnoses, time_in=time_in)
        self._require_scope_of(session)  # before the transaction: a denial stays audited
        opens_plan = episode_id is None and note_type == NoteType.EVALUATION and \
            self.can(Permission.EVALUATE) and not any(
                e.discharged_on is None for e in self.store.episodes.for_patient(patient_id))
        with self.store.db.atomic():  # the plan and its evaluation exist together or not at all
            if opens_plan:
                require_valid_dates(session, self.today(), self.store.patients.get(patient_id))
                episode = self.add_episode(Episode(patient_id, start_date=date_of_service),
                                           wait_for_codes=False)
                session = replace(session, episode_id=episode.id)
            session = self._store_draft(session)
            self.store.audit.record(self.actor, AuditAction.CREATE, "session", session.id)
        return session

    def proposed_note_type(self, patient_id: int, day: dt.date,
                           episode_id: int | None) -> tuple[NoteType, str]:
        """The note a new session of the patient on ``day`` should be, and why: an evaluation
        when no plan of care is open (it writes one), a progress report when one is due
        under the episode (a PT writes it), otherwise a daily note."""
        therapist = self.actor is not None and self.actor.credential.is_therapist
        episodes = self.store.episodes.for_patient(patient_id)
        if not any(e.discharged_on is None for e in episodes):
            if therapist:
                return NoteType.EVALUATION, "No open plan of care: the evaluation writes one."
            return NoteType.DAILY, "No open plan of care: a PT evaluates the patient first."
        episode = next((e for e in episodes if e.id == episode_id), None)
        if episode is None:
            return NoteType.DAILY, ""
        pack = rule_pack()
        day_number = self.store.sessions.reporting_days(episode.id or 0, day, None) + 1
        since = since_report(self.store.sessions.reporting_start(episode.id or 0, day, None),
                             episode)
        every = f"one is due at least every {pack.progress_report_days} treatment days"
        if day_number < pack.progress_report_days:
            return NoteType.DAILY, f"Treatment day {day_number} {since} ({every})."
        patient = self.store.patients.get(patient_id)
        payer = self.store.payers.get(patient.payer_id) if patient.payer_id else None
        rule = f"{payer.name} requires it" if payer and payer.medicare else "it is expected"
        if therapist:
            return NoteType.PROGRESS_REPORT, (
                f"Progress report: this is treatment day {day_number} {since}; "
                f"{every} ({rule}). State progress toward each goal in the assessment.")
        return NoteType.DAILY, (f"A progress report is due (treatment day {day_number}; {rule})"
                                ": the supervising PT writes it, a PTA cannot.")

    def save_draft(self, session: Session, expected: Session | None = None) -> Session:
        """Persist an edited draft (called on every field edit). Returns it with its id.

        ``expected`` is the draft as the editor last read or saved it: when another window or
        workstation saved it differently since, nothing is written (ChangedElsewhere), so no
        one overwrites an edit they never saw."""
        self.require(Permission.DOCUMENT, "session", session.id)
        if session.id is not None:
            status, note_type, delivered_by = self.store.sessions.header(session.id)
            if status == SessionStatus.SIGNED:
                raise RecordLocked("This session is signed and locked; add an addendum to "
                                   "correct it.")
            self._require_scope(note_type, delivered_by, session.id)
            if not self.writes(session.id):
                raise self._deny(f"This draft was written by {self.writers_text(session.id)}: "
                                 "take it over to edit it.", "session", session.id,
                                 "NOT_TAKEN_OVER")
        # The edit and its audit row commit together: no edit without its row, or the reverse.
        self._require_scope_of(session)  # before the transaction: a denial stays audited
        with self.store.db.atomic():
            if session.id is not None:
                self.require_not_open_elsewhere(session.id, "Not saved")
                self.store.draft_locks.touch(session.id, self.now())
            if expected is not None and session.id is not None and \
                    self.store.sessions.get(session.id) != expected:
                raise ChangedElsewhere("This note was changed in another window or on another "
                                       "workstation: it has been reloaded here.")
            saved = self._store_draft(session)
            self.store.audit.record(self.actor, AuditAction.EDIT, "session", saved.id)
        return saved

    # --- draft locks: one workstation edits a draft, the others read it -------------------

    def open_for_editing(self, session_id: int, stale_too: bool = False) -> DraftHolder | None:
        """Hold the draft for editing on this workstation until ``release_draft`` (or the
        program ends, or it goes idle): None when held here now, else who holds it elsewhere,
        whose draft stays read-only here. ``stale_too`` takes over a stale holder's lock."""
        self.require(Permission.DOCUMENT, "session", session_id)
        actor = self.actor.id if self.actor else None

        def replacing(holder: DraftHolder) -> None:  # in the lock's transaction
            self.store.audit.record(self.actor, AuditAction.LOCK_TAKEN, "session", session_id,
                                    self._lock_taken(holder))

        return self.store.draft_locks.take(session_id, actor, self.now(), stale_too, replacing)

    def _lock_taken(self, holder: DraftHolder) -> str:
        """The audit's words for a lock taken from another workstation: from whom, where, and
        why it could be (times in UTC, as the log's own)."""
        who = self.store.users.get(holder.user_id).username if holder.user_id else "cli"
        if not holder.gone:
            why = f"no save for over {holder.idle_minutes} minutes"
        elif self.store.draft_locks.server:
            why = "its connection to the server had ended"
        else:
            why = "its program was no longer running"
        return (f"from {who} on {holder.host} (process {holder.pid}; held since "
                f"{to_plain(holder.taken_at)}, last saved {to_plain(holder.touched_at)}): "
                f"{why}; taken on {self.store.draft_locks.host}")

    def draft_holder(self, session_id: int) -> DraftHolder | None:
        """Who has the draft open for editing elsewhere (None: nobody, or this workstation)."""
        return self.store.draft_locks.other(session_id, self.now())

    def holds_draft(self, session_id: int) -> bool:
        """Whether this workstation still holds the draft it opened for editing (one row)."""
        return self.store.draft_locks.holds(session_id)

    def release_draft(self, session_id: int) -> None:
        self.store.draft_locks.release(session_id)

    def writes(self, session_id: int) -> bool:
        """Whether the actor writes this draft: they made it or took it over (and so did
        everyone, for a draft nobody named made). Anyone else opens it read-only until they
        take it over; who has it open at the moment is the draft lock's business."""
        writers = self.store.audit.draft_writers(session_id)
        return self.actor is None or not writers or None in writers or \
            self.actor.id in writers

    def writers_text(self, session_id: int) -> str:
        """Who wrote the draft: "James Okafor, PT and Maria Chen, DPT"."""
        names = [self.store.users.get(uid).display
                 for uid in self.store.audit.draft_writers(session_id) if uid]
        return " and ".join(names) or "nobody named"

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
        """Make the actor a writer of another clinician's draft (audited): they may edit it
        from then on, as its earlier writers still may while nobody has it open."""
        self.require(Permission.DOCUMENT, "session", session_id)
        session = self.store.sessions.get(session_id)
        if not self.may_take_over(session):
            raise self._deny(f"{self._who()} may not take over this draft.", "session",
                             session_id, "TAKE_OVER")
        previous = self.store.audit.draft_writers(session_id)[-1:]
        self.store.audit.record(self.actor, AuditAction.TAKE_OVER, "session", session_id,
                                f"from user {previous[0]}" if previous and previous[0] else "")
        return session

    def _store_draft(self, session: Session) -> Session:
        """Save the draft with its blocker and warning counts (the day view lists them); the
        patient's other drafts are judged again when next listed (same-day sessions)."""
        self._require_scope_of(session)
        patient = self.store.patients.get(session.patient_id)
        require_valid_dates(session, self.today(), patient)
        with self.store.db.atomic():
            saved = self.store.sessions.save_draft(session, self.now())
            ctx = self.rule_context(saved, wait_for_codes=False)
            judged = self.judge(ctx)
            self._judged_draft = (ctx, judged)
            self.store.draft_flags.forget_patient(saved.patient_id, saved.id)
            self.store.draft_flags.keep([(saved.id or 0, len(judged.blockers),
                                          len(judged.open_warnings), self.judged_under())])
        return saved

    @property
    def can_addendum(self) -> bool:
        return self.can(Permission.ADDENDUM) and self.actor is not None

    def add_addendum(self, session_id: int, kind: AddendumKind, reason: str,
                     text: str, proof: SignerProof) -> Addendum:
        """A signed statement added to a signed note: its author proves who they are with
        their password or PIN (``prove_signer``), as when signing."""
        self.require(Permission.ADDENDUM, "session", session_id)
        actor = self.actor
        if actor is None:
            raise self._deny("An addendum needs a named author; sign in to add one.")
        current = self.store.keys.current(actor.id or 0)
        if proof.user_id != actor.id or not proof.usable or current is None:
            raise self._deny("Type your password or PIN to add an addendum.", "session",
                             session_id, "NO_PROOF")
        if proof.key_id != current.key_id:
            raise self._deny("Your password was set again since you typed it: type it again "
                             "to add the addendum.", "session", session_id, "STALE_PROOF")
        session = self.store.sessions.get(session_id)
        if session.status != SessionStatus.SIGNED:
            raise RecordLocked("This session is a draft: edit it directly instead of adding an "
                               "addendum.")
        self._require_scope_of(session)
        addendum = Addendum(kind=kind, author=actor.id or 0, author_name=actor.display,
                            created_at=self.now(), reason=reason, text=text)
        with self.store.db.atomic():
            addendum = self.store.sessions.add_addendum(session_id, addendum)
            self.store.audit.record(actor, AuditAction.ADDENDUM, "session", session_id,
                                    kind.value)
        return addendum

    def carry_forward(self, session: Session) -> CarriedForward:
        """The last signed visit's exercises added to the draft, each to be confirmed
        (CARRIED) and delivered by whoever delivers this note, not by the old note's
        clinician; with the visit they came from."""
        self.require(Permission.DOCUMENT, "session", session.id)
        self.require(Permission.VIEW_CLINICAL, "patient", session.patient_id)
        source = self.store.sessions.previous_with_exercises(session)
        if source is None:
            raise NotFound("This patient has no earlier signed visit with exercises to carry "
                           "forward.")
        provider = self._provider_of(session)
        have = {e.name.lower() for e in session.exercises}
        rows = tuple(replace(carried(e), delivered_by=provider) for e in source.exercises
                     if e.name.lower() not in have)
        return CarriedForward(replace(session, exercises=session.exercises + rows), source,
                              len(rows))

    def _provider_of(self, session: Session) -> Provider:
        """Who delivers rows added to this note: the note's clinician (Supervision step),
        else the one writing it."""
        user = (self.store.users.get(session.delivered_by) if session.delivered_by
                else self.actor)
        return Provider.PTA if user is not None and user.credential == Credential.PTA \
            else Provider.PT

    def last_visit_exercises(self, session: Session) -> tuple[ExerciseEntry, ...]:
        """The exercises of the patient's last signed visit before this one (what carried rows
        are compared with); none for a first visit."""
        self.require(Permission.VIEW_CLINICAL, "patient", session.patient_id)
        previous = self.store.sessions.previous_with_exercises(session)
        return previous.exercises if previous is not None else ()

    def exercise_history(self, patient_id: int, name: str,
                         including: int | None = None) -> list[dict]:
        """One exercise's signed performances, with the note ``including`` (the one open)."""
        self.require(Permission.VIEW_CLINICAL, "patient", patient_id)
        return self.store.sessions.exercise_history(patient_id, name, including)

    def day_overview(self, day: dt.date, wait_for_codes: bool = True
                     ) -> list[tuple[SessionListing, int | None, int | None]]:
        """The day's sessions with the blockers and open warnings of each draft (None where
        they are not judged: signed notes, and users who neither open notes nor print the
        day's paper). The front desk sees the counts its day sheet prints, not the findings."""
        return self.with_flags(self.sessions(date=day), wait_for_codes)

    def with_flags(self, rows: list[SessionListing], wait_for_codes: bool = True
                   ) -> list[tuple[SessionListing, int | None, int | None]]:
        """Listed sessions with each draft's blockers and open warnings, as ``day_overview``
        gives them (a patient's visits list the same)."""
        if not (self.can(Permission.VIEW_CLINICAL) or self.can(Permission.PRINT_SUMMARY)):
            return [(row, None, None) for row in rows]
        if wait_for_codes:
            _ = self.codes  # opens the index, so the counts are judged with it
        # Counts stored when each draft was saved; judged again only when judged under other
        # rules, code set or day (a day of 200 drafts lists without running the rules).
        stored = self.store.draft_flags.stored(
            [r.id for r in rows if r.status == SessionStatus.DRAFT])
        out: list[tuple[SessionListing, int | None, int | None]] = []
        judged_now: list[tuple[int, int, int, str]] = []
        for row in rows:
            if row.status == SessionStatus.SIGNED:
                out.append((row, None, None))
                continue
            counts = stored.get(row.id)
            if counts is None or not self.still_judged(counts[2]):
                judged = self.review(self.store.sessions.get(row.id), wait_for_codes)
                counts = (len(judged.blockers), len(judged.open_warnings), self.judged_under())
                judged_now.append((row.id, *counts))
            out.append((row, counts[0], counts[1]))
        if judged_now:
            with contextlib.suppress(DatabaseLocked):  # kept next time the database is free
                self.store.draft_flags.keep(judged_now)
        return out
