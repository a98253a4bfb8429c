"""Signing: who may sign, the signer's proof, the signature and its check."""

from __future__ import annotations

from dataclasses import replace

from ptdoc.access import SignerProof, reauthenticate
from ptdoc.domain import Session, SessionStatus, Signature, require_valid_dates
from ptdoc.errors import Problem, RecordLocked, ValidationError
from ptdoc.interchange import content_hash
from ptdoc.permissions import PT_ONLY_NOTES, Permission, allowed
from ptdoc.repositories import AuditAction
from ptdoc.services.core import WorkspaceCore


class Signing(WorkspaceCore):



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

    def verify(self, session: Session) -> bool:
        """Whether a signed session's stored content still matches its signature hash."""
        if session.signature is None:
            return False
        return session.signature.content_hash == content_hash(self.document(session))
