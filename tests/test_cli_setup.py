"""A clinic set up from an empty database with the command line only, as a manager would."""

import datetime as dt
import io
import json
from pathlib import Path

from pypdf import PdfReader
from test_cli import as_admin, as_user, new_clinic, ptdoc

PT_PASSWORD = "jane-password"


def as_pt(*args: str) -> object:
    return as_user("jdoe", *args, password=PT_PASSWORD)


def test_a_clinic_goes_live_from_an_empty_database(tmp_path: Path, empty_db) -> None:
    db = empty_db
    env_db = ["--db", str(db)]
    new_clinic(db)
    steps = [
        as_admin(*env_db, "clinic", "set", "--name", "Lakeside Physical Therapy",
                 "--time-zone", "UTC"),
        as_admin(*env_db, "user", "add", "jdoe", "--name", "Jane Doe", "--credential", "DPT",
                 "--npi", "1234567893", stdin="jane-initial\n"),
        as_admin(*env_db, "user", "add", "desk", "--name", "Pat Desk", "--credential",
                 "front desk", stdin="desk-initial\n"),
        # each chooses their own password in place of the one the administrator gave
        as_user("jdoe", *env_db, "user", "password", "jdoe", password="jane-initial",
                stdin=f"{PT_PASSWORD}\n"),
        as_user("desk", *env_db, "user", "password", "desk", password="desk-initial",
                stdin="desk-password\n"),
        as_admin(*env_db, "payer", "add", "Medicare Part B", "--profile", "medicare"),
        as_admin(*env_db, "payer", "add", "State Fund", "--profile", "workers_comp",
                 "--unit-method", "per-code"),
    ]
    for step in steps:
        assert step.returncode == 0, step.stderr
    payers = json.loads(as_admin(*env_db, "payers", "--json").stdout)
    assert [(p["name"], p["unit_method"], p["kx_applies"]) for p in payers] == [
        ("Medicare Part B", "cms", True), ("State Fund", "per-code", False)]

    added = as_user("desk", *env_db, "patient", "add", "--first", "Ann", "--last", "Lee",
                    "--dob", "1950-03-04", "--sex", "female", "--phone", "555-0100",
                    "--payer", "medicare part b", "--member-id", "1EG4TE5MK73",
                    password="desk-password")
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "Registered Lee, Ann as LPT-00001"
    again = as_user("desk", *env_db, "patient", "add", "--first", "ANN", "--last", "lee",
                    "--dob", "03/04/1950", password="desk-password")
    assert again.returncode == 2 and again.stderr.count("\n") == 1
    assert "probably registered already: LPT-00001 Lee, Ann" in again.stderr
    assert "--allow-duplicate" in again.stderr
    twin = as_user("desk", *env_db, "patient", "add", "--first", "Ann", "--last", "Lee",
                   "--dob", "1950-03-04", "--allow-duplicate", password="desk-password")
    assert twin.returncode == 0 and "LPT-00002" in twin.stdout

    episode = as_pt(*env_db, "episode", "add", "--patient", "LPT-00001", "--start",
                    "2026-01-05", "--diagnosis", "M17.11", "--diagnosis", "m25561",
                    "--goal", "STG: stairs with one rail", "--goal", "LTG: walk 1 mile",
                    "--frequency", "2x/week", "--duration", "8 weeks",
                    "--physician", "Dr. Ada Park", "--physician-npi", "1245319599",
                    "--certified-on", "2026-01-08", "--certified-through", "2026-04-04",
                    "--order-on-file")
    assert episode.returncode == 0, episode.stderr
    listed = json.loads(as_pt(*env_db, "episodes", "--patient", "LPT-00001", "--json").stdout)
    assert listed[0]["diagnoses"] == ["M17.11", "M25.561"]
    assert listed[0]["certified_through"] == "2026-04-04" and listed[0]["order_on_file"]
    recert = as_pt(*env_db, "episode", "recertify", str(listed[0]["id"]), "--certified-on",
                   "2026-04-01", "--certified-through", "2026-06-30")
    assert recert.returncode == 0, recert.stderr
    history = json.loads(as_pt(*env_db, "episode", "history", str(listed[0]["id"]),
                               "--json").stdout)
    assert [(h["by"], h["action"]) for h in history] == [("jdoe", "create"),
                                                         ("jdoe", "recertify")]
    assert history[1]["changes"]["certified_through"] == ["2026-04-04", "2026-06-30"]
    by_desk = as_user("desk", *env_db, "episode", "discharge", str(listed[0]["id"]), "--on",
                      "2026-06-30", password="desk-password")
    assert by_desk.returncode == 2 and "may not write evaluations" in by_desk.stderr

    today = dt.datetime.now(dt.UTC).date()
    tomorrow = today + dt.timedelta(days=1)
    booked = as_user("desk", *env_db, "appointment", "set", "--patient", "LPT-00001", "--at",
                     f"{tomorrow} 09:30", "--clinician", "jdoe", password="desk-password")
    assert booked.returncode == 0, booked.stderr
    today_too = as_user("desk", *env_db, "appointment", "set", "--patient", "LPT-00002",
                        "--at", f"{today} 16:00", password="desk-password")
    assert today_too.returncode == 0, today_too.stderr

    # The clinician documents today's visit in the window (here: through the same services)
    from ptdoc.services import Workspace
    from ptdoc.store import Store

    with Store.open(db) as store:
        jane = store.users.by_username("jdoe")
        ws = Workspace(store, jane)
        patient = store.patients.by_mrn("LPT-00001")
        episode_id = store.episodes.for_patient(patient.id)[0].id
        session = ws.new_session(patient.id, today, episode_id)
    sessions = as_user("desk", *env_db, "sessions", "--date", "today",
                       password="desk-password")
    assert f"{session.id:>6}  {today}" in sessions.stdout and "LPT-00001" in sessions.stdout
    expected = as_user("desk", *env_db, "appointments", "--json", password="desk-password")
    assert [r["patient"] for r in json.loads(expected.stdout)] == ["LPT-00002"]
    out = tmp_path / "day.pdf"
    printed = as_user("desk", *env_db, "summaries", "--date", "today", "-o", str(out),
                      password="desk-password")
    assert printed.returncode == 0, printed.stderr
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(out.read_bytes()))
                     .pages)
    assert "Lakeside Physical Therapy" in text and "Lee, Ann" in text
    assert f"{tomorrow} 09:30 with Jane Doe, DPT" in text
    page = json.loads(as_user("desk", *env_db, "patient", "show", "LPT-00001", "--json",
                              password="desk-password").stdout)
    assert page["next_appointment"] == f"{tomorrow} 09:30" and page["episodes"] == []
    assert [v["status"] for v in page["visits"]] == ["draft"]


def test_patient_import_from_a_messy_file_twice(tmp_path: Path, empty_db) -> None:
    db = empty_db
    new_clinic(db)
    assert as_admin("--db", str(db), "payer", "add", "Aetna PPO", "--profile",
                    "commercial").returncode == 0
    csv = tmp_path / "export.csv"
    csv.write_bytes("\ufeffmrn,FIRST_NAME,Last_Name,Date_of_Birth,sex,phone,payer,member_id,x\r\n"
                    "E-1,Ann,Lee,03/04/1950,F,555,AETNA PPO,W123,note\r\n"
                    "E-2,Bo,,1960-01-01,,,,,\r\n"
                    "E-3,Cy,Oh,1961-13-01,,,,,\r\n"
                    "E-1,Di,Wu,1962-01-01,,,,,\r\n"
                    ",Ed,Vo,1963-02-03,,,,,\r\n".encode())
    first = as_admin("--db", str(db), "patient", "import", str(csv))
    assert first.returncode == 1
    assert "2 added, 0 already here, 3 refused" in first.stdout
    lines = first.stderr.splitlines()
    assert [line.split(": ")[2] for line in lines] == ["line 3", "line 4", "line 5"]
    assert "last name is missing" in lines[0] and "repeats line 2" in lines[2]
    second = as_admin("--db", str(db), "patient", "import", str(csv))
    assert second.returncode == 1 and "0 added, 2 already here, 3 refused" in second.stdout
    listed = json.loads(as_admin("--db", str(db), "patients", "--json").stdout)
    assert [(p["mrn"], p["payer"], p["member_id"]) for p in listed] == [
        ("E-1", "Aetna PPO", "W123"), ("PT-00001", None, "")]
    found = as_admin("--db", str(db), "patients", "--search", "vo")
    assert found.stdout.startswith("PT-00001") and "Lee" not in found.stdout
    missing = as_admin("--db", str(db), "patient", "import", str(tmp_path / "nope.csv"))
    assert missing.returncode == 2 and "cannot read" in missing.stderr


def test_bad_setup_arguments_are_one_line_and_exit_2(tmp_path: Path, empty_db) -> None:
    db = empty_db
    new_clinic(db)
    for args, says in (
            (["patient", "add", "--first", "A", "--last", "B", "--dob", "1950-02-30"],
             "--dob"),
            (["payer", "add", "X", "--profile", "barter"], "--profile"),
            (["appointment", "set", "--patient", "NOPE", "--at", "2030-01-01 25:00"], "--at"),
            (["appointment", "set", "--patient", "NOPE", "--at", "2030-01-01 09:00"],
             "No patient with MRN NOPE"),
            (["patient", "add", "--first", "A", "--last", "B", "--dob", "1950-02-03",
              "--payer", "Nobody"], "No payer named 'Nobody'"),
            (["episode", "add", "--patient", "X", "--start", "2026-01-01"], "--diagnosis")):
        result = as_admin("--db", str(db), *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert ptdoc("--db", str(db), "patients").returncode == 2  # who runs it must be given
