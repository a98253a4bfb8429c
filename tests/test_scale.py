"""What keeps ptdoc instant at clinic scale: the day view lists drafts from their stored
counts, the command line loads no Qt, and starting the window does not read the whole file."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TODAY, Clinic, only_sqlite, rows_written
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QApplication

from ptdoc import db as dbmod
from ptdoc.domain import Patient
from ptdoc.ui.main_window import MainWindow
from ptdoc.ui.models import SessionListModel


def _statements_to_open_the_day(qtbot, clinic: Clinic) -> tuple[int, MainWindow]:
    with clinic.store.statements() as seen:
        window = MainWindow(clinic.as_("pt"))
    qtbot.addWidget(window)
    return len(seen), window


def _flags_shown(window: MainWindow) -> list[str]:
    model = window.table.model()
    return [model.index(r, SessionListModel.COL_STATUS).data() for r in range(model.rowCount())]


def _draft_of_a_new_patient(clinic: Clinic, n: int) -> None:
    """A complete draft today for another patient (one patient's drafts of a day judge each
    other: same-day sessions)."""
    clinic.patient = clinic.admin.add_patient(Patient(f"MRN-S{n}", "Bo", f"Test{n}",
                                                      dt.date(1960, 1, 1), clinic.payer.id))
    clinic.episode = clinic.admin.add_episode(dataclasses.replace(
        clinic.episode, id=None, patient_id=clinic.patient.id))
    clinic.complete_draft("pt", TODAY)


def test_the_day_view_costs_the_same_for_2_or_12_drafts(qtbot, clinic: Clinic) -> None:
    for n in range(2):
        _draft_of_a_new_patient(clinic, n)
    few, window = _statements_to_open_the_day(qtbot, clinic)
    assert window.table.model().rowCount() == 2
    assert few > 0  # the statements are seen
    for n in range(2, 12):
        _draft_of_a_new_patient(clinic, n)
    many, window = _statements_to_open_the_day(qtbot, clinic)
    assert window.table.model().rowCount() == 12
    assert many == few  # no draft is judged again: its counts were stored when it was saved


def test_stored_counts_are_what_judging_now_says(qtbot, clinic: Clinic) -> None:
    ws = clinic.as_("pt")
    clean = clinic.complete_draft("pt", TODAY)
    # A second draft billing nothing: a blocker the clean one does not have.
    gap = ws.save_draft(dataclasses.replace(clinic.complete_draft("pt", TODAY),
                                            services=()))
    _count, window = _statements_to_open_the_day(qtbot, clinic)
    expected = []
    for row in window.model._rows:  # the rows in the order shown
        judged = ws.review(ws.open_session(row[0].id))
        expected.append((len(judged.blockers), len(judged.open_warnings)))
    assert [(b, w) for _r, b, w in window.model._rows] == expected
    assert {clean.id, gap.id} == {r[0].id for r in window.model._rows}
    assert len(set(_flags_shown(window))) == 2  # the two drafts read differently


def test_a_payers_rules_changed_judge_the_drafts_again(qtbot, clinic: Clinic) -> None:
    """Medicare requires GP; once the payer does not, the draft's counts follow."""
    ws = clinic.as_("pt")
    draft = clinic.complete_draft("pt", TODAY)
    ws.save_draft(dataclasses.replace(draft, services=tuple(
        dataclasses.replace(s, modifiers=()) for s in draft.services)))
    _count, window = _statements_to_open_the_day(qtbot, clinic)
    before = _flags_shown(window)
    payer = clinic.store.payers.get(clinic.payer.id)
    clinic.admin.update_payer(dataclasses.replace(payer, gp_required=False))
    _count, window = _statements_to_open_the_day(qtbot, clinic)
    assert _flags_shown(window) != before
    judged = ws.review(ws.open_session(draft.id))
    _row, blockers, warnings = window.model._rows[0]
    assert (blockers, warnings) == (len(judged.blockers), len(judged.open_warnings))


def test_the_previous_day_is_listed_once(qtbot, clinic: Clinic) -> None:
    clinic.complete_draft("pt", TODAY - dt.timedelta(days=1))
    _count, window = _statements_to_open_the_day(qtbot, clinic)
    window.show()
    refreshed = []
    window.model.modelReset.connect(lambda: refreshed.append(window.day))
    qtbot.mouseClick(window.prev_button, Qt.MouseButton.LeftButton)
    assert refreshed == [TODAY - dt.timedelta(days=1)]
    assert window.table.model().rowCount() == 1


_NO_QT = ("import sys\nfrom ptdoc.cli import main\ncode = main(sys.argv[1:])\n"
          "qt = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', "
          "'ptdoc.ui')))\nprint(code, qt, file=sys.stderr)")


def _run_without_window(args: list[str], folder: Path) -> tuple[int, str]:
    """A command in a new process, in ``folder``; (its exit code, the Qt modules it
    loaded)."""
    home = folder.parent / "home"  # not the working folder: ptdoc/ there is not the package
    env = {**os.environ, "XDG_DATA_HOME": str(home), "XDG_STATE_HOME": str(home),
           "XDG_CONFIG_HOME": str(home), "XDG_CACHE_HOME": str(home)}
    env.pop("DISPLAY", None)
    out = subprocess.run([sys.executable, "-c", _NO_QT, *args], capture_output=True,
                         text=True, cwd=folder, env=env, input="demo1234\n", timeout=120)
    code, qt = out.stderr.strip().splitlines()[-1].split(" ", 1)
    return int(code), qt


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("no-qt") / "work"
    folder.mkdir()
    assert _run_without_window(["--db", str(folder / "demo.sqlite3"), "demo"],
                               folder) == (0, "[]")
    return folder / "demo.sqlite3"


@pytest.mark.parametrize("command", [
    ["units", "97110=33", "97140=7"],
    ["sessions", "--date", "today"],
    ["patients", "--search", "a"],
    ["check", "--session", "1"],
    ["verify"],
    ["export", "--session", "1", "-o", "note.pdf"],
    ["summaries", "--date", "today", "-o", "day.pdf"],
    ["charges", "--date", "today", "-o", "charges.csv"],
    ["--user", "admin", "backup", "backup.sqlite3"],
], ids=lambda c: c[0] if c[0] != "--user" else c[2])
def test_commands_that_show_no_window_load_no_qt(demo_db: Path, command: list[str]) -> None:
    code, qt = _run_without_window(["--db", str(demo_db), "--user", "mchen",
                                    "--password-stdin", *command], demo_db.parent)
    assert qt == "[]"
    assert code in (0, 1)  # done (1: it found something to say, as drafts not charged)


def test_opening_does_not_read_every_page_but_the_worker_check_finds_damage(
        db_path: Path) -> None:
    """Pages scribbled over far from the schema: opening no longer reads them (it used to
    cost every start a read of the whole file), the check the window runs on a worker once
    it shows finds them and names the way out, and a read that reaches them says so plainly."""
    from ptdoc.errors import DatabaseCorrupt
    from ptdoc.store import Store

    with Store.open(db_path) as store:
        for i in range(6000):
            store.db.execute("INSERT INTO audit (at, actor, action, detail) VALUES "
                             "(?, ?, ?, ?)", ["2026-01-01T00:00:00Z", "cli", "view",
                                              "x" * 200 + str(i)])
        store.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = bytearray(db_path.read_bytes())
    page = 4096
    end = len(data) // page * page
    data[end - 20 * page:end - 10 * page] = b"\x5a" * (10 * page)
    db_path.write_bytes(bytes(data))
    with Store.open(db_path) as store:  # quick: header, id, version, schema
        assert store.users.count() == 0
        try:
            store.db.execute("SELECT count(*), max(detail) FROM audit").fetchone()
        except DatabaseCorrupt as exc:
            assert "damaged" in str(exc) and "ptdoc restore" in str(exc)
    assert db_path.read_bytes() == bytes(data)  # nothing was written into it
    for full in (False, True):
        try:
            dbmod.check_health(db_path, full=full)
        except DatabaseCorrupt as exc:
            assert "damaged" in str(exc) and "ptdoc restore" in str(exc)
        else:
            raise AssertionError("the check missed the damaged pages")


def test_the_window_tells_of_damage_its_check_finds(qtbot, clinic: Clinic, db_path: Path,
                                                     monkeypatch, backend: str) -> None:
    """After a window that did not close cleanly, the worker's full check finds an index
    that disagrees with its table, and the window says so with the way out."""
    import sqlite3

    only_sqlite(backend, "the page check reads the SQLite file; a server checks its own pages")

    from PySide6.QtWidgets import QMessageBox

    from ptdoc.ui.app import start_health_check

    assert dbmod.daily_backup(db_path, TODAY) is not None  # today's backup is made already
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA writable_schema = ON")
    conn.execute("UPDATE sqlite_master SET sql = 'CREATE INDEX audit_entity ON audit(at, "
                 "entity_id)' WHERE name = 'audit_entity'")
    conn.commit()
    conn.close()
    told: list[str] = []
    monkeypatch.setattr(QMessageBox, "warning", lambda _parent, _title, text: told.append(text))
    window = MainWindow(clinic.as_("pt"))
    qtbot.addWidget(window)
    window.show()
    start_health_check(window, db_path, unclean_exit=True)
    qtbot.waitUntil(lambda: bool(told), timeout=10_000)
    assert "damaged" in told[0] and "audit_entity" in told[0] and "ptdoc restore" in told[0]
    assert "problem" in window.statusBar().currentMessage()


def test_a_cell_typed_in_a_40_row_flowsheet_writes_that_row(qtbot, clinic: Clinic) -> None:
    """Typed as a person does (click the cell, type, Enter): the note shows and stores the
    value, and of the 40 exercise rows only that one is written, in place."""
    from driving import main_window
    from test_what_you_sign import open_from_day, step, type_in_cell

    from ptdoc.library import shipped_library
    from ptdoc.ui.exercise_table import COLUMN

    rows = tuple(dataclasses.replace(item.entry(), sets=3, reps=10, minutes=1)
                 for item in shipped_library()[:40])
    draft = clinic.as_("pt").save_draft(dataclasses.replace(clinic.complete_draft("pt"),
                                                            exercises=rows))
    ids = clinic.store.db.execute("SELECT position, id FROM exercises WHERE session_id = ? "
                                  "ORDER BY position", [draft.id]).fetchall()
    window = main_window(qtbot, clinic.as_("pt"))
    editor = open_from_day(qtbot, window, draft.id)
    step(qtbot, editor, 3)
    table = editor.steps[2].table
    with rows_written(clinic.store, "exercises") as written:
        type_in_cell(qtbot, table, 17, COLUMN["reps"], "14")
    assert written == [("UPDATE", ids[17][1])]
    stored = clinic.store.sessions.get(draft.id)
    assert stored.exercises == (*rows[:17], dataclasses.replace(rows[17], reps=14), *rows[18:])
    assert table.model().index(17, COLUMN["reps"]).data() == "14"
    assert clinic.store.db.execute("SELECT position, id FROM exercises WHERE session_id = ? "
                                   "ORDER BY position", [draft.id]).fetchall() == ids
    window.close()


def _on_screen(widget) -> object:
    """What the screen shows of a widget (the window's painted pixels there), as RGB32."""
    from PySide6.QtCore import QPoint
    from PySide6.QtWidgets import QApplication

    corner = widget.mapTo(widget.window(), QPoint(0, 0))
    return QApplication.primaryScreen().grabWindow(
        widget.window().winId(), corner.x(), corner.y(), widget.width(),
        widget.height()).toImage()


def test_the_flowsheet_on_screen_is_the_flowsheet_after_each_commit(qtbot,
                                                                   clinic: Clinic) -> None:
    """Only the changed cells are repainted after a commit: what the screen shows is still
    what painting the whole table shows, whether the keyboard comes back to the table
    (Enter), moves on (Tab) or goes to another field (a click)."""
    from driving import main_window
    from test_what_you_sign import click_cell, open_from_day, step, type_in_cell

    from ptdoc.ui.exercise_table import COLUMN

    draft = clinic.complete_draft("pt")
    window = main_window(qtbot, clinic.as_("pt"))
    editor = open_from_day(qtbot, window, draft.id)
    step(qtbot, editor, 3)
    exercises = editor.steps[2]
    table = exercises.table

    def shown_as_painted() -> bool:
        qtbot.wait(20)  # the window's pending paints
        return _on_screen(table) == table.grab().toImage().convertToFormat(
            QImage.Format.Format_RGB32)

    assert shown_as_painted()
    type_in_cell(qtbot, table, 0, COLUMN["reps"], "15")  # Enter: back to the table
    assert table.hasFocus() and shown_as_painted()
    click_cell(qtbot, table, 1, COLUMN["sets"])
    qtbot.keyClick(table, "4")
    qtbot.keyClick(QApplication.focusWidget(), Qt.Key.Key_Tab)  # Tab: the next cell
    assert [e.sets for e in editor.session.exercises][1] == 4
    assert table.currentIndex().column() == COLUMN["sets"] + 1 and shown_as_painted()
    click_cell(qtbot, table, 0, COLUMN["minutes"])
    qtbot.keyClick(table, "9")
    qtbot.mouseClick(exercises.response, Qt.MouseButton.LeftButton)  # another field
    assert exercises.response.hasFocus() and editor.session.exercises[0].minutes == 9
    assert shown_as_painted()
    window.close()


def test_a_carried_row_typed_in_repaints_that_row_only(qtbot, clinic: Clinic) -> None:
    """A new load in a carried row also changes its Today and Modification cells: the table
    is told of those cells of that row, not of the whole sheet."""
    from conftest import sign
    from driving import main_window
    from test_editor import start_session
    from test_what_you_sign import type_in_cell

    from ptdoc.domain import ExerciseChange
    from ptdoc.ui.exercise_table import COLUMN

    earlier = clinic.complete_draft("pt", TODAY - dt.timedelta(days=3))
    sign(clinic.as_("pt"), earlier.id)
    window = main_window(qtbot, clinic.as_("pt"))
    editor = start_session(qtbot, window)
    exercises = editor.steps[2]
    editor.go(2)
    qtbot.mouseClick(exercises.carry_button, Qt.MouseButton.LeftButton)
    model = exercises.table.model()
    assert model.rowCount() == 2
    told: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda top, bottom, *_roles: told.append(
        (top.row(), top.column(), bottom.row(), bottom.column())))
    type_in_cell(qtbot, exercises.table, 0, COLUMN["load"], "6")
    assert editor.session.exercises[0].change == ExerciseChange.PROGRESSED
    assert model.index(0, COLUMN["change"]).data() == "progressed"
    assert told and all(top == bottom == 0 for top, _l, bottom, _r in told), told
    cells = {c for _t, left, _b, right in told for c in range(left, right + 1)}
    assert {COLUMN["load"], COLUMN["change"], COLUMN["modification"]} <= cells
    assert COLUMN["name"] not in cells and COLUMN["delivered_by"] not in cells
    window.close()


def test_the_start_path_loads_no_signing_keys_editor_or_paper_before_the_sign_in() -> None:
    """What ``ptdoc gui`` imports before the sign-in shows: the sign-in and the store, not
    the signing keys (cryptography), the main window, the editor, PDFs or the code set."""
    code = ("import sys, ptdoc.cli, ptdoc.ui.app; print(sorted(m for m in sys.modules if "
            "m.startswith(('cryptography', 'ptdoc.access', 'ptdoc.keys', 'ptdoc.services', "
            "'ptdoc.ui.main_window', 'ptdoc.ui.session_editor', 'ptdoc.icd_index', "
            "'pypdfium2', 'reportlab', 'pypdf'))))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, env={**os.environ, "QT_QPA_PLATFORM": "offscreen"}).stdout
    assert out.strip() == "[]", out
