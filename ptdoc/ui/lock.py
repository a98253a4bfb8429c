"""The idle lock: after the clinic's idle time the window hides patient data until someone
signs in again. Nothing typed is lost: the editor saves the field in hand before locking."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication, QLabel, QVBoxLayout, QWidget

from ptdoc.store import Store
from ptdoc.ui.login import SignInForm

_ACTIVITY = {QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
             QEvent.Type.Wheel}


class IdleWatcher(QObject):
    """Restarts a timer on every key, click or mouse move anywhere in the application."""

    idle = Signal()

    def __init__(self, minutes: int, parent: QObject | None = None):
        super().__init__(parent)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.idle.emit)
        self.set_minutes(minutes)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)

    def set_minutes(self, minutes: int) -> None:
        self.timer.setInterval(max(1, minutes) * 60_000)
        self.timer.start()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in _ACTIVITY:
            self.timer.start()
        return False

    def stop(self) -> None:
        self.timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)


LOCKED = ("ptdoc is locked. Patient data is hidden. Sign in to continue; what was typed is "
          "saved.")


class LockScreen(QWidget):
    """Shows no patient data; the same or another user signs in to go on."""

    def __init__(self, store: Store, clinic_name: str):
        super().__init__(objectName="lock_screen")
        self.clinic_name = clinic_name
        self.form = SignInForm(store, "", cancel_text="Quit")
        self.explain(LOCKED)
        self.form.setMaximumWidth(480)
        layout = QVBoxLayout(self)
        layout.addStretch(1)
        layout.addWidget(QLabel(""), 0)
        layout.addWidget(self.form)
        layout.addStretch(2)

    def explain(self, why: str) -> None:
        """Why the window is on this screen: locked, or the user was signed out."""
        self.form.heading.setText(f"<h2>{self.clinic_name}</h2><p>{why}</p>")
