"""The session file: lossless round trip, every problem reported with its path, the schema."""

import json
from dataclasses import replace

import jsonschema
import pytest
from conftest import PASSWORD, TODAY, Clinic, sign
from hypothesis import HealthCheck, given, settings
from strategies import drafts

from ptdoc import interchange
from ptdoc.domain import AddendumKind
from ptdoc.errors import ValidationError


def _doc(clinic: Clinic, session) -> interchange.SessionDocument:
    return clinic.admin.document(session)


def test_file_round_trip_is_lossless(clinic: Clinic) -> None:
    ids = [u.id for u in clinic.users.values()]
    schema = json.loads(interchange.SCHEMA_PATH.read_text())

    @settings(max_examples=80, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture,
                                     HealthCheck.too_slow])
    @given(drafts(clinic.patient.id, ids, TODAY))
    def check(session):
        doc = _doc(clinic, replace(session, episode_id=clinic.episode.id))
        text = interchange.dumps(doc)
        jsonschema.validate(json.loads(text), schema)
        again = interchange.loads(text)
        assert interchange.dumps(again) == text
        assert interchange.legacy_content_hash(again) == interchange.legacy_content_hash(doc)

    check()


def test_schema_file_is_current() -> None:
    assert json.loads(interchange.SCHEMA_PATH.read_text()) == interchange.document_schema()


def test_signed_file_with_addenda_round_trips_and_detects_tampering(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    pt = clinic.as_("pt")
    sign(pt, draft.id)
    pt.add_addendum(draft.id, AddendumKind.AMENDMENT, "Clarify", "Cues were verbal only.",
                    pt.prove_signer(PASSWORD))
    text = interchange.dumps(pt.export_session(draft.id))
    assert interchange.dumps(interchange.loads(text)) == text
    data = json.loads(text)
    data["session"]["exercises"][0]["sets"] = 5
    with pytest.raises(ValidationError) as exc:
        interchange.parse_document(data)
    assert exc.value.problems[0].field == "session.signature"
    assert "exercises[0].sets (signed" in exc.value.problems[0].message


def test_every_problem_is_reported_with_its_path(clinic: Clinic) -> None:
    data = json.loads(interchange.dumps(_doc(clinic, clinic.complete_draft())))
    data["version"] = 7
    data["session"]["date_of_service"] = "26/11/2026"
    data["session"]["exercises"][1]["reps"] = -4
    data["session"]["exercises"][0]["load"] = 4.5
    data["session"]["services"][0]["code"] = "97162x"
    data["session"]["delivered_by"] = "ghost"
    data["session"]["diagnoses"] = ["knee"]
    data["patient"]["mrn"] = ""
    data["session"]["colour"] = "blue"
    with pytest.raises(ValidationError) as exc:
        interchange.parse_document(data)
    fields = {p.field for p in exc.value.problems}
    assert fields >= {"version", "session.date_of_service", "session.exercises[1].reps",
                      "session.exercises[0].load", "session.services[0].code",
                      "session.delivered_by", "session.diagnoses[0]", "patient.mrn",
                      "session.colour"}


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(ValidationError) as exc:
        interchange.loads("{ nope")
    assert "not valid JSON" in str(exc.value)
    with pytest.raises(ValidationError):
        interchange.loads("[1, 2]")


def test_import_binds_users_and_patient_and_keeps_the_signature(clinic: Clinic) -> None:
    draft = clinic.complete_draft("pta")
    sign(clinic.as_("pta"), draft.id)
    text = interchange.dumps(clinic.admin.export_session(draft.id))
    with pytest.raises(ValidationError) as exc:  # the same signed note twice
        clinic.admin.import_session(interchange.loads(text))
    assert "already here as session" in str(exc.value)

    data = json.loads(text)
    data["patient"]["mrn"] = "MRN-9"
    with pytest.raises(ValidationError):  # patient identity changed: the hash no longer fits
        interchange.parse_document(data)


def test_import_of_a_draft_registers_a_new_patient(clinic: Clinic) -> None:
    draft = clinic.complete_draft()
    data = json.loads(interchange.dumps(clinic.admin.export_session(draft.id)))
    data["patient"].update(mrn="MRN-77", first_name="Ulla", last_name="Berg")
    imported = clinic.admin.import_session(interchange.parse_document(data))
    assert clinic.store.patients.get(imported.patient_id).mrn == "MRN-77"
    assert imported.exercises == draft.exercises
    data["clinicians"][0]["username"] = "stranger"
    data["session"]["delivered_by"] = "stranger"
    with pytest.raises(ValidationError) as exc:
        clinic.admin.import_session(interchange.parse_document(data))
    assert exc.value.problems[0].field == "clinicians[0].username"


def test_mrn_clash_with_another_person_is_refused(clinic: Clinic) -> None:
    data = json.loads(interchange.dumps(clinic.admin.export_session(
        clinic.complete_draft().id)))
    data["patient"]["first_name"] = "Someone"
    with pytest.raises(ValidationError) as exc:
        clinic.admin.import_session(interchange.parse_document(data))
    assert exc.value.problems[0].field == "patient.mrn"
