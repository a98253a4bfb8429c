"""Rules about codes, minutes, units and modifiers: what makes a claim line wrong."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ptdoc.billing import units_said
from ptdoc.catalog import evaluation_codes, is_evaluation_code, lookup
from ptdoc.claim import required_modifiers, unit_check
from ptdoc.domain import (
    Credential,
    DeliveryMode,
    ExerciseChange,
    ExerciseEntry,
    NoteType,
    Provider,
)
from ptdoc.followup import visit_span
from ptdoc.rule_context import RuleContext
from ptdoc.rules.engine import Finding, Severity, rule

MCPM = "Medicare Claims Processing Manual ch. 5 §20.2 (reference §3)"
MBPM_NOTE = "Medicare Benefit Policy Manual ch. 15 §220.3 (reference §4)"
EVALUATION_SOURCE = ("Reference §1: an evaluation is billed as one of 97161-97163 by its "
                     "complexity, a re-evaluation as 97164, each 1 unit per date of service; "
                     "§6: two evaluation codes, or 97164 with 97161-97163, never together")
PASSIVE_NAMES = re.compile(
    r"\b(hot pack|cold pack|ice (?:pack|massage|bag|to)|moist heat|heat pack|cryotherapy|e-?stim|"
    r"electrical stim\w*|tens|ultrasound|us|traction|paraffin|whirlpool|diathermy|infrared|"
    r"iontophoresis|vasopneumatic|game ready|hydrocollator)\b", re.IGNORECASE)


def _timed_lines(ctx: RuleContext) -> Iterator[tuple[int, str, int | None]]:
    for i, line in enumerate(ctx.session.services):
        info = lookup(line.code)
        if info is not None and info.timed:
            yield i, line.code, line.minutes


def _one_on_one(e: ExerciseEntry) -> bool:
    """Whether a row's minutes count toward its timed code: not an aide's, group or
    supervised-independent."""
    return e.mode == DeliveryMode.ONE_ON_ONE and e.delivered_by != Provider.AIDE


def _exercise_minutes(ctx: RuleContext, code: str) -> tuple[int, int, int, int]:
    """(billable, supervised/group, aide, all) minutes of the exercises under ``code``."""
    billable = unattended = aide = total = 0
    for e in ctx.session.exercises:
        if e.code != code or not e.minutes:
            continue
        total += e.minutes
        if e.delivered_by == Provider.AIDE or e.mode == DeliveryMode.AIDE:
            aide += e.minutes
        elif e.mode in (DeliveryMode.SUPERVISED_INDEPENDENT, DeliveryMode.GROUP):
            unattended += e.minutes
        elif _one_on_one(e):
            billable += e.minutes
    return billable, unattended, aide, total


@rule("CODE_UNKNOWN")
def code_unknown(ctx: RuleContext) -> Iterator[Finding]:
    for i, line in enumerate(ctx.session.services):
        if lookup(line.code) is None:
            yield Finding("CODE_UNKNOWN", Severity.BLOCKER,
                          f"{line.code} is not a physical therapy code ptdoc knows.",
                          f"services[{i}].code", "ptdoc code catalog (reference §2)",
                          "Choose the code of the service from the catalog.")


@rule("CODE_EVAL_FOR_EXERCISE")
def evaluation_for_exercise(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    if s.note_type in (NoteType.EVALUATION, NoteType.RE_EVALUATION) or not s.exercises:
        return
    for i, line in enumerate(s.services):
        if line.code in evaluation_codes(NoteType.EVALUATION):
            info = lookup(line.code)
            yield Finding(
                "CODE_EVAL_FOR_EXERCISE", Severity.BLOCKER,
                f"{line.code} is a {info.description if info else 'PT evaluation'}, not "
                f"therapeutic exercise, but this {s.note_type} note documents exercise and no "
                "evaluation.", f"services[{i}].code",
                "CPT 97161-97163 are evaluations; therapeutic exercise is 97110 (reference §1)",
                "Bill the exercise as 97110 (timed, 15-minute units) with its minutes.")


@rule("EVALUATION_CODE_MISSING", "EVALUATION_CODES_CONFLICT")
def evaluation_code(ctx: RuleContext) -> Iterator[Finding]:
    """An evaluation or re-evaluation is the visit's own service: without its code the claim
    loses the charge, and once signed the note cannot take it back (a blocker)."""
    s = ctx.session
    expected = evaluation_codes(s.note_type)
    if not expected:
        return
    wanted = expected[0] if len(expected) == 1 else f"one of {expected[0]}-{expected[-1]}"
    evaluations = [(i, line.code) for i, line in enumerate(s.services)
                   if is_evaluation_code(line.code)]
    right = [(i, code) for i, code in evaluations if code in expected]
    if not right:
        change_type = ("; if this visit was not a " + s.note_type.value +
                       ", change the note type (Visit step)")
        wrong = [(i, code) for i, code in evaluations if code not in expected]
        if wrong:
            i, code = wrong[0]
            info = lookup(code)
            yield Finding(
                "EVALUATION_CODE_MISSING", Severity.BLOCKER,
                f"This {s.note_type.value} bills {code} "
                f"({info.description if info else 'an evaluation code'}), which is not a "
                f"{s.note_type.value}'s code: a {s.note_type.value} bills {wanted}.",
                f"services[{i}].code", EVALUATION_SOURCE,
                f"Choose the {s.note_type.value}'s code under Evaluation code (Time and codes "
                f"step) in place of {code}{change_type}.")
            return
        carries = f"only {', '.join(line.code for line in s.services)}" if s.services \
            else "nothing"
        what = ("choose the complexity you documented (low 97161, moderate 97162, high "
                "97163)" if len(expected) > 1 else f"choose {wanted}")
        yield Finding(
            "EVALUATION_CODE_MISSING", Severity.BLOCKER,
            f"This {s.note_type.value} bills no {s.note_type.value} code ({wanted}): the "
            f"claim carries {carries}, so the {s.note_type.value}'s charge is lost.",
            "evaluation_code", EVALUATION_SOURCE,
            f"Under Evaluation code (Time and codes step), {what}{change_type}.")
        return
    codes = list(dict.fromkeys(code for _i, code in evaluations))
    if len(codes) > 1:
        keep = right[0][1]
        i = next(i for i, code in evaluations if code != keep)
        yield Finding(
            "EVALUATION_CODES_CONFLICT", Severity.BLOCKER,
            f"This {s.note_type.value} bills {' and '.join(codes)}: it bills exactly one "
            f"code ({wanted}).", f"services[{i}].code", EVALUATION_SOURCE,
            "Keep the code of the complexity you documented and remove the other line "
            "(or choose it under Evaluation code, which replaces them).")


@rule("PASSIVE_MODALITY_AS_EXERCISE")
def passive_as_exercise(ctx: RuleContext) -> Iterator[Finding]:
    for i, e in enumerate(ctx.session.exercises):
        info = lookup(e.code)
        if PASSIVE_NAMES.search(e.name) or (info is not None and info.passive):
            what = f"'{e.name}'" + (f" (coded {e.code})" if info and info.passive else "")
            yield Finding(
                "PASSIVE_MODALITY_AS_EXERCISE", Severity.BLOCKER,
                f"{what} is a passive modality, listed as exercise. Its minutes are never "
                "therapeutic exercise minutes.", f"exercises[{i}].name",
                "Reference §2: passive modalities are coded under their own codes",
                "Remove it from the exercises and record it as a service under its own code "
                "(for example 97010 hot/cold pack, 97035 ultrasound, 97012 traction).")


@rule("TIMED_MINUTES_MISSING")
def timed_minutes_missing(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, minutes in _timed_lines(ctx):
        if not minutes:
            yield Finding("TIMED_MINUTES_MISSING", Severity.BLOCKER,
                          f"{code} is a timed code but has no minutes.",
                          f"services[{i}].minutes", MCPM,
                          f"Enter the minutes of one-on-one contact for {code}.")


@rule("UNITS_MINUTES_MISMATCH")
def units_mismatch(ctx: RuleContext) -> Iterator[Finding]:
    check = unit_check(ctx)
    explanation = " ".join(check.result.explanation)
    for wrong in check.wrong:
        yield Finding(
            "UNITS_MINUTES_MISMATCH", Severity.BLOCKER,
            f"{wrong.code} bills {wrong.stated} unit{'s' * (wrong.stated != 1)}; "
            f"{units_said(ctx.unit_method, wrong.expected)}. {explanation}",
            f"services[{wrong.index}].units", MCPM,
            f"Bill {wrong.expected} unit{'s' * (wrong.expected != 1)}.")


@rule("TOTAL_TIME_INCONSISTENT")
def total_time(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    counted = sum(line.minutes or 0 for line in s.services)
    if s.total_treatment_minutes is None:
        if s.services:
            yield Finding("TOTAL_TIME_INCONSISTENT", Severity.BLOCKER,
                          "Total treatment time is missing.", "total_treatment_minutes",
                          MBPM_NOTE, "Enter the total treatment time (timed and untimed "
                                     "minutes, without rest or waiting).")
    elif s.total_treatment_minutes < counted:
        yield Finding("TOTAL_TIME_INCONSISTENT", Severity.BLOCKER,
                      f"Total treatment time ({s.total_treatment_minutes} min) is less than the "
                      f"minutes of the services ({counted} min).", "total_treatment_minutes",
                      MBPM_NOTE, f"Make the total at least {counted} minutes, or correct the "
                                 "service minutes.")


@rule("TOTAL_TIME_BELOW_VISIT")
def total_below_visit(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    span = visit_span(s.time_in, s.time_out)
    if span and s.total_treatment_minutes is not None and s.total_treatment_minutes < span:
        yield Finding("TOTAL_TIME_BELOW_VISIT", Severity.INFO,
                      f"Total treatment time ({s.total_treatment_minutes} min) is shorter than "
                      f"the visit ({span} min from time in to time out).",
                      "total_treatment_minutes", MBPM_NOTE,
                      "Fine when the difference was rest, waiting or time not treating; "
                      "otherwise correct the total or the times.")


@rule("NOT_ONE_ON_ONE", "AIDE_TIME_BILLED")
def unattended_minutes(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    for i, code, minutes in _timed_lines(ctx):
        billable, unattended, aide, _total = _exercise_minutes(ctx, code)
        if not minutes or minutes <= billable:
            continue
        if aide:
            yield Finding(
                "AIDE_TIME_BILLED", Severity.BLOCKER,
                f"{code} bills {minutes} minutes, but {aide} of the exercise minutes were "
                "with an aide. Aide time is never billable therapy time.",
                f"services[{i}].minutes", "Reference §7: aides are never billable",
                f"Bill only the minutes a PT or PTA was with the patient ({billable} min).")
        if unattended:
            yield Finding(
                "NOT_ONE_ON_ONE", Severity.BLOCKER,
                f"{code} is one-on-one, but {unattended} of its minutes were "
                "supervised-independent or group exercise.", f"services[{i}].minutes",
                "Reference §4 and §7: self-directed or unattended exercise is never 97110",
                f"Bill only one-on-one minutes ({billable} min); group work is 97150.")
    if s.mode == DeliveryMode.GROUP:
        for i, code, minutes in _timed_lines(ctx):
            if minutes:
                yield Finding(
                    "NOT_ONE_ON_ONE", Severity.BLOCKER,
                    f"The session was a group session, but {code} is a one-on-one code.",
                    f"services[{i}].code", "Reference §7: group therapy is 97150",
                    "Bill 97150 x1 for the group, or record the one-on-one minutes apart.")


@rule("PTA_NOT_ON_NOTE")
def pta_not_on_note(ctx: RuleContext) -> Iterator[Finding]:
    """A row "delivered by a PTA" (or CQ on a line) on a note no PTA delivers: the claim
    would say a PTA treated the patient while the note says someone else did."""
    s = ctx.session
    clinician = ctx.user(s.delivered_by)
    if clinician is not None and clinician.credential == Credential.PTA:
        return
    who = f"by {clinician.display}" if clinician is not None else "by no one recorded"
    source = "Reference §7: PTAs' services carry CQ; §4: everyone who contributed signs"
    pta_rows = [(i, e) for i, e in enumerate(s.exercises) if e.delivered_by == Provider.PTA]
    for i, e in pta_rows:
        yield Finding(
            "PTA_NOT_ON_NOTE", Severity.BLOCKER,
            f"Row {i + 1} '{e.name}' says a PTA delivered it, but this note is delivered "
            f"{who}: no PTA is on it.", f"exercises[{i}].delivered_by", source,
            f"Set row {i + 1}'s By to PT if you delivered it, or choose the PTA who did as "
            "Delivered by (Supervision step).")
    if pta_rows:
        return
    for i, line in enumerate(s.services):
        if "CQ" in line.modifiers:
            yield Finding(
                "PTA_NOT_ON_NOTE", Severity.BLOCKER,
                f"{line.code} carries CQ (delivered by a PTA), but this note is delivered "
                f"{who} and no row was delivered by a PTA.", f"services[{i}].modifiers",
                source, f"Remove CQ from {line.code}, or record the PTA who delivered it.")


@rule("EXERCISE_MINUTES_LONGER_THAN_VISIT")
def exercise_minutes_longer(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    span = visit_span(s.time_in, s.time_out)
    total = sum(e.minutes or 0 for e in s.exercises)
    if span and total > span:
        yield Finding(
            "EXERCISE_MINUTES_LONGER_THAN_VISIT", Severity.BLOCKER,
            f"The exercises add up to {total} minutes, longer than the visit ({span} min "
            f"from {s.time_in:%H:%M} to {s.time_out:%H:%M}).", "exercises", MBPM_NOTE,
            "Correct the minutes of the rows done today (carried rows keep last visit's "
            "minutes), or the time in and out; a billed line left out then follows the "
            "exercises.")


@rule("EXERCISE_MINUTES_MISMATCH")
def exercise_minutes(ctx: RuleContext) -> Iterator[Finding]:
    for i, code, minutes in _timed_lines(ctx):
        billable, _unattended, _aide, total = _exercise_minutes(ctx, code)
        if not total or minutes is None:
            continue
        if minutes != billable and not billable < minutes <= total:
            yield Finding(
                "EXERCISE_MINUTES_MISMATCH", Severity.WARNING,
                f"{code} bills {minutes} minutes, but its one-on-one exercises add up to "
                f"{billable} minutes.", f"services[{i}].minutes", MBPM_NOTE,
                f"Make the {code} minutes {billable}, or correct the exercise minutes.")


@rule("EXERCISE_CODE_NOT_BILLED")
def exercise_code_not_billed(ctx: RuleContext) -> Iterator[Finding]:
    billed = {line.code for line in ctx.session.services}
    codes = dict.fromkeys(e.code for e in ctx.session.exercises if e.code and e.minutes)
    for code in codes:
        info = lookup(code)
        billable = _exercise_minutes(ctx, code)[0]
        if code in billed or info is None or not info.timed or not billable:
            continue
        yield Finding(
            "EXERCISE_CODE_NOT_BILLED", Severity.WARNING,
            f"The flowsheet has {billable} one-on-one minutes of exercise coded {code}, but no "
            f"{code} line is billed: the claim does not match the note.", "services",
            MBPM_NOTE, f"Add a {code} line with {billable} minutes (Fill minutes from "
                       "exercises), or give the reason it is not billed.")


@rule("EXERCISE_MINUTES_MISSING")
def exercise_minutes_missing(ctx: RuleContext) -> Iterator[Finding]:
    """A row that counts toward a timed code, without minutes, under a code no line bills:
    neither EXERCISE_CODE_NOT_BILLED (it counts minutes) nor the billed line's checks see it,
    so the exercise would be on the note and nowhere on the claim."""
    billed = {line.code for line in ctx.session.services}
    for i, e in enumerate(ctx.session.exercises):
        info = lookup(e.code)
        if e.minutes or e.code in billed or info is None or not info.timed or \
                e.change == ExerciseChange.HELD or not _one_on_one(e):
            continue
        yield Finding(
            "EXERCISE_MINUTES_MISSING", Severity.WARNING,
            f"Row {i + 1} '{e.name}' is coded {e.code}, a timed code, but has no minutes, "
            f"and no {e.code} line is billed: the exercise is in the note but not on the "
            "claim.", f"exercises[{i}].minutes",
            MBPM_NOTE + "; timed codes are billed by their minutes (reference §3)",
            f"Enter the row's one-on-one minutes and bill them as {e.code} (Fill minutes from "
            "exercises), or code the row to the service it was part of, or give the reason "
            "it is not billed.")


@rule("GROUP_AND_ONE_ON_ONE")
def group_and_timed(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    group = [i for i, line in enumerate(s.services) if line.code == "97150"]
    timed = [(i, code, m) for i, code, m in _timed_lines(ctx) if m]
    if not group or not timed:
        return
    group_minutes = sum(s.services[i].minutes or 0 for i in group)
    timed_minutes = sum(m or 0 for _, _, m in timed)
    grouped_codes = {e.code for e in s.exercises if e.mode == DeliveryMode.GROUP}
    overlap = [code for _, code, _ in timed if code in grouped_codes]
    if overlap or (s.total_treatment_minutes is not None and
                   s.total_treatment_minutes < group_minutes + timed_minutes):
        yield Finding(
            "GROUP_AND_ONE_ON_ONE", Severity.BLOCKER,
            "The same minutes are billed as group therapy (97150) and as one-on-one timed "
            "codes.", f"services[{group[0]}].code", "Reference §7: each patient gets 97150 x1 "
                                                    "and no timed codes for those minutes",
            "Bill group minutes as 97150 only, and one-on-one minutes done at another time.")


@rule("MEDICARE_CODE_INVALID")
def medicare_invalid(ctx: RuleContext) -> Iterator[Finding]:
    if not ctx.medicare:
        return
    for i, line in enumerate(ctx.session.services):
        info = lookup(line.code)
        if info is not None and info.medicare_replacement:
            yield Finding("MEDICARE_CODE_INVALID", Severity.BLOCKER,
                          f"{line.code} is not valid for Medicare.", f"services[{i}].code",
                          "Reference §2", f"Bill {info.medicare_replacement} instead.")


@rule("MEDICARE_BUNDLED")
def medicare_bundled(ctx: RuleContext) -> Iterator[Finding]:
    if not ctx.medicare:
        return
    for i, line in enumerate(ctx.session.services):
        info = lookup(line.code)
        if info is not None and not info.medicare_pays and not info.medicare_replacement:
            yield Finding("MEDICARE_BUNDLED", Severity.INFO,
                          f"{line.code} ({info.description}) is bundled by Medicare and not "
                          "paid separately.", f"services[{i}].code", "Reference §2",
                          "Keep it documented; expect no separate payment.")


@rule("CODE_PAIR_EDIT")
def code_pairs(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    if ctx.payer is not None and not ctx.payer.code_pair_edits:
        return
    codes = {line.code for line in s.services}
    position = {line.code: i for i, line in enumerate(s.services)}
    for pair in ctx.pack.code_pairs:
        if not pair.applies(codes, s.date_of_service):
            continue
        field = f"services[{position[pair.second]}].modifiers"
        if not pair.modifier_allowed:
            yield Finding("CODE_PAIR_EDIT", Severity.BLOCKER,
                          f"{pair.first} and {pair.second} are never billed together: "
                          f"{pair.note}.", f"services[{position[pair.second]}].code",
                          pair.source, f"Remove {pair.second} (or {pair.first}).")
            continue
        own = {m for line in s.services if line.code == pair.second for m in line.modifiers}
        if not own & ctx.pack.distinct_modifiers:
            yield Finding("CODE_PAIR_EDIT", Severity.BLOCKER,
                          f"{pair.first} with {pair.second} needs a distinct-service modifier "
                          f"on {pair.second} ({pair.note}).", field, pair.source,
                          f"Add 59 (or XE/XS/XP/XU) to {pair.second} if it was a separate "
                          "service in its own time interval.")


@rule("MODIFIER_MISSING")
def modifiers_missing(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    for i, line in enumerate(s.services):
        for needed in required_modifiers(ctx, line.code):
            if needed.modifier not in line.modifiers:
                yield Finding("MODIFIER_MISSING", Severity.BLOCKER,
                              f"{line.code} needs {needed.modifier}: {needed.reason}.",
                              f"services[{i}].modifiers", "Reference §6",
                              f"Add {needed.modifier} to {line.code}.")


@rule("KX_THRESHOLD")
def kx_threshold(ctx: RuleContext) -> Iterator[Finding]:
    payer = ctx.payer
    if payer is None or not payer.kx_applies or not ctx.session.services:
        return
    year = ctx.session.date_of_service.year
    threshold = ctx.pack.kx_threshold(year)
    if threshold is None:
        yield Finding("KX_THRESHOLD", Severity.WARNING,
                      f"The rule pack has no KX threshold for {year}.", "services",
                      ctx.pack.kx_source, "Update resources/rulepack.json for the new year.")
        return
    if ctx.missing_fees or ctx.year_to_date_amount is None:
        missing = ", ".join(ctx.missing_fees) or "the year's sessions"
        yield Finding("KX_THRESHOLD", Severity.WARNING,
                      f"The year-to-date therapy amount cannot be computed: the fee schedule "
                      f"has no {year} amount for {missing}. KX may be needed.", "services",
                      ctx.pack.kx_source, "Enter the allowed amounts in the fee schedule.")
        return
    amount = ctx.year_to_date_amount
    if amount > ctx.pack.review_threshold:
        yield Finding("KX_THRESHOLD", Severity.INFO,
                      f"Year-to-date amount ${amount} is past ${ctx.pack.review_threshold}: "
                      "claims may be picked for targeted medical review.", "services",
                      ctx.pack.review_source, "Make sure the note shows medical necessity.")
    if amount > threshold:
        yield Finding("KX_THRESHOLD", Severity.WARNING,
                      f"Year-to-date PT and speech therapy amount ${amount} is past the {year} "
                      f"threshold ${threshold}: KX attests that the care is medically "
                      "necessary.", "assessment", ctx.pack.kx_source,
                      "Document in the assessment why continued therapy is necessary.")

