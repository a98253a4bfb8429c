"""The biller's charges export: `ptdoc charges` read back as a spreadsheet would read it, and
compared line for line with what `ptdoc check --session` reports for each signed session."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import sqlite3
import sys
from dataclasses import replace
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import FEES, PASSWORD, TODAY, Clinic, only_sqlite, sign
from driving import admin_clinic_tab, main_window
from pypdf import PdfReader
from test_paper import save_pngs
from test_setup import alt, fill

from ptdoc import cli
from ptdoc import db as dbmod
from ptdoc.charges import COLUMNS
from ptdoc.domain import Acknowledgement, Episode, ExerciseEntry, Patient, Provider, ServiceLine
from ptdoc.domain import Clinic as ClinicSettings
from ptdoc.errors import ValidationError
from ptdoc.migrations import MIGRATIONS, m014_place_of_service, m015_session_place_of_service
from ptdoc.store import Store


def run(capsys, user: str, *args: str) -> tuple[int, str, str]:
    """A command run by ``user``, who gives their password on standard input."""
    stdin = sys.stdin
    sys.stdin = io.StringIO(f"{PASSWORD}\n")
    try:
        code = cli.main([*args, "--user", user, "--password-stdin"])
    finally:
        sys.stdin = stdin
    out = capsys.readouterr()
    return code, out.out, out.err


def second_patient(clinic: Clinic, last: str = "Patel", member_id: str = "1EG4TE5MK73"
                   ) -> tuple[Patient, Episode]:
    """Another Medicare patient with a certified plan of care."""
    patient = clinic.admin.add_patient(Patient("MRN-2", "Raj", last, dt.date(1948, 7, 9),
                                               clinic.payer.id, member_id=member_id))
    episode = clinic.admin.add_episode(replace(clinic.episode, id=None, patient_id=patient.id,
                                               diagnoses=("M54.50",)))
    return patient, episode


def a_day_to_bill(clinic: Clinic) -> dict[str, int]:
    """A PT's signed note with two codes and two diagnoses, a PTA's signed note supervised by
    the PT, and a draft of the DPT's that is not signed yet."""
    pt = clinic.as_("pt")
    draft = clinic.complete_draft("pt")
    draft = pt.save_draft(replace(
        draft, diagnoses=("M17.11", "M25.561"),
        exercises=(*draft.exercises, ExerciseEntry("Balance, single leg stance", sets=3,
                                                   hold_seconds=30, minutes=15,
                                                   code="97112")),
        services=(ServiceLine("97110", 23, 2, ("GP",)), ServiceLine("97112", 15, 1, ("GP",))),
        total_treatment_minutes=40))
    two_codes = sign(pt, draft.id).id
    pta = clinic.as_("pta")
    draft = clinic.complete_draft("pta", TODAY, *second_patient(clinic))
    draft = pta.save_draft(replace(
        draft, supervised_by=clinic.users["pt"].id,
        exercises=tuple(replace(e, delivered_by=Provider.PTA) for e in draft.exercises)))
    by_pta = sign(pta, draft.id).id
    unsigned = clinic.complete_draft("dpt").id  # a second visit of Ann Lee's, not signed
    return {"two_codes": two_codes, "by_pta": by_pta, "unsigned": unsigned}


def checked_lines(capsys, db_target, session_id: int) -> list[dict]:
    """What `ptdoc check --session ID --json` reports (a clinician may open the note)."""
    code, out, err = run(capsys, "pt", "check", "--db", str(db_target), "--session",
                         str(session_id), "--json")
    assert code == 0, err
    return json.loads(out)["lines"]


def test_the_csv_is_what_check_reports_priced_by_the_fee_schedule(
        capsys, clinic: Clinic, db_target, tmp_path: Path):
    ids = a_day_to_bill(clinic)
    out = tmp_path / "charges.csv"
    code, said, err = run(capsys, "desk", "charges", "--db", str(db_target), "--date",
                          TODAY.isoformat(), "-o", str(out))
    # the draft is not charged: it is named on standard error and the exit code says so
    assert code == 1
    assert "1 session of 2026-11-26 not charged" in err
    assert f"session {ids['unsigned']}, {TODAY}, Lee, Ann (MRN-1): not signed; owed by " \
           "DPT User, DPT" in err
    assert f"written to {out}" in said
    assert out.stat().st_mode & 0o777 == 0o600
    raw = out.read_bytes()
    assert not raw.startswith(b"\xef\xbb\xbf") and raw.count(b"\r\n") == 4  # header + 3 rows
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8"), newline="")))
    assert tuple(rows[0]) == COLUMNS  # one header row, no index column
    assert {int(r["session_id"]) for r in rows} == {ids["two_codes"], ids["by_pta"]}
    for sid in (ids["two_codes"], ids["by_pta"]):
        mine = [r for r in rows if int(r["session_id"]) == sid]
        expected = [line for line in checked_lines(capsys, db_target, sid) if line["units"]]
        assert [(r["cpt_code"], int(r["units"]), r["modifiers"].split(), int(r["minutes"]))
                for r in mine] == [(line["code"], line["units"], line["modifiers"],
                                    line["minutes"]) for line in expected]
        for r in mine:
            assert Decimal(r["fee"]) == Decimal(FEES[r["cpt_code"]])
            assert Decimal(r["charge"]) == Decimal(FEES[r["cpt_code"]]) * int(r["units"])
            assert r["date_of_service"] == TODAY.isoformat()  # ISO dates
            assert (r["mrn"], r["patient_name"], r["payer"], r["member_id"]) == (
                ("MRN-1", "Lee, Ann", "Medicare Part B", "") if sid == ids["two_codes"] else
                ("MRN-2", "Patel, Raj", "Medicare Part B", "1EG4TE5MK73"))
            assert r["place_of_service"] == "11"
    pt_row = next(r for r in rows if int(r["session_id"]) == ids["two_codes"])
    assert (pt_row["rendering_clinician"], pt_row["rendering_npi"],
            pt_row["supervising_clinician"]) == ("PT User, PT", clinic.users["pt"].npi, "")
    assert (pt_row["diagnosis_pointers"], pt_row["diagnosis_codes"]) == ("AB",
                                                                         "M17.11 M25.561")
    pta_row = next(r for r in rows if int(r["session_id"]) == ids["by_pta"])
    # a PTA is billed under the supervising PT's NPI; who treated has their own columns
    pt_npi = clinic.users["pt"].npi
    assert (pta_row["rendering_clinician"], pta_row["rendering_npi"],
            pta_row["supervising_clinician"], pta_row["supervising_npi"]) == (
        "PT User, PT", pt_npi, "PT User, PT", pt_npi)
    assert (pta_row["delivered_by"], pta_row["delivered_by_npi"], pta_row["credential"]) == (
        "PTA User, PTA", clinic.users["pta"].npi or "", "PTA")
    assert (pt_row["delivered_by"], pt_row["delivered_by_npi"], pt_row["credential"],
            pt_row["supervising_npi"]) == ("PT User, PT", pt_npi, "PT", "")
    assert "CQ" in pta_row["modifiers"].split()
    # the export is audited with the sessions it contained, and only those
    audited = {(e["entity_id"], e["actor"], e["action"]) for e in clinic.store.audit.entries()
               if e["detail"] == "charges csv"}
    assert audited == {(ids["two_codes"], "desk", "export"), (ids["by_pta"], "desk", "export")}


def test_excel_bom_json_and_a_range_of_days(capsys, clinic: Clinic, db_target,
                                            tmp_path: Path):
    ids = a_day_to_bill(clinic)
    dpt = clinic.as_("dpt")
    second = dpt.save_draft(replace(clinic.store.sessions.get(ids["unsigned"]),
                                    acknowledgements=(Acknowledgement(
                                        "DUPLICATE_SESSION", "date_of_service",
                                        "Second visit: aquatic group"),)))
    sign(dpt, second.id)
    code, out, err = run(capsys, "boss", "charges", "--db", str(db_target), "--date",
                         TODAY.isoformat(), "--bom")
    assert code == 0 and "3 signed sessions of 2026-11-26" in err and "not charged" not in err
    assert out.startswith("\ufeffsession_id,date_of_service,")
    # a range: yesterday's signed note joins today's
    yesterday = TODAY - dt.timedelta(days=1)
    earlier = clinic.complete_draft("pt", yesterday)
    sign(clinic.as_("pt"), earlier.id)
    code, out, err = run(capsys, "desk", "charges", "--db", str(db_target), "--from",
                         yesterday.isoformat(), "--to", TODAY.isoformat(), "--format", "json")
    assert code == 0, err
    lines = json.loads(out)
    assert lines[0]["session_id"] == earlier.id and lines[0]["date_of_service"] == \
        yesterday.isoformat()
    assert {line["session_id"] for line in lines} == {earlier.id, *ids.values()}
    first = lines[0]
    assert (first["cpt_code"], first["units"], first["modifiers"], first["charge"]) == \
        ("97110", 2, ["GP"], 59.0)
    assert first["diagnosis_codes"] == ["M17.11"] and first["diagnosis_pointers"] == ["A"]
    assert first["fee"] == float(FEES["97110"]) and first["charge"] == 59.0  # numbers in JSON
    by_pta = next(line for line in lines if line["session_id"] == ids["by_pta"])
    assert (by_pta["rendering_clinician"], by_pta["delivered_by"], by_pta["credential"]) == (
        "PT User, PT", "PTA User, PTA", "PTA") and "CQ" in by_pta["modifiers"]


def test_a_code_without_a_fee_is_left_blank_and_said(capsys, clinic: Clinic, db_target):
    sid = sign(clinic.as_("pt"), clinic.complete_draft("pt").id).id
    clinic.store.db.execute("DELETE FROM fee_schedule WHERE code = '97110'")  # never set
    code, out, err = run(capsys, "desk", "charges", "--db", str(db_target), "--date",
                         TODAY.isoformat())
    assert code == 1
    row = next(csv.DictReader(io.StringIO(out)))
    assert (int(row["session_id"]), row["fee"], row["charge"]) == (sid, "", "")
    assert "No fee for 97110 in 2026" in err and "charges unknown" in err


def test_who_may_export_and_bad_arguments(capsys, clinic: Clinic, db_target,
                                          tmp_path: Path):
    day = TODAY.isoformat()
    for args, says in (
            (["--from", day], "--to is missing"),
            (["--date", day, "--to", day], "not both"),
            ([], "which dates?"),
            (["--date", day, "--format", "json", "--bom"], "--bom is for --format csv"),
            (["--date", "2026-13-01"], "argument --date"),
            (["--from", day, "--to", "2026-11-01"], "to: 2026-11-01 is before"),
            (["--from", "2024-01-01", "--to", day], "more than a year"),
            (["--date", day, "-o", str(tmp_path / "no" / "such.csv")], "cannot write")):
        code, out, err = run(capsys, "desk", "charges", "--db", str(db_target), *args)
        assert code == 2 and out == "" and says in err, (args, err)
        assert err.count("\n") == 1, err
    code, _out, err = run(capsys, "aide", "charges", "--db", str(db_target), "--date", day)
    assert code == 2 and "may not export charges" in err


def test_a_patient_name_a_spreadsheet_would_run_stays_text(capsys, clinic: Clinic,
                                                           db_target):
    draft = clinic.complete_draft("pt", TODAY, *second_patient(clinic, "-Dash", "=1+1"))
    sign(clinic.as_("pt"), draft.id)
    _code, out, _err = run(capsys, "desk", "charges", "--db", str(db_target), "--date",
                           TODAY.isoformat())
    row = next(csv.DictReader(io.StringIO(out)))
    assert row["patient_name"] == "'-Dash, Raj" and row["member_id"] == "'=1+1"


def test_superbills_and_summaries_from_the_command_line(capsys, clinic: Clinic, db_target,
                                                         tmp_path: Path, artifacts: Path):
    from pypdf import PdfReader

    ids = a_day_to_bill(clinic)
    bill = tmp_path / "bill.pdf"
    code, out, err = run(capsys, "desk", "superbill", "--db", str(db_target), "--session",
                         str(ids["two_codes"]), "-o", str(bill))
    assert code == 0 and f"1 superbill written to {bill}" in out, err
    assert bill.stat().st_mode & 0o777 == 0o600
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(bill).pages).split())
    amount = Decimal(0)
    for line in checked_lines(capsys, db_target, ids["two_codes"]):
        fee = Decimal(FEES[line["code"]])
        amount += fee * line["units"]
        assert f"{line['code']} " in text and \
            f"AB {line['units']} ${fee} ${fee * line['units']:.2f}" in text
    assert f"Total ${amount:.2f}" in text and "Signed electronically by PT User, PT" in text
    # the PTA's superbill names the supervising PT as rendering clinician, and who treated
    code, out, err = run(capsys, "desk", "superbill", "--db", str(db_target), "--session",
                         str(ids["by_pta"]), "-o", str(bill))
    assert code == 0, err
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(bill).pages).split())
    pt_npi = clinic.users["pt"].npi
    assert f"Rendering clinician PT User, PT, NPI {pt_npi}" in text
    assert "Delivered by PTA User, PTA" in text
    assert "(billed under the supervising PT's NPI; CQ on the lines)" in text
    assert " GP CQ " in text  # the Medicare lines carry it
    assert "Rendering clinician PTA" not in text
    save_pngs(bill.read_bytes(), artifacts, "superbill-pta")
    day = tmp_path / "bills.pdf"
    code, out, _err = run(capsys, "desk", "superbill", "--db", str(db_target), "--date",
                          TODAY.isoformat(), "-o", str(day))
    assert code == 0 and len(PdfReader(day).pages) == 3
    audited = sorted(e["entity_id"] for e in clinic.store.audit.entries()
                     if e["detail"] == "superbill pdf")
    assert audited == sorted([ids["two_codes"], ids["by_pta"], *ids.values()])
    code, _out, err = run(capsys, "desk", "superbill", "--db", str(db_target), "--session",
                          "999", "-o", str(tmp_path / "none.pdf"))
    assert code == 2 and "No session with id 999" in err
    assert not (tmp_path / "none.pdf").exists()
    for extra, count in (([], 2), (["--one-per-page"], 3)):
        paper = tmp_path / f"summaries{count}.pdf"
        code, _out, err = run(capsys, "desk", "summaries", "--db", str(db_target), "--date",
                              TODAY.isoformat(), "-o", str(paper), *extra)
        assert code == 0, err
        assert len(PdfReader(paper).pages) == count


def test_the_place_of_service_set_in_administration_is_billed(
        qtbot, capsys, clinic: Clinic, db_target, artifacts: Path):
    ids = a_day_to_bill(clinic)
    window = main_window(qtbot, clinic.as_("boss"))
    admin = admin_clinic_tab(qtbot, window)
    form = admin.clinic.form
    assert form.place_of_service.currentText() == "11 (office)"  # the default, as before
    fill(qtbot, "m", "Prairie Physical Therapy")
    fill(qtbot, "l", "2")
    alt(qtbot, "v", button=True)
    assert "two-digit CMS place-of-service code" in form.error_text("place_of_service")
    assert clinic.store.clinic.get() is None  # nothing saved
    assert admin.clinic.message.isHidden()  # and not said to be
    fill(qtbot, "l", "22")
    alt(qtbot, "v", button=True)
    assert form.error_text("place_of_service") == ""
    assert admin.clinic.message.isVisible()
    assert admin.clinic.message.text() == "✓ Clinic settings saved."
    admin.grab().save(str(artifacts / "admin-clinic-place-of-service.png"))
    assert clinic.store.clinic.get().place_of_service == "22"
    admin.close()
    window.close()
    # the notes signed before keep the place they were billed at; one signed now carries 22
    dpt = clinic.as_("dpt")
    second = dpt.save_draft(replace(clinic.store.sessions.get(ids["unsigned"]),
                                    acknowledgements=(Acknowledgement(
                                        "DUPLICATE_SESSION", "date_of_service",
                                        "Second visit: aquatic group"),)))
    sign(dpt, second.id)
    code, out, err = run(capsys, "desk", "charges", "--db", str(db_target), "--date",
                         TODAY.isoformat())
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out, newline="")))
    assert {(int(r["session_id"]), r["place_of_service"]) for r in rows} == {
        (ids["two_codes"], "11"), (ids["by_pta"], "11"), (second.id, "22")}

    def superbill(sid: int) -> str:
        return " ".join(PdfReader(io.BytesIO(clinic.as_("desk").superbills_pdf(
            [sid]))).pages[0].extract_text().split())
    assert "Place of service 11 (office)" in superbill(ids["two_codes"])
    assert "Place of service 22 (on campus-outpatient hospital)" in superbill(second.id)
    # signed, the session's place of service cannot be changed in the database either
    with pytest.raises(sqlite3.IntegrityError, match="signed"):
        clinic.store.db.execute("UPDATE sessions SET place_of_service = '22' WHERE id = ?",
                                [ids["two_codes"]])


def test_notes_signed_before_the_upgrade_keep_the_clinics_place_of_service(
        clinic: Clinic, db_path: Path, backend: str):
    """A database from before sessions recorded it: its signed notes get the clinic's setting
    of the moment of the upgrade, and keep it when the setting changes later."""
    only_sqlite(backend, "rewinds the file to schema 14 with the sqlite3 module")
    sid = sign(clinic.as_("pt"), clinic.complete_draft("pt").id).id
    clinic.admin.save_clinic(ClinicSettings("Prairie Physical Therapy", place_of_service="19"))
    clinic.store.close()
    # the same database as it was at schema 14: no place of service on its sessions
    with sqlite3.connect(db_path) as raw:
        raw.execute("ALTER TABLE sessions DROP COLUMN place_of_service")
        raw.execute("DROP TABLE draft_locks")  # made by later steps
        raw.executescript("DROP INDEX patients_last_key; DROP INDEX patients_first_key; "
                          "ALTER TABLE patients DROP COLUMN first_key; "
                          "ALTER TABLE patients DROP COLUMN last_key; "
                          "CREATE INDEX patients_first_name ON patients(first_name COLLATE "
                          "NOCASE, last_name COLLATE NOCASE);")
        raw.execute("ALTER TABLE clinic DROP COLUMN draft_idle_minutes")
        raw.executescript("DROP INDEX patients_mrn_search; "
                          "ALTER TABLE patients DROP COLUMN mrn_key;")
        raw.execute(f"PRAGMA user_version = {MIGRATIONS.index(m015_session_place_of_service)}")
    raw.close()
    with Store.open(db_path) as store:
        assert store.sessions.get(sid).place_of_service == "19"
        store.clinic.save(replace(store.clinic.get(), place_of_service="11"))
        assert store.sessions.get(sid).place_of_service == "19"


def test_a_clinic_set_up_earlier_bills_at_the_office(tmp_path: Path):
    """Before the setting, every line was billed at 11: a migrated clinic keeps it."""
    path = tmp_path / "old.sqlite3"
    db = dbmod.connect(path)
    db.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
    dbmod.migrate_to_latest(db, None, target=MIGRATIONS.index(m014_place_of_service))
    db.execute("INSERT INTO clinic (id, name) VALUES (1, 'Old Clinic')")
    db.close()
    with Store.open(path) as store:
        clinic = store.clinic.get()
        assert clinic is not None and clinic.place_of_service == "11"
        store.clinic.save(replace(clinic, place_of_service="22"))
        assert store.clinic.get().place_of_service == "22"
    with pytest.raises(ValidationError) as refused:
        replace(clinic, place_of_service="1")
    assert refused.value.problems[0].field == "place_of_service"
    assert "22 (on campus-outpatient hospital)" in refused.value.problems[0].message


def test_a_pta_superbill_for_a_commercial_payer_says_no_cq(capsys, clinic: Clinic, db_target,
                                                           tmp_path: Path, artifacts: Path):
    """CQ is a Medicare modifier: a commercial payer's lines do not carry it, and the PTA's
    superbill does not say they do."""
    from ptdoc.catalog import payer_from_profile

    commercial = clinic.admin.add_payer(payer_from_profile("Acme Health", "commercial"))
    patient = clinic.admin.add_patient(Patient("MRN-3", "Ola", "Berg", dt.date(1970, 3, 4),
                                               commercial.id, member_id="ACM123"))
    episode = clinic.admin.add_episode(replace(clinic.episode, id=None, patient_id=patient.id))
    pta = clinic.as_("pta")
    draft = clinic.complete_draft("pta", TODAY, patient, episode)
    draft = pta.save_draft(replace(
        draft, supervised_by=clinic.users["pt"].id,
        exercises=tuple(replace(e, delivered_by=Provider.PTA) for e in draft.exercises)))
    sid = sign(pta, draft.id).id
    lines = checked_lines(capsys, db_target, sid)
    assert lines and all("CQ" not in line["modifiers"] for line in lines)
    bill = tmp_path / "bill.pdf"
    code, _out, err = run(capsys, "desk", "superbill", "--db", str(db_target), "--session",
                          str(sid), "-o", str(bill))
    assert code == 0, err
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(bill).pages).split())
    assert "Delivered by PTA User, PTA" in text
    assert "(billed under the supervising PT's NPI)" in text and "CQ" not in text
    save_pngs(bill.read_bytes(), artifacts, "superbill-pta-commercial")


def test_the_day_sheet_totals_by_rendering_provider_match_the_charges_csv(
        capsys, clinic: Clinic, db_target, tmp_path: Path, artifacts: Path):
    """The biller adds up the CSV by rendering clinician and NPI and finds the day sheet's
    rows; who delivered (the PTA) stays on the sheet in its own table."""
    ids = a_day_to_bill(clinic)
    code, out, err = run(capsys, "desk", "charges", "--db", str(db_target), "--date",
                         TODAY.isoformat())
    assert code == 1, err  # the DPT's draft is not charged
    sums: dict[str, list] = {}
    for row in csv.DictReader(io.StringIO(out)):
        key = f"{row['rendering_clinician']}, NPI {row['rendering_npi']}"
        got = sums.setdefault(key, [set(), 0, Decimal(0)])
        got[0].add(row["session_id"])
        got[1] += int(row["units"])
        got[2] += Decimal(row["charge"])
    assert list(sums) == [f"PT User, PT, NPI {clinic.users['pt'].npi}"]
    sheet = tmp_path / "sheet.pdf"
    code, _out, err = run(capsys, "desk", "summaries", "--db", str(db_target), "--date",
                          TODAY.isoformat(), "--day-sheet", "-o", str(sheet))
    assert code == 0, err
    text = " ".join(" ".join(p.extract_text() for p in PdfReader(sheet).pages).split())
    by_rendering = text.split("Totals by rendering provider")[1].split("Sessions by")[0]
    for who, (_sessions, units, charge) in sums.items():
        # sessions, signed, units signed, charges signed: the signed ones are the CSV's
        assert f"{who} 2 2 {units} ${charge:.2f}" in by_rendering, by_rendering
    dpt = clinic.users["dpt"]
    assert f"DPT User, DPT, NPI {dpt.npi} 1 0 0 $0.00" in by_rendering
    delivered = text.split("Sessions by the clinician who delivered them")[1]
    assert "PTA User, PTA 1 1 " in delivered.split("Totals by payer")[0]
    assert len(ids) == 3
    save_pngs(sheet.read_bytes(), artifacts, "day-sheet-rendering")
