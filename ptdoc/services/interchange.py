"""The session file: export, and import that binds users, patient and episode."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

from ptdoc.codec import to_plain
from ptdoc.domain import Patient, Session, SessionStatus
from ptdoc.errors import Problem, ValidationError
from ptdoc.interchange import SessionContext, SessionDocument, remap_users
from ptdoc.permissions import Permission
from ptdoc.repositories import AuditAction
from ptdoc.review import review_context
from ptdoc.services.core import WorkspaceCore
from ptdoc.services.signing import signer_obstacles
from ptdoc.signature_check import KeyFacts, check


class Interchange(WorkspaceCore):
    def export_session(self, session_id: int) -> SessionDocument:
        """The session as a file; a signed note whose signature does not verify is refused,
        so it never travels as a clean signed note."""
        self.require(Permission.EXPORT_NOTE, "session", session_id)
        session = self.store.sessions.get(session_id)
        if session.signature is not None:
            verdict = self.check_signature(session)
            if not verdict.ok:
                raise ValidationError.single("session.signature", f"Session {session_id}: "
                                             f"{verdict.headline}; not exported")
        ctx = self.rule_context(session)
        doc = self.document(session, SessionContext(ctx.treatment_days_since_progress_report,
                                                    ctx.year_to_date_amount))
        self.store.audit.record(self.actor, AuditAction.EXPORT, "session", session_id, "json")
        return doc

    def import_session(self, doc: SessionDocument, as_draft: bool = False) -> Session:
        """Store a parsed file as a new session: the patient is matched by MRN (registered if
        new), users by username (they must exist).

        A signed session is stored signed only when its signature verifies against a key this
        clinic holds for its signer, the signer could sign it (credential, role, treating it,
        active then, not in the future) and the rules find no blocker; otherwise it is refused
        with the reasons. ``as_draft`` stores it as a draft to be reviewed and signed here."""
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
        signature = None if as_draft else doc.session.signature
        if signature is not None:
            same = self.store.sessions.with_content_hash(signature.content_hash)
            if same is not None:
                problems.append(Problem("session.signature", f"This signed session is already "
                                                             f"here as session {same}"))
            elif not problems:
                problems += [Problem("session.signature", p)
                             for p in self._signer_refusals(doc, mapping)]
        if problems:
            raise ValidationError(problems)
        session = remap_users(doc.session, mapping)
        with self.store.db.atomic():
            patient = existing or self._register(doc)
            episode_id = self._episode_for(doc, patient) if doc.episode else None
            draft = replace(session, id=None, patient_id=patient.id or 0, episode_id=episode_id,
                            status=SessionStatus.DRAFT, signature=None, addenda=())
            saved = self._store_draft(draft)
            if signature is not None:
                bound = replace(saved, status=SessionStatus.SIGNED,
                                signature=session.signature, addenda=session.addenda)
                blockers = review_context(self.rule_context(bound)).blockers
                if blockers:  # leaves the transaction: nothing of the file is kept
                    raise ValidationError([Problem(f.field, f"{f.code}: {f.message} (a note "
                                                   "with a blocker is not stored as signed)")
                                           for f in blockers])
                self.store.sessions.sign(saved.id or 0, bound.signature,
                                         self.place_of_service())
                for addendum in session.addenda:
                    self.store.sessions.add_addendum(saved.id or 0, replace(addendum, id=None))
            self.store.audit.record(self.actor, AuditAction.IMPORT, "session", saved.id,
                                    "as draft" if as_draft else "")
        return self.store.sessions.get(saved.id or 0)

    def _signer_refusals(self, doc: SessionDocument, mapping: dict[int, int]) -> list[str]:
        """Why a signed file may not be stored as signed here: its signature, or its signer."""
        sig = doc.session.signature
        assert sig is not None
        why = " (import it as a draft to review and sign it here)"
        if sig.key_id is None:
            return ["The file's signature has no key: this clinic cannot tell that its signer "
                    "made it" + why]
        key = self.store.keys.get(sig.key_id)
        facts = None if key is None else KeyFacts(
            key.public_key, self.store.users.get(key.user_id).username, key.retired_at)
        verdict = check(doc, facts, self.store.keys.keyed_since())
        if not verdict.ok:
            return [f"{verdict.headline}{why}"]
        signer = self.store.users.get(mapping[sig.signer])
        refusals = [r + why for r in signer_obstacles(signer, remap_users(doc.session,
                                                                           mapping))]
        if sig.credential != signer.credential:
            refusals.append(f"The signature claims {sig.credential}, but {signer.username} is "
                            f"{signer.credential} here{why}")
        if sig.signed_at > self.now():
            refusals.append(f"The signature is dated {to_plain(sig.signed_at)}, in the "
                            f"future{why}")
        if sig.signed_at.date() < doc.session.date_of_service - dt.timedelta(days=1):
            refusals.append("The signature is dated before the date of service" + why)
        disabled = self.store.audit.disabled_at(signer.id or 0)
        if not signer.active and (disabled is None or disabled <= sig.signed_at):
            refusals.append(f"{signer.username} was disabled when the note was signed{why}")
        return refusals

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
