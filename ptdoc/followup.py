"""What a follow-up visit need not retype: how a carried row changed since the last visit, the
sentence that says so, the rows confirmed as before, and the values that follow from others
(total time from time in and out, billed minutes from the exercises' minutes)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any

from ptdoc.claim import services_from_exercises
from ptdoc.domain import ExerciseChange, ExerciseEntry, Session, clock_minutes
from ptdoc.errors import ValidationError
from ptdoc.fields import TIME_FORMS, clip

# Dosing that goes up when an exercise is progressed.
DOSING = (("sets", "sets", ""), ("reps", "reps", ""), ("load", "load", "load_unit"),
          ("hold_seconds", "hold", " s"), ("duration_minutes", "duration", " min"),
          ("distance", "distance", "distance_unit"))
# A different way of doing it: the exercise is modified.
SETUP = (("position", "position"), ("side", "side"), ("equipment", "equipment"),
         ("region", "region"), ("load_unit", "load unit"), ("distance_unit", "distance unit"))
TRACKED = tuple(f for f, *_ in DOSING) + tuple(f for f, _ in SETUP)
# States of a row that relate it to the last visit, which ptdoc may set from its values.
RELATED = (ExerciseChange.CARRIED, ExerciseChange.AS_BEFORE, ExerciseChange.PROGRESSED,
           ExerciseChange.MODIFIED)


@dataclass(frozen=True)
class Difference:
    field: str
    text: str          # "load 8 -> 10 lb"
    progression: bool  # more of the same dosing


def _shown(value: Any) -> str:
    if value is None or value == "":
        return "none"
    if isinstance(value, Decimal):
        return f"{value.normalize():f}"
    return str(getattr(value, "value", value))


def differences(last: ExerciseEntry, today: ExerciseEntry) -> list[Difference]:
    """How today's row differs from the last visit's, in the fields that describe the
    exercise (not today's pain, response or minutes)."""
    out = []
    for name, label, unit in DOSING:
        old, new = getattr(last, name), getattr(today, name)
        if old == new:
            continue
        suffix = unit if not unit or unit.startswith(" ") else \
            f" {_shown(getattr(today, unit) or getattr(last, unit))}"
        suffix = "" if suffix == " none" else suffix
        up = old is not None and new is not None and new > old
        out.append(Difference(name, f"{label} {_shown(old)} -> {_shown(new)}{suffix}", up))
    for name, label in SETUP:
        old, new = getattr(last, name), getattr(today, name)
        if old != new and not (name.endswith("unit") and any(d.field == name[:-5]
                                                             for d in out)):
            out.append(Difference(name, f"{label} {_shown(old)} -> {_shown(new)}", False))
    return out


def describe(changes: Iterable[Difference]) -> str:
    text = ", ".join(d.text for d in changes)
    return text[:1].upper() + text[1:]


def mark_change(last: ExerciseEntry | None, before: ExerciseEntry,
                after: ExerciseEntry) -> ExerciseEntry:
    """A row edited from ``before`` to ``after``, its state and modification text following
    how it now differs from the last visit's row: more dosing is progressed, anything else
    different is modified, the same again is as before. Only for rows carried from the last
    visit, only when the edit changed what describes the exercise, and never over a state or
    modification text the clinician chose."""
    if last is None or before.change not in RELATED or after.change != before.change or \
            all(getattr(before, f) == getattr(after, f) for f in TRACKED):
        return after
    written_before = describe(differences(last, before))
    if before.modification not in ("", written_before):
        return after  # the clinician's own words
    if before.change in (ExerciseChange.PROGRESSED, ExerciseChange.MODIFIED) and \
            before.modification != written_before:
        return after  # a state the clinician chose
    changes = differences(last, after)
    if not changes:
        state = ExerciseChange.AS_BEFORE if before.change != ExerciseChange.CARRIED \
            else before.change
        return replace(after, change=state, modification="")
    state = ExerciseChange.PROGRESSED if all(d.progression for d in changes) \
        else ExerciseChange.MODIFIED
    return replace(after, change=state, modification=describe(changes))


def mark_changes(last_visit: Iterable[ExerciseEntry], before: tuple[ExerciseEntry, ...],
                 after: tuple[ExerciseEntry, ...]) -> tuple[ExerciseEntry, ...]:
    """``mark_change`` for each row edited in place (same row count, same names)."""
    if len(before) != len(after):
        return after
    last = {e.name.lower(): e for e in last_visit}
    return tuple(mark_change(last.get(a.name.lower()), b, a) if b.name == a.name else a
                 for b, a in zip(before, after, strict=True))


def confirm_as_before(rows: tuple[ExerciseEntry, ...]) -> tuple[ExerciseEntry, ...]:
    """Every row still waiting to be confirmed, done as last time."""
    return tuple(replace(e, change=ExerciseChange.AS_BEFORE)
                 if e.change == ExerciseChange.CARRIED else e for e in rows)


def proposed_assessment(session: Session) -> str:
    """The facts of today's progressions and modifications as a sentence the clinician may
    take into the assessment (and edit): what changed, why, and the cueing it needed."""
    sentences = []
    for e in session.exercises:
        if e.change not in (ExerciseChange.PROGRESSED, ExerciseChange.MODIFIED) or \
                not e.modification.strip():
            continue
        what = e.modification.strip().rstrip(".")
        sentence = f"{e.name} {e.change.value} ({what[:1].lower() + what[1:]})"
        if e.modification_reason.strip():
            sentence += f" as {e.modification_reason.strip().rstrip('.')}"
        help_given = [f"{' and '.join(c.value for c in e.cues)} cues"] if e.cues else []
        if e.assistance is not None:
            help_given.append(e.assistance.value)
        if help_given:
            sentence += f"; performed with {', '.join(help_given)}"
        sentences.append(sentence + ".")
    held = [e.name for e in session.exercises if e.change == ExerciseChange.HELD]
    if held:
        sentences.append(f"Held today: {', '.join(held)}.")
    return " ".join(sentences)


def with_proposal(assessment: str, proposal: str) -> str:
    """The assessment with the proposed sentence added once, after what is written."""
    if not proposal or proposal in assessment:
        return assessment
    return f"{assessment.rstrip()}\n{proposal}" if assessment.strip() else proposal


def visit_span(time_in: dt.time | None, time_out: dt.time | None) -> int | None:
    """Minutes from time in to time out, when both are known and in order."""
    if time_in is None or time_out is None:
        return None
    span = clock_minutes(time_in, time_out)
    return span if span > 0 else None


def with_time(session: Session, field: str, value: dt.time | None, typed: str = "",
              other: dict[str, dt.time | None] | None = None) -> Session:
    """The session with time in or out set, and the total treatment time following the
    visit's length: while it is not recorded or still the length ptdoc put there, and
    whenever it would be longer than the visit (which cannot stand). A time out of order with
    the other one is refused on the field set (``typed``: what was typed there, as "now").
    ``other``: the other time as typed on screen but refused, judged with this one as a pair
    (two refused times must not block each other)."""
    times = {"time_in": session.time_in, "time_out": session.time_out, **(other or {}),
             field: value}
    if times["time_in"] is not None and times["time_out"] is not None and \
            times["time_out"] <= times["time_in"]:
        raise ValidationError.single(field, _out_of_order(field, times, typed))
    span = visit_span(times["time_in"], times["time_out"])
    before = visit_span(session.time_in, session.time_out)
    total = session.total_treatment_minutes
    if span is not None and span != before and (total is None or total == before or
                                                 total > span):
        total = span
    return replace(session, total_treatment_minutes=total, **times)


def _out_of_order(field: str, times: dict[str, dt.time | None], typed: str) -> str:
    value = times[field]
    read = f"{value:%H:%M}" if value is not None else ""
    if typed.strip() and typed.strip() != read:
        read = f"'{clip(typed.strip())}' ({read})"  # what "now" or "930" was read as
    if field == "time_in":
        return (f"Time in {read} must be before time out ({times['time_out']:%H:%M}): type an "
                f"earlier time such as {TIME_FORMS}, or correct time out first")
    return (f"Time out {read} must be after time in ({times['time_in']:%H:%M}): type a later "
            f"time such as {TIME_FORMS}, or correct time in first")


def _exercise_minutes(lines: Iterable[Any], codes: set[str]) -> dict[str, int]:
    return {s.code: s.minutes or 0 for s in lines if s.code in codes and s.minutes}


def follow(before: Session, after: Session) -> Session:
    """``after`` with what follows from an edit: the exercise codes' billed minutes from the
    exercises' minutes when rows are added or removed, while they still hold what ptdoc put
    there (minutes the clinician typed on a line are theirs); otherwise an exercise code's
    missing line once the exercises fit the visit (``_missing_lines``)."""
    # Rows added or removed (carry forward, Add exercise) bring their minutes to the billed
    # lines; a minute typed in a row waits for Fill minutes from exercises.
    if len(after.exercises) != len(before.exercises) and after.services == before.services:
        codes = {e.code for e in (*before.exercises, *after.exercises)}
        derived = services_from_exercises(before)
        if _exercise_minutes(before.services, codes) == _exercise_minutes(derived, codes):
            lines = tuple(s for s in services_from_exercises(after)
                          if s.minutes or s.code not in codes or
                          any(o.code == s.code for o in after.services))
            # Billed minutes longer than the visit cannot stand: the rows come in and the
            # billed lines stay, so the rows are kept and the rules say what does not fit.
            visit = after.visit_minutes
            if not visit or all((s.minutes or 0) <= visit for s in lines):
                after = replace(after, services=lines)
        return after
    return _missing_lines(before, after)


def _missing_lines(before: Session, after: Session) -> Session:
    """``after`` with a billed line for each exercise code that has one-on-one minutes but no
    line at all, once an edit of the exercises' minutes or of the visit's times makes them fit
    the visit: carried rows longer than the visit came in without their line, and correcting
    the minutes brings it, as adding the rows would have. A line with minutes the clinician
    typed is never changed here (those wait for Fill minutes from exercises)."""
    if after.services != before.services or not after.visit_minutes:
        return after
    minutes = [(e.code, e.minutes) for e in after.exercises]
    if minutes == [(e.code, e.minutes) for e in before.exercises] and \
            after.visit_minutes == before.visit_minutes:
        return after
    billed = {s.code for s in after.services}
    missing = tuple(s for s in services_from_exercises(after)
                    if s.code not in billed and s.minutes)
    if not missing or any((s.minutes or 0) > after.visit_minutes for s in missing):
        return after
    return replace(after, services=after.services + missing)


def rounded(moment: dt.time, step: int = 5) -> dt.time:
    """A clock time down to the last ``step`` minutes: a visit cannot start in the future
    (22:08 rounded up to 22:10 made "now" at 22:09 an impossible time out)."""
    minutes = (moment.hour * 60 + moment.minute) // step * step
    return dt.time(minutes // 60, minutes % 60)
