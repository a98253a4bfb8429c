"""A backup restored while a window is open elsewhere (README says to close ptdoc first; a
window left open must still not show, nor save over, what the restore took back)."""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import NOW, PASSWORD, TODAY, Clinic
from driving import main_window
from pg_sandbox import busy_writer
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from test_what_you_sign import open_from_day, retype, step

from ptdoc import cli
from ptdoc.services import Workspace
from ptdoc.store import Store

pytestmark = pytest.mark.server


def ptdoc(monkeypatch: pytest.MonkeyPatch, capsys, *args: str) -> str:
    """``ptdoc ARGS --user boss`` from another terminal, the password on standard input."""
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{PASSWORD}\n"))
    capsys.readouterr()
    status = cli.main([*args, "--user", "boss", "--password-stdin"])
    said = capsys.readouterr()
    assert status == 0, said.out + said.err
    return said.out


def test_a_restore_elsewhere_lists_the_day_again_and_the_open_note_follows_it(
        qtbot, clinic: Clinic, db_target, backend, request, tmp_path: Path, monkeypatch,
        capsys, artifacts):
    url = str(db_target)
    owner = url  # a file has no roles; on a server, restoring is for the database's owner
    if backend == "postgres":
        owner = request.getfixturevalue("pg_server").url(
            urlsplit(url).path.lstrip("/"), "ptdoc_owner")
    dump = tmp_path / ("before.dump" if backend == "postgres" else "before.sqlite3")
    draft = clinic.complete_draft("pt")  # 30 minutes
    ptdoc(monkeypatch, capsys, "--db", url, "backup", str(dump))
    pt = clinic.as_("pt")
    later = clinic.complete_draft("pt")  # not in the backup
    pt.save_draft(replace(clinic.store.sessions.get(draft.id), total_treatment_minutes=40))

    window = main_window(qtbot, pt)
    assert window.model.rowCount() == 2
    editor = open_from_day(qtbot, window, draft.id)
    codes = editor.steps[3]
    step(qtbot, editor, 4)
    assert codes.total.text() == "40"
    said = editor.status_label.text()

    # Another workstation saves another note: nothing of the note open here changes.
    with Store.open(db_target) as elsewhere:
        Workspace(elsewhere, clinic.users["pt"], today=lambda: TODAY, now=lambda: NOW
                  ).save_draft(replace(elsewhere.sessions.get(later.id), assessment="Better."))
    qtbot.wait(2500)
    assert editor.status_label.text() == said and codes.total.text() == "40"

    ptdoc(monkeypatch, capsys, "--db", owner, "restore", str(dump), "--force")
    qtbot.waitUntil(lambda: window.model.rowCount() == 1, timeout=10000)
    assert window.model.row_at(0).id == draft.id
    qtbot.waitUntil(lambda: editor.status_label.text().startswith(
        "Reloaded: this note was changed elsewhere while it was open here (a backup "
        "restored?)"), timeout=10000)
    assert codes.total.text() == "30"

    # Typing that waits for a busy database when the restore comes stays on screen, unsaved.
    retype(qtbot, codes.total, "44")
    assert editor.status_label.text().startswith("Saved")
    writer = busy_writer(db_target)
    retype(qtbot, codes.total, "50")
    assert editor.unsaved and editor.status_label.text().startswith("Not saved: the database")
    writer.rollback()
    writer.close()
    ptdoc(monkeypatch, capsys, "--db", owner, "restore", str(dump), "--force")
    qtbot.waitUntil(lambda: editor.status_label.text().startswith(
        "NOT SAVED: the note changed elsewhere while your edits waited"),
        timeout=10000)
    window.grab().save(str(artifacts / f"restored-under-typing-{backend}.png"))
    qtbot.wait(3500)  # no retry saves it unasked
    assert codes.total.text() == "50" and editor.unsaved
    assert clinic.store.sessions.get(draft.id).total_treatment_minutes == 30
    # Closing asks before dropping what is shown; No keeps it.
    asked: list[str] = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(
        lambda _parent, _title, text, *_a: asked.append(text) or QMessageBox.StandardButton.No))
    qtbot.mouseClick(editor.close_button, Qt.MouseButton.LeftButton)
    assert len(asked) == 1 and "not saved" in asked[0]
    assert window.editor is editor and codes.total.text() == "50"
    # An edit saves everything shown over the restored note (retried while the database is
    # busy, as any edit).
    step(qtbot, editor, 4)
    writer = busy_writer(db_target)
    retype(qtbot, codes.total, "52")
    assert editor.status_label.text().startswith("Not saved: the database is busy")
    writer.rollback()
    writer.close()
    qtbot.waitUntil(lambda: not editor.unsaved, timeout=10000)
    assert editor.status_label.text().startswith("Saved")
    assert clinic.store.sessions.get(draft.id).total_treatment_minutes == 52
    window.close()
