"""Composition root: logging, the database gate, QApplication, the crash hook, sign-in, window.

Only what the sign-in needs is imported before it shows; the main window, the editor and its
steps, the PDF preview and the rest load on a thread while the password is typed
(``preload``), and the demo and the setup steps only when they are used.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import sys
import threading
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import QApplication, QDialog, QFileDialog, QMessageBox

from ptdoc import clock, logfile, paths
from ptdoc import db as dbmod
from ptdoc.domain import User
from ptdoc.errors import AccountDisabled, DatabaseError, KnownError, NotFound
from ptdoc.store import Store
from ptdoc.ui import outage
from ptdoc.ui.background import finish_background, run_in_background
from ptdoc.ui.login import LoginDialog
from ptdoc.ui.quit_signals import QuitOnSignals, quitting_on_signals

if TYPE_CHECKING:
    from ptdoc.ui.main_window import MainWindow

log = logging.getLogger("ptdoc")

# What the window needs after sign-in, loaded while the password is typed.
AFTER_SIGN_IN = ("ptdoc.access", "ptdoc.ui.main_window", "ptdoc.icd_index")


def preload(modules: tuple[str, ...] = AFTER_SIGN_IN) -> threading.Thread:
    """Import ``modules`` on a thread (imports define classes, they make no widgets); an
    import of them on the GUI thread meanwhile waits for it instead of loading twice."""
    def load() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # the GUI thread's own import will say what is wrong
                log.exception("preloading %s failed", name)
                return

    thread = threading.Thread(target=load, name="preload", daemon=True)
    thread.start()
    return thread


def setup_logging() -> Path:
    return logfile.setup_logging() or paths.log_dir() / "ptdoc.log"


def install_crash_hook(log_file: Path) -> None:
    """Anything that is not a KnownError is a bug: log it whole, tell the user, keep running."""
    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if isinstance(exc, AccountDisabled):
            return  # the window has gone back to the sign-in screen, which says why
        app = QApplication.instance()
        if app is None or threading.current_thread() is not threading.main_thread():
            # No window may be made here (a worker, or the application gone): the log only.
            log.error("unhandled exception off the window's thread:\n%s",
                      "".join(traceback.format_exception(kind, exc, tb)))
            return
        if outage.report(exc):
            return  # the window's banner says it once, and goes when the server is back
        if isinstance(exc, KnownError):
            QMessageBox.warning(None, "ptdoc", str(exc))
            return
        log.error("unhandled exception:\n%s", "".join(traceback.format_exception(kind, exc, tb)))
        box = QMessageBox(QMessageBox.Icon.Critical, "ptdoc — unexpected error",
                          "ptdoc hit an unexpected error. What you typed before it is saved. "
                          f"Details are in the log:\n{log_file}")
        box.setDetailedText("".join(traceback.format_exception_only(kind, exc)))
        box.exec()

    sys.excepthook = hook


def open_store(db_path: Path | str, demo_if_missing: bool) -> tuple[Store | None, str]:
    """The database, or None when the user gave up; with a notice to show in the window."""
    while True:
        try:
            # Only a path with nothing there becomes the demo; an empty or foreign file is
            # refused by the gate below with the way out, and left as it is. A server's
            # database never becomes the demo.
            if demo_if_missing and paths.nothing_there(db_path):
                from ptdoc.demo import DEMO_PASSWORD, DEMO_TIME_ZONE, build_demo

                store = build_demo(db_path, clock.today(DEMO_TIME_ZONE))
                return store, (f"Demo clinic created at {db_path}. Demo users: mchen (DPT), "
                               f"jokafor (PT), lrivera (PTA), pkim (front desk), admin; "
                               f"password {DEMO_PASSWORD}.")
            return Store.open(db_path), ""
        except DatabaseError as exc:
            if paths.is_server_url(db_path):  # no file to restore: the server's own backups
                QMessageBox(QMessageBox.Icon.Warning, "ptdoc — database problem",
                            str(exc)).exec()
                return None, ""
            if not _offer_restore(db_path, exc):  # type: ignore[arg-type]
                return None, ""


def _offer_restore(db_path: Path, exc: DatabaseError) -> bool:
    """Explain a database problem; True when the user restored a backup and wants to retry."""
    box = QMessageBox(QMessageBox.Icon.Warning, "ptdoc — database problem", str(exc))
    restore = box.addButton("Restore a backup…", QMessageBox.ButtonRole.AcceptRole)
    box.addButton("Quit", QMessageBox.ButtonRole.RejectRole)
    box.exec()
    if box.clickedButton() is not restore:
        return False
    start = paths.backup_dir(db_path)
    chosen, _ = QFileDialog.getOpenFileName(None, "Choose a ptdoc backup", str(start),
                                            "ptdoc databases (*.sqlite3 *.db);;All files (*)")
    if not chosen:
        return False
    try:
        kept = dbmod.restore(db_path, Path(chosen))
    except KnownError as err:
        QMessageBox.warning(None, "ptdoc — restore failed", str(err))
        return True
    QMessageBox.information(None, "ptdoc", f"Restored from {chosen}." +
                            (f"\nThe previous database was kept at {kept}." if kept else ""))
    return True


def start_health_check(window: MainWindow, db_path: Path, unclean_exit: bool) -> None:
    """Once the window shows, a worker reads every page: the day's backup (full check) on the
    first start of the day, otherwise the quick check, or the full one when the last window
    did not close cleanly. Damage is told to the user with the way out."""
    today = window.workspace.today()
    if not (paths.backup_dir(db_path) / f"ptdoc-daily-{today.isoformat()}.sqlite3").exists():
        start_daily_backup(window, db_path)
        return

    def failed(exc: Exception) -> None:
        log.warning("database check failed: %s", exc)
        window.statusBar().showMessage("The database check found a problem", 0)
        QMessageBox.warning(window, "ptdoc — database problem", str(exc))

    run_in_background(lambda: dbmod.check_health(db_path, full=unclean_exit),
                      lambda _none: None, failed)


@contextlib.contextmanager
def marked_running(db_path: Path) -> Iterator[bool]:
    """While the window is open a marker sits beside the database; whether the previous
    window left its marker behind (did not close cleanly)."""
    marker = dbmod.running_marker(db_path)
    unclean = marker.exists()
    with contextlib.suppress(OSError):
        marker.write_text(str(os.getpid()))
    try:
        yield unclean
    finally:
        with contextlib.suppress(OSError):
            marker.unlink()


def start_daily_backup(window: MainWindow, db_path: Path) -> None:
    """The day's backup, with the full integrity check, without holding up the window."""
    def done(dest: Path | None) -> None:
        if dest is not None:
            window.statusBar().showMessage(f"Daily backup written to {dest}", 10_000)

    def failed(exc: Exception) -> None:
        log.warning("daily backup failed: %s", exc)
        QMessageBox.warning(window, "ptdoc — daily backup", f"The daily backup failed: {exc}")

    today = window.workspace.today()  # the clinic's date, not the computer's UTC one
    run_in_background(lambda: dbmod.daily_backup(db_path, today), done, failed)


def run(db_path: Path | str, demo_if_missing: bool = True, user: str | None = None,
        sign_in: Callable[[Store], User] | None = None) -> int:
    """The window. ``user`` is chosen in the sign-in; ``sign_in`` (the command line's, with
    the password from standard input) signs them in instead of the form, so a kiosk starts
    signed in. A refusal there (a wrong password, an unknown user) raises, with no window."""
    log_file = setup_logging()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName("ptdoc")
    app.setApplicationName("ptdoc")
    # The installed desktop entry and icon (packaging/linux): Wayland matches the window to its
    # entry by this name, and the X11 taskbar shows the window's icon. A development run has
    # no icon installed and keeps Qt's.
    app.setDesktopFileName(paths.APP_ID)
    icon = QIcon.fromTheme(paths.APP_ID)
    if not icon.isNull():
        app.setWindowIcon(icon)
    install_crash_hook(log_file)
    # SIGTERM (a logout, a shutdown) and SIGINT close the window as its user would.
    with quitting_on_signals(app) as quitter:
        store, notice = open_store(db_path, demo_if_missing)
        if store is None:
            return 0 if quitter.received else 1
        if paths.is_server_url(db_path):
            # The server keeps its data whole: no marker, page check or daily backup file here.
            return _signed_in_window(app, store, None, notice, False, quitter, user, sign_in)
        with marked_running(db_path) as unclean_exit:  # type: ignore[arg-type]
            return _signed_in_window(app, store, db_path, notice, unclean_exit, quitter, user,
                                     sign_in)


def _signed_in_window(app: QApplication, store: Store, db_path: Path | None, notice: str,
                      unclean_exit: bool, quitter: QuitOnSignals, user: str | None,
                      sign_in: Callable[[Store], User] | None) -> int:
    try:
        signed = _signed_in(store, quitter, user, sign_in)
    except BaseException:
        store.close()
        raise
    if signed is None:
        store.close()
        return 0
    return _window(app, store, signed, db_path, notice, unclean_exit)


def _signed_in(store: Store, quitter: QuitOnSignals, user: str | None,
               sign_in: Callable[[Store], User] | None) -> User | None:
    """Who works in the window: signed in by ``sign_in``, or in the sign-in form (after the
    setup steps of a clinic with no users yet); None when the form is left."""
    preselect = user
    if not store.users.count():
        if user:
            raise NotFound(f"This database has no users yet, so '{user}' cannot sign in: set "
                           "the clinic up in the window first (without --user), or add its "
                           "administrator with 'ptdoc user add'")
        from ptdoc.ui.setup_wizard import SetupWizard  # a new clinic: set it up in the window

        wizard = SetupWizard(store)
        accepted = wizard.exec() == QDialog.DialogCode.Accepted
        if quitter.received or (not accepted and wizard.admin is None):
            return None
        preselect = wizard.admin.username if wizard.admin else None
    elif user:
        found = store.users.by_username(user)
        if found is None or not found.active:
            raise NotFound(f"No active user '{user}' in this clinic: --user (or PTDOC_USER) "
                           "names who signs in to the window; see 'ptdoc users'")
    if sign_in is not None:
        return sign_in(store)
    clinic = store.clinic.get()
    dialog = LoginDialog(store, clinic.name if clinic else "ptdoc")
    if preselect:
        dialog.form.reload_users(preselect)
    # After the sign-in has painted: a thread importing meanwhile would share the interpreter
    # with the first paint. Nobody types a password in a quarter second.
    QTimer.singleShot(250, preload)
    if (dialog.exec() != QDialog.DialogCode.Accepted or dialog.user is None
            or quitter.received):
        return None
    return dialog.user


def _window(app: QApplication, store: Store, user: User, db_path: Path | None, notice: str,
            unclean_exit: bool) -> int:
    from ptdoc.icd_index import IcdIndex
    from ptdoc.services import Workspace
    from ptdoc.ui.main_window import MainWindow

    window = MainWindow(Workspace(store, user), notice.strip())
    window.show()
    if db_path is not None:
        start_health_check(window, db_path, unclean_exit)
    run_in_background(IcdIndex.open, window.workspace.use_codes,
                      lambda exc: log.warning("ICD-10-CM index unavailable: %s", exc))
    code = app.exec()
    finish_background()  # the health check or index still running, before the store closes
    store.close()
    return code
