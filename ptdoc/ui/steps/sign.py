"""Step 6, sign: the attestation, the signer, what still blocks; addenda once signed."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QPushButton, QVBoxLayout

from ptdoc.clock import stamp
from ptdoc.domain import Session
from ptdoc.errors import KnownError
from ptdoc.ui.flags import finding_text
from ptdoc.ui.steps.base import Step
from ptdoc.ui.widgets import FieldError, severity_icon

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
        self.sign_button = QPushButton("&Sign note", objectName="sign_button")
        self.addendum_button = QPushButton("Add &addendum…", objectName="addendum_button")
        self.addenda = QListWidget(objectName="addenda_list")
        self.addenda.setAccessibleName("Addenda")
        addenda_label = QLabel("A&ddenda:")
        addenda_label.setBuddy(self.addenda)
        self.errors["signature"] = FieldError("signature")
        self.inputs.update(signature=self.sign_button)
        layout = QVBoxLayout(self)
        for widget in (self.attestation, self.signer, self.state, blockers_label,
                       self.blockers, self.sign_button, self.errors["signature"],
                       addenda_label, self.addenda, self.addendum_button):
            layout.addWidget(widget)
        layout.addStretch(1)
        self.sign_button.clicked.connect(self._sign)
        self.addendum_button.clicked.connect(self._addendum)
        self.blockers.itemActivated.connect(
            lambda item: self.editor.focus_field(item.data(0x0100)))

    def set_read_only(self, read_only: bool) -> None:
        pass  # this step's buttons follow the state in load()

    def load(self, session: Session) -> None:
        actor = self.editor.workspace.actor
        review = self.editor.review
        signed = session.signature is not None
        zone = self.editor.workspace.time_zone()
        self.signer.setText(f"Signing as: {actor.display}" + (f", NPI {actor.npi}"
                                                               if actor and actor.npi else "")
                            if actor else "Signing needs a signed-in clinician.")
        self.blockers.clear()
        if signed:
            sig = session.signature
            self.state.setText(f"Signed by {sig.signer_name}, {sig.credential} at "
                               f"{stamp(sig.signed_at, zone)}. Content SHA-256 "
                               f"{sig.content_hash[:16]}…. The note is locked; corrections "
                               "are addenda.")
        elif review is not None:
            waiting = review.blockers + review.open_warnings
            for f in waiting:
                item = QListWidgetItem(severity_icon(f.severity), finding_text(f))
                item.setData(0x0100, f.field)
                self.blockers.addItem(item)
            self.state.setText("Nothing blocks: the note can be signed." if not waiting else
                               f"{len(review.blockers)} blocker(s) and "
                               f"{len(review.open_warnings)} warning(s) without a reason.")
        can_sign = (not signed and review is not None and review.can_sign and actor is not None
                    and actor.credential.is_clinician)
        self.sign_button.setEnabled(can_sign)
        self.blockers.setVisible(not signed)
        self.blockers_label.setVisible(not signed)
        self.sign_button.setVisible(not signed)
        self.signer.setVisible(not signed)
        self.addendum_button.setVisible(signed)
        self.addendum_button.setEnabled(signed and self.editor.workspace.can_addendum)
        self.addenda.clear()
        for a in session.addenda:
            self.addenda.addItem(f"{a.kind.value.capitalize()} by {a.author_name} at "
                                 f"{stamp(a.created_at, zone)} — reason: {a.reason}\n"
                                 f"{a.text}")

    def _sign(self) -> None:
        try:
            self.editor.sign()
        except KnownError as exc:
            self.errors["signature"].show_message(str(exc))

    def _addendum(self) -> None:
        from ptdoc.ui.addendum import AddendumDialog

        dialog = AddendumDialog(self)
        if dialog.exec():
            try:
                self.editor.add_addendum(dialog.kind(), dialog.reason(), dialog.text())
            except KnownError as exc:
                self.errors["signature"].show_message(str(exc))
