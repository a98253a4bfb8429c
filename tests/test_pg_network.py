"""A network that drops while the window is open on a server: what is typed is kept, never
reported saved, and saved once the server can be reached again."""

from __future__ import annotations

import datetime as dt
import time
from urllib.parse import urlsplit

import pytest
from conftest import NOW, TODAY, Clinic
from driving import main_window
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from silent_network import SilentNetwork
from test_what_you_sign import open_from_day, retype, step

from ptdoc.clock import local
from ptdoc.services import Workspace
from ptdoc.store import Store

pytestmark = pytest.mark.server


def database_name(url: str) -> str:
    return urlsplit(url).path.lstrip("/")


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_dropped_server_keeps_what_is_typed_and_saves_it_when_back(qtbot, clinic: Clinic,
                                                                     db_target, pg_server,
                                                                     artifacts):
    draft = clinic.complete_draft("pt")
    window = main_window(qtbot, clinic.as_("pt"))
    editor = open_from_day(qtbot, window, draft.id)
    codes = editor.steps[3]
    step(qtbot, editor, 4)
    retype(qtbot, codes.total, "40")
    assert editor.status_label.text().startswith("Saved")

    name = database_name(str(db_target))
    pg_server.cut_off(name)  # every connection ended, new ones refused
    try:
        retype(qtbot, codes.total, "44")
        assert codes.total.text() == "44"
        assert editor.status_label.text().startswith("Not saved: server unreachable")
        assert editor.unsaved
        qtbot.wait(2500)  # the retries meet the same refusal: still not saved
        assert editor.status_label.text().startswith("Not saved: server unreachable")
        step(qtbot, editor, 6)
        window.grab().save(str(artifacts / "server-unreachable-sign-step.png"))
        assert not editor.steps[5].sign_button.isEnabled()
        step(qtbot, editor, 4)
        assert codes.total.text() == "44"
    finally:
        pg_server.let_in(name)

    qtbot.waitUntil(lambda: not editor.unsaved, timeout=20000)
    assert editor.status_label.text().startswith("Saved")
    with Store.open(db_target) as fresh:  # a connection of its own, as another workstation
        assert fresh.sessions.get(draft.id).total_treatment_minutes == 44
    window.close()


def no_boxes(monkeypatch) -> list[str]:
    """Every message box the window opens, by its text (the outage must open none)."""
    opened: list[str] = []
    for name in ("warning", "critical", "information"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(
            lambda _parent, _title, text, *_a, **_k: opened.append(text)))
    monkeypatch.setattr(QMessageBox, "exec", lambda box: opened.append(box.text()))
    return opened


@pytest.mark.parametrize("backend", ["postgres"])
def test_outside_the_editor_the_outage_is_one_plain_banner_and_the_day_stays_listed(
        qtbot, clinic: Clinic, db_target, pg_server, monkeypatch, artifacts):
    opened = no_boxes(monkeypatch)
    draft = clinic.complete_draft("pt")
    window = main_window(qtbot, clinic.as_("desk"))
    assert window.model.rowCount() == 1 and not window.banner.isVisible()
    listed = window.summary.text()
    as_of = f"As of {local(NOW, clinic.store.clinic.time_zone()):%H:%M}"
    name = database_name(str(db_target))
    pg_server.cut_off(name)
    try:
        qtbot.keyClick(window.table, Qt.Key.Key_Left, Qt.KeyboardModifier.AltModifier)
        banner = window.banner.text()
        assert window.banner.isVisible()
        # The server's name, that nothing is lost, that ptdoc retries; no driver's words.
        assert "server on this computer cannot be reached" in banner
        assert "Nothing is lost" in banner and "keeps trying" in banner
        assert "connection" not in banner.lower() and "psql" not in banner.lower()
        # The day listed stays, as of when, and the date shown is its date.
        assert window.day == TODAY
        assert window.model.rowCount() == 1 and window.model.row_at(0).id == draft.id
        assert window.summary.text().startswith(f"{as_of}: the server cannot be reached")
        assert listed in window.summary.text()
        # Searching and printing meet the same outage: still the banner, no box.
        qtbot.keyClick(window.table, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(window.search, "Lee")
        qtbot.keyClick(window.search, Qt.Key.Key_Escape)
        window.table.setFocus()
        qtbot.keyClick(window.table, Qt.Key.Key_P, Qt.KeyboardModifier.ControlModifier)
        window.grab().save(str(artifacts / "server-unreachable-day-view.png"))
        assert opened == []
        assert window.banner.isVisible()
    finally:
        pg_server.let_in(name)

    # Another workstation adds a note while this window has not heard from the server.
    other = clinic.started_elsewhere(db_target)
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=20000)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10000)
    assert {window.model.row_at(r).id for r in range(2)} == {draft.id, other.id}
    assert not window.summary.text().startswith("As of")
    assert opened == []
    window.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_note_is_not_closed_while_its_edits_wait_for_the_server(qtbot, clinic: Clinic,
                                                                   db_target, pg_server,
                                                                   monkeypatch, artifacts):
    opened = no_boxes(monkeypatch)
    draft = clinic.complete_draft("pt")
    window = main_window(qtbot, clinic.as_("pt"))
    editor = open_from_day(qtbot, window, draft.id)
    codes = editor.steps[3]
    step(qtbot, editor, 4)
    name = database_name(str(db_target))
    pg_server.cut_off(name)
    try:
        retype(qtbot, codes.total, "44")
        assert editor.unsaved
        qtbot.keyClick(codes.total, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert window.editor is editor and window.pages.currentWidget() is editor
        said = editor.status_label.text()
        assert said.startswith("NOT CLOSED: your last edits are not saved yet (the server "
                               "cannot be reached)") and "then close the note" in said
        window.grab().save(str(artifacts / "server-unreachable-not-closed.png"))
        qtbot.wait(3500)  # the retries meet the outage again, and keep saying why
        assert editor.status_label.text().startswith("NOT CLOSED")
        assert window.editor is editor and codes.total.text() == "44"
        assert window.banner.isVisible()
        # Quitting would lose them too: it asks, and No keeps the window and the note.
        asked: list[str] = []
        monkeypatch.setattr(QMessageBox, "question", staticmethod(
            lambda _parent, _title, text, *_a: asked.append(text)
            or QMessageBox.StandardButton.No))
        quit_action = next(a for a in window.actions() if a.text() == "&Quit")
        quit_action.trigger()  # File > Quit (Ctrl+Q where the platform binds it)
        assert len(asked) == 1 and asked[0].startswith(
            "The last edits of the open note are not saved (the server cannot be reached)")
        assert window.isVisible() and window.editor is editor
        assert codes.total.text() == "44"
    finally:
        pg_server.let_in(name)

    qtbot.waitUntil(lambda: not editor.unsaved, timeout=20000)
    assert editor.status_label.text().startswith("Saved")
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=10000)
    qtbot.keyClick(codes.total, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
    assert window.editor is None and window.pages.currentWidget() is window.day_page
    assert clinic.store.sessions.get(draft.id).total_treatment_minutes == 44
    assert opened == []
    window.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_time_typed_alone_while_the_server_is_away_waits_and_is_saved_when_back(
        qtbot, clinic: Clinic, db_target, pg_server, monkeypatch):
    """Time out alone (no other edit waiting): kept to be saved, not refused, so closing
    keeps the note rather than offering to discard it."""
    opened = no_boxes(monkeypatch)
    draft = clinic.complete_draft("pt")
    window = main_window(qtbot, clinic.as_("pt"))
    editor = open_from_day(qtbot, window, draft.id)
    visit = editor.steps[0]
    step(qtbot, editor, 1)
    name = database_name(str(db_target))
    pg_server.cut_off(name)
    try:
        retype(qtbot, visit.time_out, "1840")
        assert editor.unsaved and editor.unreachable and "time_out" not in editor.refused
        assert editor.status_label.text().startswith("Not saved: server unreachable")
        qtbot.keyClick(visit.time_out, Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier)
        assert window.editor is editor and editor.status_label.text().startswith("NOT CLOSED")
    finally:
        pg_server.let_in(name)
    qtbot.waitUntil(lambda: not editor.unsaved, timeout=20000)
    assert editor.status_label.text().startswith("Saved")
    assert clinic.store.sessions.get(draft.id).time_out == dt.time(18, 40)
    assert opened == []
    window.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_silent_network_is_noticed_in_seconds_and_the_note_saved_once_it_speaks_again(
        qtbot, clinic: Clinic, db_target, silent: SilentNetwork, artifacts):
    draft = clinic.complete_draft("pt")
    # This workstation reaches the server over TCP, through the proxy; the test's own
    # connection (clinic.store) does not.
    with Store.open(silent.url(database_name(str(db_target)))) as store:
        ws = Workspace(store, clinic.users["pt"], today=lambda: TODAY, now=lambda: NOW,
                       codes=clinic.codes)
        window = main_window(qtbot, ws)
        assert window.live.notifier is not None  # the notifications' connection, idle
        editor = open_from_day(qtbot, window, draft.id)
        codes = editor.steps[3]
        step(qtbot, editor, 4)
        retype(qtbot, codes.total, "40")
        assert editor.status_label.text().startswith("Saved")

        silent.go_silent()  # nothing answers any more, nothing is refused either
        started = time.monotonic()
        retype(qtbot, codes.total, "44")  # the save waits for an answer that never comes
        noticed = time.monotonic() - started
        assert editor.status_label.text().startswith("Not saved: server unreachable")
        assert noticed < 12, f"the save noticed the silence after {noticed:.0f} s"
        assert codes.total.text() == "44" and editor.unsaved
        assert window.banner.isVisible()
        # The idle notifications' connection is found dead by its keepalives.
        qtbot.waitUntil(lambda: window.live.notifier is None, timeout=16000)
        assert time.monotonic() - started < 16
        window.grab().save(str(artifacts / "silent-network-editor.png"))

        silent.speak_again()
        qtbot.waitUntil(lambda: not editor.unsaved, timeout=30000)
        assert editor.status_label.text().startswith("Saved")
        assert clinic.store.sessions.get(draft.id).total_treatment_minutes == 44
        qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=10000)
        qtbot.waitUntil(lambda: window.live.notifier is not None, timeout=15000)
        window.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_every_connection_asks_for_keepalives_unless_the_url_says_otherwise(db_target):
    from ptdoc import pg

    db = pg.connect(str(db_target))
    own = pg.connect(f"{db_target}&keepalives_idle=30&tcp_user_timeout=20000")
    listening = db.listener("ptdoc")
    try:
        for raw in (db.raw, listening.raw):
            given = raw.info.get_parameters()
            assert {k: given.get(k) for k in pg.SILENCE} == pg.SILENCE
        given = own.raw.info.get_parameters()
        assert (given["keepalives_idle"], given["tcp_user_timeout"]) == ("30", "20000")
        assert given["keepalives_count"] == pg.SILENCE["keepalives_count"]
    finally:
        listening.close()
        own.close()
        db.close()
