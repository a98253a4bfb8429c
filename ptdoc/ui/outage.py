"""The clinic's server out of reach, said once in the window in plain words.

Whatever meets the outage (the day view, a search, opening a note, a dialog's save) hands the
``ServerUnreachable`` to the window's ``ServerBanner`` instead of a box: one line at the top
that names the server, says nothing is lost and that ptdoc keeps trying, and goes by itself
once a trivial statement succeeds again (the store connects again, spacing out its attempts).
The driver's words are in the log only (``ptdoc.pg``).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QLabel, QWidget

from ptdoc.errors import KnownError, ServerUnreachable
from ptdoc.store import Store

log = logging.getLogger(__name__)

CHECK_MS = 1000  # how often the banner asks; the store's backoff decides when it really tries

_shown: ServerBanner | None = None  # the window's banner, for what reaches the crash hook


def message(server: str) -> str:
    return (f"The clinic's server {server} cannot be reached (the network or the server is "
            "down). Nothing is lost: what was saved stays saved, and a note being typed keeps "
            "what you type and saves it when the server is back. ptdoc keeps trying; this "
            "message goes away by itself.")


class ServerBanner(QLabel):
    """``back`` is emitted when the server answers again (the banner has gone)."""

    back = Signal()

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent, objectName="server_banner")
        self.store = store
        self.setWordWrap(True)
        self.setStyleSheet("QLabel { background: #fde2e1; border: 1px solid #c94b44; "
                           "padding: 6px; }")
        self.setAccessibleName("Server unreachable")
        self.timer = QTimer(self, interval=CHECK_MS)
        self.timer.timeout.connect(self._check)
        self.hide()

    def report(self, exc: ServerUnreachable) -> None:
        if not self.isVisible():
            log.info("told the user that %s cannot be reached", exc.server)
        self.setText(message(exc.server))
        self.show()
        self.timer.start()

    @property
    def out(self) -> bool:
        return self.timer.isActive()

    def _check(self) -> None:
        try:
            self.store.reach()
        except ServerUnreachable:
            return
        except KnownError as exc:  # it answers, with something else: not an outage any more
            log.info("the server answers again, with: %s", exc)
        self.timer.stop()
        self.hide()
        log.info("the server can be reached again")
        self.back.emit()

    def stop(self) -> None:
        self.timer.stop()


def attach(banner: ServerBanner | None) -> None:
    """The banner that ``report`` shows (None: the window has closed)."""
    global _shown
    _shown = banner


def report(exc: BaseException) -> bool:
    """Show an outage in the window's banner; False when there is no window to show it."""
    if not isinstance(exc, ServerUnreachable) or _shown is None:
        return False
    _shown.report(exc)
    return True
