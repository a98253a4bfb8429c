"""The clinic's server out of reach, said once in the window in plain words.

Whatever meets the outage (the day view, a search, opening a note, a dialog's save, the live
lists' lost connection) hands the ``ServerUnreachable`` to the window's ``ServerBanner``
instead of a box: one red line in the status bar that names the server, says nothing is lost
and that ptdoc keeps trying (the whole explanation in its tooltip), and goes by itself once a
trivial statement succeeds again (the store connects again, spacing out its attempts). It
lives in the status bar, whose height one line of text already sets, so appearing moves
nothing on the page: a click aimed at a cell still lands on it.
The driver's words are in the log only (``ptdoc.pg``).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QWidget

from ptdoc.errors import KnownError, ServerUnreachable
from ptdoc.store import Store

log = logging.getLogger(__name__)

CHECK_MS = 1000  # how often the banner asks; the store's backoff decides when it really tries

_shown: ServerBanner | None = None  # the window's banner, for what reaches the crash hook


def line(server: str) -> str:
    """What the status bar has room for; ``message`` says it whole."""
    return (f"The clinic's server {server} cannot be reached. Nothing is lost; ptdoc keeps "
            "trying.")


def message(server: str) -> str:
    return (f"The clinic's server {server} cannot be reached (the network or the server is "
            "down). Nothing is lost: what was saved stays saved, and a note being typed keeps "
            "what you type and saves it when the server is back. ptdoc keeps trying; this "
            "message goes away by itself.")


class ServerBanner(QLabel):
    """One red line for the status bar, cut short with "…" when the window is narrow (the
    tooltip has it whole). ``back`` is emitted when the server answers again (it has gone)."""

    back = Signal()

    def __init__(self, store: Store, parent: QWidget | None = None):
        super().__init__(parent, objectName="server_banner")
        self.store = store
        self._line = ""
        # No vertical padding or border: no taller than the status bar's other text, so the
        # bar (and the page above it) keeps its height when the line appears.
        self.setStyleSheet("QLabel { color: white; background: #b3261e; font-weight: bold; "
                           "padding: 0px 6px; }")
        # Its text never widens the window: it is cut to the room there is.
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setAccessibleName("Server unreachable")
        self.timer = QTimer(self, interval=CHECK_MS)
        self.timer.timeout.connect(self._check)
        self.hide()

    def report(self, exc: ServerUnreachable) -> None:
        if not self.isVisible():
            log.info("told the user that %s cannot be reached", exc.server)
        self._line = line(exc.server)
        self.setToolTip(message(exc.server))
        self.setAccessibleDescription(message(exc.server))
        self._fit()
        self.show()
        self.timer.start()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def _fit(self) -> None:
        room = self.contentsRect().width() - 12  # the stylesheet's padding
        self.setText(self.fontMetrics().elidedText(self._line, Qt.TextElideMode.ElideRight, room)
                     if room > 0 else self._line)

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
