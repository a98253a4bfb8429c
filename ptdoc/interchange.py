"""The session interchange file: versioned JSON that carries a session and its context.

Users are named by username and the patient by MRN, so a file moves between databases. The
file also carries what the rules need to judge the session on its own (payer, episode and plan
dates, treatment days since the last progress report, year-to-date amount), so ``ptdoc check``
works without a database. Its JSON Schema is ``resources/session.schema.json``, written from
the same dataclasses by ``write_schema``.

A signature signs the patient's identity as it was at signing, the session's content and
the signer's name, credential, key and time (``signed_content``), not the addenda or
context, so it can be checked on any copy at any later time.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field, replace
from decimal import Decimal
from pathlib import Path
from typing import Any

from ptdoc import fields
from ptdoc.codec import Parser, json_schema, to_plain
from ptdoc.domain import Episode, Patient, Payer, Session, User
from ptdoc.errors import Problem, ValidationError

FORMAT = "ptdoc.session"
VERSION = 2  # 2: keyed signatures (key id, signature value, signed content)
READABLE = (1, 2)
SCHEMA_PATH = Path(__file__).parent / "resources" / "session.schema.json"

# Fields that hold a user id in the domain and a username in the file.
_USER_REFS = ("Session.delivered_by", "Session.supervised_by", "Signature.signer",
              "Addendum.author")
# The place of service is the receiving clinic's, recorded when it stores the note signed.
_SESSION_SKIP = ("id", "patient_id", "episode_id", "place_of_service")
# The file carries the primary payer only (as ``payer``); database ids never travel.
_PATIENT_SKIP = ("id", "payer_id", "secondary_payer_id", "secondary_member_id")
# Written by older versions and ignored on reading: the next visit is an appointment now.
_PATIENT_LEGACY = ("next_visit",)
_EPISODE_SKIP = ("id", "patient_id")
_PAYER_SKIP = ("id",)
_USER_SKIP = ("id", "active")
_ADDENDUM_SKIP = ("id",)
# What the signature binds the note to; the rest of the patient record may change later.
PATIENT_IDENTITY = ("mrn", "first_name", "last_name", "date_of_birth")


@dataclass(frozen=True)
class SessionContext:
    """Facts about the episode and year that the rules need and the session does not hold."""

    treatment_days_since_progress_report: int | None = None
    year_to_date_amount: Decimal | None = None

    def __post_init__(self) -> None:
        check = fields.Checker()
        self._check(check)
        check.done()

    def _check(self, check: fields.Checker) -> None:
        check.number("treatment_days_since_progress_report",
                     self.treatment_days_since_progress_report, fields.TREATMENT_DAYS)
        check.number("year_to_date_amount", self.year_to_date_amount, fields.AMOUNT)


@dataclass(frozen=True)
class SessionDocument:
    """A session with everything it refers to; users are listed once in ``clinicians``."""

    session: Session
    patient: Patient
    clinicians: tuple[User, ...]
    payer: Payer | None = None
    episode: Episode | None = None
    context: SessionContext = field(default_factory=SessionContext)

    def username(self, user_id: int | None) -> str | None:
        if user_id is None:
            return None
        for user in self.clinicians:
            if user.id == user_id:
                return user.username
        raise ValueError(f"user {user_id} is referenced but not listed in clinicians")


def _strip(plain: dict[str, Any], skip: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in plain.items() if k not in skip}


def _session_plain(doc: SessionDocument) -> dict[str, Any]:
    plain = _strip(to_plain(doc.session), _SESSION_SKIP)
    for key in ("delivered_by", "supervised_by"):
        plain[key] = doc.username(plain[key])
    if plain["signature"] is not None:
        plain["signature"]["signer"] = doc.username(plain["signature"]["signer"])
    plain["addenda"] = [dict(_strip(a, _ADDENDUM_SKIP), author=doc.username(a["author"]))
                        for a in plain["addenda"]]
    # A line's "what was done" is written only when there is one: notes signed before lines
    # had it rebuild the content they signed, and older ptdoc versions read the file.
    plain["services"] = [_strip(line, ("detail",)) if not line["detail"] else line
                         for line in plain["services"]]
    return plain


def _patient_plain(patient: Patient) -> dict[str, Any]:
    return _strip(to_plain(patient), _PATIENT_SKIP)


def to_document(doc: SessionDocument) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "version": VERSION,
        "patient": _patient_plain(doc.patient),
        "payer": _strip(to_plain(doc.payer), _PAYER_SKIP) if doc.payer else None,
        "episode": _strip(to_plain(doc.episode), _EPISODE_SKIP) if doc.episode else None,
        "clinicians": [_strip(to_plain(u), _USER_SKIP) for u in doc.clinicians],
        "context": to_plain(doc.context),
        "session": _session_plain(doc),
    }


def dumps(doc: SessionDocument) -> str:
    return json.dumps(to_document(doc), indent=2, ensure_ascii=False) + "\n"


def identity(patient: Patient) -> dict[str, Any]:
    """What a signature binds the note to of the patient record (the rest may change)."""
    plain = _patient_plain(patient)
    return {k: plain[k] for k in PATIENT_IDENTITY}


def _session_content(doc: SessionDocument) -> dict[str, Any]:
    session = _session_plain(doc)
    session.pop("signature")
    session.pop("addenda")
    return session


def _canonical(content: dict[str, Any]) -> str:
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def signed_content(doc: SessionDocument, patient: dict[str, Any] | None = None) -> str:
    """What a signature signs: the patient's identity (``patient``: as it was at signing;
    by default the document's), the session without signature and addenda, and who signed,
    with what credential, key and when. Canonical JSON, so any copy rebuilds the same text."""
    sig = doc.session.signature
    assert sig is not None
    signer = {"username": doc.username(sig.signer), "name": sig.signer_name,
              "credential": sig.credential.value, "npi": sig.npi,
              "signed_at": to_plain(sig.signed_at), "key_id": sig.key_id}
    return _canonical({"patient": identity(doc.patient) if patient is None else patient,
                       "session": _session_content(doc), "signer": signer})


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def legacy_content_hash(doc: SessionDocument) -> str:
    """The SHA-256 of notes signed before keyed signatures: patient identity and session."""
    return sha256(_canonical({"patient": identity(doc.patient),
                              "session": _session_content(doc)}))


def parse_document(data: Any, verify: bool = True) -> SessionDocument:
    """Parse and validate a whole file, raising every problem with its JSON path.

    User ids in the result are positions in the file's ``clinicians`` list (from 1); bind them
    to a database's users with ``remap_users``.
    """
    parser = Parser()
    if not isinstance(data, dict):
        raise ValidationError.single("", "The file must hold a JSON object")
    if not isinstance(data.get("format"), str) or data.get("format") != FORMAT:
        parser.fail("format", f"'format' must be \"{FORMAT}\"")
    version = data.get("version")
    if type(version) is not int or version not in READABLE:  # true == 1 in Python only
        parser.fail("version", f"'version' must be {' or '.join(map(str, READABLE))} (this "
                               f"ptdoc reads versions {', '.join(map(str, READABLE))}; got "
                               f"{json.dumps(version)[:40]})")
    for extra in sorted(set(data) - {"format", "version", "patient", "payer", "episode",
                                     "clinicians", "context", "session"}):
        parser.fail(extra, f"'{extra}' is not part of a session file")

    clinicians = []
    raw_users = data.get("clinicians", [])
    if not isinstance(raw_users, list):
        parser.fail("clinicians", "'clinicians' must be a list")
        raw_users = []
    for i, raw in enumerate(raw_users):
        user = parser.record(User, raw, f"clinicians[{i}]", skip=_USER_SKIP,
                             fixed={"id": i + 1})
        if user is not None:
            clinicians.append(user)
    by_name = {u.username: u.id for u in clinicians}

    def user_ref(value: Any, path: str) -> int | None:
        if value is None:
            return None
        if not isinstance(value, str):
            parser.fail(path, f"{path} must be a username")
            return None
        if value not in by_name:
            parser.fail(path, f"{path}: user '{value}' is not listed in clinicians")
            return None
        return by_name[value]

    parser.converters = {name: user_ref for name in _USER_REFS}
    raw_patient = data.get("patient")
    if isinstance(raw_patient, dict):
        raw_patient = {k: v for k, v in raw_patient.items() if k not in _PATIENT_LEGACY}
    patient = parser.record(Patient, raw_patient, "patient", skip=_PATIENT_SKIP)
    payer = None if data.get("payer") is None else \
        parser.record(Payer, data["payer"], "payer", skip=_PAYER_SKIP)
    episode = None if data.get("episode") is None else \
        parser.record(Episode, data["episode"], "episode", skip=_EPISODE_SKIP,
                      fixed={"patient_id": 0})
    context = parser.record(SessionContext, data.get("context", {}), "context")
    session = parser.record(Session, data.get("session"), "session", skip=_SESSION_SKIP,
                            fixed={"patient_id": 0, "episode_id": 0 if episode else None})
    if parser.problems:
        raise ValidationError(parser.problems)
    doc = SessionDocument(session=session, patient=patient, clinicians=tuple(clinicians),
                          payer=payer, episode=episode, context=context)
    if verify:
        verify_signature(doc)
    return doc


def verify_signature(doc: SessionDocument) -> None:
    """A signed file whose content does not match what was signed was altered after signing
    (whether the signature is its signer's is for the clinic that holds the key to say)."""
    from ptdoc.signature_check import content_problems

    problems = content_problems(doc)
    if problems:
        raise ValidationError([Problem("session.signature", p) for p in problems])


def loads(text: str, verify: bool = True) -> SessionDocument:
    """The file's document. ``verify``: refuse a signed note altered after signing (an import
    does); ``ptdoc check`` reads it anyway to report it as a finding."""
    if len(text) > fields.MAX_FILE_BYTES:
        raise ValidationError.single("", f"The file is too large for a session file "
                                         f"({len(text):,} characters; at most "
                                         f"{fields.MAX_FILE_BYTES:,})")
    depth = json_depth(text)
    if depth > fields.MAX_JSON_DEPTH:
        raise ValidationError.single("", f"The file nests lists and objects {depth} deep; a "
                                         f"session file nests at most {fields.MAX_JSON_DEPTH}")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationError.single("", f"The file is not valid JSON: {exc.msg} at line "
                                         f"{exc.lineno}, column {exc.colno}") from None
    except ValueError as exc:  # a number of thousands of digits
        raise ValidationError.single("", f"The file holds a value that is not accepted: "
                                         f"{str(exc)[:80]}") from None
    return parse_document(data, verify)


_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def json_depth(text: str) -> int:
    """How deep lists and objects nest, measured before parsing (the parser itself would
    recurse once per level). Brackets inside strings do not count."""
    depth = deepest = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            deepest = max(deepest, depth)
        else:
            depth -= 1
    return deepest


def read_file(path: Path) -> str:
    """A session file's text, refusing what is not one before reading it whole."""
    try:
        with path.open("rb") as fh:
            data = fh.read(fields.MAX_FILE_BYTES + 1)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise ValidationError.single("", f"cannot read {path}: {reason}") from None
    if len(data) > fields.MAX_FILE_BYTES:
        raise ValidationError.single("", f"{path} is too large for a session file (at most "
                                         f"{fields.MAX_FILE_BYTES:,} bytes)")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValidationError.single("", f"{path} is not UTF-8 text (byte {exc.start})") from None


def remap_users(session: Session, mapping: dict[int, int]) -> Session:
    """The session with every user reference translated through ``mapping``."""
    def ref(user_id: int | None) -> int | None:
        return None if user_id is None else mapping[user_id]

    signature = session.signature
    if signature is not None:
        signature = replace(signature, signer=ref(signature.signer))
    return replace(session, delivered_by=ref(session.delivered_by),
                   supervised_by=ref(session.supervised_by), signature=signature,
                   addenda=tuple(replace(a, author=ref(a.author)) for a in session.addenda))


def document_schema() -> dict[str, Any]:
    nullable = {"anyOf": [{"type": "string", "description": "username"}, {"type": "null"}]}
    refs = {"Session.delivered_by": nullable, "Session.supervised_by": nullable,
            "Signature.signer": {"type": "string", "description": "username"},
            "Addendum.author": {"type": "string", "description": "username"}}
    session = json_schema(Session, refs, skip=_SESSION_SKIP)
    session["properties"]["addenda"]["items"]["properties"].pop("id")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ptdoc session interchange file",
        "description": "One treatment session with the patient, payer, episode, clinicians and "
                       "context it refers to. Users are named by username, the patient by MRN.",
        "type": "object",
        "additionalProperties": False,
        "required": ["format", "version", "patient", "clinicians", "session"],
        "properties": {
            "format": {"const": FORMAT},
            "version": {"enum": list(READABLE)},
            "patient": json_schema(Patient, skip=_PATIENT_SKIP),
            "payer": {"anyOf": [json_schema(Payer, skip=_PAYER_SKIP), {"type": "null"}]},
            "episode": {"anyOf": [json_schema(Episode, skip=_EPISODE_SKIP),
                                  {"type": "null"}]},
            "clinicians": {"type": "array", "items": json_schema(User, skip=_USER_SKIP)},
            "context": json_schema(SessionContext),
            "session": session,
        },
    }


def write_schema(path: Path = SCHEMA_PATH) -> None:
    path.write_text(json.dumps(document_schema(), indent=2) + "\n")
