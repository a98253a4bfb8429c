"""The guided session editor: six steps, a flags panel beside them, every edit saved.

Each edit goes through ``apply``: the domain accepts or refuses the new value (the reason is
shown at the field, what was typed stays), ptdoc's units and modifiers are put on the lines,
the draft is saved, and the rules run again. While typing, ``preview`` runs the rules on the
tentative value without saving, so the flags follow the keyboard.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import logging
from collections.abc import Callable, Iterable
from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ptdoc.claim import apply_claim, build_claim
from ptdoc.clock import local, stamp, wall_minute
from ptdoc.domain import AddendumKind, Session, SessionStatus
from ptdoc.errors import (
    ChangedElsewhere,
    DatabaseError,
    DatabaseLocked,
    DraftOpenElsewhere,
    KnownError,
    NotFound,
    Problem,
    ServerUnreachable,
    ValidationError,
)
from ptdoc.followup import follow
from ptdoc.permissions import Permission
from ptdoc.review import Review
from ptdoc.rules import Finding, Severity
from ptdoc.services import Workspace
from ptdoc.session_store import DraftHolder
from ptdoc.ui import outage
from ptdoc.ui.flags import FlagsPanel
from ptdoc.ui.pdf_preview import PdfPreview, show_pdf
from ptdoc.ui.refusals import Refusal
from ptdoc.ui.steps.base import Step
from ptdoc.ui.steps.codes import CodesStep
from ptdoc.ui.steps.exercises import ExercisesStep
from ptdoc.ui.steps.review import ReviewStep
from ptdoc.ui.steps.sign import SignStep
from ptdoc.ui.steps.supervision import SupervisionStep
from ptdoc.ui.steps.visit import VisitStep
from ptdoc.ui.widgets import hbox, restyle

log = logging.getLogger(__name__)

SAVE_WAIT_MS = 300        # how long an edit waits for a busy database before retrying later
RETRY_MS = 1500
PLAIN_AFTER_RETRIES = 10  # then the status says plainly that nothing is being saved
LOCK_CHECK_MS = 3000  # how often a draft shown here asks about its lock (one row)
UNREACHABLE = ("Not saved: server unreachable. What you typed is kept here and saved when "
               "the server is back; retrying")

STEPS: tuple[type[Step], ...] = (VisitStep, SupervisionStep, ExercisesStep, CodesStep,
                                 ReviewStep, SignStep)


class SessionEditor(QWidget):
    closed = Signal()
    saved = Signal()

    def __init__(self, workspace: Workspace, session: Session):
        super().__init__(objectName="session_editor")
        self.workspace = workspace
        self.session = session
        self.patient = workspace.store.patients.get(session.patient_id)
        self.context = workspace.rule_context(session, wait_for_codes=False)
        self._review: Review | None = self.workspace.judge(self.context)
        self.read_only = not self._may_edit(session)
        # Who has this draft open for editing on another workstation: read-only here.
        self.holder: DraftHolder | None = None
        self._released = False
        if not self.read_only and session.id is not None:
            self.holder = workspace.open_for_editing(session.id)
            if self.holder is not None and self.holder.gone:  # see ``follow_holder``
                self.holder = workspace.open_for_editing(session.id, stale_too=True)
            self.read_only = self.holder is not None
        elif session.status == SessionStatus.DRAFT and session.id is not None:
            self.holder = workspace.draft_holder(session.id)
        self.stored = session  # the draft as last read or saved here
        self.refused: dict[str, Refusal] = {}  # typed text the note refused, by field
        # Fields whose red line gives the reason another input was refused (a line's minutes
        # refused as longer than the visit, said under Total treatment time too), by that input
        self._reasons_elsewhere: dict[str, set[str]] = {}
        self._refused_changes: dict[str, tuple[Callable[[Session], Session],
                                               tuple[str, str]]] = {}
        self.last_refusal = ""  # the reason of the last refused edit
        self.unsaved = False  # what is on screen waits for a busy or unreachable database
        self.unreachable = False  # ...because the server cannot be reached
        self._close_refused = False  # closing was asked while unsaved: said until saved
        # The stored draft changed under unsaved typing (a backup restored elsewhere): what
        # is on screen is kept and not saved until the next edit saves it all.
        self._replaced = False
        self._time_zone = workspace.time_zone()
        self._retries = 0
        self._retry = QTimer(self, interval=RETRY_MS)
        self._retry.timeout.connect(self._retry_save)
        # A killed workstation sends no word, and one that lost its connection to the server
        # learns only by asking whether its lock is still its own: a draft shown here asks.
        self._lock_check = QTimer(self, interval=LOCK_CHECK_MS)
        self._lock_check.timeout.connect(self.check_lock)
        if session.status == SessionStatus.DRAFT and session.id is not None:
            self._lock_check.start()

        # Read-only fields and tables look read-only, not like white boxes that ignore typing.
        self.setStyleSheet('QLineEdit[readOnly="true"], QPlainTextEdit[readOnly="true"], '
                           'QTableView[readOnly="true"] { background: palette(window); }')
        self.banner = QLabel(objectName="editor_banner")
        self.banner.setWordWrap(True)
        self.take_over_button = QPushButton("Ta&ke over this draft", objectName="take_over")
        self.take_over_button.setToolTip("Write this draft yourself; the other clinician then "
                                         "sees it read-only. The audit log records it.")
        self.take_over_button.clicked.connect(self.take_over)
        self.step_list = QListWidget(objectName="step_list")
        self.step_list.setAccessibleName("Steps")
        self.step_list.setMinimumWidth(215)
        self.step_list.setMaximumWidth(240)
        steps_label = QLabel("Steps (Ctrl+1 … Ctrl+6):")
        steps_label.setBuddy(self.step_list)
        self.stack = QStackedWidget(objectName="step_stack")
        self.steps: list[Step] = [cls(self) for cls in STEPS]
        for step in self.steps:
            self.stack.addWidget(step)
            self.step_list.addItem(QListWidgetItem(step.title))
        self.flags = FlagsPanel()
        self.back_button = QPushButton("◀ &Back", objectName="step_back")
        self.next_button = QPushButton("Ne&xt ▶", objectName="step_next")
        self.close_button = QPushButton("C&lose note", objectName="close_editor")
        self.pdf_button = QPushButton("PDF…", objectName="note_pdf")
        self.pdf_button.setToolTip("Preview, print or save the note as PDF (Ctrl+E)")
        self.pdf_button.setEnabled(workspace.can(Permission.EXPORT_NOTE))
        self.status_label = QLabel(objectName="save_status")
        self.back_button.setToolTip("Previous step (Ctrl+Shift+Enter)")
        self.next_button.setToolTip("Next step (Ctrl+Enter)")
        self.close_button.setToolTip("Back to the day (Ctrl+W); the draft is saved")

        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(steps_label)
        left_layout.addWidget(self.step_list, 1)
        splitter = QSplitter()
        splitter.addWidget(left)
        splitter.addWidget(self.stack)
        splitter.addWidget(self.flags)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([200, 820, 260])
        nav = hbox(self.close_button, self.pdf_button, self.status_label, self.back_button,
                   self.next_button, grow=self.status_label)
        layout = QVBoxLayout(self)
        layout.addLayout(hbox(self.banner, self.take_over_button, grow=self.banner))
        layout.addWidget(splitter, 1)
        layout.addLayout(nav)

        self._action("Next step", "Ctrl+Return", lambda: self.go(self.current + 1))
        self._action("Next step", "Ctrl+Enter", lambda: self.go(self.current + 1))
        self._action("Previous step", "Ctrl+Shift+Return", lambda: self.go(self.current - 1))
        self._action("Previous step", "Ctrl+Shift+Enter", lambda: self.go(self.current - 1))
        self._action("Close note", "Ctrl+W", self.close_editor)
        self._action("Note as PDF", "Ctrl+E", lambda: show_pdf(self.note_preview))
        self.pdf_button.clicked.connect(lambda: show_pdf(self.note_preview))
        for i in range(len(self.steps)):
            self._action(f"Step {i + 1}", f"Ctrl+{i + 1}", lambda i=i: self.go(i))
        self._action("Flags", "F8", lambda: self.flags.list.setFocus())
        self.step_list.currentRowChanged.connect(self._show_step)
        self.back_button.clicked.connect(lambda: self.go(self.current - 1))
        self.next_button.clicked.connect(lambda: self.go(self.current + 1))
        self.close_button.clicked.connect(self.close_editor)
        self.flags.jump.connect(self.focus_field)
        self._set_read_only(self.read_only)
        self.step_list.setCurrentRow(0)  # every note opens at its first step
        self._refresh(all_steps=True)
        if not self.read_only:
            self.apply(lambda s: s, "services")  # the payer's current units and modifiers

    # --- state -----------------------------------------------------------------------

    @property
    def current(self) -> int:
        return self.stack.currentIndex()

    def _may_edit(self, session: Session) -> bool:
        actor = self.workspace.actor
        if session.status == SessionStatus.SIGNED or not self.workspace.can(
                Permission.DOCUMENT) or actor is None:
            return False
        if not actor.credential.is_therapist and session.delivered_by not in (None, actor.id):
            return False
        # Another clinician's draft opens read-only until it is explicitly taken over.
        return session.id is None or self.workspace.writes(session.id)

    def read_only_reason(self) -> str:
        """Why this draft is read-only here, as known now (the banner, the Sign step and the
        plan of care say it): open elsewhere, another clinician's, or not this role's to
        edit; "" when it is editable or signed."""
        s = self.session
        if not self.read_only or s.status != SessionStatus.DRAFT:
            return ""
        holder = self.holder
        if holder is not None and not holder.gone:
            return self.workspace.holder_text(holder)
        if s.id is not None and not self.workspace.writes(s.id):
            return f"a draft by {self.workspace.writers_text(s.id)}"
        if holder is not None:  # stopped there: taken here at the next check
            return self.workspace.holder_text(holder)
        if not self.workspace.can(Permission.DOCUMENT):
            return "your role does not write notes"
        if self._may_edit(s):  # lost to another workstation, which could not be named
            return "open on another workstation"
        return "delivered by another clinician"

    def may_take_over_here(self) -> bool:
        """Whether Take over (Alt+K) is offered: read-only, nobody live and active has it open
        elsewhere, and this user may write it once taken."""
        s = self.session
        free = self.holder is None or self.holder.stale
        return self.read_only and s.status == SessionStatus.DRAFT and free and (
            self.workspace.may_take_over(s) or self._may_edit(s))

    def take_over(self) -> None:
        """Edit this draft here: another clinician's (audited), or one whose editing
        workstation went idle or stopped running."""
        sid = self.session.id or 0
        writer_needed = not self.workspace.writes(sid)
        if self.holder is not None:
            question = (f"{self.workspace.holder_text(self.holder)}. Take it over here? That "
                        "workstation then sees it read-only; anything typed there and not "
                        "saved is lost.")
        else:
            question = (f"This draft was written by {self.workspace.writers_text(sid)}. Take "
                        "it over? You may then edit it, it is read-only elsewhere while you "
                        "have it open, and the audit log records it.")
        answer = QMessageBox.question(
            self, "Take over this draft", question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            self.holder = self.workspace.open_for_editing(sid, stale_too=True)
            if self.holder is not None:  # taken again there meanwhile
                self._refresh()
                self.status(self.workspace.holder_text(self.holder))
                return
            if writer_needed:
                self.session = self.stored = self.workspace.take_over(sid)
            else:
                self.session = self.stored = self.workspace.store.sessions.get(sid)
        except KnownError as exc:
            self.status(str(exc))
            return
        self.read_only = False
        self._set_read_only(False)
        self._refresh(all_steps=True)
        self.status("You took over this draft" + ("; the audit log records it"
                                                   if writer_needed else ""))
        self.step_list.setFocus()

    def follow_holder(self) -> None:
        """Something changed elsewhere: while another workstation has this draft open, what it
        saves shows here (and when it goes idle, the take-over is offered); once it has closed
        it or stopped running, it opens for editing here (as stored now).

        A holder that stopped (killed, switched off: its connection ended on a server, its
        process gone from this computer on a file) is taken from without asking, as one that
        closed the note: nothing more can be typed there, and nothing is typed in a read-only
        view here, so there is nothing to decide. An idle holder is only offered (the button,
        Alt+K, asks first): its clinician may still be at that workstation."""
        sid = self.session.id
        if self.holder is None or sid is None:
            return
        holder = self.workspace.draft_holder(sid)
        if holder is not None and not holder.gone:  # still open there: its saves show here
            changed = holder != self.holder
            self.holder = holder
            if self.workspace.store.sessions.get(sid) != self.session:
                self.reload()
            elif changed:
                self._refresh()
            if changed and holder.idle:
                self.status(f"{self.workspace.holder_text(holder)}: take it over (Alt+K) to "
                            "edit it here")
            return
        previous = self.holder
        self.holder = None
        stored = self.workspace.store.sessions.get(sid)
        if stored.status != SessionStatus.DRAFT or not self._may_edit(stored):
            if stored != self.session:  # signed there (or saved as it was let go)
                self.reload()
                return
            self._refresh()  # another clinician's: read-only still, nothing to reload
            self.status(f"No longer open on {previous.host} (closed or stopped there); read "
                        f"only here still: {self.read_only_reason()}")
            return
        self.holder = self.workspace.open_for_editing(sid, stale_too=holder is not None)
        if self.holder is not None:  # another workstation was quicker
            self._refresh()
            return
        self.reload()
        self.read_only = False
        self._set_read_only(False)
        self._refresh(all_steps=True)
        self.status(f"No longer open on {previous.host} (closed or stopped there): you can "
                    "edit it here now")

    def check_lock(self) -> None:
        """Every LOCK_CHECK_MS while a draft is shown, one row: a draft edited here is still
        held here (it may have been taken while the server could not be reached); one shown
        read-only because it is open elsewhere is followed when its holder lets go, goes idle
        or stops running."""
        sid = self.session.id
        if sid is None or self._released or self.session.status != SessionStatus.DRAFT:
            self._lock_check.stop()
            return
        try:
            if not self.read_only:
                if not self.workspace.holds_draft(sid):
                    holder = self.workspace.open_for_editing(sid)  # free: held here again
                    if holder is not None:
                        self._lose_lock(holder)
            elif self.holder is not None and self.isVisible():  # not behind the lock screen
                holder = self.workspace.draft_holder(sid)
                if holder != self.holder or (holder is not None and holder.gone):
                    self.follow_holder()
        except KnownError as exc:  # the server out of reach: asked again at the next tick
            log.debug("the lock of draft %s was not checked: %s", sid, exc)

    def _lose_lock(self, holder: DraftHolder | None) -> None:
        """Another workstation took this draft while it was open here (idle here, or while
        this one could not reach the server): it turns read-only as stored now, saying who
        has it, and what was typed here and not saved stays on screen in red, listed as
        refused values are (not silently dropped), until the note is closed."""
        self._refresh(all_steps=True)  # what was typed here, saved or not
        typed = self._on_screen()
        self.holder = holder
        self.read_only = True
        self._set_read_only(True)
        self.commit_pending()  # a field being typed in shows the stored text too (not saved)
        self.reload()
        shown = self._on_screen()
        who = self.workspace.holder_text(holder) if holder is not None else \
            "Another workstation has it open"
        message = f"{who}; it was taken there while this note was open here"
        kept = 0
        for field, (label, text) in typed.items():
            now = shown.get(field, (label, text))[1]
            if now != text and field not in self.refused:
                if field in self._tables():  # the rows that differ, or all when rows went
                    text = "\n".join(r for r in text.split("\n") if r not in now.split("\n")
                                     ) or text
                self.refused[field] = Refusal(field, label, text, message)
                kept += 1
        self._refresh(all_steps=True)
        self.status(f"Read-only now: {who}" + (
            "; what you typed and was not saved stays in red" if kept else ""))

    def _tables(self) -> dict[str, Step]:
        """The steps with a table, by the field their rows are (exercises, services)."""
        return {step.owns[0]: step for step in self.steps
                if getattr(step, "model", None) is not None and step.owns}

    def _on_screen(self) -> dict[str, tuple[str, str]]:
        """Each text field's label and text, and each table's rows as text (a line a row, its
        filled cells), by field."""
        seen: dict[str, tuple[str, str]] = {}
        for step in self.steps:
            for field, widget in step.text_fields.items():
                text = widget.text() if isinstance(widget, QLineEdit) else widget.toPlainText()
                seen[field] = (step.text_labels.get(field, field), text)
        for field, step in self._tables().items():
            model = step.model  # type: ignore[attr-defined]
            rows = (" · ".join(text for c in range(model.columnCount())
                               if (text := str(model.data(model.index(r, c)) or "")))
                    for r in range(model.rowCount()))
            seen[field] = (f"{step.title} rows", "\n".join(rows))
        return seen

    def release(self) -> None:
        """The editor closes: the draft is free for other workstations."""
        self._lock_check.stop()
        if self.session.id is not None and not self._released:  # signed here too: it goes
            self._released = True
            # A lost server drops the lock with the connection anyway.
            with contextlib.suppress(KnownError):
                self.workspace.release_draft(self.session.id)

    def _action(self, text: str, keys: str, slot: Callable[[], object]) -> None:
        action = QAction(text, self)
        action.setShortcut(QKeySequence(keys))
        # Window-wide while the editor is shown (a hidden editor's shortcuts never fire), so
        # they keep working when the focused button disappears, as Sign does once signed.
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        action.triggered.connect(lambda _checked=False: slot())  # `checked` is not an argument
        self.addAction(action)

    def time_zone(self) -> str | None:
        """The clinic's zone, or as last read while the server is out of reach."""
        if not self.unreachable:
            with contextlib.suppress(DatabaseError):
                self._time_zone = self.workspace.time_zone()
        return self._time_zone

    def clock_time(self) -> dt.time:
        """The clinic's wall-clock time now, to the minute, in its zone as last read: what
        "now" means in a time field, even while the server is out of reach."""
        return wall_minute(self.workspace.now(), self.time_zone())

    def status(self, message: str) -> None:
        shown = local(self.workspace.now(), self.time_zone())
        self.status_label.setText(f"{message} · {shown:%H:%M:%S}")

    def go(self, index: int) -> None:
        if 0 <= index < len(self.steps):
            self.step_list.setCurrentRow(index)

    def _show_step(self, index: int) -> None:
        if index < 0:
            return
        self.stack.setCurrentIndex(index)
        try:
            self.steps[index].load(self.session)
        except ServerUnreachable:
            # What the step reads besides the note waits for the server; the note is here.
            self.status(UNREACHABLE if self.unsaved else
                        "The server cannot be reached: this step shows what is kept here")
        if self.isVisible():
            self.steps[index].entered()
        self.back_button.setEnabled(index > 0)
        self.next_button.setEnabled(index < len(self.steps) - 1)

    # --- editing -----------------------------------------------------------------------

    def apply(self, change: Callable[[Session], Session], field: str,
              typed: tuple[str, str] | None = None) -> bool:
        """Validate, price and save one edit; False (with the reason shown) if refused.

        ``typed`` is (label, text) for a value typed in a text field: if refused, that text
        stays on screen as an open problem of the note until corrected or reverted.
        """
        if self.read_only:
            return False
        try:
            new = follow(self.session, change(self.session))
            new = apply_claim(new, build_claim(replace(self.context, session=new)))
        except ValidationError as exc:
            return self._refuse(field, typed, exc.problems, change)
        except ServerUnreachable as exc:
            # The change needed the server to be judged: kept as typed, and applied (so
            # saved) once a retry reaches the server, never refused for what it says.
            self._refuse(field, typed, [Problem(field, UNREACHABLE)], change)
            self._mark_unsaved(unreachable=True)
            outage.report(exc)
            return False
        except KnownError as exc:
            return self._refuse(field, typed, [Problem(field, str(exc))], change)
        self._refused_changes.pop(field, None)
        if self.refused.pop(field, None) is not None or typed is not None:
            self.show_error(field, "")
        if new == self.session and not self.unsaved:
            self._show_flags(self.review)
            return True
        return self._save(new, field, typed, change)

    def _save(self, new: Session, field: str, typed: tuple[str, str] | None,
              change: Callable[[Session], Session] | None = None) -> bool:
        try:
            # A short wait: the GUI must not freeze while another program holds the database.
            with self.workspace.store.db.waiting(SAVE_WAIT_MS):
                saved = self.workspace.save_draft(new, expected=self.stored)
        except DraftOpenElsewhere as exc:
            # Taken over on another workstation (this one had gone idle, or could not reach
            # the server): read-only here, what was typed kept on screen.
            if typed is not None:
                self._refuse(field, typed, [Problem(field, str(exc))], change)
            self._lose_lock(self.workspace.draft_holder(self.session.id or 0))
            return False
        except ChangedElsewhere as exc:
            if self.unsaved:  # earlier edits wait too: all of them stay on screen
                self.session = new
                self._keep_typing(self._stored_now())
                return True
            # Saved elsewhere since it was read here: show that version; what was typed here
            # stays on screen, refused, until it is entered again on top of it.
            self.reload()
            return self._refuse(field, typed, [Problem(field, str(exc))], change)
        except (DatabaseLocked, ServerUnreachable) as exc:
            # Kept on screen and in memory, and saved whole as soon as the database is free
            # (or the server is back: the store connects again, spacing out its attempts).
            self.session = new
            # An edit after a restore asked to save what is shown: retried as any other.
            self._replaced = False
            self._mark_unsaved(unreachable=isinstance(exc, ServerUnreachable))
            outage.report(exc)  # the window says it too, until the server is back
            return True
        except ValidationError as exc:
            return self._refuse(field, typed, exc.problems, change)
        except KnownError as exc:
            return self._refuse(field, typed, [Problem(field, str(exc))], change)
        self.unsaved = self.unreachable = self._close_refused = self._replaced = False
        self._retries = 0
        self._retry.stop()
        self.session = self.stored = saved
        keep = {r.field.split("[")[0].split(".")[0] for r in self.open_refusals()}
        for step in self.steps:
            step.clear_errors(keep)
        self.context, self._review = self.workspace.judged_draft(saved)  # judged as saved
        self._refresh()
        self.status("Saved")
        self.saved.emit()
        self._retry_refused(field)
        return True

    def _retry_refused(self, saved_field: str, save: bool = True) -> None:
        """A value refused only because of another field (a time in after the old time out)
        may fit now that the other one is saved: what is on screen is saved when it fits
        (unless ``save`` is False), and otherwise its reason is given again as the note is
        now (it names the other value)."""
        for field, (change, typed) in list(self._refused_changes.items()):
            if field == saved_field or field not in self.refused:
                continue
            try:
                new = follow(self.session, change(self.session))
                apply_claim(new, build_claim(replace(self.context, session=new)))
            except ValidationError as exc:
                self._say_again(field, reason(exc.problems))
                continue
            except KnownError as exc:
                self._say_again(field, reason([Problem(field, str(exc))]))
                continue
            if not save:
                continue
            # Saved, or already as saved (the pair was judged together): no longer refused,
            # and the field shows the saved value ("2130" as 21:30, not as typed), even with
            # the cursor in it.
            for step in self.steps:
                step.typing_done(field)
            if self.apply(change, field, typed):
                self._refresh()

    def _say_again(self, field: str, message: str) -> None:
        """A refused value's reason as the note is now: it names other values (time in, the
        visit's length), and one of them was saved or restored since."""
        refusal = self.refused[field]
        if message != refusal.message:
            self.refused[field] = replace(refusal, message=message)
            self.show_error(field, message)
            self._show_flags(self.review)

    def reload(self, why: str = "this note was changed in another window or on another "
               "workstation") -> None:
        """Show the draft as it is stored now (saved elsewhere since it was read here)."""
        self.session = self.stored = self.workspace.store.sessions.get(self.session.id or 0)
        self.unsaved = self.unreachable = self._close_refused = self._replaced = False
        self._retry.stop()
        self.context = self.workspace.rule_context(self.session, wait_for_codes=False)
        self._review = self.workspace.judge(self.context)
        if self.session.status == SessionStatus.SIGNED:
            self.read_only = True
            self._set_read_only(True)
        self._refresh(all_steps=True)
        self.status(f"Reloaded: {why}")

    def plan_changed(self) -> None:
        """The attached plan of care was edited (from an evaluation): judge the note again
        against it."""
        self.context = self.workspace.rule_context(self.session, wait_for_codes=False)
        self._review = self.workspace.judge(self.context)
        self._refresh()

    def _mark_unsaved(self, unreachable: bool = False) -> None:
        self.unsaved = True
        self.unreachable = unreachable
        self._retries += 1
        self._review = self.workspace.judge(replace(self.context, session=self.session))
        self._show_flags(self.review)
        if self._close_refused:  # the retries keep saying why the note stayed open
            self.status(self._not_closed())
        elif unreachable:
            self.status(UNREACHABLE)
        elif self._retries > PLAIN_AFTER_RETRIES:
            self.status("NOT SAVED: another program has held the database for a while. What "
                        "you typed is kept here; close the other ptdoc window or program. "
                        "Retrying")
        else:
            self.status("Not saved: the database is busy, retrying")
        self._retry.start()

    def follow_stored(self) -> None:
        """Something changed elsewhere, on some day: a draft written here is changed by
        nobody else (it is held open here), so a stored draft unlike the one last read or
        saved here was put back by a restore. It is shown, saying so; unsaved typing stays on
        screen instead, not saved (``_keep_typing``)."""
        sid = self.session.id
        if sid is None or self.read_only or self.holder is not None or \
                self.session.status != SessionStatus.DRAFT:
            return
        stored = self._stored_now()
        if stored == self.stored or stored == self.session:
            return
        if self.unsaved or stored is None:
            self._keep_typing(stored)
            return
        self.reload("this note was changed elsewhere while it was open here (a backup "
                    "restored?); this is the note as stored now")

    def _stored_now(self) -> Session | None:
        """The draft as stored now; None when it is no longer there."""
        try:
            return self.workspace.store.sessions.get(self.session.id or 0)
        except NotFound:
            return None

    def _keep_typing(self, stored: Session | None) -> None:
        """The stored draft is not the one this screen was typed on: what is shown stays, is
        not saved, and is not retried (a retry would replace the stored one unasked). The next
        edit saves what is shown; closing asks before dropping it."""
        self._retry.stop()
        self.unsaved, self.unreachable, self._replaced = True, False, True
        if stored is not None:
            self.stored = stored
        self._show_flags(self.review)
        if stored is None:
            self.status("NOT SAVED: this note is no longer in the database (a backup "
                        "restored?). What you see is here only: copy what you need before "
                        "closing")
            return
        self.status("NOT SAVED: the note changed elsewhere while your edits waited (a backup "
                    "restored?). Edit a field to save all you see, or close it to drop them")

    def _not_closed(self) -> str:
        return (f"NOT CLOSED: your last edits are not saved yet (the {self.why_unsaved()}); "
                "they stay here, retried until saved, then close the note")

    def why_unsaved(self) -> str:
        if self._replaced:
            return "note changed elsewhere meanwhile"
        return "server cannot be reached" if self.unreachable else "database is busy"

    def _retry_save(self) -> None:
        if self.unsaved and not self.read_only and not self._replaced:
            self._save(self.session, "", None)

    def _refuse(self, field: str, typed: tuple[str, str] | None,
                problems: list[Problem] | tuple[Problem, ...],
                change: Callable[[Session], Session] | None = None) -> bool:
        self.last_refusal = reason(problems)
        if typed is not None:
            # What was typed is refused, whichever field a reason names: it goes under the
            # field typed in, where the red text is (not under time out for a time in).
            self.show_error(field, self.last_refusal)
        else:
            for problem in problems:
                self.show_error(problem.field or field, problem.message)
            root = field.split("[")[0].split(".")[0]
            self._reasons_elsewhere.setdefault(root, set()).update(
                p.field for p in problems if p.field and p.field.split("[")[0] != root)
        if typed is not None:
            label, text = typed
            self.refused[field] = Refusal(field, label, text, self.last_refusal)
            if change is not None:
                self._refused_changes[field] = (change, typed)
            self._retry_refused(field, save=False)  # their reasons may name this value
        # Inputs that cannot keep a refused value (lists, choices) show the saved one again.
        self._refresh()
        return False

    def refresh_flags(self) -> None:
        self._show_flags(self.review)

    def revert(self, field: str) -> None:
        """Escape in a field: forget what was typed there; the saved value shows again."""
        self.refused.pop(field, None)
        self._refused_changes.pop(field, None)
        self.show_error(field, "")
        self._retry_refused(field)  # the others, judged with this one's saved value again
        self._show_flags(self.review)

    def open_refusals(self) -> list[Refusal]:
        return [*self.refused.values(), *(r for step in self.steps for r in step.refusals())]

    @property
    def review(self) -> Review | None:
        """The rules' findings, with every refused value on screen as a blocker."""
        return self._with_refusals(self._review)

    def _with_refusals(self, judged: Review | None, typing: Refusal | None = None,
                       field: str = "") -> Review | None:
        refusals = [r for r in self.open_refusals() if r.field != field]
        if typing is not None:
            refusals.append(typing)
        if judged is None or not refusals:
            return judged
        return replace(judged, findings=tuple(r.finding() for r in refusals) + judged.findings)

    def preview(self, change: Callable[[Session], Session], field: str,
                typed: tuple[str, str]) -> None:
        """Flags for a value being typed (not saved): judged as if saved, or as refused."""
        label, text = typed
        try:
            tentative = follow(self.session, change(self.session))
        except ValidationError as exc:
            message = reason(exc.problems)
            self._show_flags(self._with_refusals(self._review, Refusal(field, label, text,
                                                                       message), field))
            return
        judged = self.workspace.judge(replace(self.context, session=tentative))
        self._show_flags(self._with_refusals(judged, field=field))

    def show_error(self, field: str, message: str) -> None:
        if not message:  # the reason goes from every field it was said under
            for other in self._reasons_elsewhere.pop(field.split("[")[0].split(".")[0], ()):
                self.show_error(other, "")
        for step in self.steps:
            if step.owns_field(field):
                step.show_error(field, message)
                return

    def focus_field(self, field: str) -> None:
        for i, step in enumerate(self.steps):
            if step.owns_field(field):
                self.go(i)
                step.focus_field(field)
                return
        self.go(4)  # the review step lists it

    def commit_pending(self) -> None:
        """Leave the field being typed so its edit is saved (before a lock or closing)."""
        widget = QApplication.focusWidget()
        if widget is not None and self.isAncestorOf(widget):
            widget.clearFocus()

    def saved_now(self) -> bool:
        """Whether everything on screen is saved, the field being typed and a waiting save
        tried once more first."""
        self.commit_pending()
        if self.unsaved:
            self._retry_save()
        return not self.unsaved

    def close_editor(self) -> None:
        self.commit_pending()
        if self.unsaved and self.unreachable:  # kept to be saved, not refused: never asked
            self._close_refused = True        # away, the note stays until it is saved
            self.status(self._not_closed())
            return
        refusals = self.open_refusals()
        if refusals:  # read-only too: typed here before another workstation took the draft
            count = len(refusals)
            answer = QMessageBox.question(
                self, "Values not saved",
                f"{count} value{'s' * (count != 1)} you typed {'were' if count != 1 else 'was'} "
                f"refused and {'are' if count != 1 else 'is'} not saved:\n\n"
                + "\n".join(f"• {r.label}: {r.quoted}" for r in refusals[:8])
                + "\n\nClose the note and discard them? (No goes back to the first one.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                self.focus_field(refusals[0].field)
                return
        if self._replaced and not self.read_only:
            answer = QMessageBox.question(
                self, "Edits not saved",
                "This note was changed elsewhere while your last edits waited (a backup "
                "restored?), and what you see is not saved.\n\nClose it and drop what is "
                "shown? (No keeps it here: an edit saves it all as shown.)",
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No)
            if answer != QMessageBox.StandardButton.Yes:
                return
            self.closed.emit()
            return
        if not self.saved_now():  # closing would lose them: the note stays, saying why
            self._close_refused = True
            self.status(self._not_closed())
            return
        self.closed.emit()

    def note_preview(self) -> PdfPreview:
        """The note as it prints: a draft carries the watermark and its open findings."""
        self.commit_pending()
        sid = self.session.id or 0
        pdf = self.workspace.note_pdf(sid, wait_for_codes=False)
        return PdfPreview(pdf, f"Note — {self.patient.display_name} {self.session.date_of_service}",
                          f"note-{self.patient.mrn}-{self.session.date_of_service}.pdf",
                          lambda purpose: self.workspace.record_output("note", [sid], purpose),
                          self)

    # --- signing -----------------------------------------------------------------------

    def sign(self, secret: str) -> None:
        """Sign what is on screen, and only that: refused values and unsaved edits block."""
        self.commit_pending()
        refusals = self.open_refusals()
        if refusals:
            raise KnownError(f"Not signed: {refusals[0].finding().message} Correct it or press "
                             "Escape in the field first.")
        if self.unsaved:
            self._retry_save()
            if self.unsaved:
                raise KnownError("Not signed: the last edits are not saved yet (the "
                                 f"{self.why_unsaved()}). They are kept here and saved as "
                                 "soon as it can be reached.")
        proof = self.workspace.prove_signer(secret)
        try:
            self.session = self.workspace.sign(self.session.id or 0, proof, seen=self.session)
        except ChangedElsewhere:
            self.reload()
            raise
        self._reload_after_lock("Signed")

    def add_addendum(self, kind: AddendumKind, reason: str, text: str, secret: str) -> None:
        """An addendum signed by its author: their password or PIN, proved as for signing."""
        proof = self.workspace.prove_signer(secret)
        self.workspace.add_addendum(self.session.id or 0, kind, reason, text, proof)
        self.session = self.workspace.store.sessions.get(self.session.id or 0)
        self._reload_after_lock("Addendum saved")

    def _reload_after_lock(self, message: str) -> None:
        self.context = self.workspace.rule_context(self.session, wait_for_codes=False)
        self._review = self.workspace.judge(self.context)
        self.refused.clear()
        self.read_only = True
        self._set_read_only(True)
        self._lock_check.stop()
        self._refresh(all_steps=True)
        self.step_list.setFocus()
        self.status(message)
        self.saved.emit()

    # --- display ------------------------------------------------------------------------

    def _set_read_only(self, read_only: bool) -> None:
        for step in self.steps:
            step.set_read_only(read_only)
        tables = self.stack.findChildren(QTableView)
        for table in tables:  # still scrollable and selectable, but not to type in
            table.setProperty("readOnly", read_only)
        # The style sheet picks the look by the readOnly property once, when a widget is
        # polished: polished again, an editable field looks editable after a take-over.
        for widget in (*self.findChildren(QLineEdit), *self.findChildren(QPlainTextEdit),
                       *tables):
            restyle(widget)

    def _refresh(self, all_steps: bool = False) -> None:
        s = self.session
        if s.signature is not None:
            sig = s.signature
            verdict = self.workspace.check_signature(s)
            warning = "" if verdict.ok else (
                f"<br><b style='color:#b00020'>{html.escape(verdict.headline)}.</b> This is not "
                "a clean signed note: do not bill or release it as signed.")
            self.banner.setText(f"<b>{self.patient.display_name}</b> · MRN {self.patient.mrn} "
                                f"· {s.date_of_service} · {s.note_type.value} — <b>signed</b> "
                                f"by {sig.signer_name}, {sig.credential} at "
                                f"{stamp(sig.signed_at, self.workspace.time_zone())}. "
                                f"Locked: corrections are addenda.{warning}")
        else:
            mode = "draft, saved as you go"
            if self.read_only:
                mode = f"read only: {html.escape(self.read_only_reason())}"
            self.banner.setText(f"<b>{self.patient.display_name}</b> · MRN {self.patient.mrn} "
                                f"· {s.date_of_service} · {s.note_type.value} — {mode}")
        self.take_over_button.setVisible(self.may_take_over_here())
        for i, step in enumerate(self.steps):
            if all_steps or i == self.current:
                step.load(s)
        if self.review is not None:
            self._show_flags(self.review)

    def _show_flags(self, judged: Review) -> None:
        self.flags.show_findings(list(judged.findings), judged.acknowledged)
        for step in self.steps:
            step.paint_refusals(self.refused)
        for i, step in enumerate(self.steps):
            mine = [f for f in judged.findings if step.owns_field(f.field)
                    and f.severity != Severity.INFO]
            self.step_list.item(i).setText(self._step_label(i, step, mine, judged))

    def _step_label(self, i: int, step: Step, mine: list[Finding], judged: Review) -> str:
        s = self.session
        if step.title == "Sign":  # signed, and nothing says the signature does not verify
            done = s.signature is not None and not mine
        elif step.title == "Review":
            mine = judged.blockers + judged.open_warnings
            done = not mine
        else:
            filled = {"Visit": bool(s.diagnoses), "Supervision": s.delivered_by is not None,
                      "Exercises": bool(s.exercises),
                      "Time and codes": bool(s.services) and s.total_treatment_minutes is not None}
            done = filled.get(step.title, True) and not mine
        state = "✓ complete" if done else (f"{len(mine)} flag{'s' * (len(mine) != 1)}"
                                           if mine else "to do")
        return f"{i + 1}. {step.title} — {state}"


def reason(problems: Iterable[Problem]) -> str:
    """Why a value was refused, every problem said once, as a sentence each."""
    return " ".join(p.message.rstrip(".") + "." for p in problems)
