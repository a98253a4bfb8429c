"""Signatures only their signer can make, checked on every load, and an audit log that is a
hash chain. The attacks are made as someone with a shell and the database file would make
them: the triggers are dropped with sqlite3 and the rows changed underneath ptdoc."""

from __future__ import annotations

import datetime as dt
import io
import shutil
import sqlite3
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import NOW, PASSWORD, TODAY, Clinic, only_sqlite, sign
from pg_sandbox import REFUSED, administer, attack, raw_execute
from pypdf import PdfReader

from ptdoc import access, cli, interchange, keys
from ptdoc import db as dbmod
from ptdoc.access import SignerProof, login
from ptdoc.domain import Credential, NoteType, ServiceLine, SessionStatus, Signature, User
from ptdoc.errors import PermissionDenied, ValidationError
from ptdoc.repositories import AuditAction
from ptdoc.signature_check import DOES_NOT_VERIFY
from ptdoc.store import Store


def run(capsys, *args: str, user: str = "pt") -> tuple[int, str, str]:
    """A command run by the clinic's PT (or ``user``), who types their password on standard
    input."""
    stdin = sys.stdin
    sys.stdin = io.StringIO(f"{PASSWORD}\n")
    try:
        code = cli.main([*args, "--user", user, "--password-stdin"])
    finally:
        sys.stdin = stdin
    out = capsys.readouterr()
    return code, out.out, out.err


def pdf_text(data: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def signed_note(clinic: Clinic, username: str = "pt") -> int:
    draft = clinic.complete_draft(username)
    return sign(clinic.as_(username), draft.id).id or 0


def test_a_signature_is_the_signers_and_survives_a_name_correction_and_a_reset(
        clinic: Clinic) -> None:
    pt = clinic.as_("pt")
    proof = pt.prove_signer(PASSWORD)
    first = sign(pt, clinic.complete_draft("pt").id)
    sig = first.signature
    key = clinic.store.keys.current(clinic.users["pt"].id)
    assert sig.key_id == key.key_id == proof.key_id
    assert keys.verify(key.public_key, sig.value, sig.content.encode())
    assert '"last_name":"Lee"' in sig.content and pt.check_signature(first).ok
    # A proof made by hand carries no key: signing refuses it.
    draft = clinic.complete_draft("pt", TODAY - dt.timedelta(days=1))
    with pytest.raises(PermissionDenied, match="Type your password"):
        pt.sign(draft.id, SignerProof(clinic.users["pt"].id, NOW))
    # A legitimate correction of the patient's name leaves the signature valid.
    clinic.admin.update_patient(replace(clinic.patient, last_name="Lee-Park"))
    assert pt.check_signature(clinic.store.sessions.get(first.id)).ok
    # A reset makes a new key; the old note still verifies by the old public key, and a proof
    # typed before the reset no longer signs.
    clinic.admin.set_password(clinic.users["pt"].id, "a-new-password")
    assert clinic.store.keys.current(clinic.users["pt"].id).key_id != key.key_id
    assert pt.check_signature(clinic.store.sessions.get(first.id)).ok
    with pytest.raises(PermissionDenied, match="set again"):
        pt.sign(draft.id, proof)
    second = pt.sign(draft.id, pt.prove_signer("a-new-password"))
    assert second.signature.key_id != key.key_id and pt.check_signature(second).ok


def test_every_user_gets_a_key_pair_and_the_key_history_is_append_only(
        clinic: Clinic, db_target) -> None:
    user = clinic.admin.add_user(User("newpt", "New Therapist", Credential.PT, "1234567893"),
                                 "first-password")
    key = clinic.store.keys.current(user.id)
    assert keys.open_private_key(key.key_id, key.sealed_private, "first-password") is not None
    assert keys.open_private_key(key.key_id, key.sealed_private, "wrong-password") is None
    assert "first-password" not in key.sealed_private
    for sql in ("UPDATE signing_keys SET public_key = 'x'", "DELETE FROM signing_keys",
                "INSERT OR REPLACE INTO signing_keys SELECT * FROM signing_keys",
                "REPLACE INTO signing_keys (id, key_id, user_id, public_key, sealed_private, "
                "created_at, reason) SELECT id, 'aaaaaaaaaaaaaaaa', user_id, public_key, "
                "sealed_private, created_at, reason FROM signing_keys"):
        if "REPLACE" in sql and not isinstance(db_target, Path):
            continue  # SQLite's REPLACE; PostgreSQL has none
        with pytest.raises(REFUSED, match="append-only"):
            raw_execute(db_target, sql, {})


def test_a_user_from_before_keyed_signatures_gets_a_key_at_sign_in(tmp_path: Path) -> None:
    from ptdoc import auth

    path = tmp_path / "old.sqlite3"
    db = dbmod.connect(path)
    db.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
    dbmod.migrate_to_latest(db, None, target=7)
    db.execute("INSERT INTO users (username, full_name, credential, npi, password_hash) "
               "VALUES ('old', 'Old Hand', 'PT', '1234567893', ?)", [auth.hash_secret(PASSWORD)])
    db.execute("INSERT INTO audit (at, actor, action) VALUES ('2020-01-01T00:00:00+00:00', "
               "'cli', 'admin')")
    db.close()
    with Store.open(path) as store:
        assert store.keys.current(1) is None
        assert store.audit.check_chain().problems == ()  # the old rows were chained
        user = login(store, "old", PASSWORD)
        key = store.keys.current(user.id)
        assert key is not None and key.reason == "first sign-in with keyed signatures"
        assert keys.open_private_key(key.key_id, key.sealed_private, PASSWORD) is not None
        assert any(e["detail"].startswith(f"signing key {key.key_id}")
                   for e in store.audit.entries())


TAMPERING = {
    "minutes": ("UPDATE exercises SET minutes = 45 WHERE session_id = {id} AND position = 0",
                "exercises[0].minutes (signed 12, now 45)"),
    "signature bytes": ("UPDATE sessions SET signature_value = '" + "B" * 86 + "==' "
                        "WHERE id = {id}", "the signature is not pt's"),
    "content and hash rewritten": (
        "UPDATE sessions SET signed_content = replace(signed_content, '\"minutes\":12', "
        "'\"minutes\":45'), content_hash = 'x' WHERE id = {id}", "the signature is not pt's"),
    "signer's credential": ("UPDATE sessions SET signer_credential = 'DPT' WHERE id = {id}",
                            "signer.credential"),
    "moved to another patient": ("UPDATE sessions SET patient_id = {other} WHERE id = {id}",
                                 "was signed for MRN MRN-1"),
    "key removed": ("DELETE FROM signing_keys", "is not in this clinic's key history"),
    "made a legacy note": ("UPDATE sessions SET key_id = NULL, signature_value = NULL, "
                           "signed_content = NULL WHERE id = {id}", "has no key signature"),
}


@pytest.mark.parametrize("name", list(TAMPERING))
def test_a_tampered_signed_note_does_not_verify_wherever_it_is_loaded(
        capsys, clinic: Clinic, db_target, tmp_path: Path, name: str) -> None:
    from ptdoc.domain import Patient

    sid = signed_note(clinic)
    other = clinic.admin.add_patient(Patient("MRN-2", "Bo", "Kim", dt.date(1960, 1, 1),
                                             clinic.payer.id))
    sql, reason = TAMPERING[name]
    attack(db_target, sql.format(id=sid, other=other.id))
    ws = clinic.as_("pt")
    verdict = ws.check_signature(clinic.store.sessions.get(sid))
    assert not verdict.ok and reason in verdict.reason
    db = str(db_target)
    code, out, _ = run(capsys, "verify", "--db", db)
    assert code == 1 and f"PROBLEM session {sid} (visit {TODAY.isoformat()}, signed " in out
    assert f"): {DOES_NOT_VERIFY}: " in out and reason in out
    code, out, _ = run(capsys, "check", "--db", db, "--session", str(sid))
    assert code == 1 and f"Not billable: {DOES_NOT_VERIFY}" in out
    code, _, err = run(capsys, "session", "export", "--db", db, str(sid))
    assert code == 2 and DOES_NOT_VERIFY in err and "not exported" in err
    note = tmp_path / "note.pdf"
    assert run(capsys, "export", "--db", db, "--session", str(sid), "-o", str(note))[0] == 0
    text = pdf_text(note.read_bytes())
    assert text.count(DOES_NOT_VERIFY) >= 2 and reason.split(" (")[0] in " ".join(text.split())
    # Past signing: the paper says what the broken signature means for the bill.
    assert f"Not billable. {DOES_NOT_VERIFY}" in text and "Blocks signing" not in text
    for extra in ([], ["--day-sheet"]):
        sheet = tmp_path / f"day{len(extra)}.pdf"
        assert run(capsys, "summaries", "--db", db, "--date", TODAY.isoformat(), "-o",
                   str(sheet), *extra)[0] == 0
        assert DOES_NOT_VERIFY in pdf_text(sheet.read_bytes())


def test_the_administrator_verifies_the_records_seeing_ids_dates_and_verdicts_only(
        capsys, clinic: Clinic, db_target) -> None:
    """Verifying reads no note for display: the administrator (who moves and restores the
    clinic) may run it, and is told which note fails and when, never what it says."""
    sid = signed_note(clinic)
    other = sign(clinic.as_("dpt"), clinic.complete_draft(
        "dpt", day=TODAY - dt.timedelta(days=1)).id).id
    db = str(db_target)
    code, out, err = run(capsys, "verify", "--db", db, user="boss")
    assert code == 0 and "Everything verifies." in out and "Signed notes: 2" in out, err
    attack(db_target, f"UPDATE exercises SET minutes = 45, name = 'Secret drill' WHERE "
                      f"session_id = {sid} AND position = 0")
    code, out, err = run(capsys, "verify", "--db", db, user="boss")
    assert code == 1 and err == ""
    problems = [line for line in out.splitlines() if line.startswith("PROBLEM")]
    signed_at = clinic.store.sessions.get(sid).signature.signed_at
    from ptdoc import clock

    when = clock.stamp(signed_at, clinic.store.clinic.time_zone())
    assert problems == [f"PROBLEM session {sid} (visit {TODAY.isoformat()}, signed {when}): "
                        f"{DOES_NOT_VERIFY} (a clinician reads why with 'ptdoc check "
                        f"--session {sid}')"]
    # (the chain head, a hash, may hold any digits: it is left out)
    told = out.replace(clinic.store.audit.head()[1], "")
    for said in ("minutes", "45", "Secret drill", "Sit to stand", "Lee", "Ann", "MRN-1"):
        assert said not in told, said
    assert f"session {other}" not in out
    # the clinician who may open the note is told why
    code, out, _ = run(capsys, "verify", "--db", db)
    assert code == 1 and "exercises[0].minutes (signed 12, now 45)" in out
    # the front desk neither opens notes nor looks after the clinic's records
    code, out, err = run(capsys, "verify", "--db", db, user="desk")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert "may not verify the signatures and the audit log" in err


def test_an_untouched_clinic_verifies_and_the_day_sheet_anchors_the_chain_head(
        capsys, clinic: Clinic, db_target, tmp_path: Path) -> None:
    sid = signed_note(clinic)
    code, out, _ = run(capsys, "verify", "--db", str(db_target))
    assert code == 0 and "Everything verifies." in out and "Signed notes: 1" in out
    head = clinic.store.audit.head()[1]
    assert f"chain head {head}" in out
    sheet = tmp_path / "day.pdf"
    run(capsys, "summaries", "--db", str(db_target), "--date", TODAY.isoformat(), "-o",
        str(sheet), "--day-sheet")
    text = "".join(pdf_text(sheet.read_bytes()).split())
    # the sheet prints the head as it was when it was made (the command's own sign-in row
    # came after the verify above): a row of the chain, at or after that head
    hashes = [row["hash"] for row in clinic.store.db.query("SELECT hash FROM audit ORDER BY id")]
    printed = [i for i, digest in enumerate(hashes) if digest in text]
    assert len(printed) == 1 and printed[0] >= hashes.index(head)
    assert DOES_NOT_VERIFY.replace(" ", "") not in text
    pdf = clinic.as_("pt").note_pdf(sid)
    assert DOES_NOT_VERIFY not in pdf_text(pdf)


@pytest.mark.parametrize("statement,problem", [
    ("UPDATE audit SET detail = 'nothing here' WHERE id = 3",
     "audit row 3: its content was changed"),
    ("DELETE FROM audit WHERE id = 3", "audit row 4: it does not follow the row before it"),
    ("INSERT INTO audit (id, at, actor, action, prev_hash, hash) SELECT 3, at, 'cli', 'view', "
     "prev_hash, hash FROM audit WHERE id = 3 AND 0 = 1", ""),
])
def test_the_audit_chain_shows_a_changed_or_removed_row(capsys, clinic: Clinic, db_target,
                                                        statement: str, problem: str) -> None:
    signed_note(clinic)
    attack(db_target, statement)
    code, out, _ = run(capsys, "verify", "--db", str(db_target))
    if problem:
        assert code == 1 and f"PROBLEM {problem}" in out
    else:
        assert code == 0


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="the sqlite3 tool is not installed")
def test_an_audit_row_slipped_in_from_the_sqlite3_shell_breaks_the_chain(
        capsys, clinic: Clinic, db_path: Path, backend: str) -> None:
    only_sqlite(backend, "the sqlite3 shell (the attacks above cover the server)")
    signed_note(clinic)
    script = ("DROP TRIGGER audit_no_update; UPDATE audit SET id = id + 1000 WHERE id > 5; "
              "INSERT INTO audit (id, at, actor, action, detail, prev_hash, hash) SELECT 6, at, "
              "actor, action, 'slipped in', prev_hash, hash FROM audit WHERE id = 5;")
    result = subprocess.run(["sqlite3", str(db_path)], input=script, capture_output=True,
                            text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    code, out, _ = run(capsys, "verify", "--db", str(db_path))
    assert code == 1 and "PROBLEM audit row 6" in out


def test_an_edit_and_its_audit_row_commit_together(clinic: Clinic, db_target) -> None:
    pt = clinic.as_("pt")
    draft = clinic.complete_draft("pt")
    rows = clinic.store.audit.head()[0]
    administer(db_target, "CREATE TRIGGER no_audit BEFORE INSERT ON audit "
                          "BEGIN SELECT RAISE(ABORT, 'audit refused'); END")
    with pytest.raises(sqlite3.IntegrityError, match="audit refused"):
        pt.save_draft(replace(draft, assessment="Changed without a trace?"))
    administer(db_target, "DROP TRIGGER no_audit")
    assert clinic.store.sessions.get(draft.id).assessment == draft.assessment
    assert clinic.store.audit.head()[0] == rows


# --- importing a signed file ------------------------------------------------------------------

@pytest.fixture
def two_copies(clinic: Clinic, tmp_path: Path, backend: str):
    """The clinic, and a copy of it taken before a note was signed: the same users and keys."""
    only_sqlite(backend, "the copy is made with SQLite's backup API")
    for username in ("pt", "pta", "desk"):
        access.reauthenticate(clinic.store, clinic.users[username], PASSWORD)  # keys made
    copy = dbmod.backup_to(clinic.store.db, tmp_path / "copy.sqlite3")
    with Store.open(copy) as store:
        yield clinic, store


def in_copy(clinic: Clinic, store: Store):
    from ptdoc.services import Workspace

    return Workspace(store, None, today=lambda: TODAY, now=lambda: NOW, codes=clinic.codes)


def forge(clinic: Clinic, text: str, signer: str, credential: Credential | None = None,
          signed_at: dt.datetime = NOW, **changes) -> interchange.SessionDocument:
    """The exported file changed and signed again with ``signer``'s real key, as someone who
    knows that user's password could."""
    data = interchange.to_document(interchange.loads(text))
    data["session"].update(signature=None, status="draft", addenda=[])
    doc = interchange.parse_document(data)
    user = clinic.users[signer]
    key = clinic.store.keys.current(user.id)
    private = keys.open_private_key(key.key_id, key.sealed_private, PASSWORD)
    users = {u.username: u.id for u in doc.clinicians}
    if signer not in users:
        doc = replace(doc, clinicians=(*doc.clinicians, replace(user, id=99)))
        users[signer] = 99
    sig = Signature(users[signer], user.full_name, credential or user.credential, user.npi,
                    signed_at, "0" * 64, key.key_id, "A" * 86 + "==", "")
    session = replace(doc.session, status=SessionStatus.SIGNED, signature=sig, **{
        k: (users[v] if k in ("delivered_by", "supervised_by") else v)
        for k, v in changes.items()})
    doc = replace(doc, session=session)
    content = interchange.signed_content(doc)
    sig = replace(sig, content=content, content_hash=interchange.sha256(content),
                  value=keys.sign(private, content.encode()))
    return interchange.loads(interchange.dumps(replace(doc, session=replace(session,
                                                                              signature=sig))))


def test_a_signed_file_is_stored_signed_only_when_it_verifies_here(two_copies) -> None:
    clinic, store = two_copies
    sid = signed_note(clinic)
    text = interchange.dumps(clinic.admin.export_session(sid))
    other = in_copy(clinic, store)
    imported = other.import_session(interchange.loads(text))
    assert imported.status == SessionStatus.SIGNED and other.check_signature(imported).ok


FORGERIES = {
    "a plain SHA-256, no key": (None, "has no key"),
    "an attacker's own key": (None, "is not in this clinic's key history"),
    "the front desk claiming DPT": (
        dict(signer="desk", credential=Credential.DPT), "may not sign notes"),
    "a PTA signing an evaluation": (
        dict(signer="pta", note_type=NoteType.EVALUATION, delivered_by="pta"),
        "may not sign a evaluation"),
    "signed in 2099": (dict(signer="pt", signed_at=dt.datetime(2099, 1, 1, tzinfo=dt.UTC)),
                       "in the future"),
    "97162 billed for exercise": (
        dict(signer="pt", services=(ServiceLine("97162", None, 1, ("GP",)),
                                    ServiceLine("97110", 23, 2, ("GP",)))),
        "CODE_EVAL_FOR_EXERCISE"),
    "no diagnosis": (dict(signer="pt", diagnoses=()), "DIAGNOSIS_MISSING"),
    "a disabled user": (dict(signer="pt"), "was disabled when the note was signed"),
}


@pytest.mark.parametrize("name", list(FORGERIES))
def test_a_forged_or_unsignable_file_is_refused_with_its_reason(two_copies, name: str) -> None:
    clinic, store = two_copies
    sid = signed_note(clinic)
    text = interchange.dumps(clinic.admin.export_session(sid))
    how, reason = FORGERIES[name]
    if name == "a plain SHA-256, no key":
        doc = interchange.loads(text)
        sig = replace(doc.session.signature, key_id=None, value=None, content=None)
        doc = replace(doc, session=replace(doc.session, signature=sig))
        sig = replace(sig, content_hash=interchange.legacy_content_hash(doc))
        doc = interchange.loads(interchange.dumps(replace(doc, session=replace(
            doc.session, signature=sig))))
    elif name == "an attacker's own key":
        mine = keys.new_key_pair("attacker")
        doc = interchange.loads(text)
        sig = replace(doc.session.signature, key_id=mine.key_id)
        doc = replace(doc, session=replace(doc.session, signature=sig))
        content = interchange.signed_content(doc)
        sig = replace(sig, content=content, content_hash=interchange.sha256(content),
                      value=keys.sign(mine.private, content.encode()))
        doc = replace(doc, session=replace(doc.session, signature=sig))
    else:
        doc = forge(clinic, text, **how)
    other = in_copy(clinic, store)
    if name == "a disabled user":
        with store.db.atomic():
            store.users.update(replace(store.users.get(clinic.users["pt"].id), active=False))
            store.audit.record(None, AuditAction.ADMIN, "user", clinic.users["pt"].id,
                               "disable", at=NOW - dt.timedelta(hours=1))
    before = store.sessions.count()
    with pytest.raises(ValidationError) as exc:
        other.import_session(doc)
    assert reason in str(exc.value.problems), exc.value.problems
    assert store.sessions.count() == before
    draft = other.import_session(doc, as_draft=True)
    assert draft.status == SessionStatus.DRAFT and draft.signature is None
    assert store.audit.entries("session", draft.id)[0]["detail"] == "as draft"


def test_check_reports_a_signed_file_and_finds_one_altered_after_signing(
        capsys, clinic: Clinic, db_target, tmp_path: Path) -> None:
    """`ptdoc check FILE` on a signed export: who signed and when, the warnings accepted with
    their reasons; the same file altered after signing is a finding (exit 1), not bad input."""
    import json

    from ptdoc.domain import Acknowledgement

    clinic.complete_draft("pt")  # a first visit today makes the second a duplicate: a warning
    pt = clinic.as_("pt")
    draft = pt.save_draft(replace(clinic.complete_draft("pt"), acknowledgements=(
        Acknowledgement("DUPLICATE_SESSION", "date_of_service", "Second visit: aquatic group"),)))
    signed = sign(pt, draft.id)
    note = tmp_path / "note.json"
    code, _, err = run(capsys, "session", "export", "--db", str(db_target), str(signed.id), "-o",
                       str(note))
    assert code == 0, err
    said = f"Electronically signed by PT User, PT, NPI {clinic.users['pt'].npi}, on "
    code, out, err = run(capsys, "check", str(note))
    assert code == 0, err
    # a file alone: the key was not checked, and the status says so before whose it names
    assert out.startswith("Status: The signature was NOT checked against the signer's key: "
                          f"it names PT User, PT, NPI {clinic.users['pt'].npi}, on ")
    assert DOES_NOT_VERIFY not in out and "Electronically signed" not in out
    assert "are as written in the file and are not covered by it" in out
    assert "Warnings accepted:\n  A duplicate session warning, not raised by this check. " \
        "Reason: Second visit: aquatic group" in out
    # the stored note, checked with the signer's key, verifies
    code, out, _ = run(capsys, "check", "--db", str(db_target), "--session", str(signed.id))
    assert code == 0 and out.startswith("Status: " + said)
    assert "The signature verifies with the signer's key." in out
    # so does the file compared with it
    code, out, _ = run(capsys, "check", str(note), "--db", str(db_target), "--session",
                       str(signed.id))
    assert code == 0 and out.startswith("Status: " + said)
    assert "The signature verifies with the signer's key." in out

    doc = json.loads(note.read_text())
    stated = doc["session"]["services"][0]["units"]
    doc["session"]["services"][0]["units"] = stated + 2  # billed more after signing
    signed_assessment = doc["session"]["assessment"]
    doc["session"]["assessment"] += " Discharge next visit."  # and a sentence added
    altered = tmp_path / "altered.json"
    altered.write_text(json.dumps(doc))
    code, out, err = run(capsys, "check", str(altered))
    assert code == 1 and err == ""
    first, status = out.splitlines()[:2]
    assert first.startswith(f"{DOES_NOT_VERIFY}: the note was changed after signing: ")
    assert f"services[0].units (signed {stated}, now {stated + 2})" in first
    # a long text is shown where it differs, not by two identical beginnings
    assert f'assessment (signed "...{signed_assessment[-12:]}", now ' \
        f'"...{signed_assessment[-12:]} Discharge next visit.")' in first
    assert status.startswith("Status: " + said) and status.endswith(f"{DOES_NOT_VERIFY} "
                                                                     "(why above).")
    assert f"Not billable: {DOES_NOT_VERIFY}: the note was changed" in out
    assert "Blocks signing" not in out  # the note is signed: past signing
    # the units the file states, ptdoc's figure beside them; modifiers as on paper
    code_ = doc["session"]["services"][0]["code"]
    mods = " ".join(doc["session"]["services"][0]["modifiers"])
    billing = out.split("Billing:\n")[1].splitlines()
    assert billing[0].startswith(f"  {code_} x{stated + 2} {mods} (")
    assert billing[0].endswith(f"; CMS 8-minute rule: {stated} units")
    assert f"{code_} bills {stated + 2} units; CMS 8-minute rule: {stated} units." in out
    assert "cms rules" not in out
    assert "Reason: Second visit" in out and "SIGNATURE_INVALID" not in out
    code, out, _ = run(capsys, "check", str(altered), "--json")
    data = json.loads(out)
    assert code == 1 and data["status"]["signed"] and data["status"]["verifies"] is False
    assert (data["status"]["signer_name"], data["status"]["credential"]) == ("PT User", "PT")
    assert data["status"]["signed_at"] == signed.signature.signed_at.isoformat()
    assert data["acknowledged"] == [{"code": "DUPLICATE_SESSION", "field": "date_of_service",
                                     "message": data["acknowledged"][0]["message"],
                                     "reason": "Second visit: aquatic group"}]
    # a file alone does not show the other visit: the warning is named in words
    assert data["acknowledged"][0]["message"] == ("A duplicate session warning, not raised by "
                                                  "this check.")
    # importing it is still refused: a file altered after signing is never stored as signed
    code, _, err = run(capsys, "session", "import", "--db", str(db_target), str(altered))
    assert code == 2 and "changed after signing" in err


def test_check_says_what_a_file_signature_covers_and_finds_what_it_does_not(
        capsys, clinic: Clinic, db_target, tmp_path: Path) -> None:
    """What a tester changed in an exported note: the details outside the signature are
    said to be outside it and, against the database, found; content and hash rewritten
    together are not read as verified; a change that breaks a field's limit is still a
    signature that does not verify (exit 1), not bad input."""
    import json

    from ptdoc.domain import Clinic as ClinicSettings
    from ptdoc.interchange import sha256

    pt = clinic.as_("pt")
    signed = sign(pt, clinic.complete_draft("pt").id)
    clinic.admin.save_clinic(ClinicSettings("Prairie Physical Therapy",
                                            time_zone="America/Chicago"))
    note = tmp_path / "note.json"
    code, _, err = run(capsys, "session", "export", "--db", str(db_target), str(signed.id), "-o",
                       str(note))
    assert code == 0, err
    exported = json.loads(note.read_text())

    def altered(change) -> Path:
        doc = json.loads(json.dumps(exported))
        change(doc)
        path = tmp_path / f"altered{len(list(tmp_path.iterdir()))}.json"
        path.write_text(json.dumps(doc))
        return path

    def outside(doc):  # nothing the signature covers
        doc["patient"]["member_id"] = "9ZZ9ZZ9ZZ99"
        doc["payer"]["name"] = "Another Payer"
        doc["clinicians"][0]["credential"] = "DPT"
    changed = altered(outside)
    code, out, _ = run(capsys, "check", str(changed))
    assert code == 0 and "are as written in the file and are not covered by it" in out
    code, out, _ = run(capsys, "check", str(changed), "--db", str(db_target), "--session",
                       str(signed.id))
    assert code == 1
    first, status = out.splitlines()[:2]
    assert first.startswith(f"The file differs from session {signed.id} in the database in "
                            "details the signature does not cover: ")
    assert 'clinicians[0].credential (database "PT", file "DPT")' in first
    assert 'patient.member_id (database' in first and 'payer.name (database' in first
    # the signature itself is the clinic's, and is said to verify: the two are told apart
    assert status.endswith("The signature verifies with the signer's key.")
    assert DOES_NOT_VERIFY not in out

    def born_later(doc):  # the patient's identity at signing is in the signed content
        doc["patient"]["date_of_birth"] = "1950-01-01"
    born = exported["patient"]["date_of_birth"]
    moved = altered(born_later)
    for args in ((), ("--db", str(db_target), "--session", str(signed.id))):
        code, out, _ = run(capsys, "check", str(moved), *args)
        assert code == 1, out
        assert out.startswith(f"{DOES_NOT_VERIFY}: the patient's identity differs from the "
                              "one signed: patient.date_of_birth "
                              f'(signed "{born}", now "1950-01-01")')
        assert "The signature verifies" not in out and "does not cover" not in out
    # a correction made in the clinic's records after signing: the file exported since
    # carries it and verifies against the database; alone it is said how to confirm it
    record = pt.patient_by_mrn(exported["patient"]["mrn"])
    pt.update_patient(replace(record, date_of_birth=dt.date(1950, 1, 1)))
    code, out, _ = run(capsys, "check", str(moved), "--db", str(db_target), "--session",
                       str(signed.id))
    assert code == 0 and "The signature verifies with the signer's key." in out, out
    code, out, _ = run(capsys, "check", str(moved))
    assert code == 1 and "confirmed by 'ptdoc check FILE --session ID'" in out
    # the file as signed, the database corrected since: said, and exit 1
    code, out, _ = run(capsys, "check", str(note), "--db", str(db_target), "--session",
                       str(signed.id))
    assert code == 1 and DOES_NOT_VERIFY not in out
    assert "has been corrected since" in out
    pt.update_patient(record)

    def rewritten(doc):  # the content and its hash rewritten together
        sig = doc["session"]["signature"]
        content = json.loads(sig["content"])
        content["session"]["assessment"] = doc["session"]["assessment"] = "Rewritten."
        units = content["session"]["services"][0]["units"]
        content["session"]["services"][0]["units"] = units + 1
        doc["session"]["services"][0]["units"] = units + 1
        sig["content"] = json.dumps(content, sort_keys=True, separators=(",", ":"))
        sig["content_hash"] = sha256(sig["content"])
    forged = altered(rewritten)
    code, out, _ = run(capsys, "check", str(forged))  # exit 1 for the units billed, alone
    assert DOES_NOT_VERIFY not in out and "Electronically signed" not in out
    assert "The signature was NOT checked against the signer's key" in out
    code, out, _ = run(capsys, "check", str(forged), "--db", str(db_target), "--session",
                       str(signed.id))
    assert code == 1 and out.startswith(DOES_NOT_VERIFY)
    units = exported["session"]["services"][0]["units"]
    first = out.splitlines()[0]
    assert f"services[0].units (signed {units}, now {units + 1})" in first
    assert '"Rewritten."' in first and "\\" not in out and '\\"' not in out

    def too_long(doc):  # total time longer than the visit: a field's limit
        doc["session"]["total_treatment_minutes"] = 600
    code, out, err = run(capsys, "check", str(altered(too_long)))
    assert (code, err) == (1, "")
    assert out.startswith(f"{DOES_NOT_VERIFY}: the note was changed after signing: "
                          "total_treatment_minutes (signed ")
    assert "not a valid session file" in out and "total_treatment_minutes" in \
        out.splitlines()[2]
    # the signing time in the clinic's zone, with its abbreviation, when the file is compared
    code, out, _ = run(capsys, "check", str(note), "--db", str(db_target), "--session",
                       str(signed.id))
    assert code == 0 and " CST." in out.splitlines()[0]
    code, out, _ = run(capsys, "check", str(note), "--time-zone", "America/Chicago")
    assert " CST. The session's content" in out
    # findings in the paper's sentences, no internal codes; a unit sentence a line
    assert "TOTAL_TIME" not in out and " at total_treatment_minutes" not in out
    billing = out.split("Billing:\n")[1].splitlines()
    assert all(line.startswith("  ") for line in billing) and len(billing) >= 2
