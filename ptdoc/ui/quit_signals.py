"""Quitting on SIGTERM and SIGINT as on a normal close: the open draft is saved, the database
closed, the running marker removed, and the exit code is 0.

A desktop session's logout or a shutdown sends SIGTERM, Ctrl+C in the terminal SIGINT. Python
runs its handlers only between bytecodes, and while Qt's event loop waits no bytecode runs, so
a handler alone would wait for the next mouse move. The C-level handler also writes the
signal's number to a socket (``signal.set_wakeup_fd``) that a ``QSocketNotifier`` watches: the
loop wakes at once and the quit runs as an ordinary slot on the GUI thread, between events.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import socket
from collections.abc import Iterator
from types import FrameType

from PySide6.QtCore import QObject, QSocketNotifier
from PySide6.QtWidgets import QApplication, QMainWindow

log = logging.getLogger("ptdoc")

QUIT_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class QuitOnSignals(QObject):
    """While installed, SIGTERM or SIGINT closes every window as the user would (the main
    window first: its close saves the draft being typed); ``received`` names the signal, so
    what runs after a dialog knows not to open the next one."""

    def __init__(self, app: QApplication):
        super().__init__(app)
        self.app = app
        self.received: signal.Signals | None = None
        self._reader, self._writer = socket.socketpair()
        self._reader.setblocking(False)
        self._writer.setblocking(False)  # a full buffer must never block the C handler
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(),
                                                 warn_on_full_buffer=False)
        self._previous = {number: signal.signal(number, self._noted) for number in QUIT_SIGNALS}
        self._notifier = QSocketNotifier(self._reader.fileno(), QSocketNotifier.Type.Read, self)
        self._notifier.activated.connect(self._woken)

    def _noted(self, number: int, _frame: FrameType | None) -> None:
        # Runs between bytecodes; the closing itself waits for the loop (_woken), where no
        # widget is halfway through an event.
        self.received = signal.Signals(number)

    def _woken(self) -> None:
        try:
            numbers = self._reader.recv(64)
        except OSError:  # nothing left to read: another wake-up took it
            return
        quitting = [signal.Signals(n) for n in numbers if n in QUIT_SIGNALS]
        if not quitting:  # another handler's signal (set_wakeup_fd is for every signal)
            return
        self.received = quitting[0]
        log.info("quitting on %s", self.received.name)
        self.close_windows()

    def close_windows(self) -> None:
        # The main window first, even under a modal box: its closeEvent saves the draft.
        for widget in self.app.topLevelWidgets():
            if isinstance(widget, QMainWindow) and widget.isVisible():
                widget.close()
        self.app.closeAllWindows()  # the sign-in, setup steps, message boxes: each rejected
        # A box that refuses to close (one without a Cancel) would hold its loop open: every
        # event loop is told to end. Closing the last window ends the main one by itself.
        if any(widget.isVisible() for widget in self.app.topLevelWidgets()):
            self.app.exit(0)

    def uninstall(self) -> None:
        self._notifier.setEnabled(False)
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._previous_fd)
        self._reader.close()
        self._writer.close()
        self.deleteLater()


@contextlib.contextmanager
def quitting_on_signals(app: QApplication) -> Iterator[QuitOnSignals]:
    """SIGTERM and SIGINT quit the application cleanly while inside; the handlers that were
    there before are put back after."""
    quitter = QuitOnSignals(app)
    try:
        yield quitter
    finally:
        quitter.uninstall()
