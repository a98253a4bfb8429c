"""Step 5, review: every finding by severity; jump to its field; give a warning its reason."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QLabel,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from ptdoc.domain import Acknowledgement, Session
from ptdoc.rules import Severity
from ptdoc.ui.flags import finding_text
from ptdoc.ui.steps.base import Step
from ptdoc.ui.widgets import SEVERITY_TEXT, FieldError, hbox, severity_icon

FINDING_ROLE = Qt.ItemDataRole.UserRole


class ReviewStep(Step):
    title = "Review"
    owns = ("acknowledgements",)

    def __init__(self, editor):
        super().__init__(editor)
        self.tree = QTreeWidget(objectName="review_tree")
        self.tree.setHeaderLabels(["Finding", "Fix"])
        self.tree.setAccessibleName("Findings by severity")
        self.tree.setColumnWidth(0, 520)
        self.tree.setWordWrap(True)
        label = QLabel("Fi&ndings (Enter jumps to the field):")
        label.setBuddy(self.tree)
        self.reason = QLineEdit(objectName="field_acknowledgement")
        self.reason.setPlaceholderText("Why signing with this warning is right")
        reason_label = QLabel("&Reason for the selected warning:")
        reason_label.setBuddy(self.reason)
        self.accept_button = QPushButton("&Accept warning with this reason",
                                         objectName="accept_warning")
        self.errors["acknowledgements"] = FieldError("acknowledgements")
        self.inputs.update(acknowledgements=self.reason, review_tree=self.tree,
                           accept_warning=self.accept_button)
        row = hbox(self.reason, self.accept_button, grow=self.reason)
        layout = QVBoxLayout(self)
        layout.addWidget(label)
        layout.addWidget(self.tree, 1)
        layout.addWidget(reason_label)
        layout.addLayout(row)
        layout.addWidget(self.errors["acknowledgements"])
        self.tree.itemActivated.connect(self._activated)
        self.accept_button.clicked.connect(self._accept)
        self.reason.returnPressed.connect(self._accept)

    def load(self, session: Session) -> None:
        review = self.editor.review
        self.tree.clear()
        if review is None:
            return
        reasons = {(a.code, a.field): a.reason for a in session.acknowledgements}
        for severity in Severity:
            found = [f for f in review.findings if f.severity == severity]
            group = QTreeWidgetItem([f"{SEVERITY_TEXT[severity]}s ({len(found)})"])
            group.setIcon(0, severity_icon(severity))
            self.tree.addTopLevelItem(group)
            for f in found:
                text = finding_text(f)
                if (f.code, f.field) in reasons:
                    text += f" — reason given: {reasons[(f.code, f.field)]}"
                item = QTreeWidgetItem([text, f.fix])
                item.setIcon(0, severity_icon(severity))
                item.setToolTip(0, f"{f.code}: {f.source}")
                item.setData(0, FINDING_ROLE, f)
                group.addChild(item)
            group.setExpanded(True)

    def focus_field(self, field: str) -> bool:
        self.reason.setFocus()
        return True

    def _activated(self, item: QTreeWidgetItem) -> None:
        finding = item.data(0, FINDING_ROLE)
        if finding is not None:
            self.editor.focus_field(finding.field)

    def _accept(self) -> None:
        item = self.tree.currentItem()
        finding = item.data(0, FINDING_ROLE) if item else None
        error = self.errors["acknowledgements"]
        if finding is None or finding.severity != Severity.WARNING:
            error.show_message("Select a warning in the list first.")
            return
        reason = self.reason.text().strip()
        if not reason:
            error.show_message("Reason is required: say why the note is right as it is.")
            return
        ack = Acknowledgement(finding.code, finding.field, reason)
        def change(s: Session) -> Session:
            others = tuple(a for a in s.acknowledgements
                           if (a.code, a.field) != (ack.code, ack.field))
            return replace(s, acknowledgements=(*others, ack))

        if self.editor.apply(change, "acknowledgements"):
            self.reason.clear()
            error.clear_message()
