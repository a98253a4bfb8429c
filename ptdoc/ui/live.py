"""Lists that follow what other workstations do: when a note is signed or a draft saved
elsewhere, the day view shows it within seconds, without reading the whole day to find out.

On a server, the change's notification arrives on a connection of its own (``Changes``),
whose socket a ``QSocketNotifier`` watches: nothing runs until one arrives. On a file, a
timer asks ``PRAGMA data_version`` (one cheap read) every ``FILE_CHECK_MS``.
"""

from __future__ import annotations

import logging
import sqlite3

from PySide6.QtCore import QObject, QSocketNotifier, QTimer, Signal

from ptdoc.errors import KnownError
from ptdoc.store import Store

log = logging.getLogger(__name__)

FILE_CHECK_MS = 1500


class LiveDays(QObject):
    """``changed`` carries the days of service changed elsewhere (None: some day)."""

    changed = Signal(list)

    def __init__(self, store: Store, parent: QObject | None = None):
        super().__init__(parent)
        self.notifier: QSocketNotifier | None = None
        self.timer: QTimer | None = None
        try:
            self.changes = store.changes()
        except KnownError as exc:  # the lists then follow only what is done here
            log.warning("lists will not follow other workstations: %s", exc)
            self.changes = None
            return
        socket = self.changes.fileno()
        if socket is not None:
            self.notifier = QSocketNotifier(socket, QSocketNotifier.Type.Read, self)
            self.notifier.activated.connect(self.check)
        else:
            self.timer = QTimer(self, interval=FILE_CHECK_MS)
            self.timer.timeout.connect(self.check)
            self.timer.start()

    def check(self) -> None:
        if self.changes is None:
            return
        try:
            days = self.changes.changed_days()
        except (KnownError, sqlite3.Error, OSError) as exc:
            # A busy file or a lost server: asked again at the next tick or notification.
            log.info("could not ask for changes made elsewhere: %s", exc)
            return
        if days:
            self.changed.emit(days)

    def stop(self) -> None:
        if self.timer is not None:
            self.timer.stop()
        if self.notifier is not None:
            self.notifier.setEnabled(False)
        if self.changes is not None:
            self.changes.close()
            self.changes = None
