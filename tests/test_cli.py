"""The ptdoc command, run as a user would run it (a real process, real files)."""

import datetime as dt
import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from ptdoc import __version__, clock
from ptdoc.identifiers import npi_with_check_digit

ROOT = Path(__file__).resolve().parent.parent


def ptdoc(*args: str, env: dict | None = None, stdin: str | None = None
          ) -> subprocess.CompletedProcess:
    full_env = dict(os.environ, PYTHONPATH=str(ROOT))
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "ptdoc", *args], capture_output=True,
                          text=True, env=full_env, input=stdin, timeout=120)


DEMO_PASSWORD = "demo1234"  # every demo user's
ADMIN_PASSWORD = "long-password"  # the administrator of a clinic made by new_clinic


def as_user(user: str, *args: str, password: str = DEMO_PASSWORD, stdin: str = "",
            env: dict | None = None) -> subprocess.CompletedProcess:
    """A command run by a ptdoc user: their password on the first line of standard input."""
    return ptdoc(*args, "--user", user, "--password-stdin", stdin=f"{password}\n{stdin}",
                 env=env)


def as_admin(*args: str, stdin: str = "", env: dict | None = None
             ) -> subprocess.CompletedProcess:
    """A command run by the administrator of a clinic made by ``new_clinic``."""
    return as_user("admin", *args, password=ADMIN_PASSWORD, stdin=stdin, env=env)


def new_clinic(db: Path) -> None:
    """A real clinic from nothing: its first user, the administrator, makes the database."""
    result = ptdoc("--db", str(db), "user", "add", "admin", "--name", "Office Manager",
                   "--credential", "admin", "--password-stdin", stdin=f"{ADMIN_PASSWORD}\n")
    assert result.returncode == 0, result.stderr
    assert "the clinic's administrator" in result.stdout


def audit(db: Path) -> list[dict]:
    from ptdoc.store import Store

    with Store.open(db) as store:
        return list(store.audit.entries())


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    result = ptdoc("demo", "--db", str(path))
    assert result.returncode == 0, result.stderr
    assert "Demo clinic created" in result.stdout
    return path


def test_version() -> None:
    result = ptdoc("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"ptdoc {__version__}"


@pytest.mark.parametrize("args", [
    ["bogus"], ["sessions", "--date", "2026-02-30"], ["session", "export", "abc"],
    ["session"], ["units"], ["--db"],
])
def test_bad_arguments_give_one_line_and_exit_2(args: list[str]) -> None:
    result = ptdoc(*args)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("ptdoc: ")
    assert "Traceback" not in result.stderr


def test_sessions_json_lists_the_demo(demo_db: Path) -> None:
    result = as_user("mchen", "sessions", "--db", str(demo_db), "--json")
    assert result.returncode == 0, result.stderr
    rows = json.loads(result.stdout)
    assert len(rows) > 200
    for row in rows:
        assert set(row) >= {"id", "date", "patient", "clinician", "status"}
        dt.date.fromisoformat(row["date"])
        assert row["status"] in ("draft", "signed")
        assert row["patient"].startswith("RPT-")
    today = clock.today().isoformat()
    by_date = json.loads(as_user("mchen", "sessions", "--db", str(demo_db), "--date", today,
                                 "--json").stdout)
    assert {r["date"] for r in by_date} <= {today}
    mrn = rows[0]["patient"]
    by_patient = json.loads(as_user("pkim", "--db", str(demo_db), "sessions", "--patient",
                                    mrn, "--json").stdout)
    assert by_patient and {r["patient"] for r in by_patient} == {mrn}


def test_db_and_user_from_environment(demo_db: Path) -> None:
    result = ptdoc("sessions", "--status", "draft", "--password-stdin", stdin="demo1234\n",
                   env={"PTDOC_DB": str(demo_db), "PTDOC_USER": "jokafor"})
    assert result.returncode == 0 and "draft" in result.stdout


def test_unknown_things_exit_2(demo_db: Path, tmp_path: Path) -> None:
    for args in (["session", "export", "999999"], ["sessions", "--patient", "NOPE"],
                 ["session", "import", str(tmp_path / "missing.json")]):
        result = as_user("mchen", "--db", str(demo_db), *args)
        assert result.returncode == 2, args
        assert result.stderr.count("\n") == 1
    result = as_user("mchen", "sessions", "--db", str(tmp_path / "none.sqlite3"))
    assert result.returncode == 2 and "No database" in result.stderr
    assert not (tmp_path / "none.sqlite3").exists()


def test_export_then_import_into_another_clinic(demo_db: Path, tmp_path: Path) -> None:
    rows = json.loads(as_user("mchen", "sessions", "--db", str(demo_db), "--status", "signed",
                              "--json").stdout)
    out = tmp_path / "note.json"
    result = as_user("mchen", "--db", str(demo_db), "session", "export", str(rows[0]["id"]),
                     "--json", "-o", str(out))
    assert result.returncode == 0, result.stderr
    doc = json.loads(out.read_text())
    assert doc["format"] == "ptdoc.session" and doc["session"]["signature"]

    # another clinic that has the same clinicians (by username) but not the patient
    other = tmp_path / "other.sqlite3"
    from ptdoc.domain import Credential, User
    from ptdoc.services import Workspace
    from ptdoc.store import Store
    with Store.open(other) as store:
        ws = Workspace(store, None)
        for user in doc["clinicians"]:
            ws.add_user(User(user["username"], user["full_name"], Credential(user["credential"]),
                             user["npi"]), "temporary-pass")
    # Same usernames, other people's keys: the signature cannot be its signer's here.
    clinician = doc["clinicians"][0]["username"]
    result = as_user(clinician, "--db", str(other), "session", "import", str(out),
                     password="temporary-pass")
    assert result.returncode == 2
    assert f"its key {doc['session']['signature']['key_id']} is not in this clinic's key " \
           "history" in result.stderr
    assert as_user(clinician, "--db", str(other), "sessions", "--json",
                   password="temporary-pass").stdout.strip() == "[]"
    result = as_user(clinician, "--db", str(other), "session", "import", str(out),
                     "--as-draft", password="temporary-pass")
    assert result.returncode == 0, result.stderr
    assert "(draft," in result.stdout
    again = json.loads(as_user(clinician, "--db", str(other), "session", "export", "1",
                               password="temporary-pass").stdout)
    original = json.loads(out.read_text())
    # the content travels whole; the signature and addenda stay behind, the context is new
    for side in (again, original):
        side.pop("context")
        for key in ("signature", "addenda", "status"):
            side["session"].pop(key)
        side["clinicians"] = [u for u in side["clinicians"]
                              if u["username"] in (side["session"]["delivered_by"],
                                                   side["session"]["supervised_by"])]
    assert again == original
    with Store.open(other) as store:
        assert [e["detail"] for e in store.audit.entries("session", 1)
                if e["action"] == "import"] == ["as draft"]


def test_import_reports_every_problem_with_its_path(demo_db: Path, tmp_path: Path) -> None:
    text = as_user("mchen", "--db", str(demo_db), "session", "export", "1").stdout
    doc = json.loads(text)
    doc["session"]["exercises"][0]["reps"] = -1
    doc["session"]["date_of_service"] = "yesterday"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    result = as_user("mchen", "--db", str(demo_db), "session", "import", str(bad))
    assert result.returncode == 2
    assert "session.exercises[0].reps" in result.stderr
    assert "session.date_of_service" in result.stderr


def test_backup_and_restore(demo_db: Path, tmp_path: Path) -> None:
    work = tmp_path / "work.sqlite3"
    assert as_user("admin", "--db", str(demo_db), "backup", str(work)).returncode == 0
    count = len(json.loads(as_user("mchen", "sessions", "--db", str(work), "--json").stdout))
    backup_dir = tmp_path / "keep"
    backup_dir.mkdir()
    result = as_user("admin", "--db", str(work), "backup", str(backup_dir))
    assert result.returncode == 0
    saved = next(backup_dir.glob("ptdoc-backup-*.sqlite3"))
    garbage = tmp_path / "garbage.sqlite3"
    garbage.write_text("hello")
    result = as_user("admin", "--db", str(work), "restore", str(garbage))
    assert result.returncode == 1 and "not a ptdoc database" in result.stderr
    result = as_user("mchen", "--db", str(work), "restore", str(saved), "--force")
    assert result.returncode == 2 and "may not back up or restore" in result.stderr
    work.write_bytes(b"\0" * 5000)  # the working database is destroyed
    result = as_user("mchen", "sessions", "--db", str(work))
    assert result.returncode == 1 and "restore" in result.stderr
    result = ptdoc("--db", str(work), "restore", str(saved))  # not on a terminal: no question
    assert result.returncode == 2 and "--force" in result.stderr
    assert f"with {saved} ({count} sessions, the last on" in result.stderr
    result = ptdoc("--db", str(work), "restore", str(saved), "--force")
    assert result.returncode == 0, result.stderr
    assert len(json.loads(as_user("mchen", "sessions", "--db", str(work),
                                  "--json").stdout)) == count
    # a damaged database has no users to ask: its restore is audited without a name
    restored = next(e for e in audit(work) if e["action"] == "restore")
    assert restored["actor"] == "cli" and restored["detail"] == saved.name


def test_demo_refuses_to_overwrite(demo_db: Path) -> None:
    result = ptdoc("demo", "--db", str(demo_db))
    assert result.returncode == 2 and "--force" in result.stderr


def test_gui_without_a_display_says_so_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items()
           if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    env["PYTHONPATH"] = str(ROOT)
    result = subprocess.run([sys.executable, "-m", "ptdoc", "--db",
                             str(tmp_path / "x.sqlite3")], capture_output=True, text=True,
                            env=env, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "no display" in result.stderr
    assert "QT_QPA_PLATFORM=offscreen" in result.stderr


def test_npi_helper_matches_cli_users() -> None:
    assert npi_with_check_digit("123456789") == "1234567893"


def test_units_matches_the_manual(tmp_path: Path) -> None:
    result = ptdoc("units", "--json", "97112=24", "97110=23")
    data = json.loads(result.stdout)
    assert data["method"] == "cms" and data["total_timed_minutes"] == 47
    assert data["total_units"] == 3
    assert {line["code"]: line["units"] for line in data["lines"]} == {"97112": 2, "97110": 1}
    assert data["choices"] == [{"97112": 2, "97110": 1}]
    plain = ptdoc("units", "97110=33", "97140=7")
    assert plain.stdout.splitlines()[:2] == ["97110 2", "97140 1"]
    assert "97140" in plain.stdout.splitlines()[3]


def test_units_ties_untimed_and_per_code() -> None:
    data = json.loads(ptdoc("units", "--json", "97112=7", "97110=7", "97140=7",
                            "97010=12").stdout)
    assert data["total_units"] == 2 and len(data["choices"]) == 3
    assert all(c["97010"] == 1 and sum(c.values()) == 2 for c in data["choices"])
    untimed = next(line for line in data["lines"] if line["code"] == "97010")
    assert untimed == {"code": "97010", "minutes": 12, "units": 1}
    assert data["total_timed_minutes"] == 21
    per_code = json.loads(ptdoc("units", "--method", "per-code", "--json", "97110=33",
                                "97140=7").stdout)
    assert per_code["method"] == "per-code"
    assert {line["code"]: line["units"] for line in per_code["lines"]} == {"97110": 2,
                                                                            "97140": 0}


@pytest.mark.parametrize("args", [["99999=10"], ["97110=-5"], ["97110=2.5"], ["=15"],
                                  ["97110"], []])
def test_units_bad_input(args: list[str]) -> None:
    result = ptdoc("units", *args)
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_check_a_session_and_a_file(demo_db: Path, tmp_path: Path) -> None:
    drafts = json.loads(as_user("mchen", "sessions", "--db", str(demo_db), "--status", "draft",
                                "--json").stdout)
    results = [as_user("mchen", "--db", str(demo_db), "check", "--session", str(r["id"]),
                       "--json") for r in drafts]
    blocked = [r for r in results if r.returncode == 1]
    assert blocked, "the demo has drafts with gaps"
    found = {f["code"] for r in blocked for f in json.loads(r.stdout)["findings"]}
    assert "CODE_EVAL_FOR_EXERCISE" in found
    for r in blocked:
        data = json.loads(r.stdout)
        assert set(data["findings"][0]) == {"code", "severity", "field", "message", "source",
                                            "fix"}
        assert all(set(line) == {"code", "minutes", "units", "modifiers"}
                   for line in data["lines"])

    signed = json.loads(as_user("mchen", "sessions", "--db", str(demo_db), "--status",
                                "signed", "--json").stdout)[0]
    note = tmp_path / "signed.json"
    as_user("mchen", "--db", str(demo_db), "session", "export", str(signed["id"]), "-o",
            str(note))
    result = ptdoc("check", str(note))
    assert result.returncode == 0, result.stdout
    assert "Billing:" in result.stdout

    doc = json.loads(note.read_text())
    doc["session"]["signature"] = None
    doc["session"]["addenda"] = []
    doc["session"]["status"] = "draft"
    doc["session"]["services"][0]["code"] = "97162"
    doc["context"]["treatment_days_since_progress_report"] = 9
    gap = tmp_path / "gap.json"
    gap.write_text(json.dumps(doc))
    result = ptdoc("check", str(gap), "--json")
    assert result.returncode == 1
    codes = {f["code"] for f in json.loads(result.stdout)["findings"]}
    assert "CODE_EVAL_FOR_EXERCISE" in codes or doc["session"]["note_type"] != "daily"

    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    assert ptdoc("check", str(bad)).returncode == 2
    assert ptdoc("check").returncode == 2


def test_check_judges_stated_units_when_another_line_states_none(demo_db: Path,
                                                                   tmp_path: Path) -> None:
    signed = json.loads(as_user("mchen", "sessions", "--db", str(demo_db), "--status",
                                "signed", "--json").stdout)
    note = tmp_path / "note.json"
    as_user("mchen", "--db", str(demo_db), "session", "export", str(signed[-1]["id"]), "-o",
            str(note))
    doc = json.loads(note.read_text())
    session = doc["session"]
    session.update(signature=None, addenda=[], status="draft")
    line = next(i for i, s in enumerate(session["services"]) if s["code"] == "97110")
    right = session["services"][line]["units"]
    session["services"][line]["units"] = right + 3
    # An untimed modality with no units stated: before, it made the whole check step aside.
    session["services"].append({"code": "97018", "minutes": 5, "units": None,
                                "modifiers": []})
    session["total_treatment_minutes"] += 5
    over = tmp_path / "over.json"
    over.write_text(json.dumps(doc))
    result = ptdoc("check", str(over), "--json")
    assert result.returncode == 1, result.stdout + result.stderr
    data = json.loads(result.stdout)
    wrong = [f for f in data["findings"] if f["code"] == "UNITS_MINUTES_MISMATCH"]
    assert [f["field"] for f in wrong] == [f"services[{line}].units"]
    assert f"97110 bills {right + 3} units" in wrong[0]["message"]
    billed = {row["code"]: row["units"] for row in data["lines"]}
    assert billed["97110"] == right and billed["97018"] == 1

    session["services"][line]["units"] = right
    over.write_text(json.dumps(doc))
    data = json.loads(ptdoc("check", str(over), "--json").stdout)
    assert "UNITS_MINUTES_MISMATCH" not in {f["code"] for f in data["findings"]}


def test_payer_rules_and_fee_schedule_are_clinic_editable(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "edit.sqlite3"
    assert as_user("admin", "--db", str(demo_db), "backup", str(db)).returncode == 0
    before = {p["name"]: p for p in json.loads(as_user("pkim", "payers", "--db", str(db),
                                                       "--json").stdout)}
    assert before["Medicare Part B"]["kx_applies"] and before["Medicare Part B"]["gp_required"]
    assert before["Blue Harbor PPO"]["unit_method"] == "per-code"
    result = as_user("admin", "--db", str(db), "payer", "set", "Blue Harbor PPO",
                     "--unit-method", "cms", "--gp", "--no-pair-edits")
    assert result.returncode == 0, result.stderr
    after = {p["name"]: p for p in json.loads(as_user("mchen", "payers", "--db", str(db),
                                                      "--json").stdout)}
    assert after["Blue Harbor PPO"]["unit_method"] == "cms"
    assert after["Blue Harbor PPO"]["gp_required"] and not after["Blue Harbor PPO"][
        "code_pair_edits"]
    assert as_user("admin", "--db", str(db), "fees", "set", "97750", "41.20", "--year", "2026"
                   ).returncode == 0
    fees = json.loads(as_user("lrivera", "--db", str(db), "fees", "--year", "2026",
                              "--json").stdout)
    assert fees["97750"] == "41.20"
    # As a price is written: a dollar sign and a thousands comma.
    assert as_user("admin", "--db", str(db), "fees", "set", "97750", "$1,041.20", "--year",
                   "2026").returncode == 0
    fees = json.loads(as_user("lrivera", "--db", str(db), "fees", "--year", "2026",
                              "--json").stdout)
    assert fees["97750"] == "1041.20"
    refused = as_user("admin", "--db", str(db), "fees", "set", "97110", "lots")
    assert refused.returncode == 2 and "$31.75 or 1,250 (got 'lots')" in refused.stderr


def test_clinic_settings_idle_lock(demo_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite3"
    assert as_user("admin", "--db", str(demo_db), "backup", str(db)).returncode == 0
    assert as_user("admin", "--db", str(db), "clinic", "set", "--idle-lock", "3"
                   ).returncode == 0
    data = json.loads(as_user("tnguyen", "--db", str(db), "clinic", "--json").stdout)
    assert data["idle_lock_minutes"] == 3 and data["name"] == "Riverside Physical Therapy"
    bad = as_user("admin", "--db", str(db), "clinic", "set", "--idle-lock", "0")
    assert bad.returncode == 2 and "Idle lock must be" in bad.stderr
    assert data["draft_idle_minutes"] == 20  # ptdoc's rule until the clinic sets another
    assert as_user("admin", "--db", str(db), "clinic", "set", "--draft-idle", "45"
                   ).returncode == 0
    shown = as_user("tnguyen", "--db", str(db), "clinic").stdout
    assert "Open drafts idle after 45 minutes without a save" in shown
    bad = as_user("admin", "--db", str(db), "clinic", "set", "--draft-idle", "2")
    assert bad.returncode == 2
    assert bad.stderr.strip().endswith("Open draft idle must be a number from 5 to 240 minutes "
                                       "(got 2)")


def test_users_are_added_and_managed_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "new-clinic.sqlite3"  # a real clinic starts from nothing
    first = ptdoc("--db", str(db), "user", "add", "ada", "--name", "Ada Park", "--credential",
                  "PT", "--npi", "1234567893", "--password-stdin", stdin="long-password\n")
    assert first.returncode == 2 and "--credential admin" in first.stderr
    assert not db.exists()  # nothing is made until the administrator is
    new_clinic(db)
    result = as_admin("--db", str(db), "user", "add", "ada", "--name", "Ada Park",
                      "--credential", "PT", "--npi", "1234567893", stdin="pt-password\n")
    assert result.returncode == 0, result.stderr
    for args, stdin, why in (
            (["bo", "--name", "Bo", "--credential", "PT"], "long-password\n", "NPI"),
            (["cy", "--name", "Cy", "--credential", "front desk"], "12\n", "at least 4"),
            (["ada", "--name", "Ada Two", "--credential", "aide"], "long-password\n", "taken"),
            (["ada2", "--name", "Ada Park", "--credential", "PT", "--npi", "1234567893"],
             "long-password\n", "belongs to user 'ada'")):
        refused = as_admin("--db", str(db), "user", "add", *args, stdin=stdin)
        assert refused.returncode == 2 and why in refused.stderr, (args, refused.stderr)
        assert refused.stderr.count("\n") == 1
    # her own password, with her current one; then an administrator resets it
    own = as_user("ada", "--db", str(db), "user", "password", "ada", password="pt-password",
                  stdin="4321\n")
    assert own.returncode == 0, own.stderr
    assert as_user("ada", "--db", str(db), "users", password="4321").returncode == 0
    assert as_admin("--db", str(db), "user", "password", "ada", stdin="8765\n").returncode == 0
    assert as_admin("--db", str(db), "user", "disable", "ada").returncode == 0
    users = json.loads(as_admin("--db", str(db), "users", "--json").stdout)
    assert users == [{"username": "ada", "name": "Ada Park", "credential": "PT",
                      "npi": "1234567893", "active": False},
                     {"username": "admin", "name": "Office Manager", "credential": "admin",
                      "npi": None, "active": True}]
    refused = as_user("ada", "--db", str(db), "users", password="8765")
    assert refused.returncode == 2 and "wrong password" in refused.stderr  # disabled
    # the last administrator stays
    last = as_admin("--db", str(db), "user", "disable", "admin")
    assert last.returncode == 2 and "last active administrator" in last.stderr
    actions = [(e["actor"], e["action"], e["detail"]) for e in audit(db)]
    assert ("admin", "admin", "create") in actions  # the first user, their own act
    assert ("ada", "admin", "password") in actions and ("admin", "admin", "disable") in actions
    assert ("admin", "denied", "LAST_ADMIN") in actions
    assert all(actor != "cli" for actor, _, _ in actions)


def test_a_password_an_administrator_gave_runs_nothing_but_its_change(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite3"
    new_clinic(db)
    assert as_admin("--db", str(db), "user", "add", "cy", "--name", "Cy Desk", "--credential",
                    "front desk", stdin="cy-initial\n").returncode == 0
    hint = "ptdoc user password cy --user cy"
    for args in (["users"], ["sessions"], ["user", "password", "admin"]):
        refused = as_user("cy", "--db", str(db), *args, password="cy-initial",
                          stdin="cy-chosen\n")
        assert refused.returncode == 2 and hint in refused.stderr, (args, refused.stderr)
        assert refused.stderr.count("\n") == 1 and refused.stdout == ""
    same = as_user("cy", "--db", str(db), "user", "password", "cy", password="cy-initial",
                   stdin="cy-initial\n")
    assert same.returncode == 2 and "your current one" in same.stderr
    own = as_user("cy", "--db", str(db), "user", "password", "cy", password="cy-initial",
                  stdin="cy-chosen\n")
    assert own.returncode == 0, own.stderr
    assert as_user("cy", "--db", str(db), "users", password="cy-chosen").returncode == 0
    assert as_user("cy", "--db", str(db), "users", password="cy-initial").returncode == 2

    # a reset makes it temporary again; the administrator's own change does not
    assert as_admin("--db", str(db), "user", "password", "cy", stdin="cy-reset-1\n"
                    ).returncode == 0
    assert hint in as_user("cy", "--db", str(db), "users", password="cy-reset-1").stderr
    assert as_admin("--db", str(db), "user", "password", "admin", stdin="admin-chosen\n"
                    ).returncode == 0
    assert as_user("admin", "--db", str(db), "users", password="admin-chosen").returncode == 0
    actions = [(e["actor"], e["action"], e["detail"]) for e in audit(db)
               if e["entity"] == "user"]
    assert actions.count(("cy", "denied", "MUST_CHANGE_PASSWORD")) == 4
    assert ("cy", "admin", "password") in actions
    assert ("admin", "admin", "temporary password") in actions
    assert ("admin", "admin", "password") in actions


def _copy_of_the_demo(demo_db: Path, tmp_path: Path) -> Path:
    db = tmp_path / "copy.sqlite3"
    assert as_user("admin", "--db", str(demo_db), "backup", str(db)).returncode == 0
    return db


def _state(db: Path) -> tuple:
    """Everything a refused command must leave as it was (the audit aside)."""
    conn = sqlite3.connect(db)
    try:
        return tuple(conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
                     for table in ("users", "clinic", "payers", "fee_schedule", "sessions"))
    finally:
        conn.close()


@pytest.mark.parametrize(("user", "args", "stdin", "says"), [
    (None, ["sessions"], "", "--user"),
    ("mchen", ["sessions"], "wrong-password\n", "wrong password"),
    ("nobody", ["sessions"], "demo1234\n", "wrong password"),
    ("pkim", ["user", "password", "mchen"], "demo1234\nx-new-pass\n", "may not manage users"),
    ("mchen", ["user", "add", "mimic", "--name", "Maria Chen", "--credential", "DPT", "--npi",
               "MCHEN_NPI"], "demo1234\nx-new-pass\n", "may not manage users"),
    ("admin", ["user", "add", "mimic", "--name", "Maria Chen", "--credential", "DPT", "--npi",
               "MCHEN_NPI"], "demo1234\nx-new-pass\n", "belongs to user 'mchen'"),
    ("lrivera", ["user", "disable", "admin"], "demo1234\n", "may not manage users"),
    ("admin", ["user", "disable", "admin"], "demo1234\n", "last active administrator"),
    ("jokafor", ["payer", "set", "Medicare Part B", "--no-kx"], "demo1234\n",
     "may not change clinic settings"),
    ("mchen", ["clinic", "set", "--name", "Mine"], "demo1234\n",
     "may not change clinic settings"),
    ("tnguyen", ["fees", "set", "97110", "1.00"], "demo1234\n",
     "may not change clinic settings"),
    ("pkim", ["export", "--session", "1", "-o", "OUT"], "demo1234\n",
     "may not export clinical notes"),
    ("pkim", ["session", "export", "1"], "demo1234\n", "may not export clinical notes"),
    ("tnguyen", ["summaries", "--date", "today", "-o", "OUT"], "demo1234\n",
     "may not print session summaries"),
    ("mchen", ["backup", "OUT"], "demo1234\n", "may not back up"),
])
def test_refused_commands_change_nothing(demo_db: Path, tmp_path: Path, user: str | None,
                                         args: list[str], stdin: str, says: str) -> None:
    db = _copy_of_the_demo(demo_db, tmp_path)
    npi = json.loads(as_user("mchen", "--db", str(db), "users", "--json").stdout)
    mchen_npi = next(u["npi"] for u in npi if u["username"] == "mchen")
    args = [mchen_npi if a == "MCHEN_NPI" else str(tmp_path / "out") if a == "OUT" else a
            for a in args]
    before, last_audit = _state(db), audit(db)[0]
    who = ["--user", user] if user else []
    result = ptdoc("--db", str(db), *args, *who, "--password-stdin", stdin=stdin)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and says in result.stderr, result.stderr
    assert _state(db) == before
    assert not (tmp_path / "out").exists()
    latest = audit(db)[0]  # the audit names who was refused
    if user is None:
        assert latest == last_audit  # nobody signed in: nothing happened
    elif "wrong" in says:
        assert latest["action"] == "login failed"
    else:
        refusal = "login" if "belongs to" in says else "denied"  # a bad value is not audited
        assert (latest["actor"], latest["action"]) == (user, refusal), latest


def test_front_desk_prints_summaries_and_a_clinician_exports(demo_db: Path,
                                                             tmp_path: Path) -> None:
    db = _copy_of_the_demo(demo_db, tmp_path)
    day = json.loads(as_user("pkim", "--db", str(db), "sessions", "--json").stdout)[0]
    summaries = as_user("pkim", "--db", str(db), "summaries", "--date", day["date"], "-o",
                        str(tmp_path / "day.pdf"))
    assert summaries.returncode == 0, summaries.stderr
    note = as_user("jokafor", "--db", str(db), "export", "--session", str(day["id"]), "-o",
                   str(tmp_path / "note.pdf"))
    assert note.returncode == 0, note.stderr
    saved = [(e["actor"], e["entity_id"]) for e in audit(db) if e["action"] == "export"]
    assert ("jokafor", day["id"]) in saved and ("pkim", day["id"]) in saved


def test_wrong_passwords_are_slowed_then_locked_out(demo_db: Path, tmp_path: Path) -> None:
    db = _copy_of_the_demo(demo_db, tmp_path)
    for _ in range(3):
        as_user("lrivera", "--db", str(db), "sessions", password="not-it")
    result = as_user("lrivera", "--db", str(db), "sessions")  # right, but too soon
    assert result.returncode == 2 and "wrong passwords/PINs in a row" in result.stderr
    failed = [e for e in audit(db) if e["actor"] == "lrivera" and e["action"] != "login"]
    assert [e["action"] for e in failed[:4]] == ["denied"] + ["login failed"] * 3


def test_a_password_is_never_asked_of_a_pipe_without_password_stdin(demo_db: Path) -> None:
    result = ptdoc("--db", str(demo_db), "sessions", "--user", "mchen", stdin="demo1234\n")
    assert result.returncode == 2 and "--password-stdin" in result.stderr
    assert result.stderr.count("\n") == 1


def _damage_an_index(path: Path) -> None:
    """Damage that the quick check on open misses and the full integrity check finds."""
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX audit_entity ON audit(at, "
                 "entity_id)' WHERE name = 'audit_entity'")
    conn.commit()
    conn.close()


def test_backup_of_a_damaged_database_is_refused(demo_db: Path, tmp_path: Path) -> None:
    work = tmp_path / "work.sqlite3"
    assert as_user("admin", "--db", str(demo_db), "backup", str(work)).returncode == 0
    _damage_an_index(work)
    assert as_user("pkim", "--db", str(work), "sessions").returncode == 0  # it still opens
    result = as_user("admin", "--db", str(work), "backup", str(tmp_path / "copy.sqlite3"))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "damaged" in result.stderr and "audit_entity" in result.stderr
    assert not (tmp_path / "copy.sqlite3").exists()


def test_restore_asks_on_a_terminal(demo_db: Path, tmp_path: Path, capsys,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from ptdoc import cli

    empty = tmp_path / "empty.sqlite3"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{ADMIN_PASSWORD}\n"))
    assert cli.main(["--db", str(empty), "user", "add", "admin", "--name", "Office Manager",
                     "--credential", "admin", "--password-stdin"]) == 0
    work = tmp_path / "work.sqlite3"
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{DEMO_PASSWORD}\n"))
    assert cli.main(["--db", str(demo_db), "backup", str(work), "--user", "admin",
                     "--password-stdin"]) == 0
    capsys.readouterr()

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    # the administrator's password, then the answer
    monkeypatch.setattr("sys.stdin", Terminal(f"{DEMO_PASSWORD}\nn\n"))
    assert cli.main(["--db", str(work), "restore", str(empty), "--user", "admin",
                     "--password-stdin"]) == 2
    err = capsys.readouterr().err
    assert f"This replaces {work} (" in err and f"with {empty} (no sessions)" in err
    assert "cancelled" in err
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{DEMO_PASSWORD}\n"))
    assert cli.main(["--db", str(work), "sessions", "--json", "--user", "pkim",
                     "--password-stdin"]) == 0
    assert len(json.loads(capsys.readouterr().out)) > 200  # nothing was replaced
    monkeypatch.setattr("sys.stdin", Terminal(f"{DEMO_PASSWORD}\ny\n"))
    assert cli.main(["--db", str(work), "restore", str(empty), "--user", "admin",
                     "--password-stdin"]) == 0
    assert "Restored" in capsys.readouterr().out
    # the restored clinic is the new one: its administrator, with its password
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{ADMIN_PASSWORD}\n"))
    assert cli.main(["--db", str(work), "sessions", "--json", "--user", "admin",
                     "--password-stdin"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    restored = next(e for e in audit(work) if e["action"] == "restore")
    assert restored["actor"] == "admin"


def test_a_file_that_is_not_a_ptdoc_database_is_never_written(tmp_path: Path) -> None:
    empty = tmp_path / "empty.sqlite3"
    empty.touch()
    foreign = tmp_path / "foreign.sqlite3"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    empty_sqlite = tmp_path / "empty-sqlite.sqlite3"
    sqlite3.connect(empty_sqlite).execute("PRAGMA user_version = 0").connection.close()
    for path in (empty, foreign, empty_sqlite):
        before = path.read_bytes()
        for args in (["sessions"], ["user", "add", "ann", "--name", "Ann",
                                    "--credential", "admin"],
                     ["clinic", "set", "--name", "X"], ["demo"]):
            result = ptdoc("--db", str(path), *args, stdin="secret-123\n")
            assert result.returncode in (1, 2), (path, args)
            assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
            assert path.read_bytes() == before, (path, args)
            assert not Path(str(path) + "-wal").exists()
    result = ptdoc("--db", str(empty), "sessions")
    assert "empty file, not a ptdoc database" in result.stderr
    assert "remove the empty file" in result.stderr
    result = ptdoc("--db", str(tmp_path), "sessions")
    assert result.returncode == 1 and "is a folder" in result.stderr
    assert result.stderr.count("\n") == 1
    result = ptdoc("--db", str(empty), "demo", "--force")  # asked for: it may be replaced
    assert result.returncode == 0, result.stderr
    assert list(tmp_path.glob("empty.sqlite3.damaged-*"))  # the old file is kept


def test_files_with_patient_data_are_private(demo_db: Path, tmp_path: Path) -> None:
    day = json.loads(as_user("mchen", "sessions", "--db", str(demo_db), "--json").stdout)[0]
    outputs = {"session.json": ["session", "export", str(day["id"]), "-o"],
               "note.pdf": ["export", "--session", str(day["id"]), "-o"],
               "day.pdf": ["summaries", "--date", day["date"], "-o"]}
    for name, args in outputs.items():
        target = tmp_path / name
        target.write_text("old, readable by all")
        target.chmod(0o644)
        result = subprocess.run(["sh", "-c", 'umask 022; exec "$@"', "sh", sys.executable,
                                 "-m", "ptdoc", "--db", str(demo_db), *args, str(target),
                                 "--user", "mchen", "--password-stdin"],
                                input=f"{DEMO_PASSWORD}\n", capture_output=True, text=True,
                                timeout=120,
                                env=dict(os.environ, PYTHONPATH=str(ROOT)))
        assert result.returncode == 0, result.stderr
        assert stat.S_IMODE(target.stat().st_mode) == 0o600, name
        assert target.read_bytes()[:7] in (b"%PDF-1.", b"{\n  \"fo")


HOLD_THE_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1])
conn.execute("BEGIN IMMEDIATE")
print("holding", flush=True)
time.sleep(float(sys.argv[2]))
conn.rollback()
"""


def test_commands_wait_for_a_database_another_program_is_writing(tmp_path: Path) -> None:
    """Another program holds the write lock for a second and a half: sign-in, a settings
    change and an import wait for it instead of failing with 'database is locked'."""
    db = tmp_path / "clinic.sqlite3"
    new_clinic(db)
    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(db), "1.5"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    result = as_admin("--db", str(db), "clinic", "set", "--name", "Waited Clinic")
    holder.wait(timeout=10)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "locked" not in result.stderr
    assert "Waited Clinic" in as_admin("--db", str(db), "clinic").stdout

    holder = subprocess.Popen([sys.executable, "-c", HOLD_THE_LOCK, str(db), "9"],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "holding"
    result = as_admin("--db", str(db), "clinic", "set", "--name", "Too Long")
    holder.kill()
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    assert "in use by another program" in result.stderr


def test_an_addendum_is_signed_with_the_authors_password(demo_db: Path, tmp_path: Path
                                                         ) -> None:
    import shutil

    db = tmp_path / "copy.sqlite3"
    shutil.copy(demo_db, db)
    rows = json.loads(as_user("jokafor", "sessions", "--db", str(db), "--status", "signed",
                              "--json").stdout)
    mine = next(r for r in rows if r["clinician"] == "jokafor")
    args = ("session", "addendum", str(mine["id"]), "--db", str(db), "--kind", "late entry",
            "--reason", "Phone call", "--text", "No soreness the next day.")
    # without the password on standard input, nothing is added
    refused = ptdoc(*args, "--user", "jokafor", "--password-stdin", stdin="")
    assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1
    wrong = as_user("jokafor", *args, password="not-my-password")
    assert wrong.returncode == 2 and "wrong password/PIN" in wrong.stderr
    added = as_user("jokafor", *args)
    assert added.returncode == 0, added.stderr
    assert f"Late entry added to session {mine['id']}" in added.stdout
    exported = json.loads(as_user("jokafor", "session", "export", str(mine["id"]), "--db",
                                  str(db), "--json").stdout)
    assert [a["reason"] for a in exported["session"]["addenda"]][-1] == "Phone call"
