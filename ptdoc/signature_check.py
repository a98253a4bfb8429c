"""Whether a signed note is what its signer signed: pure, for any copy of a note.

A keyed signature verifies when the signer's public key (from the clinic's key history)
accepts the signature over the stored signed content, and the note as it is now rebuilds that
same content, with the patient's identity as it was at signing (a later correction of a name
does not break it, a note moved to another patient does). A note signed before keyed
signatures has only a SHA-256 of its content; it verifies by that alone, and only when it was
signed before this database began keyed signatures.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any

from ptdoc import keys
from ptdoc.interchange import (
    PATIENT_IDENTITY,
    SessionDocument,
    identity,
    legacy_content_hash,
    sha256,
    signed_content,
)
from ptdoc.rules.engine import Finding, Severity

DOES_NOT_VERIFY = "SIGNATURE DOES NOT VERIFY"
FINDING_CODE = "SIGNATURE_INVALID"


@dataclass(frozen=True)
class KeyFacts:
    """A public key from the key history, with whose it is and when it was retired."""

    public_key: str
    owner: str               # username
    retired_at: dt.datetime | None


@dataclass(frozen=True)
class SignatureCheck:
    ok: bool
    reason: str = ""         # why it does not verify, or a note about how it verifies
    legacy: bool = False     # signed before keyed signatures: SHA-256 only

    @property
    def headline(self) -> str:
        """One line for a banner, a status column or paper."""
        return f"{DOES_NOT_VERIFY}: {self.reason}" if not self.ok else \
            ("Signature verifies" + (f" ({self.reason})" if self.reason else ""))


def _differences(signed: Any, now: Any, path: str = "", out: list[str] | None = None,
                 words: tuple[str, str] = ("signed", "now")) -> list[str]:
    """Where two JSON values differ, as 'path (signed X, now Y)', first few only; ``words``
    name the two sides."""
    out = [] if out is None else out
    if len(out) >= 3 or signed == now:
        return out
    if isinstance(signed, dict) and isinstance(now, dict):
        for key in sorted(set(signed) | set(now)):
            _differences(signed.get(key), now.get(key), f"{path}.{key}" if path else key, out,
                         words)
    elif isinstance(signed, list) and isinstance(now, list) and len(signed) == len(now):
        for i, (a, b) in enumerate(zip(signed, now, strict=True)):
            _differences(a, b, f"{path}[{i}]", out, words)
    else:
        def short(v: Any) -> str:
            text = json.dumps(v, ensure_ascii=False)
            return text if len(text) <= 40 else text[:37] + "..."
        if isinstance(signed, list) and isinstance(now, list):
            what = f"{len(signed)} rows, {words[1]} {len(now)}"
        elif isinstance(signed, str) and isinstance(now, str):
            what = f", {words[1]} ".join(json.dumps(t, ensure_ascii=False)
                                         for t in _apart(signed, now))
        else:
            what = f"{short(signed)}, {words[1]} {short(now)}"
        out.append(f"{path or 'content'} ({words[0]} {what})")
    return out


def _apart(signed: str, now: str, width: int = 40) -> tuple[str, str]:
    """Two texts shortened around where they first differ: a long assessment with a sentence
    added reads "...last visit.", now "...last visit. Patient doing great." instead of two
    identical beginnings."""
    first = next((i for i, (a, b) in enumerate(zip(signed, now, strict=False)) if a != b),
                 min(len(signed), len(now)))
    start = max(0, first - 12) if max(len(signed), len(now)) > width else 0

    def cut(text: str) -> str:
        piece = text[start:start + width]
        return ("..." if start else "") + piece + ("..." if len(text) > start + width else "")
    return cut(signed), cut(now)


def content_problems(doc: SessionDocument) -> list[str]:
    """What no key is needed to see: the note as it is now against what was signed."""
    sig = doc.session.signature
    if sig is None:
        return []
    if sig.content is None:
        if sig.content_hash != legacy_content_hash(doc):
            return ["the note was changed after signing: its content no longer matches the "
                    "SHA-256 taken at signing"]
        return []
    if sha256(sig.content) != sig.content_hash:
        return ["the signed content stored with the signature does not match its SHA-256"]
    try:
        signed = json.loads(sig.content)
        patient = signed["patient"]
        now = json.loads(signed_content(doc, patient))
    except (ValueError, KeyError, TypeError):
        return ["the signed content stored with the signature cannot be read"]
    problems = []
    changed = _differences(signed.get("session"), now["session"], "")
    if changed:
        problems.append("the note was changed after signing: " + "; ".join(changed))
    if signed.get("signer") != now["signer"]:
        problems.append("the signer, credential, NPI, key or time beside the signature differ "
                        "from what was signed: " + "; ".join(
                            _differences(signed.get("signer"), now["signer"], "signer")))
    if not isinstance(patient, dict) or patient.get("mrn") != doc.patient.mrn:
        problems.append(f"the note now belongs to MRN {doc.patient.mrn} but was signed for "
                        f"MRN {patient.get('mrn') if isinstance(patient, dict) else '?'}")
    return problems


def identity_changes(doc: SessionDocument) -> list[str]:
    """How the patient's identity in a copy differs from the one the signature covers (a
    later correction in the clinic's records is allowed; a reader of a file is told)."""
    sig = doc.session.signature
    if sig is None or sig.content is None:
        return []
    try:
        signed = json.loads(sig.content)["patient"]
    except (ValueError, KeyError, TypeError):
        return []
    return _differences(signed, identity(doc.patient), "patient")


def raw_changes(data: Any) -> list[str]:
    """For a file that is not a valid session file (a value breaks a limit): why its
    signature does not verify, read from the raw JSON; [] when it carries no readable signed
    content or its session is as signed (the file is then only bad input)."""
    session = data.get("session") if isinstance(data, dict) else None
    sig = session.get("signature") if isinstance(session, dict) else None
    content = sig.get("content") if isinstance(sig, dict) else None
    if not isinstance(content, str):
        return []
    if sha256(content) != sig.get("content_hash"):
        return ["the signed content stored with the signature does not match its SHA-256"]
    try:
        signed = json.loads(content)["session"]
    except (ValueError, KeyError, TypeError, RecursionError):
        return ["the signed content stored with the signature cannot be read"]
    now = {k: v for k, v in session.items() if k not in ("signature", "addenda")}
    changed = _differences(signed, now, "")
    return ["the note was changed after signing: " + "; ".join(changed)] if changed else []


def compare_blocks(stored: dict[str, Any], copy: dict[str, Any]
                   ) -> tuple[list[str], list[str]]:
    """What a file says unlike the clinic's database (the export of the same session): in
    the patient (but for the identity the signature covers), payer, plan of care and
    clinicians blocks, which the signature does not cover; and in the signature itself, its
    signed content compared field by field (content and hash rewritten together)."""
    def outside(doc: dict[str, Any], block: str) -> Any:
        value = doc.get(block)
        if block == "patient" and isinstance(value, dict):
            return {k: v for k, v in value.items() if k not in PATIENT_IDENTITY}
        return value

    details = []
    for block in ("patient", "payer", "episode", "clinicians"):
        details += _differences(outside(stored, block), outside(copy, block), block,
                                words=("database", "file"))

    def signature(doc: dict[str, Any]) -> Any:
        session = doc.get("session")
        return session.get("signature") if isinstance(session, dict) else None
    ours, theirs = signature(stored), signature(copy)
    if isinstance(ours, dict) and isinstance(theirs, dict):
        changed = _content_differences(ours.get("content"), theirs.get("content"))
        if changed is not None:
            ours = {k: v for k, v in ours.items() if k not in ("content", "content_hash")}
            theirs = {k: v for k, v in theirs.items() if k not in ("content", "content_hash")}
            return details, changed + _differences(ours, theirs, "session.signature",
                                                   words=("database", "file"))
    return details, _differences(ours, theirs, "session.signature",
                                 words=("database", "file"))


def _content_differences(signed: Any, now: Any) -> list[str] | None:
    """Two signed contents that differ, read as the notes they are: 'services[0].units
    (signed 2, now 3)'; None when they are equal or one cannot be read."""
    if signed == now or not isinstance(signed, str) or not isinstance(now, str):
        return None
    try:
        a, b = json.loads(signed), json.loads(now)
    except ValueError:
        return None
    if not isinstance(a, dict) or not isinstance(b, dict):
        return None
    changed = _differences(a.get("session"), b.get("session"), "")
    changed += _differences(a.get("patient"), b.get("patient"), "patient")
    changed += _differences(a.get("signer"), b.get("signer"), "signer")
    return ["the signed content was rewritten with its hash: " + "; ".join(changed)] \
        if changed else None


def identity_problems(doc: SessionDocument, recorded: dict[str, Any] | None = None
                      ) -> list[str]:
    """The patient's name or date of birth in a copy unlike the identity its signature
    covers: the signature does not verify for that copy, unless ``recorded`` (the patient's
    identity in the clinic's database now) shows a correction made there after signing."""
    changed = [c for c in identity_changes(doc) if not c.startswith("patient.mrn ")]
    if not changed or (recorded is not None and recorded == identity(doc.patient)):
        return []
    where = "" if recorded is not None else (
        " (a correction made in the clinic's records after signing is confirmed by "
        "'ptdoc check FILE --session ID')")
    return ["the patient's identity differs from the one signed: " + "; ".join(changed)
            + where]


def check(doc: SessionDocument, key: KeyFacts | None,
          keyed_since: dt.datetime) -> SignatureCheck:
    """The verdict on a signed note, given the public key its signature names (None: this
    clinic does not hold it) and when the database began keyed signatures."""
    sig = doc.session.signature
    if sig is None:
        return SignatureCheck(False, "the note is not signed")
    if sig.key_id is None or sig.value is None or sig.content is None:
        if sig.signed_at > keyed_since:
            return SignatureCheck(False, "it has no key signature, yet it is dated after this "
                                         "clinic began keyed signatures")
        problems = content_problems(doc)
        if problems:
            return SignatureCheck(False, problems[0])
        return SignatureCheck(True, "signed before keyed signatures: content matches its "
                                    "SHA-256", legacy=True)
    if key is None:
        return SignatureCheck(False, f"its key {sig.key_id} is not in this clinic's key "
                                     "history")
    signer = doc.username(sig.signer)
    if key.owner != signer:
        return SignatureCheck(False, f"its key {sig.key_id} belongs to {key.owner}, not to the "
                                     f"signer {signer}")
    if not keys.verify(key.public_key, sig.value, sig.content.encode()):
        return SignatureCheck(False, f"the signature is not {signer}'s over the stored signed "
                                     "content (the signature or the content was altered)")
    if key.retired_at is not None and sig.signed_at > key.retired_at:
        return SignatureCheck(False, f"it is dated after its key {sig.key_id} was replaced")
    problems = content_problems(doc)
    if problems:
        return SignatureCheck(False, "; ".join(problems))
    return SignatureCheck(True)


def signature_finding(result: SignatureCheck) -> Finding:
    """The blocker a note whose signature does not verify carries wherever it is judged."""
    return Finding(FINDING_CODE, Severity.BLOCKER, f"{DOES_NOT_VERIFY}: {result.reason}.",
                   "signature", "Medicare Program Integrity Manual ch. 3 §3.3.2.4: an electronic "
                   "signature must be protected from alteration (reference §10)",
                   "Do not bill or release this note as signed. Compare it with a backup and "
                   "the audit log ('ptdoc verify'); the note must be documented again and "
                   "signed by its clinician.")
