"""Slow work off the GUI thread, with callbacks back on it (Anki's QueryOp, in small)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal


class _Relay(QObject):
    """Lives on the GUI thread; signals emitted by the worker arrive there queued."""

    done = Signal(object)
    failed = Signal(object)


class _Task(QRunnable):
    def __init__(self, fn: Callable[[], Any], relay: _Relay):
        super().__init__()
        self.fn = fn
        self.relay = relay

    def run(self) -> None:
        try:
            result = self.fn()
        except Exception as exc:  # handed to on_error on the GUI thread
            self.relay.failed.emit(exc)
        else:
            self.relay.done.emit(result)


_running: set[_Relay] = set()


def run_in_background(fn: Callable[[], Any], on_done: Callable[[Any], None],
                      on_error: Callable[[Exception], None]) -> None:
    """Run ``fn`` on a pool thread; ``fn`` must not touch widgets or the GUI's connection."""
    relay = _Relay()
    _running.add(relay)

    def finish(callback: Callable[[Any], None]) -> Callable[[Any], None]:
        def call(value: Any) -> None:
            _running.discard(relay)
            callback(value)
        return call

    relay.done.connect(finish(on_done))
    relay.failed.connect(finish(on_error))
    QThreadPool.globalInstance().start(_Task(fn, relay))


def finish_background(milliseconds: int = 10_000) -> bool:
    """Wait (bounded) for the work still running before the application goes: a task that
    ended after the QApplication would report into a window that no longer exists."""
    return QThreadPool.globalInstance().waitForDone(milliseconds)
