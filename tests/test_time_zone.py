"""Times are stored in UTC and read in the clinic's time zone: on screen, on paper, at the
command line; the date of service is the clinic's own calendar date."""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from pathlib import Path

import pytest
from conftest import NOW, PASSWORD, TODAY, Clinic, sign
from driving import main_window
from pypdf import PdfReader
from PySide6.QtCore import Qt
from test_cli import as_admin, new_clinic

from ptdoc import clock
from ptdoc import db as dbmod
from ptdoc.domain import AddendumKind
from ptdoc.domain import Clinic as ClinicSettings
from ptdoc.errors import ValidationError
from ptdoc.migrations import MIGRATIONS, m006_clinic_time_zone
from ptdoc.services import Workspace
from ptdoc.store import Store

EVENING = dt.datetime(2026, 11, 27, 2, 30, tzinfo=dt.UTC)  # 8:30 pm in Chicago, Nov 26
SHOWN = "2026-11-26 20:30 CST"


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def in_chicago(clinic: Clinic) -> None:
    clinic.admin.save_clinic(ClinicSettings("Prairie Physical Therapy",
                                            time_zone="America/Chicago"))


def signed_in_the_evening(clinic: Clinic) -> int:
    """A note of Nov 26 signed, and amended, at 8:30 pm Chicago time (02:30 UTC, Nov 27)."""
    draft = clinic.complete_draft("pt", TODAY)
    evening = Workspace(clinic.store, clinic.users["pt"], now=lambda: EVENING,
                        codes=clinic.codes)
    sign(evening, draft.id)
    evening.add_addendum(draft.id, AddendumKind.LATE_ENTRY, "Phone call",
                         "Patient called: no soreness.", evening.prove_signer(PASSWORD))
    return draft.id or 0


def test_a_stored_time_reads_in_the_clinics_zone_with_its_abbreviation() -> None:
    assert clock.stamp(EVENING, "America/Chicago") == SHOWN
    assert clock.stamp(dt.datetime(2026, 7, 1, 15, 5, tzinfo=dt.UTC),
                       "America/Chicago") == "2026-07-01 10:05 CDT"
    assert clock.stamp(EVENING, "America/New_York") == "2026-11-26 21:30 EST"
    assert clock.stamp(EVENING, "UTC") == "2026-11-27 02:30 UTC"
    assert not clock.is_zone("Mars/Olympus_Mons") and not clock.is_zone("")
    with pytest.raises(ValueError, match="IANA time zone name"):
        clock.zone("Central")


@pytest.mark.parametrize("tz, expected", [
    ("America/Chicago", "America/Chicago"), (":Europe/Paris", "Europe/Paris"),
    ("/usr/share/zoneinfo/Asia/Tokyo", "Asia/Tokyo"), ("XYZ-3", "UTC"),
])
def test_a_new_clinic_starts_in_the_computers_named_zone(monkeypatch, tz: str,
                                                         expected: str) -> None:
    monkeypatch.setenv("TZ", tz)
    assert clock.workstation_zone() == expected
    assert ClinicSettings("New Clinic").time_zone == expected


def test_an_unknown_zone_is_refused_by_name() -> None:
    with pytest.raises(ValidationError) as exc:
        ClinicSettings("New Clinic", time_zone="Chicago")
    assert exc.value.problems[0].field == "time_zone"
    assert "America/Chicago" in exc.value.problems[0].message


def test_an_evening_visit_keeps_the_clinics_date(clinic: Clinic) -> None:
    in_chicago(clinic)
    pt = Workspace(clinic.store, clinic.users["pt"], now=lambda: EVENING, codes=clinic.codes)
    assert pt.today() == dt.date(2026, 11, 26)  # not Nov 27, the date in UTC
    assert clock.today("America/Chicago", EVENING) == dt.date(2026, 11, 26)
    pt.new_session(clinic.patient.id or 0, dt.date(2026, 11, 26), clinic.episode.id)
    with pytest.raises(ValidationError, match="future"):
        pt.new_session(clinic.patient.id or 0, dt.date(2026, 11, 27), clinic.episode.id)


def test_paper_prints_signature_addendum_and_print_times_in_the_clinics_zone(
        clinic: Clinic, artifacts: Path) -> None:
    in_chicago(clinic)
    session_id = signed_in_the_evening(clinic)
    evening = Workspace(clinic.store, clinic.users["pt"], now=lambda: EVENING,
                        codes=clinic.codes)
    note = text_of(evening.note_pdf(session_id))
    assert f"Electronically signed by PT User, PT, NPI 1111111112, on {SHOWN}." in note
    assert f"Late entry — PT User, PT, {SHOWN}" in note
    assert f"printed {SHOWN}" in note
    assert "UTC" not in note and "2026-11-27" not in note
    summaries = text_of(evening.summaries_pdf([session_id]))
    day_sheet = text_of(evening.day_sheet_pdf(TODAY))
    for paper in (summaries, day_sheet):
        assert f"printed {SHOWN}" in paper and "UTC" not in paper
    (artifacts / "note-chicago.pdf").write_bytes(evening.note_pdf(session_id))


def test_the_editor_shows_the_signature_in_the_clinics_zone(qtbot, clinic: Clinic,
                                                           artifacts: Path) -> None:
    in_chicago(clinic)
    signed_in_the_evening(clinic)
    win = main_window(qtbot, clinic.as_("pt"), (1280, 760))
    win.table.setFocus()
    win.table.selectRow(0)
    qtbot.keyClick(win.table, Qt.Key.Key_Return)
    editor = win.editor
    assert editor is not None
    assert f"at {SHOWN}. Locked" in editor.banner.text()
    qtbot.keyClick(editor.step_list, Qt.Key.Key_6, Qt.KeyboardModifier.ControlModifier)
    sign = editor.steps[5]
    assert editor.current == 5
    assert f"at {SHOWN}." in sign.state.text()
    assert f"Late entry by PT User, PT at {SHOWN} — reason: Phone call" in \
        sign.addenda.item(0).text()
    win.grab().save(str(artifacts / "editor-signed-chicago.png"))
    win.close()


def test_clinic_time_zone_from_the_command_line(tmp_path: Path) -> None:
    db = tmp_path / "clinic.sqlite3"
    new_clinic(db)
    made = as_admin("--db", str(db), "clinic", "set", "--name", "New Clinic",
                    env={"TZ": "America/Denver"})
    assert made.returncode == 0, made.stderr
    assert "Time zone America/Denver (now " in made.stdout  # the computer's zone
    changed = as_admin("--db", str(db), "clinic", "set", "--time-zone", "America/Chicago")
    assert changed.returncode == 0, changed.stderr
    shown = as_admin("--db", str(db), "clinic")
    assert "Time zone America/Chicago (now " in shown.stdout
    assert shown.stdout.rstrip().endswith(("CST)", "CDT)"))
    assert json.loads(as_admin("--db", str(db), "clinic", "--json").stdout)["time_zone"] == \
        "America/Chicago"
    bad = as_admin("--db", str(db), "clinic", "set", "--time-zone", "Central")
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1
    assert "--time-zone" in bad.stderr and "IANA time zone name" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_a_clinic_set_up_earlier_gets_the_computers_zone(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "old.sqlite3"
    db = dbmod.connect(path)
    db.execute(f"PRAGMA application_id = {dbmod.APPLICATION_ID}")
    dbmod.migrate_to_latest(db, None, target=MIGRATIONS.index(m006_clinic_time_zone))
    db.execute("INSERT INTO clinic (id, name) VALUES (1, 'Old Clinic')")
    db.close()
    monkeypatch.setenv("TZ", "America/New_York")
    with Store.open(path) as store:
        clinic = store.clinic.get()
        assert clinic is not None and clinic.time_zone == "America/New_York"
        assert Workspace(store, None, now=lambda: NOW).time_zone() == "America/New_York"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
    conn.close()
