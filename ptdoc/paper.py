"""What goes on paper: plain data for the daily note, session summaries and the day sheet.

Built from the domain, the review and the context (pure: no database, no reportlab), so the
renderer only lays out text it is given and tests can check the content without a PDF.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from ptdoc import signature_check
from ptdoc.catalog import lookup
from ptdoc.charges import (
    charge_lines,
    money,
    owed_by,
    place_of_service,
    pointers,
    rendering_provider,
    total,
)
from ptdoc.clock import stamp
from ptdoc.domain import (
    Acknowledgement,
    Appointment,
    Clinic,
    Episode,
    ExerciseChange,
    ExerciseEntry,
    NoteType,
    Patient,
    Payer,
    Session,
    SessionStatus,
    Signature,
    User,
    place_of_service_text,
)
from ptdoc.review import Review, draft_status
from ptdoc.rule_context import CodeSet, since_report
from ptdoc.rules import Finding, Severity
from ptdoc.signature_check import DOES_NOT_VERIFY


@dataclass(frozen=True)
class Header:
    """On every page: who the paper is about and for which date."""

    clinic: str
    clinic_line: str
    patient: str
    date_of_birth: str
    mrn: str
    date_of_service: str
    payer: str


@dataclass(frozen=True)
class ExerciseRow:
    name: str
    region_side: str
    dosage: str          # sets x reps, hold, duration, distance
    load: str
    cues_assist: str
    change: str          # modification/progression and why
    response: str        # pain before/after and response
    minutes: str
    delivered_by: str


@dataclass(frozen=True)
class BillingRow:
    code: str
    description: str
    minutes: str
    units: int
    modifiers: str


@dataclass(frozen=True)
class Progression:
    exercise: str
    # date, load, reps, hold (s), duration (min)
    points: tuple[tuple[str, float | None, float | None, float | None, float | None], ...]
    load_unit: str = ""


@dataclass(frozen=True)
class FindingText:
    """A finding as a reviewer reads it: plain sentences, no internal code."""

    label: str     # "Blocks signing", "Warning", "Warning accepted"
    message: str
    basis: str     # the manual or data it rests on
    then: str      # how to fix it, or the clinician's reason for accepting it


@dataclass(frozen=True)
class NoteData:
    header: Header
    title: str
    signed: bool
    diagnoses: tuple[tuple[str, str], ...]
    plan_of_care: str
    supervision: str
    exercises: tuple[ExerciseRow, ...]
    other_services: tuple[tuple[str, str, str, str], ...]  # code, description, what was
    #                                                        done, minutes
    time_in_out: str
    patient_response: str
    assessment: str
    home_program: str
    billing: tuple[BillingRow, ...]
    modifier_reasons: tuple[str, ...]
    unit_explanation: tuple[str, ...]
    total_timed_minutes: int
    total_treatment_minutes: str
    acknowledged: tuple[FindingText, ...]
    open_findings: tuple[FindingText, ...]
    signature: str
    content_hash: str
    signature_problem: str                              # "SIGNATURE DOES NOT VERIFY: why"
    addenda: tuple[tuple[str, str, str], ...]           # heading, reason, text
    progressions: tuple[Progression, ...]
    printed_at: str


@dataclass(frozen=True)
class SummaryData:
    """One session for the front desk: no clinical narrative."""

    header: Header
    session_id: int
    clinician: str
    time_in: str
    total_time: str
    codes: tuple[BillingRow, ...]
    status: str
    next_visit: str
    printed_at: str
    # For the day sheet: the payer apart, what the lines charge, and who signs a draft.
    payer_name: str = "self-pay"
    member_id: str = ""
    charge: Decimal | None = Decimal(0)     # None: a billed code has no fee
    billable: bool = False                  # signed, and the signature verifies
    owed_by: str = ""
    rendering: str = ""     # the claim's rendering provider and NPI (a PTA's supervising PT)

    @property
    def title(self) -> str:
        """Named by patient and date, never by an internal id."""
        return f"Session summary — {self.header.patient} — {self.header.date_of_service}"


@dataclass(frozen=True)
class DaySheetRow:
    time: str
    patient: str        # name and MRN
    payer: str          # payer and member ID
    clinician: str
    codes: str
    charge: str
    status: str
    next_visit: str


@dataclass(frozen=True)
class DaySheetData:
    clinic: str
    date: str
    rows: tuple[DaySheetRow, ...]
    totals: str
    # (who, sessions, signed, units signed, charges signed): the day closed by clinician and
    # by payer; the last row of each is the day's total.
    by_clinician: tuple[tuple[str, str, str, str, str], ...]     # who delivered
    by_payer: tuple[tuple[str, str, str, str, str], ...]
    unsigned: tuple[tuple[str, str, str, str], ...]     # time, patient, status, owed by
    printed_at: str
    audit_head: str     # the audit log's chain head when printed: paper anchors the log
    # time, patient (MRN), booked with: booked for the day with no note at all
    expected: tuple[tuple[str, str, str], ...] = ()
    # as by_clinician, by the rendering provider and NPI the claim names (the charges CSV's)
    by_rendering: tuple[tuple[str, str, str, str, str], ...] = ()


@dataclass(frozen=True)
class SuperbillData:
    """One session's charges as the patient or a payer receives them."""

    header: Header
    title: str
    parties: tuple[tuple[str, str], ...]                # label, value: provider, patient...
    diagnoses: tuple[tuple[str, str, str], ...]         # pointer, ICD-10-CM code, description
    lines: tuple[tuple[str, str, str, str, str, str, str], ...]  # CPT, service, modifiers,
    #                                                   pointers, units, fee, charge
    total: str
    status: str
    signed: bool
    printed_at: str


@dataclass(frozen=True)
class NoteFacts:
    """Everything besides the session that the note shows."""

    clinic: Clinic | None
    patient: Patient
    payer: Payer | None
    episode: Episode | None
    users: Mapping[int, User]
    review: Review
    treatment_days_since_progress_report: int | None
    printed_at: dt.datetime  # UTC, printed in the clinic's zone
    codes: CodeSet | None = None
    histories: Mapping[str, list[dict]] = field(default_factory=dict)
    # The patient's first appointment after the date of service, as the desk reads it.
    next_appointment: str = "not scheduled"
    # The fee schedule of the date of service's year (what the lines charge).
    fees: Mapping[str, Decimal] = field(default_factory=dict)
    # The note that began the progress-report period (last report, else evaluation).
    reporting_start: tuple[NoteType, dt.date] | None = None


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _zone(clinic: Clinic | None) -> str | None:
    """Stored times print in the clinic's zone (the computer's before a clinic is set up)."""
    return clinic.time_zone if clinic else None


NBSP = "\u00a0"


def labelled(label: str, value: str) -> str:
    """'NPI 1234567893' kept on one line: a wrapped header never leaves a label at a line's
    end and its value on the next."""
    return f"{label}{NBSP}{value}"


def header(clinic: Clinic | None, patient: Patient, payer: Payer | None,
           day: dt.date) -> Header:
    return Header(
        clinic=clinic.name if clinic else "ptdoc",
        clinic_line=" · ".join(x for x in (clinic.address, clinic.phone,
                                            labelled("NPI", clinic.npi) if clinic.npi else "")
                                if x) if clinic else "",
        patient=patient.display_name, date_of_birth=patient.date_of_birth.isoformat(),
        mrn=patient.mrn, date_of_service=day.isoformat(),
        payer=payer.name + (f" · {labelled('member', patient.member_id)}"
                            if patient.member_id else "")
        if payer else "self-pay")


def sets_reps(sets: int | None, reps: int | None) -> str:
    """Sets and reps written one way everywhere ("3 x 10"; "3 sets" or "10 reps" when one
    is not recorded, never "3 x -")."""
    if sets and reps:
        return f"{sets} x {reps}"
    if sets:
        return f"{sets} set{'s' * (sets != 1)}"
    return f"{reps} rep{'s' * (reps != 1)}" if reps else ""


def dosage(e: ExerciseEntry) -> str:
    parts = [sets_reps(e.sets, e.reps)] if e.sets or e.reps else []
    if e.hold_seconds:
        parts.append(f"hold {e.hold_seconds} s")
    if e.duration_minutes:
        parts.append(f"{e.duration_minutes} min")
    if e.distance is not None:
        parts.append(f"{e.distance} {e.distance_unit.value if e.distance_unit else ''}".strip())
    return ", ".join(parts)


def exercise_row(e: ExerciseEntry) -> ExerciseRow:
    where = ", ".join(x for x in (e.region, e.side.value if e.side else "", e.position) if x)
    load = f"{e.load} {e.load_unit.value if e.load_unit else '(no unit)'}" \
        if e.load is not None else ""
    if e.equipment:
        load = f"{load}, {e.equipment}" if load else e.equipment
    assist = e.assistance.value if e.assistance else ""
    cues = ", ".join(c.value for c in e.cues)
    cues_assist = "; ".join(x for x in (assist, f"{cues} cues" if cues else "") if x)
    change = e.change.value if e.change not in (ExerciseChange.NEW, ExerciseChange.AS_BEFORE) \
        else ("new" if e.change == ExerciseChange.NEW else "as before")
    if e.modification:
        change += f": {e.modification}"
    if e.modification_reason:
        change += f" — because {e.modification_reason}"
    pain = ""
    if e.pain_before is not None or e.pain_after is not None:
        pain = f"pain {_text(e.pain_before) or '-'}→{_text(e.pain_after) or '-'}/10"
    response = "; ".join(x for x in (pain, e.response) if x)
    by = f"{e.delivered_by.value}, {e.mode.value}"
    return ExerciseRow(e.name, where, dosage(e), load, cues_assist, change, response,
                       _text(e.minutes), by)


def _user(users: Mapping[int, User], user_id: int | None) -> str:
    user = users.get(user_id) if user_id is not None else None
    return user.display if user else "not recorded"


def supervision_statement(s: Session, users: Mapping[int, User]) -> str:
    if s.delivered_by is None:
        return "Who delivered the session is not recorded."
    text = f"Delivered {s.mode.value} by {_user(users, s.delivered_by)}"
    if s.group_size:
        text += f" in a group of {s.group_size} patients"
    if s.supervised_by is not None:
        text += f", supervised by {_user(users, s.supervised_by)}"
        if s.supervisor_availability:
            text += f" ({s.supervisor_availability.value})"
    return text + "."


def plan_of_care(episode: Episode | None, day: dt.date, days: int | None,
                 start: tuple[NoteType, dt.date] | None = None,
                 note_type: NoteType = NoteType.DAILY) -> str:
    if episode is None:
        return "No plan of care attached to this session."
    through = episode.certified_through.isoformat() if episode.certified_through else "not set"
    cert = f"certified {episode.certified_on}" if episode.certified_on else (
        "order on file" if episode.order_on_file else "certification pending")
    by = f" by {episode.physician_name}" if episode.physician_name else ""
    text = (f"Plan of care from {episode.start_date}, {cert}{by}, certified through {through}"
            f"; {episode.frequency or 'frequency not recorded'}"
            f" for {episode.duration or 'a duration not recorded'}.")
    if note_type == NoteType.PROGRESS_REPORT:
        began = start[1] if start else episode.start_date
        what = ("last progress report" if start and start[0] == NoteType.PROGRESS_REPORT
                else start[0].value if start else "start of the plan of care")
        text += f" Reporting period: {began} ({what}) to {day}."
    elif days is not None:
        text += f" Treatment day {days + 1} {since_report(start, episode)}."
    if episode.goals:
        text += " Goals: " + "; ".join(episode.goals) + "."
    return text


MAX_DATE_LABELS = 6  # dates under a progression chart on paper: more would overlap


def date_ticks(count: int, most: int = MAX_DATE_LABELS) -> list[int]:
    """The visits whose date is written under a progression chart (paper and screen): evenly
    thinned to at most ``most``, always the first and the last (today's)."""
    most = max(2, most)
    if count <= most:
        return list(range(count))
    step = -(-(count - 1) // (most - 1))
    ticks = list(range(0, count - 1, step))
    if count - 1 - ticks[-1] <= step / 2:
        ticks.pop()  # too close to the last one to fit beside it
    return [*ticks, count - 1]


def _progressions(session: Session, histories: Mapping[str, list[dict]]
                  ) -> tuple[Progression, ...]:
    """Exercises that changed since the last visit, with their course so far."""
    out = []
    for e in session.exercises:
        if e.change not in (ExerciseChange.PROGRESSED, ExerciseChange.MODIFIED):
            continue
        rows = histories.get(e.name, [])
        if len(rows) < 2:
            continue

        def num(v: object) -> float | None:
            return None if v is None else float(Decimal(str(v)))
        units = [r["load_unit"] for r in rows if r.get("load_unit")]
        out.append(Progression(e.name, tuple((str(r["date"]), num(r["load"]), num(r["reps"]),
                                              num(r["hold_seconds"]),
                                              num(r["duration_minutes"])) for r in rows),
                               units[-1] if units else ""))
    return tuple(out)


def billing_rows(review: Review) -> tuple[BillingRow, ...]:
    return tuple(BillingRow(line.code, line.description, _text(line.minutes), line.units,
                            " ".join(line.modifier_codes)) for line in review.claim.lines)


def time_in_out(session: Session) -> str:
    """Clock times as documented; Medicare does not require them, so absent is said plainly."""
    if session.time_in is None and session.time_out is None:
        return "Time in and time out not recorded."
    text = (f"Time in {session.time_in:%H:%M}" if session.time_in else "Time in not recorded")
    text += (f", time out {session.time_out:%H:%M}" if session.time_out
             else ", time out not recorded")
    if session.time_in and session.time_out:
        text += f" ({session.visit_minutes} minutes)"
    return text + "."


def _sentence(text: str) -> str:
    text = text.strip()
    return text if not text or text[-1] in ".!?)" else text + "."


def finding_text(f: Finding, signed: bool = False) -> FindingText:
    """A finding as paper and ``ptdoc check`` word it. A signed note is past signing: its
    blocker is what signing would have refused, and a signature that does not verify makes
    the note unbillable."""
    label = {Severity.BLOCKER: "Blocks signing", Severity.WARNING: "Warning"}.get(
        f.severity, "For information")
    if signed and f.severity == Severity.BLOCKER:
        label = "Not billable" if f.code == signature_check.FINDING_CODE \
            else "Would have blocked signing"
    return FindingText(label, _sentence(f.message), _sentence(f.source), _sentence(f.fix))


def acknowledged_text(a: Acknowledgement, findings: Mapping[tuple[str, str], Finding]
                      ) -> FindingText:
    found = findings.get((a.code, a.field))
    # A warning a later rule no longer raises keeps its reason, named in words.
    message = found.message if found else \
        f"A {a.code.replace('_', ' ').lower()} warning, no longer raised."
    return FindingText("Warning accepted", _sentence(message),
                       _sentence(found.source) if found else "",
                       _sentence(f"The clinician accepted it because: {a.reason}"))


def signature_statement(sig: Signature | None, zone: str | None) -> str:
    """Who signed and when, as the note prints it (and 'ptdoc check' says it)."""
    return "Not signed." if sig is None else (
        f"Electronically signed by {sig.signer_name}, {sig.credential}"
        + (f", NPI {sig.npi}" if sig.npi else "")
        + f", on {stamp(sig.signed_at, zone)}.")


def note_data(session: Session, facts: NoteFacts) -> NoteData:
    review = facts.review
    # "Physical therapy daily note", "... progress report" (not "progress report note")
    title = f"Physical therapy {session.note_type.named}"
    diagnoses = tuple((code, (facts.codes.description(code) if facts.codes else None)
                       or "") for code in session.diagnoses)
    exercise_codes = {e.code for e in session.exercises}
    others = tuple((s.code, (lookup(s.code).description if lookup(s.code) else ""),
                    s.detail, _text(s.minutes))
                   for s in session.services if s.code not in exercise_codes)
    reasons = tuple(f"{line.code} {m.modifier}: {m.reason}" for line in review.claim.lines
                    for m in line.modifiers)
    by_key = {(f.code, f.field): f for f in review.findings}
    acknowledged = tuple(acknowledged_text(a, by_key) for a in session.acknowledgements)
    sig = session.signature
    # A signed note lists only what says its signature does not verify; an accepted warning
    # is listed once, with its reason.
    open_findings = tuple(finding_text(f, sig is not None) for f in review.findings
                          if f.severity != Severity.INFO
                          and (f.code, f.field) not in review.acknowledged and (
                              session.status != SessionStatus.SIGNED or
                              f.code == signature_check.FINDING_CODE))
    zone = _zone(facts.clinic)
    signature = signature_statement(sig, zone)
    addenda = tuple((f"{a.kind.value.capitalize()} — {a.author_name}, "
                     f"{stamp(a.created_at, zone)}", a.reason, a.text)
                    for a in session.addenda)
    return NoteData(
        header=header(facts.clinic, facts.patient, facts.payer, session.date_of_service),
        title=title, signed=sig is not None, diagnoses=diagnoses,
        plan_of_care=plan_of_care(facts.episode, session.date_of_service,
                                  facts.treatment_days_since_progress_report,
                                  facts.reporting_start, session.note_type),
        supervision=supervision_statement(session, facts.users),
        exercises=tuple(exercise_row(e) for e in session.exercises), other_services=others,
        time_in_out=time_in_out(session),
        patient_response=session.patient_response, assessment=session.assessment,
        home_program=session.home_program, billing=billing_rows(review),
        modifier_reasons=reasons, unit_explanation=review.claim.units.explanation,
        total_timed_minutes=review.claim.units.total_timed_minutes,
        total_treatment_minutes=_text(session.total_treatment_minutes) or "not recorded",
        acknowledged=acknowledged, open_findings=open_findings, signature=signature,
        content_hash=sig.content_hash if sig else "", addenda=addenda,
        signature_problem=signature_problem(review),
        progressions=_progressions(session, facts.histories),
        printed_at=stamp(facts.printed_at, _zone(facts.clinic)))


def signature_problem(review: Review | None) -> str:
    """The headline of a signature that does not verify ('' when there is none)."""
    for f in review.blockers if review is not None else ():
        if f.code == signature_check.FINDING_CODE:
            return f.message
    return ""


def status_label(session: Session, review: Review | None) -> str:
    if session.status == SessionStatus.SIGNED:
        return signature_problem(review) or "Signed"
    return draft_status(len(review.blockers), len(review.open_warnings)) if review else \
        "Awaiting signature"


def _charges(session: Session, facts: NoteFacts):
    return charge_lines(session, facts.review, facts.patient, facts.payer, facts.users,
                        facts.fees, facts.clinic)


def summary_data(session: Session, facts: NoteFacts) -> SummaryData:
    patient = facts.patient
    time_in = session.time_in.strftime("%H:%M") if session.time_in else "—"
    if session.time_out:
        time_in += f"–{session.time_out:%H:%M}"
    total_time = f"{session.total_treatment_minutes} min" \
        if session.total_treatment_minutes else "not recorded"
    signed = session.status == SessionStatus.SIGNED
    return SummaryData(
        header=header(facts.clinic, patient, facts.payer, session.date_of_service),
        session_id=session.id or 0, clinician=_user(facts.users, session.delivered_by),
        time_in=time_in, total_time=total_time, codes=billing_rows(facts.review),
        status=status_label(session, facts.review),
        next_visit=facts.next_appointment,
        printed_at=stamp(facts.printed_at, _zone(facts.clinic)),
        payer_name=facts.payer.name if facts.payer else "self-pay",
        member_id=patient.member_id,
        charge=total(line.charge for line in _charges(session, facts)),
        billable=signed and not signature_problem(facts.review),
        owed_by="" if signed else owed_by(session, facts.users),
        rendering=_rendering(session, facts.users))


def _rendering(session: Session, users: Mapping[int, User]) -> str:
    """'PT User, PT, NPI 1111111112' as the charges export names the rendering provider."""
    who = rendering_provider(session, users)
    if who is None:
        return "none named (a PTA's note without a supervising PT)"
    return f"{who.display}, " + (f"NPI {who.npi}" if who.npi else "NPI not recorded")


def _group_totals(summaries: list[SummaryData], key) -> tuple[tuple[str, ...], ...]:
    """Sessions, signed, units and charges of the signed ones, per group and for the day."""
    groups: dict[str, list[SummaryData]] = {}
    for s in summaries:
        groups.setdefault(key(s), []).append(s)

    def row(name: str, items: list[SummaryData]) -> tuple[str, ...]:
        done = [s for s in items if s.billable]
        return (name, str(len(items)), str(len(done)),
                str(sum(c.units for s in done for c in s.codes)),
                money(total(s.charge for s in done)))
    return (*(row(name, groups[name]) for name in sorted(groups)), row("Day total", summaries))


def day_sheet(clinic: Clinic | None, day: dt.date, summaries: list[SummaryData],
              printed_at: dt.datetime, audit_rows: int = 0, audit_head: str = "",
              expected: Sequence[tuple[Appointment, Patient, str]] = ()) -> DaySheetData:
    """The day closed: ``expected`` are the day's appointments without a note (appointment,
    patient, who they are booked with), as the day view lists them."""
    fees_known = {s.session_id: s.charge for s in summaries}
    rows = tuple(DaySheetRow(
        time=s.time_in, patient=f"{s.header.patient}\n{s.header.mrn}",
        payer=s.payer_name + (f"\n{s.member_id}" if s.member_id else ""),
        clinician=s.clinician,
        codes=", ".join(f"{c.code} x{c.units}" + (f" {c.modifiers}" if c.modifiers else "")
                        for c in s.codes if c.units) or "—",
        charge=money(fees_known[s.session_id]), status=s.status, next_visit=s.next_visit)
        for s in summaries)
    signed = sum(1 for s in summaries if s.status == "Signed")
    broken = sum(1 for s in summaries if s.status.startswith(DOES_NOT_VERIFY))
    units = sum(c.units for s in summaries for c in s.codes)
    totals = (f"{len(summaries)} sessions: {signed} signed, "
              + (f"{broken} signed but {DOES_NOT_VERIFY}, " if broken else "")
              + f"{len(summaries) - signed - broken} not signed; {units} units; "
              + "charges of the signed sessions "
              + money(total(s.charge for s in summaries if s.billable)))
    unsigned = tuple((s.time_in, f"{s.header.patient} ({s.header.mrn})", s.status,
                      s.owed_by or s.clinician) for s in summaries if not s.billable)
    return DaySheetData(
        clinic=clinic.name if clinic else "ptdoc", date=day.isoformat(), rows=rows,
        totals=totals, by_clinician=_group_totals(summaries, lambda s: s.clinician),
        by_rendering=_group_totals(summaries, lambda s: s.rendering),
        by_payer=_group_totals(summaries, lambda s: s.payer_name), unsigned=unsigned,
        printed_at=stamp(printed_at, _zone(clinic)),
        expected=tuple((f"{a.time:%H:%M}" if a.time else "—",
                        f"{p.display_name} ({p.mrn})", who or "—") for a, p, who in expected),
        audit_head=f"Audit log at printing: {audit_rows:,} entries, chain head {audit_head}. "
                   "'ptdoc verify' prints the same head while the log is unchanged; a later "
                   "head follows from it.")


def superbill_data(session: Session, facts: NoteFacts) -> SuperbillData:
    clinic, patient, payer = facts.clinic, facts.patient, facts.payer
    clinician = facts.users.get(session.delivered_by) if session.delivered_by else None
    rendering = rendering_provider(session, facts.users)
    supervising = facts.users.get(session.supervised_by) if session.supervised_by else None
    episode = facts.episode

    def npi(value: str | None) -> str:
        return f"NPI {value}" if value else "NPI not recorded"
    parties = [
        ("Billing provider", clinic.name if clinic else "not set up"),
        ("Provider NPI", npi(clinic.npi if clinic else None)),
        ("Address", " · ".join(x for x in (clinic.address, clinic.phone) if x)
         if clinic else ""),
        ("Rendering clinician", f"{rendering.display}, {npi(rendering.npi)}" if rendering
         else "not recorded")]
    if supervising is not None:
        parties.append(("Supervising", f"{supervising.display}, {npi(supervising.npi)}"))
    found = _charges(session, facts)
    if clinician is not None and clinician is not rendering:
        # A PTA is billed under the supervising PT's NPI; who treated stays on the bill. CQ
        # is a Medicare modifier: said only when the payer's lines carry it.
        cq = any("CQ" in c.modifiers for c in found)
        parties.append(("Delivered by", f"{clinician.display}, {npi(clinician.npi)}"
                        " (billed under the supervising PT's NPI"
                        + ("; CQ on the lines)" if cq else ")")))
    if episode is not None and episode.physician_name:
        parties.append(("Referring physician",
                        f"{episode.physician_name}, {npi(episode.physician_npi)}"))
    parties.append(("Patient", f"{patient.display_name} · born {patient.date_of_birth} · "
                               f"MRN {patient.mrn}"))
    if patient.address:
        parties.append(("Patient address", patient.address))
    parties += [
        ("Payer", payer.name if payer else "self-pay"),
        ("Member ID", patient.member_id or "not recorded"),
        ("Date of service", session.date_of_service.isoformat()),
        ("Place of service", place_of_service_text(place_of_service(session, clinic)))]
    diagnoses = tuple((letter, code, (facts.codes.description(code) if facts.codes else None)
                       or "") for letter, code in pointers(session.diagnoses))
    lines = tuple((c.code, lookup(c.code).description if lookup(c.code) else "unknown code",
                   " ".join(c.modifiers), c.pointers, str(c.units), money(c.fee),
                   money(c.charge)) for c in found)
    sig = session.signature
    problem = signature_problem(facts.review)
    if problem:
        status = f"{problem}: not billable as signed."
    elif sig is not None:
        status = (f"Signed electronically by {sig.signer_name}, {sig.credential}"
                  + (f", NPI {sig.npi}" if sig.npi else "")
                  + f", on {stamp(sig.signed_at, _zone(clinic))}.")
    else:
        status = (f"NOT SIGNED: not billable until signed by {owed_by(session, facts.users)}."
                  " Units and charges may still change.")
    return SuperbillData(
        header=header(clinic, patient, payer, session.date_of_service),
        title=f"Superbill — {patient.display_name} — {session.date_of_service}",
        parties=tuple(parties), diagnoses=diagnoses, lines=lines,
        total=money(total(c.charge for c in found)), status=status,
        signed=sig is not None and not problem,
        printed_at=stamp(facts.printed_at, _zone(clinic)))
