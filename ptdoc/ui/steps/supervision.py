"""Step 2, supervision: who delivered, who supervised, how, and whether the PT was there."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import QComboBox, QFormLayout, QLabel, QLineEdit, QVBoxLayout

from ptdoc import fields as f
from ptdoc.domain import Credential, DeliveryMode, Session, SupervisorAvailability
from ptdoc.paper import supervision_statement
from ptdoc.ui.steps.base import Step
from ptdoc.ui.widgets import add_field


class SupervisionStep(Step):
    title = "Supervision"
    owns = ("delivered_by", "supervised_by", "supervisor_availability", "mode", "group_size")

    def __init__(self, editor):
        super().__init__(editor)
        ws = editor.workspace
        form = QFormLayout()
        self.delivered = QComboBox()
        self.supervised = QComboBox()
        self.availability = QComboBox()
        self.mode = QComboBox()
        self.group_size = QLineEdit(placeholderText="2-20")
        clinicians = ws.store.users.with_credential(Credential.PT, Credential.DPT,
                                                    Credential.PTA)
        self.users = {u.id or 0: u for u in clinicians}
        self.delivered.addItem("Not recorded", None)
        self.supervised.addItem("No supervisor", None)
        for u in clinicians:
            self.delivered.addItem(u.display, u.id)
            if u.credential.is_therapist:
                self.supervised.addItem(u.display, u.id)
        self.availability.addItem("Not recorded", None)
        for a in SupervisorAvailability:
            self.availability.addItem(a.value.capitalize(), a.value)
        for m in DeliveryMode:
            self.mode.addItem(m.value.capitalize(), m.value)
        self.errors["delivered_by"] = add_field(form, "&Delivered by:", self.delivered,
                                                "delivered_by")
        self.errors["supervised_by"] = add_field(form, "&Supervised by:", self.supervised,
                                                 "supervised_by")
        self.errors["supervisor_availability"] = add_field(
            form, "Supervising PT &was:", self.availability, "supervisor_availability")
        self.errors["mode"] = add_field(form, "&Mode:", self.mode, "mode")
        self.errors["group_size"] = add_field(form, "Group si&ze:", self.group_size,
                                              "group_size")
        self.statement = QLabel(objectName="supervision_statement")
        self.statement.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.statement)
        layout.addStretch(1)
        self.inputs.update(delivered_by=self.delivered, supervised_by=self.supervised,
                           supervisor_availability=self.availability, mode=self.mode,
                           group_size=self.group_size)

        self.delivered.activated.connect(lambda _i: self.editor.apply(
            lambda s: replace(s, delivered_by=self.delivered.currentData()), "delivered_by"))
        self.supervised.activated.connect(lambda _i: self.editor.apply(
            lambda s: replace(s, supervised_by=self.supervised.currentData()),
            "supervised_by"))
        self.availability.activated.connect(lambda _i: self.editor.apply(
            lambda s: replace(s, supervisor_availability=SupervisorAvailability(
                self.availability.currentData()) if self.availability.currentData() else None),
            "supervisor_availability"))
        self.mode.activated.connect(lambda _i: self.editor.apply(
            lambda s: replace(s, mode=DeliveryMode(self.mode.currentData())), "mode"))
        self.bind_text("group_size", self.group_size, lambda s, text: replace(
            s, group_size=f.parse_int(text, f.GROUP_SIZE, "group_size")), "Group size")

    def load(self, session: Session) -> None:
        for combo, value in ((self.delivered, session.delivered_by),
                             (self.supervised, session.supervised_by),
                             (self.availability, session.supervisor_availability and
                              session.supervisor_availability.value),
                             (self.mode, session.mode.value)):
            combo.setCurrentIndex(max(0, combo.findData(value)))
        self.show_text("group_size", self.group_size, str(session.group_size or ""))
        self.group_size.setEnabled(session.mode == DeliveryMode.GROUP and
                                   not self.editor.read_only)
        self.statement.setText(supervision_statement(session, self.users))
