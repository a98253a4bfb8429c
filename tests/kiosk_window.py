"""``ptdoc ARGS`` run through its command line in this process, offscreen, telling what shows:
run by tests/test_kiosk.py. Once a window or the sign-in shows, prints one line and closes it,
as its user would (the main window's close button, the sign-in's Cancel):

- ``window: TEXT`` the main window, with what its line "Signed in as ..." says;
- ``sign-in: NAME`` the sign-in form, with the user it has chosen.

Its picture is saved to the file named by $PTDOC_KIOSK_SHOT when set.

The exit code is ptdoc's.
"""

from __future__ import annotations

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMainWindow

from ptdoc import cli
from ptdoc.ui.login import LoginDialog


def main() -> int:
    app = QApplication(sys.argv[:1])

    def look() -> None:
        window = next((w for w in app.topLevelWidgets()
                       if isinstance(w, QMainWindow) and w.isVisible()), None)
        dialog = app.activeModalWidget()
        if window is not None:
            QTest.qWaitForWindowExposed(window)
            if os.environ.get("PTDOC_KIOSK_SHOT"):
                window.grab().save(os.environ["PTDOC_KIOSK_SHOT"])
            print(f"window: {window.signed_in.text()}", flush=True)
            window.close()
        elif isinstance(dialog, LoginDialog):
            QTest.qWaitForWindowExposed(dialog)
            if os.environ.get("PTDOC_KIOSK_SHOT"):
                dialog.grab().save(os.environ["PTDOC_KIOSK_SHOT"])
            print(f"sign-in: {dialog.form.user_box.currentText()}", flush=True)
            QTest.mouseClick(dialog.form.cancel_button, Qt.MouseButton.LeftButton)
        else:
            QTimer.singleShot(20, look)

    QTimer.singleShot(0, look)
    return cli.main(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
