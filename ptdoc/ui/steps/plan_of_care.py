"""The plan of care written with the initial evaluation, in place on its Visit step: each field
is saved to the episode as the PT leaves it (the plan's history records it), a refused value
stays typed with its reason beside it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QCheckBox, QFormLayout, QGroupBox, QLabel, QLineEdit, QWidget

from ptdoc.domain import Episode, NoteType, SessionStatus
from ptdoc.errors import KnownError, ValidationError
from ptdoc.fields import DATE_FORMS, parse_date
from ptdoc.permissions import Permission
from ptdoc.services.episodes import plan_action
from ptdoc.ui.steps.base import TextArea
from ptdoc.ui.widgets import FieldError, add_field, restyle, show_problems

if TYPE_CHECKING:
    from ptdoc.ui.session_editor import SessionEditor


# Notes that write or update the plan of care beside the visit, and how its box says so.
PLAN_NOTES = {NoteType.EVALUATION: "written with this evaluation",
              NoteType.RE_EVALUATION: "updated with this re-evaluation",
              NoteType.PROGRESS_REPORT: "updated with this progress report"}


def _goals(text: str) -> tuple[str, ...]:
    return tuple(g.strip() for g in text.splitlines() if g.strip())


class PlanOfCareBox(QGroupBox):
    """Shown on an evaluation attached to an episode; editable by a PT while the note is a
    draft and the episode open."""

    def __init__(self, editor: SessionEditor):
        super().__init__("Plan of care (written with this evaluation)",
                         objectName="plan_of_care")
        self.editor = editor
        self.episode: Episode | None = None
        self.goals = TextArea("field_plan_goals", "One goal per line (STG: ... in 2 weeks)")
        self.frequency = QLineEdit(placeholderText="2x/week")
        self.duration = QLineEdit(placeholderText="8 weeks")
        self.certified_on = QLineEdit(placeholderText=f"{DATE_FORMS}, when the physician signs")
        self.certified_through = QLineEdit(placeholderText=DATE_FORMS)
        self.order = QCheckBox("Order on file fro&m the physician")
        self.physician = QLineEdit()
        self.npi = QLineEdit(placeholderText="10 digits")
        self.note = QLabel(objectName="plan_note")
        self.note.setWordWrap(True)
        form = QFormLayout(self)
        # Labels above their fields: the panel shares the Visit step's width with the visit.
        form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.WrapAllRows)
        form.addRow(self.note)
        self.errors: dict[str, FieldError] = {}
        # Each field: its widget, the episode field it writes, and how its text reads.
        self.fields: dict[str, tuple[QWidget, Callable[[], Any]]] = {
            "goals": (self.goals, lambda: _goals(self.goals.toPlainText())),
            "frequency": (self.frequency, lambda: self.frequency.text().strip()),
            "duration": (self.duration, lambda: self.duration.text().strip()),
            "certified_on": (self.certified_on, lambda: parse_date(
                self.certified_on.text(), "Certification date", "certified_on")),
            "certified_through": (self.certified_through, lambda: parse_date(
                self.certified_through.text(), "Certified-through date", "certified_through")),
            "order_on_file": (self.order, self.order.isChecked),
            "physician_name": (self.physician, lambda: self.physician.text().strip()),
            "physician_npi": (self.npi, lambda: self.npi.text().strip() or None),
        }
        for label, name in (("Goal&s (one per line):", "goals"),
                            ("Fre&quency:", "frequency"), ("Dur&ation:", "duration"),
                            ("&Certified on:", "certified_on"),
                            ("Certified thro&ugh:", "certified_through"),
                            ("", "order_on_file"),
                            ("Referring p&hysician:", "physician_name"),
                            ("Ph&ysician NPI:", "physician_npi")):
            widget = self.fields[name][0]
            self.errors[name] = add_field(form, label, widget, f"plan_{name}")
            if isinstance(widget, QCheckBox):
                widget.toggled.connect(lambda _on, name=name: self._save(name))
            else:
                widget.editingFinished.connect(lambda name=name: self._save(name))
        self.errors["plan"] = FieldError("plan")
        form.addRow(self.errors["plan"])

    @property
    def editable(self) -> bool:
        ed = self.editor
        return (self.episode is not None and self.episode.discharged_on is None
                and ed.session.status == SessionStatus.DRAFT and not ed.read_only
                and ed.workspace.can(Permission.EVALUATE))

    def load(self) -> None:
        """Show the attached episode's plan (hidden unless this note is an evaluation)."""
        s = self.editor.session
        ctx = self.editor.context
        episode = ctx.episode if ctx is not None and s.episode_id else None
        self.setVisible(s.note_type in PLAN_NOTES and episode is not None)
        if s.note_type in PLAN_NOTES:
            self.setTitle(f"Plan of care ({PLAN_NOTES[s.note_type]})")
        if episode is None or episode == self.episode:
            self.episode = episode
            self._set_read_only()
            return
        self.episode = episode
        for error in self.errors.values():
            error.clear_message()
        self.goals.setPlainText("\n".join(episode.goals))
        for box, value in ((self.frequency, episode.frequency),
                           (self.duration, episode.duration),
                           (self.certified_on, episode.certified_on),
                           (self.certified_through, episode.certified_through),
                           (self.physician, episode.physician_name),
                           (self.npi, episode.physician_npi)):
            box.setText(value.isoformat() if hasattr(value, "isoformat") else value or "")
        self.order.blockSignals(True)
        self.order.setChecked(episode.order_on_file)
        self.order.blockSignals(False)
        self._set_read_only()

    def _set_read_only(self) -> None:
        editable = self.editable
        for widget, _read in self.fields.values():
            if isinstance(widget, QCheckBox):
                widget.setEnabled(editable)
            elif widget.isReadOnly() == editable:  # its look follows (the editor's style sheet)
                widget.setReadOnly(not editable)
                restyle(widget)
        report = self.editor.session.note_type == NoteType.PROGRESS_REPORT
        self.note.setText(("Update the goals met or changed (Alt+S); state the progress toward "
                           "each in the assessment. " if report and editable else "")
                          + ("Saved to the patient's plan of care as you leave each field; its "
                             "history keeps every change." if editable else
                             f"Read-only: {self._why_read_only()}."))

    def _why_read_only(self) -> str:
        ed = self.editor
        if not ed.workspace.can(Permission.EVALUATE):
            return "a PT or DPT writes the plan of care"
        if self.episode is not None and self.episode.discharged_on is not None:
            return f"the plan of care was discharged on {self.episode.discharged_on}"
        if ed.session.status == SessionStatus.SIGNED:
            return f"this {ed.session.note_type.named} is signed"
        return ed.read_only_reason() or "no plan of care is attached"

    def follow_diagnoses(self) -> None:
        """The evaluation's diagnoses are the plan's: the daily notes under it start from
        them."""
        diagnoses = self.editor.session.diagnoses
        if self.editor.session.note_type == NoteType.EVALUATION and self.isVisible() and \
                self.editable and self.episode is not None and \
                self.episode.diagnoses != diagnoses:
            try:
                self.episode = self.editor.workspace.revise_episode(
                    self.episode.id or 0, plan_action(self.episode, {"diagnoses": diagnoses}),
                    diagnoses=diagnoses)
            except KnownError as exc:  # a code the plan refuses stays on the note's flags
                self.errors["plan"].show_message(str(exc))
                return
            self.editor.plan_changed()

    def _save(self, name: str) -> None:
        if not self.editable or self.episode is None:
            return
        before = self.episode
        error = self.errors[name]
        try:
            value = self.fields[name][1]()
            if getattr(before, name) == value:
                error.clear_message()
                return
            self.episode = self.editor.workspace.revise_episode(
                before.id or 0, plan_action(before, {name: value}), **{name: value})
        except ValidationError as exc:
            show_problems({name: error, "plan": self.errors["plan"]}, exc, name)
            return
        except KnownError as exc:
            self.errors["plan"].show_message(str(exc))
            return
        error.clear_message()
        self.errors["plan"].clear_message()
        self.editor.plan_changed()
