"""The session file: export, and import that binds users, patient and episode."""

from __future__ import annotations

from dataclasses import replace

from ptdoc.domain import Patient, Session, SessionStatus
from ptdoc.errors import Problem, ValidationError
from ptdoc.interchange import SessionContext, SessionDocument, remap_users, verify_signature
from ptdoc.permissions import Permission
from ptdoc.repositories import AuditAction
from ptdoc.services.core import WorkspaceCore


class Interchange(WorkspaceCore):



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
