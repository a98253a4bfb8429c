"""Several workstations on one clinic: a draft open for editing on one is read-only on the
others (who, where, since when) until it is closed, goes idle or its program dies; and each
workstation learns cheaply that another changed the day's sessions. Each workstation is a
Store of its own (its own connection), on the file and on the server."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from conftest import NOW, TODAY, Clinic, sign

from ptdoc.clock import local
from ptdoc.domain import Clinic as ClinicSettings
from ptdoc.errors import DraftOpenElsewhere, ServerUnreachable
from ptdoc.services import Workspace
from ptdoc.session_store import LOCK_IDLE_MINUTES, workstation
from ptdoc.store import Store

ROOT = Path(__file__).resolve().parent.parent


def other_workstation(clinic: Clinic, target: object, username: str,
                      minutes_later: int = 0) -> Workspace:
    """``username`` signed in on a second workstation: the same database, its own connection."""
    store = Store.open(target)  # type: ignore[arg-type]
    later = NOW + dt.timedelta(minutes=minutes_later)
    return Workspace(store, clinic.users[username], today=lambda: TODAY, now=lambda: later,
                     codes=clinic.codes)


def test_a_draft_open_on_one_workstation_is_read_only_on_another(clinic: Clinic, db_target):
    draft = clinic.complete_draft("pt")
    here = clinic.as_("pt")
    there = other_workstation(clinic, db_target, "pt")
    try:
        assert here.open_for_editing(draft.id) is None
        holder = there.open_for_editing(draft.id)
        assert holder is not None and not holder.stale
        since = f"{local(NOW, clinic.store.clinic.time_zone()):%H:%M}"
        assert there.holder_text(holder) == \
            f"Open on {workstation()} by PT User, PT since {since}"
        # The second workstation cannot overwrite what the first is typing.
        with pytest.raises(DraftOpenElsewhere, match=r"Not saved: Open on .* by PT User"):
            there.save_draft(replace(draft, assessment="Typed on the second workstation"))
        assert clinic.store.sessions.get(draft.id).assessment == draft.assessment
        # The holder saves as before; closing the editor releases the draft.
        here.save_draft(replace(draft, assessment="Typed on the first"))
        here.release_draft(draft.id)
        assert there.draft_holder(draft.id) is None
        assert there.open_for_editing(draft.id) is None
        assert here.draft_holder(draft.id) is not None
    finally:
        there.store.close()
    # Closing the second workstation's database releases what it held.
    assert here.open_for_editing(draft.id) is None


def test_an_idle_lock_may_be_taken_over(clinic: Clinic, db_target):
    draft = clinic.complete_draft("pt")
    assert clinic.as_("pt").open_for_editing(draft.id) is None
    soon = other_workstation(clinic, db_target, "dpt", LOCK_IDLE_MINUTES - 1)
    later = other_workstation(clinic, db_target, "dpt", LOCK_IDLE_MINUTES)
    try:
        assert not soon.open_for_editing(draft.id, stale_too=True).stale
        holder = later.open_for_editing(draft.id)
        assert holder.idle and not holder.gone
        assert later.holder_text(holder).endswith(
            f"; idle since {local(NOW, later.time_zone()):%H:%M} "
            f"(nothing saved there for {LOCK_IDLE_MINUTES} minutes)")
        assert later.open_for_editing(draft.id, stale_too=True) is None
        assert later.draft_holder(draft.id) is None
        # The first workstation now sees it held by the one that took it over.
        taken = clinic.as_("pt").draft_holder(draft.id)
        assert taken is not None and taken.user_id == clinic.users["dpt"].id
    finally:
        soon.store.close()
        later.store.close()


def test_the_clinic_sets_how_long_an_open_draft_may_go_unsaved(clinic: Clinic, db_target):
    clinic.admin.save_clinic(ClinicSettings("Lakeside Physical Therapy", time_zone="UTC",
                                            draft_idle_minutes=5))
    draft = clinic.complete_draft("pt")
    assert clinic.as_("pt").open_for_editing(draft.id) is None
    soon = other_workstation(clinic, db_target, "dpt", 4)
    later = other_workstation(clinic, db_target, "dpt", 5)
    try:
        assert not soon.open_for_editing(draft.id, stale_too=True).stale
        holder = later.open_for_editing(draft.id)
        assert holder.idle and later.holder_text(holder).endswith(
            "(nothing saved there for 5 minutes)")
        assert later.open_for_editing(draft.id, stale_too=True) is None
        detail = later.store.db.execute(
            "SELECT detail FROM audit WHERE action = 'lock taken' AND entity_id = ?",
            [draft.id]).fetchone()[0]
        assert detail.startswith(f"from pt on {workstation()} (process {os.getpid()}; held "
                                 f"since {NOW:%Y-%m-%dT%H:%M:%S}Z, last saved ")
        assert detail.endswith(f"no save for over 5 minutes; taken on {workstation()}")
    finally:
        soon.store.close()
        later.store.close()


HOLDER = """
import sys, time
from ptdoc.store import Store
from ptdoc.services import Workspace
store = Store.open(sys.argv[1])
ws = Workspace(store, store.users.by_username(sys.argv[3] if len(sys.argv) > 3 else "pt"))
draft = int(sys.argv[2])
assert ws.open_for_editing(draft) is None
if not ws.writes(draft):  # another clinician's: taken over, as its window's Alt+K does
    ws.take_over(draft)
print("holding", flush=True)
time.sleep(120)
"""


@pytest.mark.slow
def test_a_killed_workstation_frees_its_draft(clinic: Clinic, db_target, backend: str):
    draft = clinic.complete_draft("pt")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(db_target), str(draft.id)],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert child.stdout.readline().strip() == "holding"
        ws = clinic.as_("pt")  # at another workstation, after the first one froze
        holder = ws.draft_holder(draft.id)
        assert holder is not None and not holder.stale and holder.pid == child.pid
        assert ws.open_for_editing(draft.id) is not None
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    if backend == "postgres":
        # The server ends the killed client's connection (within moments of its socket
        # closing): the draft is free, not merely stale.
        deadline = time.monotonic() + 10
        while ws.draft_holder(draft.id) is not None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert ws.draft_holder(draft.id) is None
        assert ws.open_for_editing(draft.id) is None
    else:
        # A file sees the holder's process gone from this computer: stale, taken when asked.
        holder = ws.draft_holder(draft.id)
        assert holder is not None and holder.gone and not holder.idle
        assert ws.holder_text(holder) == f"Was open on {workstation()} by PT User, PT; " \
            "that window stopped"
        assert ws.open_for_editing(draft.id) is not None
        assert ws.open_for_editing(draft.id, stale_too=True) is None
    ws.save_draft(replace(ws.store.sessions.get(draft.id), assessment="Finished here"))


def test_changes_made_elsewhere_are_told_by_day(clinic: Clinic, db_target, backend: str):
    draft = clinic.complete_draft("pt")
    changes = clinic.store.changes()
    there = other_workstation(clinic, db_target, "pt")
    try:
        assert changes.changed_days() == []
        # Own changes are not news.
        clinic.as_("pt").save_draft(replace(draft, assessment="Typed here"))
        assert changes.changed_days() == []
        sign(there, draft.id)
        expected = [TODAY] if backend == "postgres" else [None]
        deadline = time.monotonic() + 5
        seen = changes.changed_days()
        while not seen and time.monotonic() < deadline:
            time.sleep(0.05)
            seen = changes.changed_days()
        assert expected[0] in seen
        assert changes.changed_days() == []
    finally:
        there.store.close()
        changes.close()


def drop_every_connection(pg_server, url: str) -> None:
    """Every connection to the clinic's database ended, as by a server restart; new ones are
    let in at once."""
    name = urlsplit(url).path.lstrip("/")
    pg_server.cut_off(name)
    pg_server.let_in(name)


def connected_again(ws: Workspace) -> None:
    """The first statement after a lost connection fails (it finds it lost); the next makes a
    new one, as the window's next save or lock check does."""
    with contextlib.suppress(ServerUnreachable):
        ws.store.sessions.count()
    ws.store.sessions.count()


@pytest.mark.parametrize("backend", ["postgres"])
def test_drafts_held_across_a_lost_connection_are_held_again(clinic: Clinic, db_target,
                                                              pg_server):
    draft = clinic.complete_draft("pt")
    here = clinic.as_("pt")
    assert here.open_for_editing(draft.id) is None
    before = here.store.draft_locks.connection()
    drop_every_connection(pg_server, db_target)
    connected_again(here)
    assert here.holds_draft(draft.id)
    there = other_workstation(clinic, db_target, "pt")
    try:
        # A second holder cannot take it: the row names the new connection, which is alive.
        holder = there.open_for_editing(draft.id)
        assert holder is not None and not holder.stale
        assert here.store.draft_locks.connection() != before
        # A draft opened after the reconnection is held under the new connection too.
        second = clinic.complete_draft("pt")
        assert here.open_for_editing(second.id) is None
        assert there.open_for_editing(second.id) is not None
        with pytest.raises(DraftOpenElsewhere):
            there.save_draft(replace(draft, assessment="Typed on the second workstation"))
        here.save_draft(replace(draft, assessment="Typed here after the restart"))
    finally:
        there.store.close()


@pytest.mark.parametrize("backend", ["postgres"])
def test_a_draft_taken_elsewhere_while_the_connection_was_lost_stays_there(
        clinic: Clinic, db_target, pg_server):
    draft = clinic.complete_draft("pt")
    here = clinic.as_("pt")
    assert here.open_for_editing(draft.id) is None
    drop_every_connection(pg_server, db_target)
    there = other_workstation(clinic, db_target, "pt")
    try:
        # Meanwhile this workstation's connection has ended: the other one may take it.
        assert there.open_for_editing(draft.id) is None
        connected_again(here)
        assert not here.holds_draft(draft.id)
        holder = here.draft_holder(draft.id)
        assert holder is not None and not holder.stale
        assert here.holder_text(holder).startswith(f"Open on {workstation()} by PT User")
        with pytest.raises(DraftOpenElsewhere):
            here.save_draft(replace(draft, assessment="Typed here while away"))
        assert there.holds_draft(draft.id)
        # Whose lock it took, and where, is in the audit log.
        row = here.store.db.execute(
            "SELECT actor, detail FROM audit WHERE action = 'lock taken' AND entity_id = ?",
            [draft.id]).fetchone()
        assert row[0] == "pt" and row[1].startswith(f"from pt on {workstation()} (process ")
        assert "its connection to the server had ended" in row[1]
    finally:
        there.store.close()
