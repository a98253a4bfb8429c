"""Step 6, sign: the attestation, the signer, what still blocks; addenda once signed."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ptdoc.clock import stamp
from ptdoc.domain import Session
from ptdoc.errors import KnownError
from ptdoc.permissions import Permission
from ptdoc.rules import Severity
from ptdoc.ui.appointment import AppointmentDialog, appointment_text
from ptdoc.ui.flags import FIELD_ROLE, finding_text
from ptdoc.ui.steps.base import Step
from ptdoc.ui.widgets import FieldError, hbox, severity_icon

ATTESTATION = ("I attest that I furnished or directly supervised the services documented in this "
               "note on the date of service, that the minutes are minutes of skilled, "
               "one-on-one care unless marked otherwise, and that the note is accurate and "
               "complete.")


class SignStep(Step):
    title = "Sign"
    owns = ("signature", "addenda")

    def __init__(self, editor):
        super().__init__(editor)
        self.attestation = QLabel(ATTESTATION, objectName="attestation")
        self.attestation.setWordWrap(True)
        self.signer = QLabel(objectName="signer")
        self.state = QLabel(objectName="sign_state")
        self.state.setWordWrap(True)
        self.blockers = QListWidget(objectName="sign_blockers")
        self.blockers.setAccessibleName("What still blocks signing")
        blockers_label = QLabel("&What still blocks signing (Enter jumps to the field):")
        blockers_label.setBuddy(self.blockers)
        self.blockers_label = blockers_label
        self.secret = QLineEdit(objectName="sign_secret")
        self.secret.setEchoMode(QLineEdit.EchoMode.Password)
        self.secret.setPlaceholderText("your own password or PIN: a signature is your act")
        self.secret.setAccessibleName("Your password or PIN, to sign")
        self.secret_label = QLabel("Password or P&IN to sign:")
        self.secret_label.setBuddy(self.secret)
        self.sign_button = QPushButton("&Sign note", objectName="sign_button")
        self.addendum_button = QPushButton("Add &addendum…", objectName="addendum_button")
        self.addenda = QListWidget(objectName="addenda_list")
        self.addenda.setAccessibleName("Addenda")
        addenda_label = QLabel("A&ddenda:")
        addenda_label.setBuddy(self.addenda)
        self.errors["signature"] = FieldError("signature")
        # Booking the next visit is offered here, where a note ends; nothing to skip.
        self.next_visit = QLabel(objectName="sign_next_appointment")
        self.next_visit_button = QPushButton("Book next &visit…", objectName="sign_book_next")
        self.next_visit_row = QWidget()
        row = hbox(self.next_visit, self.next_visit_button, None)
        row.setContentsMargins(0, 0, 0, 0)
        self.next_visit_row.setLayout(row)
        self.inputs.update(signature=self.secret)
        layout = QVBoxLayout(self)
        self.secret_row = QWidget()
        row = hbox(self.secret_label, self.secret, self.sign_button, grow=self.secret)
        row.setContentsMargins(0, 0, 0, 0)
        self.secret_row.setLayout(row)
        for widget in (self.attestation, self.signer, self.state, blockers_label,
                       self.blockers, self.secret_row, self.errors["signature"],
                       self.next_visit_row, addenda_label, self.addenda,
                       self.addendum_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.sign_button.clicked.connect(self._sign)
        self.secret.returnPressed.connect(self._sign)
        self.addendum_button.clicked.connect(self._addendum)
        self.next_visit_button.clicked.connect(self._book_next)
        self.blockers.itemActivated.connect(
            lambda item: self.editor.focus_field(item.data(FIELD_ROLE) or "signature"))

    def set_read_only(self, read_only: bool) -> None:
        pass  # this step's buttons follow the state in load()

    def load(self, session: Session) -> None:
        actor = self.editor.workspace.actor
        review = self.editor.review
        signed = session.signature is not None
        zone = self.editor.time_zone()
        self.signer.setText(f"Signing as: {actor.display}" + (f", NPI {actor.npi}"
                                                               if actor and actor.npi else "")
                            if actor else "Signing needs a signed-in clinician.")
        self.blockers.clear()
        can_sign = False
        if signed:
            sig = session.signature
            verdict = self.editor.workspace.check_signature(session)
            self.state.setText(("" if verdict.ok else f"{verdict.headline}.\n")
                               + f"Signed by {sig.signer_name}, {sig.credential} at "
                               f"{stamp(sig.signed_at, zone)}. Content SHA-256 "
                               f"{sig.content_hash[:16]}…"
                               + (f", key {sig.key_id}" if sig.key_id else "")
                               + ". The note is locked; corrections are addenda.")
            if not verdict.ok:
                item = QListWidgetItem(severity_icon(Severity.BLOCKER),
                                       f"Blocker: {verdict.headline}")
                item.setData(FIELD_ROLE, "signature")
                self.blockers.addItem(item)
        elif review is not None:
            # Who may sign is part of what blocks: shown here, before the button refuses.
            # (Not asked while the server is out of reach: the unsaved edits block anyway.)
            obstacles = ([] if self.editor.unreachable
                         else self.editor.workspace.signing_obstacles(session))
            for reason in obstacles:
                item = QListWidgetItem(severity_icon(Severity.BLOCKER), f"Blocker: {reason}")
                item.setData(FIELD_ROLE, "signature")
                self.blockers.addItem(item)
            waiting = review.blockers + review.open_warnings
            for f in waiting:
                item = QListWidgetItem(severity_icon(f.severity), finding_text(f))
                item.setData(FIELD_ROLE, f.field)
                self.blockers.addItem(item)
            if self.editor.unsaved:
                self.blockers.addItem(QListWidgetItem(
                    severity_icon(Severity.BLOCKER),
                    "Blocker: the last edits are not saved yet (the "
                    f"{self.editor.why_unsaved()})."))
            blocked = len(obstacles) + len(review.blockers) + self.editor.unsaved
            # Read-only here (open elsewhere, another's draft): said when it is all that stops
            # this user; what blocks is listed still, for whoever signs it.
            not_here = "" if obstacles else self.editor.read_only_reason()
            if not_here:
                self.state.setText(
                    f"Not signable here: {not_here}. {self._where_to_sign()}".rstrip())
            elif not blocked and not review.open_warnings:
                self.state.setText("Nothing blocks: type your password or PIN and sign.")
            else:
                self.state.setText(f"{blocked} blocker{'s' * (blocked != 1)} and "
                                   f"{len(review.open_warnings)} warning"
                                   f"{'s' * (len(review.open_warnings) != 1)} without a reason.")
            can_sign = not blocked and review.can_sign and not self.editor.read_only
        if self.blockers.count():
            # Alt+W then Enter jumps to the first one, without a Down first.
            self.blockers.setCurrentRow(0)
        self.sign_button.setEnabled(can_sign)
        self.secret.setEnabled(can_sign)
        self.blockers.setVisible(not signed or self.blockers.count() > 0)
        self.blockers_label.setVisible(not signed or self.blockers.count() > 0)
        self.secret_row.setVisible(not signed)
        self.signer.setVisible(not signed)
        self.addendum_button.setVisible(signed)
        self.addendum_button.setEnabled(signed and self.editor.workspace.can_addendum)
        self._show_next_visit()
        self.addenda.clear()
        for a in session.addenda:
            self.addenda.addItem(f"{a.kind.value.capitalize()} by {a.author_name} at "
                                 f"{stamp(a.created_at, zone)} — reason: {a.reason}\n"
                                 f"{a.text}")

    def _where_to_sign(self) -> str:
        editor = self.editor
        if editor.may_take_over_here():
            return "Take it over (Alt+K) to sign it here."
        if editor.holder is not None and not editor.holder.stale:
            return "Sign it there, or here once it is closed there."
        return ""

    def entered(self) -> None:
        if self.secret.isEnabled() and self.secret_row.isVisible():
            self.secret.setFocus()  # nothing blocks: the password is all that is left

    def _sign(self) -> None:
        if not self.sign_button.isEnabled():
            return
        secret = self.secret.text()
        self.secret.clear()  # never kept on screen, whatever happens next
        try:
            self.editor.sign(secret)
        except KnownError as exc:
            self.errors["signature"].show_message(str(exc))
            self.secret.setFocus()
            return
        self.errors["signature"].clear_message()

    def _show_next_visit(self) -> None:
        ws = self.editor.workspace
        if self.editor.unreachable:
            return  # read again when the server is back
        self.next_visit_row.setVisible(ws.can(Permission.SCHEDULE))
        if ws.can(Permission.SCHEDULE):
            booked = ws.next_appointment(self.editor.patient.id or 0,
                                         self.editor.session.date_of_service)
            self.next_visit.setText(f"Next appointment: {appointment_text(ws, booked)}")

    def _book_next(self) -> None:
        if AppointmentDialog(self.editor.workspace, self.editor.patient, self).exec():
            self._show_next_visit()

    def _addendum(self) -> None:
        from ptdoc.ui.addendum import AddendumDialog

        AddendumDialog(self, self.editor.add_addendum).exec()
