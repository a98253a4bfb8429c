"""A network that drops while the window is open on a server: what is typed is kept, never
reported saved, and saved once the server can be reached again."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from conftest import Clinic
from driving import main_window
from test_what_you_sign import open_from_day, retype, step

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
