"""The flags panel: every finding, as text and icon, each one a way to its field."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QListWidget, QListWidgetItem, QVBoxLayout, QWidget

from ptdoc.rules import Finding, Severity
from ptdoc.ui.widgets import SEVERITY_TEXT, severity_icon

FIELD_ROLE = Qt.ItemDataRole.UserRole


def finding_text(f: Finding) -> str:
    return f"{SEVERITY_TEXT[f.severity]}: {f.message}"


class FlagsPanel(QWidget):
    """Stays beside every step; activating a flag asks the editor to focus its field."""

    jump = Signal(str)

    def __init__(self) -> None:
        super().__init__(objectName="flags_panel")
        self.title = QLabel("Flags (F8)")
        self.list = QListWidget(objectName="flags_list")
        self.list.setAccessibleName("Flags: documentation gaps")
        self.list.setWordWrap(True)
        self.list.setMinimumWidth(230)
        self.title.setBuddy(self.list)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.list, 1)
        self.list.itemActivated.connect(lambda item: self.jump.emit(item.data(FIELD_ROLE)))

    def show_findings(self, findings: list[Finding], acknowledged: frozenset) -> None:
        self.list.clear()
        counts = {s: 0 for s in Severity}
        for f in findings:
            counts[f.severity] += 1
            done = (f.code, f.field) in acknowledged
            item = QListWidgetItem(severity_icon(f.severity),
                                   finding_text(f) + (" (reason given)" if done else ""))
            item.setData(FIELD_ROLE, f.field)
            item.setToolTip(f"{f.code} — {f.message}\nFix: {f.fix}\nSource: {f.source}")
            self.list.addItem(item)
        self.title.setText(f"Flags (F8): {counts[Severity.BLOCKER]} blocker"
                           f"{'s' * (counts[Severity.BLOCKER] != 1)}, "
                           f"{counts[Severity.WARNING]} warning"
                           f"{'s' * (counts[Severity.WARNING] != 1)}")
