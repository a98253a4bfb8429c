"""Every field refuses nonsense with a message that names the field and what is expected."""

import datetime as dt
from decimal import Decimal

import pytest

from ptdoc import fields
from ptdoc.domain import (
    Addendum,
    AddendumKind,
    Appointment,
    Credential,
    Episode,
    ExerciseEntry,
    LoadUnit,
    Patient,
    ServiceLine,
    Session,
    SessionStatus,
    Signature,
    User,
    check_dates,
)
from ptdoc.errors import ValidationError
from ptdoc.fields import REPS, parse_amount, parse_date, parse_decimal, parse_int


def problems(exc: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {p.field: p.message for p in exc.value.problems}


def test_negative_reps_and_900_lb_are_refused_together() -> None:
    with pytest.raises(ValidationError) as exc:
        ExerciseEntry("Leg press", reps=-3, load=Decimal(900), load_unit=LoadUnit.LB)
    found = problems(exc)
    assert "Reps must be a number from 1 to 300" in found["reps"]
    assert "got -3" in found["reps"]
    assert "Load must be a number from 0.1 to 500 lb" in found["load"]


def test_load_limit_follows_the_unit() -> None:
    ExerciseEntry("Leg press", load=Decimal(200), load_unit=LoadUnit.KG)
    with pytest.raises(ValidationError) as exc:
        ExerciseEntry("Leg press", load=Decimal(300), load_unit=LoadUnit.KG)
    assert "kg" in problems(exc)["load"]


def test_exercise_needs_a_name_and_a_valid_code() -> None:
    with pytest.raises(ValidationError) as exc:
        ExerciseEntry("  ", code="9711")
    found = problems(exc)
    assert found["name"] == "Exercise name is required"
    assert "CPT/HCPCS" in found["code"]


def test_pain_is_on_a_0_to_10_scale() -> None:
    with pytest.raises(ValidationError) as exc:
        ExerciseEntry("Bridge", pain_before=11, pain_after=-1)
    assert set(problems(exc)) == {"pain_before", "pain_after"}


def test_minutes_longer_than_the_visit_are_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5),
                time_in=dt.time(9, 0), time_out=dt.time(9, 45),
                exercises=(ExerciseEntry("Bridge", minutes=50),),
                services=(ServiceLine("97110", 60),))
    # said once, on the total, naming every row that is longer
    assert [p.field for p in exc.value.problems] == ["total_treatment_minutes"]
    assert problems(exc)["total_treatment_minutes"] == (
        "Minutes are longer than the visit (45 min from time in to time out): Bridge 50 min, "
        "billed 97110 60 min")
    rows = tuple(ExerciseEntry(f"Row {i}", minutes=50) for i in range(5))
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5), time_in=dt.time(9, 0),
                time_out=dt.time(9, 45), total_treatment_minutes=55, exercises=rows)
    assert [p.field for p in exc.value.problems] == ["total_treatment_minutes"]
    assert problems(exc)["total_treatment_minutes"].endswith(
        "; so are Row 0 50 min, Row 1 50 min, Row 2 50 min and 2 more")


def test_total_time_cannot_exceed_the_visit_and_time_out_follows_time_in() -> None:
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5), time_in=dt.time(10, 0),
                time_out=dt.time(9, 0))
    assert problems(exc)["time_out"] == "Time out must be after time in"
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5), time_in=dt.time(9, 0),
                time_out=dt.time(9, 30), total_treatment_minutes=40)
    assert "longer than the visit" in problems(exc)["total_treatment_minutes"]


def test_future_date_of_service_is_refused_with_today_given() -> None:
    session = Session(patient_id=1, date_of_service=dt.date(2026, 12, 1))
    found = check_dates(session, today=dt.date(2026, 11, 26))
    assert found[0].field == "date_of_service"
    assert "in the future" in found[0].message
    assert check_dates(session, today=dt.date(2026, 12, 1)) == []


def test_date_of_service_before_birth_is_refused() -> None:
    patient = Patient("A1", "Ann", "Lee", dt.date(2020, 1, 1))
    session = Session(patient_id=1, date_of_service=dt.date(2019, 6, 1))
    assert "before the patient's date of birth" in check_dates(
        session, dt.date(2026, 1, 1), patient)[0].message


def test_malformed_icd10_is_refused_with_its_position() -> None:
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5),
                diagnoses=("M17.11", "knee pain"))
    assert "ICD-10-CM" in problems(exc)["diagnoses[1]"]
    with pytest.raises(ValidationError) as exc:
        Episode(1, dt.date(2026, 1, 1), diagnoses=("M17.11", "M17.11"))
    assert "twice" in problems(exc)["diagnoses"]


def test_malformed_npi_is_refused_and_pt_needs_one() -> None:
    with pytest.raises(ValidationError) as exc:
        User("jdoe", "Jane Doe", Credential.PTA, npi="1234567890")
    assert "check digit" in problems(exc)["npi"]
    with pytest.raises(ValidationError) as exc:
        User("jdoe", "Jane Doe", Credential.PT)
    assert problems(exc)["npi"] == "NPI is required for a physical therapist"
    assert User("jdoe", "Jane Doe", Credential.PT, npi="1234567893").npi == "1234567893"


def test_bad_username_and_mrn() -> None:
    with pytest.raises(ValidationError) as exc:
        User("Jane Doe", "Jane Doe", Credential.FRONT_DESK)
    assert "User name" in problems(exc)["username"]
    with pytest.raises(ValidationError) as exc:
        Patient("A 1", "Ann", "", dt.date(1899, 1, 1))
    assert set(problems(exc)) == {"mrn", "last_name", "date_of_birth"}


def test_signed_status_and_signature_go_together() -> None:
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5), status=SessionStatus.SIGNED)
    assert "signature" in problems(exc)


def test_addenda_need_reason_text_and_utc_time() -> None:
    with pytest.raises(ValidationError) as exc:
        Addendum(AddendumKind.CORRECTION, 1, "A", dt.datetime(2026, 1, 1), "", "")
    assert set(problems(exc)) == {"reason", "text", "created_at"}


def test_service_modifiers_are_checked() -> None:
    with pytest.raises(ValidationError) as exc:
        ServiceLine("97110", 20, 1, ("GP", "gp!", "GP"))
    found = problems(exc)
    assert "modifiers[1]" in found and "repeat" in found["modifiers"]


def test_control_characters_and_overlong_text_are_refused() -> None:
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5), assessment="a\x00b")
    assert "cannot be stored" in problems(exc)["assessment"]
    with pytest.raises(ValidationError) as exc:
        ExerciseEntry("x" * (fields.NAME_TEXT + 1))
    assert f"at most {fields.NAME_TEXT}" in problems(exc)["name"]
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5),
                assessment="x" * (fields.NARRATIVE_TEXT + 1), home_program="\ud800")
    found = problems(exc)
    assert f"at most {fields.NARRATIVE_TEXT}" in found["assessment"]
    assert "cannot be stored" in found["home_program"]


def test_every_date_is_within_1900_to_2100() -> None:
    with pytest.raises(ValidationError) as exc:
        Patient("A1", "Ann", "Lee", dt.date(1850, 1, 1))
    assert "1900-01-01 to 2100-12-31" in problems(exc)["date_of_birth"]
    with pytest.raises(ValidationError) as exc:
        Appointment(1, dt.date(9999, 12, 31))
    assert "2000-01-01 to 2100-12-31" in problems(exc)["day"]
    with pytest.raises(ValidationError) as exc:
        Episode(1, dt.date(2026, 1, 5), certified_through=dt.date(9999, 12, 31))
    assert "2100-12-31" in problems(exc)["certified_through"]
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2101, 1, 1))
    assert "2000-01-01 to 2100-12-31" in problems(exc)["date_of_service"]
    with pytest.raises(ValidationError) as exc:
        parse_date("9999-12-31", "Date of birth", "date_of_birth")
    assert "2100-12-31" in problems(exc)["date_of_birth"]


def test_lists_and_references_are_bounded() -> None:
    with pytest.raises(ValidationError) as exc:
        Session(patient_id=1, date_of_service=dt.date(2026, 1, 5),
                exercises=(ExerciseEntry("Bridge"),) * (fields.MAX_EXERCISES + 1),
                diagnoses=tuple(f"M17.{i}" for i in range(fields.MAX_DIAGNOSES + 1)))
    found = problems(exc)
    assert f"at most {fields.MAX_EXERCISES}" in found["exercises"]
    assert f"at most {fields.MAX_DIAGNOSES}" in found["diagnoses"]
    with pytest.raises(ValidationError) as exc:
        Signature(None, "Ann Lee", Credential.PT, None,  # type: ignore[arg-type]
                  dt.datetime(2026, 1, 5, tzinfo=dt.UTC), "0" * 64)
    assert "signer" in problems(exc)


def test_decimals_are_written_as_the_file_reads_them() -> None:
    assert parse_decimal("12.", fields.LOAD_LB, "load") == Decimal(12)
    assert parse_decimal(".5", fields.LOAD_LB, "load") == Decimal("0.5")
    for bad in ("1E+2", "NaN", "12.12345", "1" * 5000):
        with pytest.raises(ValidationError):
            parse_decimal(bad, fields.LOAD_LB, "load")
    with pytest.raises(ValidationError) as exc:
        ExerciseEntry("Squat", load=Decimal("1E+2"), load_unit=LoadUnit.LB)
    assert "load" in problems(exc)
    with pytest.raises(ValidationError):
        parse_int("9" * 5000, REPS, "reps")
    with pytest.raises(ValidationError):
        parse_int("²", REPS, "reps")


def test_field_parsers_name_the_field_and_keep_the_text() -> None:
    assert parse_int(" 12 ", REPS, "exercises[0].reps") == 12
    assert parse_int("", REPS, "exercises[0].reps") is None
    with pytest.raises(ValidationError) as exc:
        parse_int("twelve", REPS, "exercises[0].reps")
    assert problems(exc)["exercises[0].reps"] == \
        "Reps must be a number from 1 to 300 (got 'twelve')"
    with pytest.raises(ValidationError):
        parse_decimal("NaN", REPS, "load")
    with pytest.raises(ValidationError) as exc:
        parse_date("2026-02-30", "Date of service", "date_of_service")
    assert "YYYY-MM-DD or MM/DD/YYYY" in problems(exc)["date_of_service"]
    assert "'2026-02-30' is not a date" in problems(exc)["date_of_service"]


def test_a_typed_date_is_read_as_iso_or_as_us_systems_write_it():
    for text in ("1950-03-04", "03/04/1950", "3/4/1950", " 3/04/1950 "):
        assert parse_date(text, "Date of birth", "date_of_birth") == dt.date(1950, 3, 4)
    with pytest.raises(ValidationError) as exc:
        parse_date("31/12/1950", "Date of birth", "date_of_birth")
    assert problems(exc)["date_of_birth"] == ("Date of birth '31/12/1950' is not a date "
                                              "(written as YYYY-MM-DD or MM/DD/YYYY, the "
                                              "month first)")
    # ISO without its zeros or dashes, ISO weeks, other scripts' digits, a two-digit year.
    for text in ("1950-3-4", "19500304", "1950-W10-3", "３/4/1950", "3/4/50"):
        with pytest.raises(ValidationError) as exc:
            parse_date(text, "Date of birth", "date_of_birth")
        assert problems(exc)["date_of_birth"] == (
            f"Date of birth must be a date as YYYY-MM-DD or MM/DD/YYYY (got '{text.strip()}')")
    with pytest.raises(ValidationError) as exc:
        parse_date("1/2/1899", "Date of birth", "date_of_birth")
    assert "from 1900-01-01 to 2100-12-31" in problems(exc)["date_of_birth"]


def test_an_amount_is_read_as_a_price_is_written():
    for text, value in (("29.50", "29.50"), ("$31.75", "31.75"), ("1,250", "1250"),
                        ("$ 1,250.00", "1250.00"), ("$1,000,000", "1000000"), ("0", "0")):
        assert parse_amount(text, "amount") == Decimal(value)
    assert parse_amount("  ", "amount") is None
    for text in ("12,50", "1,2345", "$", "-5", "1,000,001", "lots", "$$3", "3$"):
        with pytest.raises(ValidationError) as exc:
            parse_amount(text, "amount")
        assert f"such as 29.50, $31.75 or 1,250 (got '{text}')" in problems(exc)["amount"]


def test_time_parser() -> None:
    from ptdoc.fields import parse_time

    assert parse_time("8:05", "Time in", "time_in") == dt.time(8, 5)
    assert parse_time("", "Time in", "time_in") is None
    with pytest.raises(ValidationError) as exc:
        parse_time("25:00", "Time in", "time_in")
    assert problems(exc)["time_in"] == ("Time in must be a clock time such as 10:00, 1000, 10a, "
                                         "2:30p, 14:30 or now (got '25:00')")
