"""Signing: who may sign, the signer's proof, the signature and its check."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from ptdoc import keys
from ptdoc.access import SignerProof, reauthenticate
from ptdoc.domain import Session, SessionStatus, Signature, User, require_valid_dates
from ptdoc.errors import ChangedElsewhere, Problem, RecordLocked, ValidationError
from ptdoc.interchange import sha256, signed_content
from ptdoc.permissions import PT_ONLY_NOTES, Permission, allowed
from ptdoc.repositories import AuditAction, ChainCheck
from ptdoc.services.core import WorkspaceCore
from ptdoc.signature_check import SignatureCheck


class Signing(WorkspaceCore):
    def signing_obstacles(self, session: Session) -> list[str]:
        """Why the signed-in user may not sign this note, whatever it says (nothing audited:
        the sign step shows these before the button)."""
        actor = self.actor
        if actor is None or not allowed(actor, Permission.SIGN):
            return [f"{self._who()} may not sign notes: only a PT, DPT or PTA signs."]
        if session.status == SessionStatus.SIGNED:
            return ["This note is signed already."]
        return signer_obstacles(actor, session)

    def prove_signer(self, secret: str) -> SignerProof:
        """The signed-in clinician's password or PIN, typed again to sign (slowed and locked
        out after wrong tries, like sign-in). The proof carries their private key."""
        if self.actor is None:
            raise self._deny("Signing needs a signed-in clinician.")
        return reauthenticate(self.store, self.actor, secret, self.now)

    def sign(self, session_id: int, proof: SignerProof, seen: Session | None = None) -> Session:
        """Sign the stored draft. ``seen`` is the draft as the signer's screen shows it: if it
        was saved differently elsewhere since, nothing is signed (what is signed is what the
        signer saw). The draft is read and signed under one write lock."""
        self.require(Permission.SIGN, "session", session_id)
        actor = self.actor
        assert actor is not None  # SIGN is never allowed without a named user
        current = self.store.keys.current(actor.id or 0)
        if proof.user_id != actor.id or not proof.usable or current is None:
            raise self._deny("Type your password or PIN to sign.", "session", session_id,
                             "NO_PROOF")
        if proof.key_id != current.key_id:
            raise self._deny("Your password was set again since you typed it: type it again "
                             "to sign.", "session", session_id, "STALE_PROOF")
        session = self.store.sessions.get(session_id)
        if session.status == SessionStatus.SIGNED:
            raise RecordLocked("This session is already signed.")
        # Refusals are audited, so they are decided before the transaction (a rollback would
        # take their audit rows with it).
        self._require_scope_of(session)
        obstacles = self.signing_obstacles(session)
        if obstacles:
            raise self._deny(obstacles[0], "session", session_id, "NOT_TREATING")
        with self.store.sessions.durable():
            self.require_not_open_elsewhere(session_id, "Not signed")
            if self.store.sessions.get(session_id) != (seen or session):
                raise ChangedElsewhere(
                    "Not signed: this note was changed in another window or on another "
                    "workstation since it was shown here. It has been reloaded: check it, then "
                    "sign again.")
            self._sign_stored(session, proof, actor)
        return self.store.sessions.get(session_id)

    def _sign_stored(self, session: Session, proof: SignerProof, actor: User) -> None:
        session_id = session.id or 0
        judged = self.review(session)
        if not judged.can_sign:
            raise ValidationError(
                [Problem(f.field, f"{f.code}: {f.message}") for f in judged.blockers] +
                [Problem(f.field, f"{f.code} needs a written reason to sign: {f.message}")
                 for f in judged.open_warnings])
        require_valid_dates(session, self.today(), self.store.patients.get(session.patient_id))
        signature = Signature(signer=actor.id or 0, signer_name=actor.full_name,
                              credential=actor.credential, npi=actor.npi,
                              signed_at=self.now(), content_hash="0" * 64,
                              key_id=proof.key_id, value="A" * 86 + "==", content="")
        # Placeholders stand in for what is computed from the content the signer block is in.
        content = signed_content(self.document(replace(session, status=SessionStatus.SIGNED,
                                                       signature=signature)))
        signature = replace(signature, content=content, content_hash=sha256(content),
                            value=keys.sign(proof.private_key, content.encode()))
        self.store.sessions.sign(session_id, signature, self.place_of_service())
        self.store.audit.record(actor, AuditAction.SIGN, "session", session_id,
                                f"{signature.content_hash[:12]} key {proof.key_id}")

    def verify(self, session: Session) -> bool:
        """Whether a signed session is what its signer signed (see ``check_signature``)."""
        return session.signature is not None and self.check_signature(session).ok

    def verify_records(self, why: bool = True) -> tuple[ChainCheck, list[NoteVerdict]]:
        """The audit log's hash chain, and the verdict on every signed note. Whoever may open
        notes or back up the clinic (its administrator, who moves and restores it) may ask:
        no note is shown. Why a note does not verify can quote it ("assessment (signed ...,
        now ...)"), so only those who may open notes are told, and only when they ask
        (``why``); the others get its verdict."""
        self.require(Permission.VERIFY)
        told_why = why and self.can(Permission.VIEW_CLINICAL)
        notes = []
        for sid in self.store.sessions.signed_ids():
            session = self.store.sessions.get(sid)
            verdict = self.check_signature(session)
            if not told_why and not verdict.ok:
                verdict = replace(verdict, reason="")
            notes.append(NoteVerdict(sid, session.date_of_service,
                                     session.signature.signed_at if session.signature else None,
                                     verdict))
        return self.store.audit.check_chain(), notes


@dataclass(frozen=True)
class NoteVerdict:
    """A signed note's verdict, with what names the note without showing it."""

    session_id: int
    date_of_service: dt.date
    signed_at: dt.datetime | None
    check: SignatureCheck


def signer_obstacles(user: User, session: Session) -> list[str]:
    """Why ``user`` may not sign this session whatever it says: their role, the note type,
    and whether they treated or supervised it. Used at signing and for imported signatures."""
    if not user.credential.is_clinician:
        return [f"{user.display} may not sign notes: only a PT, DPT or PTA signs."]
    if session.note_type in PT_ONLY_NOTES and not user.credential.is_therapist:
        return [f"{user.display} may not sign a {session.note_type}: only a physical "
                "therapist may."]
    if user.id not in (session.delivered_by, session.supervised_by):
        return [f"{user.display} neither delivered nor supervised this session, so may "
                "not sign it. The clinician who delivered it (or the supervising PT) signs."]
    return []
