"""Roles enforced by the services (not only the UI), signing, addenda, every denial audited."""

import datetime as dt
from dataclasses import replace

import pytest
from conftest import PASSWORD, TODAY, Clinic, sign

from ptdoc import auth
from ptdoc.access import login
from ptdoc.domain import (
    AddendumKind,
    Credential,
    NoteType,
    Patient,
    SessionStatus,
    User,
)
from ptdoc.errors import (
    PasswordChangeRequired,
    PermissionDenied,
    RecordLocked,
    ValidationError,
)
from ptdoc.services import Workspace


def denials(clinic: Clinic) -> list[dict]:
    return [e for e in clinic.store.audit.entries() if e["action"] == "denied"]


def test_login_checks_the_secret_and_audits_both_outcomes(clinic: Clinic) -> None:
    assert login(clinic.store, "pt", PASSWORD).username == "pt"
    with pytest.raises(PermissionDenied):
        login(clinic.store, "pt", "wrong-password")
    with pytest.raises(PermissionDenied):
        login(clinic.store, "nobody", PASSWORD)
    actions = [e["action"] for e in clinic.store.audit.entries()]
    assert actions.count("login") == 1 and actions.count("login failed") == 2


def test_secrets_are_hashed_and_weak_ones_refused(clinic: Clinic) -> None:
    stored = clinic.store.users.password_hash(clinic.users["pt"].id)
    assert stored.startswith("scrypt$") and PASSWORD not in stored
    assert auth.verify_secret(PASSWORD, stored) and not auth.verify_secret("x", stored)
    for weak in ("123", "short"):
        with pytest.raises(ValidationError):
            clinic.admin.add_user(User("newbie", "New Bie", Credential.AIDE), weak)
    clinic.admin.add_user(User("newbie", "New Bie", Credential.AIDE), "4321")


def test_front_desk_sees_the_day_but_cannot_touch_clinical_content(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    sign(clinic.as_("pt"), draft.id)
    other = clinic.complete_draft(day=TODAY - dt.timedelta(days=2))
    desk = clinic.as_("desk")
    assert [r.id for r in desk.sessions(date=TODAY)] == [draft.id]
    attempts = [
        lambda: desk.new_session(clinic.patient.id, TODAY, clinic.episode.id),
        lambda: desk.save_draft(replace(other, assessment="front desk edit")),
        lambda: sign(desk, other.id),
        lambda: desk.add_addendum(draft.id, AddendumKind.CORRECTION, "r", "t",
                                  desk.prove_signer(PASSWORD)),
        lambda: desk.open_session(draft.id),
        lambda: desk.export_session(draft.id),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied) as exc:
            attempt()
        assert "DESK User, front desk may not" in str(exc.value)
    assert len(denials(clinic)) == len(attempts)
    assert clinic.store.sessions.get(other.id) == other  # nothing changed
    # registration is front-desk work
    desk.add_patient(Patient("MRN-2", "Bo", "Park", dt.date(1980, 1, 1)))


def test_pta_documents_and_signs_own_daily_notes_but_not_evaluations(clinic: Clinic) -> None:
    pta = clinic.as_("pta")
    draft = clinic.complete_draft("pta")
    assert draft.delivered_by == clinic.users["pta"].id
    signed = sign(pta, draft.id)
    assert signed.signature.credential == Credential.PTA
    for note_type in (NoteType.EVALUATION, NoteType.RE_EVALUATION, NoteType.PROGRESS_REPORT):
        with pytest.raises(PermissionDenied) as exc:
            pta.new_session(clinic.patient.id, TODAY, clinic.episode.id, note_type)
        assert "only a physical therapist" in str(exc.value)
    pt_draft = clinic.complete_draft("pt")
    with pytest.raises(PermissionDenied):
        pta.save_draft(replace(pt_draft, assessment="PTA edit"))
    with pytest.raises(PermissionDenied):
        sign(pta, pt_draft.id)
    with pytest.raises(PermissionDenied):  # a PTA cannot relabel a daily note as an evaluation
        pta.save_draft(replace(pta.new_session(clinic.patient.id, TODAY),
                               note_type=NoteType.PROGRESS_REPORT))
    assert {d["detail"] for d in denials(clinic)} >= {"PTA_SCOPE", "OWN_SESSIONS_ONLY"}


def test_pt_writes_evaluations_and_episodes(clinic: Clinic) -> None:
    pt = clinic.as_("pt")
    evaluation = pt.new_session(clinic.patient.id, TODAY, clinic.episode.id, NoteType.EVALUATION)
    assert evaluation.diagnoses == ("M17.11",)
    with pytest.raises(PermissionDenied):
        clinic.as_("pta").add_episode(replace(clinic.episode, id=None))


def test_an_initial_evaluation_opens_the_plan_of_care(clinic: Clinic) -> None:
    pt = clinic.as_("pt")
    new = clinic.admin.add_patient(Patient("MRN-9", "Bo", "Ray", dt.date(1960, 1, 2),
                                           clinic.payer.id))
    with pytest.raises(PermissionDenied):  # a PTA neither writes the evaluation nor its plan
        clinic.as_("pta").new_session(new.id, TODAY, None, NoteType.EVALUATION)
    assert pt.episodes_of(new.id) == []
    daily = pt.new_session(new.id, TODAY)  # only an evaluation writes a plan of care
    assert daily.episode_id is None and pt.episodes_of(new.id) == []
    evaluation = pt.new_session(new.id, TODAY, None, NoteType.EVALUATION)
    [episode] = pt.episodes_of(new.id)
    assert evaluation.episode_id == episode.id
    assert (episode.start_date, episode.diagnoses, episode.physician_name,
            episode.certified_on) == (TODAY, (), "", None)
    assert [c.action for c in pt.episode_history(episode.id)] == ["create"]
    # The evaluation's plan is then written through the episode services, its history kept.
    pt.revise_episode(episode.id, goals=("Sit to stand without hands in 4 weeks",),
                      frequency="2x/week", duration="8 weeks")
    pt.certify_episode(episode.id, TODAY, TODAY + dt.timedelta(days=55), True)
    assert [c.action for c in pt.episode_history(episode.id)] == [
        "create", "progress report", "certify"]
    # A second evaluation while that plan is open attaches nothing new.
    again = pt.new_session(new.id, TODAY, None, NoteType.EVALUATION)
    assert again.episode_id is None and len(pt.episodes_of(new.id)) == 1
    # An existing patient's chosen episode is kept.
    chosen = pt.new_session(clinic.patient.id, TODAY, clinic.episode.id, NoteType.EVALUATION)
    assert chosen.episode_id == clinic.episode.id
    with pytest.raises(ValidationError) as exc:  # a future date opens no plan either
        pt.new_session(new.id, TODAY + dt.timedelta(days=1), None, NoteType.EVALUATION)
    assert exc.value.problems[0].field == "date_of_service"


def test_admin_manages_users_but_documents_nothing(clinic: Clinic) -> None:
    boss = clinic.as_("boss")
    boss.add_user(User("newpt", "New PT", Credential.PT, "1234567893"), "long-password")
    with pytest.raises(PermissionDenied):
        boss.new_session(clinic.patient.id, TODAY)
    with pytest.raises(PermissionDenied):
        clinic.as_("pt").add_user(User("x2", "X", Credential.AIDE), "long-password")
    aide = clinic.as_("aide")
    assert aide.sessions(date=TODAY) == []
    with pytest.raises(PermissionDenied):
        aide.new_session(clinic.patient.id, TODAY)


def test_signing_stores_signer_credential_time_and_hash(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    pt = clinic.as_("pt")
    signed = sign(pt, draft.id)
    sig = signed.signature
    assert signed.status == SessionStatus.SIGNED
    assert (sig.signer, sig.signer_name, sig.credential, sig.npi) == (
        clinic.users["pt"].id, "PT User", Credential.PT, clinic.users["pt"].npi)
    assert sig.signed_at.tzinfo is not None and len(sig.content_hash) == 64
    assert pt.verify(signed)
    assert not pt.verify(replace(signed, assessment="altered"))
    with pytest.raises(RecordLocked):
        pt.save_draft(replace(signed, status=SessionStatus.DRAFT, signature=None))


def test_signing_refuses_incomplete_notes_and_other_clinicians(clinic: Clinic) -> None:
    pt = clinic.as_("pt")
    empty = pt.new_session(clinic.patient.id, TODAY)
    with pytest.raises(ValidationError) as exc:
        sign(pt, empty.id)
    assert {p.field for p in exc.value.problems} >= {"diagnoses", "services"}
    draft = clinic.complete_draft("pt")
    with pytest.raises(PermissionDenied):
        sign(clinic.as_("dpt"), draft.id)


def test_supervising_pt_may_sign_a_pta_session(clinic: Clinic) -> None:
    draft = clinic.complete_draft("pta")
    draft = clinic.as_("pta").save_draft(replace(draft, supervised_by=clinic.users["dpt"].id))
    assert sign(clinic.as_("dpt"), draft.id).signature.credential == Credential.DPT


def test_addenda_are_append_only_and_keep_the_original(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    pt = clinic.as_("pt")
    signed = sign(pt, draft.id)
    pt.add_addendum(draft.id, AddendumKind.CORRECTION, "Wrong side", "Exercises were left side.",
                    pt.prove_signer(PASSWORD))
    pt.add_addendum(draft.id, AddendumKind.LATE_ENTRY, "Call", "Patient called: no soreness.",
                    pt.prove_signer(PASSWORD))
    after = pt.open_session(draft.id)
    assert [a.kind for a in after.addenda] == [AddendumKind.CORRECTION, AddendumKind.LATE_ENTRY]
    assert after.addenda[0].author_name == "PT User, PT"
    assert replace(after, addenda=()) == signed
    assert pt.verify(after)  # addenda do not break the signature
    with pytest.raises(ValidationError):
        pt.add_addendum(draft.id, AddendumKind.AMENDMENT, "", "", pt.prove_signer(PASSWORD))


def test_future_dates_are_refused_by_the_service(clinic: Clinic) -> None:
    with pytest.raises(ValidationError) as exc:
        clinic.as_("pt").new_session(clinic.patient.id, TODAY + dt.timedelta(days=1))
    assert exc.value.problems[0].field == "date_of_service"
    assert clinic.store.sessions.count() == 0


def test_an_npi_names_one_user(clinic: Clinic) -> None:
    admin = clinic.as_("boss")
    npi = clinic.users["pt"].npi
    with pytest.raises(ValidationError, match="belongs to user 'pt'"):
        admin.add_user(User("mimic", "PT User", Credential.PT, npi), "long-password")
    with pytest.raises(ValidationError, match="belongs to user 'pt'"):
        clinic.store.users.update(replace(clinic.users["dpt"], npi=npi))
    assert clinic.store.users.by_username("mimic") is None


def test_passwords_own_with_the_current_one_others_by_an_administrator(clinic: Clinic) -> None:
    pta = clinic.as_("pta")
    with pytest.raises(PermissionDenied, match="current password"):
        pta.set_secret("pta", "new-password")
    with pytest.raises(PermissionDenied, match="Wrong password"):
        pta.set_secret("pta", "new-password", current="not-mine")
    with pytest.raises(PermissionDenied, match="may not manage users"):
        pta.set_secret("pt", "new-password", current=PASSWORD)
    pta.set_secret("pta", "new-password", current=PASSWORD)
    assert login(clinic.store, "pta", "new-password").username == "pta"
    assert not clinic.store.users.must_change_password(clinic.users["pta"].id)  # their own
    clinic.as_("boss").set_secret("pta", "4321")
    with pytest.raises(PasswordChangeRequired, match="temporary"):
        login(clinic.store, "pta", "4321")
    assert [e["detail"] for e in denials(clinic)] == [
        "MUST_CHANGE_PASSWORD", "MANAGE_USERS", "NO_PROOF"]  # newest first


def test_a_password_an_administrator_gives_is_temporary_until_its_owner_changes_it(
        clinic: Clinic) -> None:
    boss = clinic.as_("boss")
    store = clinic.store
    added = boss.add_user(User("newbie", "New Bie", Credential.AIDE), "given-by-boss")
    boss.set_password(clinic.users["pt"].id, "reset-by-boss")
    boss.set_secret("boss", "boss-own-new", current=PASSWORD)  # an administrator's own: not
    for name, secret in (("newbie", "given-by-boss"), ("pt", "reset-by-boss")):
        with pytest.raises(PasswordChangeRequired) as refused:
            login(store, name, secret)
        assert refused.value.user.username == name
        assert login(store, name, secret, temporary_ok=True).username == name
    assert login(store, "boss", "boss-own-new").username == "boss"

    # the owner's own change: the same one again is refused, a new one ends the temporary one
    newbie = Workspace(store, login(store, "newbie", "given-by-boss", temporary_ok=True))
    with pytest.raises(ValidationError, match="current one"):
        newbie.set_secret("newbie", "given-by-boss", current="given-by-boss")
    assert store.users.must_change_password(added.id)
    key_before = store.keys.current(added.id).key_id
    newbie.set_secret("newbie", "my-own-secret", current="given-by-boss")
    assert login(store, "newbie", "my-own-secret").username == "newbie"
    assert not store.users.must_change_password(added.id)
    assert store.keys.current(added.id).key_id != key_before  # their own new key pair
    log = [(e["actor"], e["action"], e["detail"]) for e in store.audit.entries("user", added.id)]
    assert ("boss", "admin", "temporary password") not in log  # added, not reset
    assert ("newbie", "admin", "password") in log and ("newbie", "login", "password") in log
    pt_log = [(e["actor"], e["detail"])
              for e in store.audit.entries("user", clinic.users["pt"].id)
              if e["action"] == "admin"]
    assert ("boss", "temporary password") in pt_log

    # signed in before the reset: the temporary password signs nothing
    pt = clinic.as_("pt")
    with pytest.raises(PasswordChangeRequired, match="sign in again"):
        pt.prove_signer("reset-by-boss")

    # the local operator (a demo clinic, an import) sets no temporary password
    clinic.admin.set_password(clinic.users["dpt"].id, "operator-set")
    assert login(store, "dpt", "operator-set").username == "dpt"


def test_the_last_administrator_stays_and_only_a_new_clinic_gets_a_first(
        clinic: Clinic) -> None:
    boss = clinic.as_("boss")
    with pytest.raises(PermissionDenied, match="last active administrator"):
        boss.disable_user("boss")
    with pytest.raises(PermissionDenied, match="may not manage users"):
        clinic.as_("dpt").disable_user("boss")
    boss.add_user(User("boss2", "Second Boss", Credential.ADMIN), "long-password")
    boss.disable_user("boss")
    assert not clinic.store.users.is_active(clinic.users["boss"].id)
    with pytest.raises(PermissionDenied, match="has users"):
        boss.first_administrator(User("root", "Root", Credential.ADMIN), "long-password")


def test_a_new_clinics_first_user_is_its_administrator(store) -> None:
    from ptdoc.services import Workspace

    ws = Workspace(store, None)
    with pytest.raises(ValidationError, match="administrator"):
        ws.first_administrator(User("ada", "Ada", Credential.PT, "1234567893"), "long-password")
    admin = ws.first_administrator(User("admin", "Office", Credential.ADMIN), "long-password")
    entries = store.audit.entries()
    assert {(e["actor"], e["user_id"]) for e in entries} == {("admin", admin.id)}
    assert [e["detail"] for e in entries][-1] == "create"  # then its signing key
