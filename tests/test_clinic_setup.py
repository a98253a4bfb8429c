"""Setting up a real clinic through the services: payers, patients (duplicates, search, the
patient page, CSV import), plans of care with their history, appointments."""

import datetime as dt
import sqlite3
from dataclasses import replace
from pathlib import Path

import pytest
from conftest import TODAY, Clinic

from ptdoc.catalog import payer_from_profile, payer_profiles
from ptdoc.domain import Episode, NoteType, Patient, PayerProfile, Sex, UnitMethod
from ptdoc.errors import PermissionDenied, ValidationError
from ptdoc.services.patients import NEW_MRN


def denied(clinic: Clinic) -> list[str]:
    return [e["detail"] for e in clinic.store.audit.entries() if e["action"] == "denied"]


def test_every_payer_profile_makes_a_payer_and_only_the_administrator_adds_one(
        clinic: Clinic) -> None:
    assert set(payer_profiles()) == {p.value for p in PayerProfile}
    boss = clinic.as_("boss")
    wc = boss.add_payer(payer_from_profile("State Fund", "workers_comp"))
    assert (wc.unit_method, wc.kx_applies, wc.cq_applies) == (UnitMethod.CMS, False, False)
    cash = boss.add_payer(payer_from_profile("Self-pay", "self_pay", "cms"))
    assert cash.unit_method == UnitMethod.CMS and not cash.gp_required
    assert [e["entity_id"] for e in clinic.store.audit.entries("payer", cash.id)] == [cash.id]
    with pytest.raises(ValidationError, match="profile must be one of"):
        payer_from_profile("X", "barter")
    with pytest.raises(ValidationError, match="name"):
        boss.add_payer(payer_from_profile("State Fund", "commercial"))  # the name is taken
    for user in ("desk", "pt"):
        with pytest.raises(PermissionDenied):
            clinic.as_(user).add_payer(payer_from_profile("Blue", "commercial"))
    assert denied(clinic) == ["MANAGE_CLINIC", "MANAGE_CLINIC"]


def test_registration_assigns_mrns_and_finds_likely_duplicates_first(clinic: Clinic) -> None:
    desk = clinic.as_("desk")
    new = Patient(NEW_MRN, "Bo", "Park", dt.date(1980, 1, 1), clinic.payer.id, "MBI-77",
                  sex=Sex.MALE, phone="555-0101", address="1 Main St")
    assert desk.likely_duplicates(new) == []
    first = desk.add_patient(new, assign_mrn=True)
    second = clinic.as_("pta").add_patient(replace(new, first_name="Cy", member_id=""),
                                           assign_mrn=True)
    assert (first.mrn, second.mrn) == ("PT-00001", "PT-00002")  # no clinic name: PT
    # the same person typed again (another case), or another with the same member ID
    again = replace(new, first_name="BO", last_name="park", member_id="")
    assert desk.likely_duplicates(again) == [first]
    assert desk.likely_duplicates(replace(new, first_name="Dee", last_name="Ng")) == [first]
    assert desk.likely_duplicates(first) == []  # a patient is not their own duplicate
    with pytest.raises(ValidationError, match="MRN PT-00001 belongs to another patient"):
        desk.add_patient(replace(new, mrn="PT-00001"))
    with pytest.raises(ValidationError, match="secondary payer must differ"):
        Patient("A", "B", "C", dt.date(1990, 1, 1), 1, secondary_payer_id=1)
    with pytest.raises(ValidationError, match="in the future"):
        desk.add_patient(replace(new, date_of_birth=TODAY + dt.timedelta(1)), assign_mrn=True)
    with pytest.raises(PermissionDenied):
        clinic.as_("aide").add_patient(new, assign_mrn=True)
    assert [p.mrn for p in desk.search_patients("par")] == ["PT-00001", "PT-00002"]
    assert [p.mrn for p in desk.search_patients("1980-01-01")] == ["PT-00001", "PT-00002"]


def test_patient_page_shows_demographics_episodes_visits_and_next_appointment(
        clinic: Clinic) -> None:
    pt, desk = clinic.as_("pt"), clinic.as_("desk")
    signed = clinic.complete_draft("pt", TODAY - dt.timedelta(2))
    draft = clinic.complete_draft("pt")
    desk.set_appointment(clinic.patient.id, TODAY + dt.timedelta(2), dt.time(10, 15),
                         clinic.users["pta"].id)
    page = pt.patient_page(clinic.patient.id)
    assert page.patient == clinic.patient and page.payer == clinic.payer
    assert [e.id for e in page.episodes] == [clinic.episode.id]
    assert [v.id for v in page.visits] == [draft.id, signed.id]
    assert page.next_appointment.when == f"{TODAY + dt.timedelta(2)} 10:15"
    assert page.next_appointment_with == "PTA User, PTA"
    front = desk.patient_page(clinic.patient.id)  # the front desk sees no plan of care
    assert front.episodes == () and not front.episodes_shown and len(front.visits) == 2


def test_plan_of_care_pt_only_with_history_of_every_change(clinic: Clinic) -> None:
    pt, pta = clinic.as_("pt"), clinic.as_("pta")
    episode = pt.add_episode(Episode(clinic.patient.id, TODAY - dt.timedelta(30),
                                     diagnoses=("M17.11",), goals=("STG: stairs",),
                                     frequency="2x/week", duration="8 weeks",
                                     physician_name="Dr. Ada Park",
                                     physician_npi="1234567893"))
    assert episode.diagnoses == ("M17.11",)
    pt.certify_episode(episode.id, TODAY - dt.timedelta(25), TODAY + dt.timedelta(60), True)
    pt.revise_episode(episode.id, "progress report", goals=("STG: stairs", "LTG: 1 mile"))
    pt.recertify_episode(episode.id, TODAY, TODAY + dt.timedelta(90), frequency="1x/week")
    pt.discharge_episode(episode.id, TODAY)
    history = pta.episode_history(episode.id)  # a PTA views
    assert [h.action for h in history] == ["create", "certify", "progress report",
                                           "recertify", "discharge"]
    assert history[0].actor == "pt" and history[0].changes["diagnoses"] == [None, ["M17.11"]]
    assert history[2].changes == {"goals": [["STG: stairs"], ["STG: stairs", "LTG: 1 mile"]]}
    assert history[3].changes["frequency"] == ["2x/week", "1x/week"]
    assert history[4].changes == {"discharged_on": [None, TODAY.isoformat()]}
    with pytest.raises(ValidationError, match="discharged"):
        pt.revise_episode(episode.id, goals=("more",))
    for attempt in (lambda: pta.add_episode(replace(episode, id=None)),
                    lambda: pta.certify_episode(episode.id, TODAY),
                    lambda: pta.discharge_episode(clinic.episode.id, TODAY)):
        with pytest.raises(PermissionDenied):
            attempt()
    assert denied(clinic).count("EVALUATE") == 3
    with pytest.raises(ValidationError) as exc:  # checked against the ICD-10-CM code set
        pt.add_episode(Episode(clinic.patient.id, TODAY, diagnoses=("M17", "Z99.999")))
    assert [p.field for p in exc.value.problems] == ["diagnoses[0]", "diagnoses[1]"]
    with pytest.raises(ValidationError, match="Physician NPI"):
        Episode(clinic.patient.id, TODAY, physician_npi="1234567890")
    # the history is append-only, below the services too
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        clinic.store.db.execute("DELETE FROM episode_history")


def test_appointments_next_visit_and_expected_without_note(clinic: Clinic) -> None:
    desk = clinic.as_("desk")
    other = desk.add_patient(Patient(NEW_MRN, "Bo", "Park", dt.date(1980, 1, 1)),
                             assign_mrn=True)
    third = desk.add_patient(Patient(NEW_MRN, "Cy", "Oh", dt.date(1981, 1, 1)),
                             assign_mrn=True)
    desk.set_appointment(clinic.patient.id, TODAY, dt.time(9, 0), clinic.users["pt"].id)
    desk.set_appointment(other.id, TODAY, dt.time(8, 0))
    desk.set_appointment(third.id, TODAY + dt.timedelta(1), dt.time(8, 0))
    assert [e.patient.mrn for e in desk.expected_without_note(TODAY)] == [other.mrn,
                                                                          "MRN-1"]
    clinic.complete_draft("pt")  # Ann came: her note is started
    expected = desk.expected_without_note(TODAY)
    assert [(e.patient.mrn, e.clinician) for e in expected] == [(other.mrn, "")]
    # booking the next visit moves the one after today and keeps today's
    desk.set_appointment(other.id, TODAY + dt.timedelta(3), dt.time(11, 0))
    desk.set_appointment(other.id, TODAY + dt.timedelta(5), dt.time(12, 0))
    assert desk.next_appointment(other.id, TODAY).day == TODAY + dt.timedelta(5)
    assert [e.patient.mrn for e in desk.expected_without_note(TODAY)] == [other.mrn]
    with pytest.raises(ValidationError, match="in the past"):
        desk.set_appointment(other.id, TODAY - dt.timedelta(1))
    with pytest.raises(ValidationError, match="does not see patients"):
        desk.set_appointment(other.id, TODAY, clinician_id=clinic.users["desk"].id)
    with pytest.raises(PermissionDenied):
        clinic.as_("aide").set_appointment(other.id, TODAY)
    assert desk.cancel_next_appointment(other.id) == 1
    assert desk.next_appointment(other.id, TODAY) is None


MESSY = ("\ufeffMRN,First Name,LAST_NAME,date_of_birth,Sex,phone,Payer,member_id,Referral\r\n"
         "A-100,Ann,Zed,03/04/1950,F,555-0100,medicare part b,1EG4,Dr X\r\n"
         ",Bo,Yu,1961-07-08,m,,,,\r\n"
         "A-101,Cy,,1970-01-01,,,,,\r\n"           # line 4: no last name
         "A-102,Di,Wu,02/30/1980,,,,,\r\n"         # line 5: no such date
         "A-100,Ed,Vo,1955-05-05,,,,,\r\n"         # line 6: the MRN of line 2 again
         "MRN-1,Fay,Ul,1960-01-01,,,,,\r\n"        # line 7: an MRN that is someone else's
         "A-103,Gil,To,1962-02-02,,,Acme,9,\r\n"   # line 8: a payer the clinic lacks
         "\r\n"
         "A-104,\"Hal, Jr\",Sa,12/31/1999,X,,,,\r\n")  # line 10: sex X


def test_csv_import_reports_every_bad_row_and_never_imports_twice(clinic: Clinic,
                                                                   tmp_path: Path) -> None:
    path = tmp_path / "patients.csv"
    path.write_bytes(MESSY.encode("utf-8"))
    desk = clinic.as_("desk")
    result = desk.import_patients(path.read_bytes())
    assert [(r.line, r.mrn) for r in result.added] == [(2, "A-100"), (3, "PT-00001")]
    refused = {p.line: p.message for p in result.refused}
    assert sorted(refused) == [4, 5, 6, 7, 8, 10]
    assert "last name is missing" in refused[4] and "02/30/1980" in refused[5]
    assert "repeats line 2" in refused[6] and "belongs to Lee, Ann" in refused[7]
    assert "no payer named 'Acme'" in refused[8] and "Sex must be one of" in refused[10]
    ann = clinic.store.patients.by_mrn("A-100")
    assert (ann.date_of_birth, ann.sex, ann.payer_id, ann.member_id) == (
        dt.date(1950, 3, 4), Sex.FEMALE, clinic.payer.id, "1EG4")
    count = clinic.store.patients.count()
    again = desk.import_patients(path.read_bytes())  # a second run adds nothing
    assert again.added == () and [r.line for r in again.already_here] == [2, 3]
    assert clinic.store.patients.count() == count
    lf = MESSY.replace("\r\n", "\n").removeprefix("\ufeff").encode()
    assert desk.import_patients(lf).added == ()  # the same file with LF, without BOM
    with pytest.raises(ValidationError, match="lacks last_name"):
        desk.import_patients(b"mrn,first_name,dob\n1,A,2000-01-01\n")
    with pytest.raises(ValidationError, match="not UTF-8"):
        desk.import_patients("first_name,last_name,date_of_birth\nÅ,B,2000-01-01\n"
                             .encode("latin-1"))
    with pytest.raises(PermissionDenied):
        clinic.as_("aide").import_patients(path.read_bytes())


def test_csv_import_limits(clinic: Clinic, monkeypatch) -> None:
    from ptdoc import patient_csv

    monkeypatch.setattr(patient_csv, "MAX_ROWS", 3)
    rows = "".join(f"P{i},A,B{i},2000-01-01\n" for i in range(4))
    with pytest.raises(ValidationError, match="more than 3 patients"):
        clinic.as_("desk").import_patients(("mrn,first_name,last_name,date_of_birth\n" + rows)
                                           .encode())
    assert clinic.store.patients.count() == 1
    with pytest.raises(ValidationError, match="larger than"):
        clinic.as_("desk").import_patients(b"x" * (patient_csv.MAX_BYTES + 1))


def test_a_pt_opens_evaluation_on_a_new_episode(clinic: Clinic) -> None:
    pt = clinic.as_("pt")
    episode = pt.add_episode(Episode(clinic.patient.id, TODAY, diagnoses=("M25.561",)))
    evaluation = pt.new_session(clinic.patient.id, TODAY, episode.id, NoteType.EVALUATION)
    assert evaluation.diagnoses == ("M25.561",)


def test_a_next_visit_of_an_older_database_becomes_its_appointment(tmp_path: Path) -> None:
    from ptdoc import db as dbmod
    from ptdoc.store import Store

    path = tmp_path / "old.sqlite3"
    db = dbmod.connect(path)
    db.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
    dbmod.migrate_to_latest(db, None, target=9)
    db.execute("INSERT INTO patients (mrn, first_name, last_name, date_of_birth, next_visit) "
               "VALUES ('A1', 'Ann', 'Lee', '1950-01-01', '2026-12-01')")
    db.close()
    with Store.open(path) as store:
        patient = store.patients.by_mrn("A1")
        booked = store.appointments.next_after(patient.id, TODAY)
        assert (booked.day, booked.time, booked.clinician_id) == (dt.date(2026, 12, 1), None,
                                                                  None)
