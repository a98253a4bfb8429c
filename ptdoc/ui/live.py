"""Lists that follow what other workstations do: when a note is signed or a draft saved
elsewhere, the day view shows it within seconds, without reading the whole day to find out.

On a server, the change's notification arrives on a connection of its own (``Changes``),
whose socket a ``QSocketNotifier`` watches: nothing runs until one arrives. On a file, a
timer asks ``PRAGMA data_version`` (one cheap read) every ``FILE_CHECK_MS``. A lost
listening connection is made again every ``RECONNECT_MS``, then the day is listed again.

That connection is also how an idle window learns of an outage: a stopped server ends it at
once, a silent network within its keepalives' ten seconds. Its loss, and each attempt to make
it again that finds the server out of reach, is ``unreachable``, which the window says as any
other outage, without any key pressed and without reading the day to find out.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from ptdoc.errors import KnownError, ServerUnreachable
from ptdoc.store import Store

log = logging.getLogger(__name__)

FILE_CHECK_MS = 1500
RECONNECT_MS = 5000


class LiveDays(QObject):
    """``changed`` carries the days of service changed elsewhere (None: some day);
    ``unreachable`` a ``ServerUnreachable`` met by the listening connection."""

    changed = Signal(list)
    unreachable = Signal(object)

    def __init__(self, store: Store, parent: QObject | None = None):
        super().__init__(parent)
        self.store = store
        self.notifier: QSocketNotifier | None = None
        self.changes = None
        self.timer = QTimer(self, interval=FILE_CHECK_MS)
        self.timer.timeout.connect(self.check)
        # A server's listening connection that was lost is made again on this timer.
        self.retry = QTimer(self, interval=RECONNECT_MS)
        self.retry.timeout.connect(self._listen)
        self._listen()

    def _listen(self) -> None:
        try:
            self.changes = self.store.changes()
        except KnownError as exc:  # meanwhile the lists follow only what is done here
            log.warning("lists do not follow other workstations for now: %s", exc)
            self.retry.start()
            if isinstance(exc, ServerUnreachable):
                self.unreachable.emit(exc)
            return
        self.retry.stop()
        socket = self.changes.fileno()
        if socket is None:
            self.timer.start()
            return
        self.notifier = QSocketNotifier(socket, QSocketNotifier.Type.Read, self)
        self.notifier.activated.connect(self.check)
        self.changed.emit([None])  # what was missed while not listening

    def check(self) -> None:
        if self.changes is None:
            return
        try:
            days = self.changes.changed_days()
        except (KnownError, sqlite3.Error, OSError) as exc:
            log.info("could not ask for changes made elsewhere: %s", exc)
            if self.notifier is not None:  # a lost server: its socket would wake us forever
                self._drop_listener()
                self.retry.start()
                if isinstance(exc, ServerUnreachable):
                    self.unreachable.emit(exc)
            return  # a busy file is asked again at the next tick
        if days:
            self.changed.emit(days)

    @property
    def listening(self) -> bool:
        return self.changes is not None

    def resume(self) -> None:
        """The server answers again: listen now rather than at the next retry."""
        if self.retry.isActive():
            self._listen()

    def _drop_listener(self) -> None:
        if self.notifier is not None:
            self.notifier.setEnabled(False)
            self.notifier.deleteLater()
            self.notifier = None
        if self.changes is not None:
            with contextlib.suppress(Exception):  # already lost
                self.changes.close()
            self.changes = None

    def stop(self) -> None:
        self.timer.stop()
        self.retry.stop()
        self._drop_listener()
