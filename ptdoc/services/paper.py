"""Paper: the facts a note shows, the note PDF, summaries and the day sheet, and the audit of
paper leaving ptdoc."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ptdoc.domain import Appointment, ExerciseChange, Session
from ptdoc.paper import (
    NoteFacts,
    SummaryData,
    SuperbillData,
    day_sheet,
    note_data,
    summary_data,
    superbill_data,
)
from ptdoc.permissions import Permission
from ptdoc.repositories import AuditAction
from ptdoc.services.core import WorkspaceCore


class Paper(WorkspaceCore):
    def note_facts(self, session: Session, wait_for_codes: bool = True) -> NoteFacts:
        ctx = self.rule_context(session, wait_for_codes)
        histories = {e.name: self.store.sessions.exercise_history(session.patient_id, e.name,
                                                                    session.id)
                     for e in session.exercises
                     if e.change in (ExerciseChange.PROGRESSED, ExerciseChange.MODIFIED)}
        users = dict(ctx.users)
        for uid in {a.author for a in session.addenda} - set(users):
            users[uid] = self.store.users.get(uid)
        return NoteFacts(clinic=self.clinic(), patient=ctx.patient or self.store.patients.get(
            session.patient_id), payer=ctx.payer, episode=ctx.episode, users=users,
            review=self.judge(ctx),
            treatment_days_since_progress_report=ctx.treatment_days_since_progress_report,
            reporting_start=ctx.reporting_start,
            printed_at=self.now(), codes=ctx.codes, histories=histories,
            next_appointment=self._appointment_text(self.store.appointments.next_after(
                session.patient_id, session.date_of_service)),
            fees=self.store.fees.for_year(session.date_of_service.year))

    def _appointment_text(self, appointment: Appointment | None) -> str:
        """As paper shows it: '2026-05-04 09:30 with Maria Chen, DPT' (or 'not scheduled')."""
        if appointment is None:
            return "not scheduled"
        if appointment.clinician_id is None:
            return appointment.when
        return f"{appointment.when} with {self.store.users.get(appointment.clinician_id).display}"

    def note_pdf(self, session_id: int, wait_for_codes: bool = True) -> bytes:
        """The daily note as PDF (drafts carry the watermark and their open findings)."""
        from ptdoc.report import render_note

        self.require(Permission.EXPORT_NOTE, "session", session_id)
        session = self.store.sessions.get(session_id)
        return render_note(note_data(session, self.note_facts(session, wait_for_codes)))

    def summary_data(self, session_ids: list[int]) -> list[SummaryData]:
        self.require(Permission.PRINT_SUMMARY)
        return [summary_data(s, self.note_facts(s)) for s in self._sessions(session_ids)]

    def summaries_pdf(self, session_ids: list[int], per_page: int = 2) -> bytes:
        """Session summaries for the front desk: two to a page to cut apart, or one."""
        from ptdoc.report import render_summaries

        return render_summaries(self.summary_data(session_ids), per_page=per_page)

    def superbill_data(self, session_ids: list[int]) -> list[SuperbillData]:
        self.require(Permission.BILLING)
        return [superbill_data(s, self.note_facts(s)) for s in self._sessions(session_ids)]

    def _sessions(self, session_ids: list[int]) -> Iterator[Session]:
        return (self.store.sessions.get(sid) for sid in session_ids)

    def superbills_pdf(self, session_ids: list[int]) -> bytes:
        """A superbill page per session (an unsigned one says so, watermarked)."""
        from ptdoc.report import render_superbills

        return render_superbills(self.superbill_data(session_ids))

    def day_ids(self, day: dt.date) -> list[int]:
        """The day's sessions in the order of the day."""
        return [r.id for r in sorted(self.sessions(date=day),
                                     key=lambda r: (r.time_in or dt.time(), r.patient_name))]

    def day_sheet_pdf(self, day: dt.date) -> bytes:
        from ptdoc.report import render_day_sheet

        # Who was booked and has no note, as the day view shows them (to whoever sees the
        # schedule).
        expected = [(e.appointment, e.patient, e.clinician)
                    for e in self.expected_without_note(day)] \
            if self.can(Permission.VIEW_SCHEDULE) else []
        data = day_sheet(self.clinic(), day, self.summary_data(self.day_ids(day)),
                         self.now(), *self.store.audit.head(), expected=expected)
        return render_day_sheet(data)

    def record_output(self, kind: str, session_ids: list[int], purpose: str,
                      form: str = "pdf") -> None:
        """Audit paper or a file leaving ptdoc, one row per session it holds: ``purpose`` is
        'print' or 'save' (a file, or the command line's output); ``form`` 'pdf', 'csv'..."""
        action = AuditAction.PRINT if purpose == "print" else AuditAction.EXPORT
        for sid in session_ids:
            self.store.audit.record(self.actor, action, "session", sid, f"{kind} {form}")
