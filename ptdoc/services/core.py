"""The workspace core: one actor's view of the store, the permission gate, and what every
use case reads (clinic zone, ICD-10-CM index, rule context, the session as a document)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

from ptdoc import charges, clock
from ptdoc.claim import build_claim
from ptdoc.domain import Clinic, NoteType, Session, User
from ptdoc.errors import AccountDisabled, DraftOpenElsewhere, NotFound, PermissionDenied
from ptdoc.icd_index import IcdIndex
from ptdoc.interchange import SessionContext, SessionDocument
from ptdoc.permissions import PT_ONLY_NOTES, Permission, allowed, describe
from ptdoc.repositories import AuditAction
from ptdoc.review import Review, review_context
from ptdoc.rule_context import CodeSet, RuleContext
from ptdoc.rulepack import rules_stamp
from ptdoc.session_store import DraftHolder
from ptdoc.signature_check import KeyFacts, SignatureCheck, check, signature_finding
from ptdoc.store import Store


class WorkspaceCore:
    """The database as seen by one actor (``None``: the local operator at the command line)."""

    def __init__(self, store: Store, actor: User | None,
                 today: Callable[[], dt.date] | None = None,
                 now: Callable[[], dt.datetime] = clock.utcnow,
                 codes: CodeSet | None = None):
        self.store = store
        self.actor = actor
        self.today = today or (lambda: clock.today(self.time_zone(), self.now()))
        self.now = now
        self._codes = codes
        # The context and findings of the draft last saved here, judged while saving, so the
        # editor that saved it does not judge it again (``judged_draft``).
        self._judged_draft: tuple[RuleContext, Review] | None = None
        # Told (once per refusal) that the actor was disabled meanwhile: the window signs out.
        self.on_disabled: Callable[[], None] | None = None

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

    def clinic(self) -> Clinic | None:
        return self.store.clinic.get()

    def place_of_service(self) -> str:
        """The clinic's place of service now: what a note signed now records."""
        return charges.place_of_service(None, self.clinic())

    def time_zone(self) -> str | None:
        """The clinic's zone, in which every time is shown (None: this computer's zone)."""
        return self.store.clinic.time_zone()

    def clock_time(self) -> dt.time:
        """The clinic's wall-clock time now, to the minute (what "now" means in a time field)."""
        return clock.wall_minute(self.now(), self.time_zone())

    def use_codes(self, codes: CodeSet) -> None:
        """Hand over the ICD-10-CM index once it is open (the GUI opens it in the background)."""
        self._codes = codes

    @property
    def codes_if_ready(self) -> CodeSet | None:
        """The ICD-10-CM index when it is open already (never builds it: the UI asks this)."""
        return self._codes

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
        start = store.sessions.reporting_start(episode.id or 0, session.date_of_service,
                                               session.id) if episode else None
        ctx = RuleContext(session=session, today=self.today(), patient=patient, payer=payer,
                          episode=episode, users=users,
                          treatment_days_since_progress_report=days, reporting_start=start,
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

    def judged_under(self) -> str:
        """What a draft's stored counts are judged under: the rules, the code set in use
        (none until the index is open) and the day (plans of care expire, reports fall due)."""
        codes = getattr(self._codes, "stamp", "codes") if self._codes is not None else "none"
        return f"{rules_stamp()}|{codes}|{self.today().isoformat()}"

    def still_judged(self, judged_under: str) -> bool:
        """Whether counts stored under ``judged_under`` hold now. Before the code set is open,
        counts judged with it are better than judging without it."""
        now = self.judged_under()
        if judged_under == now:
            return True
        rules, codes, day = now.split("|")
        stored = judged_under.split("|")
        return codes == "none" and len(stored) == 3 and stored[0] == rules and stored[2] == day

    def review(self, session: Session, wait_for_codes: bool = True) -> Review:
        return self.judge(self.rule_context(session, wait_for_codes))

    def judged_draft(self, saved: Session) -> tuple[RuleContext, Review]:
        """The rule context and findings of ``saved``, the draft ``save_draft`` just returned:
        judged once, while it was saved (the day view's counts come from the same judgement).
        Any other session is judged now."""
        last = self._judged_draft
        if last is not None and last[0].session is saved:
            return last
        ctx = self.rule_context(saved, wait_for_codes=False)
        return ctx, self.judge(ctx)

    def judge(self, ctx: RuleContext) -> Review:
        """The rules' findings, and for a signed note a blocker when its signature does not
        verify: such a note is never shown or printed as a clean signed note."""
        judged = review_context(ctx)
        if ctx.session.signature is None:
            return judged
        check = self.check_signature(ctx.session)
        if check.ok:
            return judged
        return replace(judged, findings=(signature_finding(check), *judged.findings))

    def check_signature(self, session: Session) -> SignatureCheck:
        """Verify a signed note as it is stored now against its signer's public key from the
        key history (done on every load for display, print, export and check)."""
        sig = session.signature
        if sig is None:
            return SignatureCheck(False, "the note is not signed")
        key = self.store.keys.get(sig.key_id) if sig.key_id else None
        facts = None if key is None else KeyFacts(
            key.public_key, self.store.users.get(key.user_id).username, key.retired_at)
        try:
            doc = self.document(session)
        except NotFound as exc:  # a signer or patient row that is gone
            return SignatureCheck(False, str(exc))
        return check(doc, facts, self.store.keys.keyed_since())

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

    # --- drafts open on other workstations -------------------------------------------

    def require_not_open_elsewhere(self, session_id: int, what: str) -> None:
        """Refuse (``what``: "Not saved") while another workstation, live and not idle, has
        the draft open for editing: nobody writes over what is being typed there."""
        holder = self.store.draft_locks.other(session_id, self.now())
        if holder is not None and not holder.stale:
            raise DraftOpenElsewhere(f"{what}: {self.holder_text(holder)}.")

    def holder_text(self, holder: DraftHolder) -> str:
        """What is known of the draft's holder elsewhere: "Open on FRONT-2 by Maria Chen, DPT
        since 10:42", "...; idle since 10:50 (...)", or "Was open on FRONT-2 by Maria Chen,
        DPT; that window stopped"."""
        who = self.store.users.get(holder.user_id).display if holder.user_id else \
            "the command line"
        if holder.gone:
            return f"Was open on {holder.host} by {who}; that window stopped"
        since = clock.local(holder.taken_at, self.time_zone())
        text = f"Open on {holder.host} by {who} since {since:%H:%M}"
        if holder.idle:
            touched = clock.local(holder.touched_at, self.time_zone())
            return (f"{text}; idle since {touched:%H:%M} (nothing saved there for "
                    f"{holder.idle_minutes} minutes)")
        return text
