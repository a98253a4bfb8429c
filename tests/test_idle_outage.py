"""A window nobody touches learns of an outage from its live lists' lost connection: the red
line appears within seconds without a key pressed, the day view says as of when its list is,
and both go when the server is back. The line moves nothing under the mouse."""

from __future__ import annotations

import time

import pytest
from conftest import NOW, TODAY, Clinic
from driving import main_window
from PySide6.QtCore import QPoint, QRect
from silent_network import SilentNetwork
from test_pg_network import database_name, no_boxes
from test_what_you_sign import click_cell, open_from_day, step

from ptdoc.clock import local
from ptdoc.services import Workspace
from ptdoc.store import Store
from ptdoc.ui import live
from ptdoc.ui.exercise_table import COLUMN

pytestmark = pytest.mark.server

SAID_WITHIN_MS = 3000  # a stopped server ends the listening connection at once


def on_screen(table, row: int, column: int) -> tuple[QPoint, QRect]:
    """Where a cell is on the screen, and its size: what a click aims at."""
    rect = table.visualRect(table.model().index(row, column))
    return table.viewport().mapToGlobal(rect.topLeft()), rect


@pytest.mark.parametrize("backend", ["postgres"])
def test_an_idle_day_view_says_the_outage_and_as_of_when_then_goes_live_again(
        qtbot, clinic: Clinic, db_target, pg_server, monkeypatch, artifacts):
    opened = no_boxes(monkeypatch)
    draft = clinic.complete_draft("pt")
    window = main_window(qtbot, clinic.as_("desk"))
    assert window.live.listening and not window.banner.isVisible()
    listed = window.summary.text()
    as_of = f"As of {local(NOW, clinic.store.clinic.time_zone()):%H:%M}"
    name = database_name(str(db_target))

    pg_server.cut_off(name)  # the window idle: no key, no click from here on
    try:
        started = time.monotonic()
        qtbot.waitUntil(window.banner.isVisible, timeout=SAID_WITHIN_MS)
        said_after = time.monotonic() - started
        assert said_after < SAID_WITHIN_MS / 1000
        line = window.banner.text()
        assert line.startswith("The clinic's server on this computer cannot be reached")
        assert "Nothing is lost" in line and "keeps trying" in line
        whole = window.banner.toolTip()
        assert "cannot be reached" in whole and "saves it when the server is back" in whole
        assert "connection" not in whole.lower()
        # The day's list stays, saying as of when it was read.
        assert window.summary.text().startswith(f"{as_of}: the server cannot be reached")
        assert listed in window.summary.text()
        assert window.model.rowCount() == 1 and window.model.row_at(0).id == draft.id
        window.grab().save(str(artifacts / "idle-outage-day-view.png"))
        # The live lists' reconnections meet the outage too: it is still said after one.
        qtbot.wait(live.RECONNECT_MS + 1000)
        assert window.banner.isVisible() and not window.live.listening
        assert window.summary.text().startswith(f"{as_of}: the server cannot be reached")
    finally:
        pg_server.let_in(name)

    # Another workstation adds a note once the server is back; this window, still untouched,
    # drops the line and the "as of", and follows again.
    other = clinic.started_elsewhere(db_target)
    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=15000)
    qtbot.waitUntil(lambda: window.model.rowCount() == 2, timeout=10000)
    assert not window.summary.text().startswith("As of")
    assert window.live.listening
    third = clinic.started_elsewhere(db_target)
    qtbot.waitUntil(lambda: window.model.rowCount() == 3, timeout=5000)
    assert third.id in {window.model.row_at(r).id for r in range(3)}
    assert other.id in {window.model.row_at(r).id for r in range(3)}
    assert opened == []
    window.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_the_outage_line_in_an_idle_note_moves_nothing_under_the_mouse(
        qtbot, clinic: Clinic, db_target, pg_server, monkeypatch, artifacts):
    opened = no_boxes(monkeypatch)
    draft = clinic.complete_draft("pt")
    window = main_window(qtbot, clinic.as_("pt"))
    editor = open_from_day(qtbot, window, draft.id)
    step(qtbot, editor, 3)
    table = editor.steps[2].table
    sets = COLUMN["sets"]
    before = on_screen(table, 0, sets)
    window.grab().save(str(artifacts / "idle-outage-editor-before.png"))
    name = database_name(str(db_target))

    pg_server.cut_off(name)
    try:
        qtbot.waitUntil(window.banner.isVisible, timeout=SAID_WITHIN_MS)
        qtbot.wait(50)  # any layout it caused has settled
        assert window.banner.text().startswith("The clinic's server on this computer")
        assert on_screen(table, 0, sets) == before
        window.grab().save(str(artifacts / "idle-outage-editor.png"))
        # A click aimed at the cell before the line came lands on it.
        click_cell(qtbot, table, 0, sets)
        assert on_screen(table, 0, sets) == before
    finally:
        pg_server.let_in(name)

    qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=15000)
    qtbot.wait(50)
    assert on_screen(table, 0, sets) == before
    assert window.editor is editor and not editor.unsaved
    assert opened == []
    window.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_an_idle_window_says_a_silent_network_once_its_keepalives_find_it(
        qtbot, clinic: Clinic, db_target, silent: SilentNetwork, artifacts):
    """A cable pulled sends nothing back: the idle listening connection's keepalives find it
    dead (about ten seconds), and that is said as a stopped server is."""
    clinic.complete_draft("pt")
    with Store.open(silent.url(database_name(str(db_target)))) as store:
        ws = Workspace(store, clinic.users["desk"], today=lambda: TODAY, now=lambda: NOW,
                       codes=clinic.codes)
        window = main_window(qtbot, ws)
        assert window.live.listening and not window.banner.isVisible()
        as_of = f"As of {local(NOW, clinic.store.clinic.time_zone()):%H:%M}"

        silent.go_silent()
        started = time.monotonic()
        qtbot.waitUntil(window.banner.isVisible, timeout=16000)
        assert time.monotonic() - started < 16
        assert window.summary.text().startswith(f"{as_of}: the server cannot be reached")
        assert window.model.rowCount() == 1

        silent.speak_again()
        qtbot.waitUntil(lambda: not window.banner.isVisible(), timeout=30000)
        qtbot.waitUntil(lambda: window.live.listening, timeout=15000)
        assert not window.summary.text().startswith("As of")
        window.close()
