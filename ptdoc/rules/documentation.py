"""Rules about what the note says: parameters, reasons, response, skill, diagnoses, signature."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ptdoc.catalog import lookup
from ptdoc.domain import Assistance, Credential, ExerciseChange, NoteType, SessionStatus
from ptdoc.identifiers import normalize_icd10
from ptdoc.permissions import PT_ONLY_NOTES
from ptdoc.rule_context import RuleContext
from ptdoc.rules.engine import Finding, Severity, rule

MBPM_NOTE = "Medicare Benefit Policy Manual ch. 15 §220.3 (reference §4)"
FLOWSHEET = "Reference §9: what therapists record per exercise"
ICD = "ICD-10-CM code set (simple-icd-10-cm) and reference §8"


@rule("EXERCISE_PARAMS_MISSING")
def params_missing(ctx: RuleContext) -> Iterator[Finding]:
    for i, e in enumerate(ctx.session.exercises):
        if e.change == ExerciseChange.HELD:
            continue  # not performed today
        dosed = (e.sets and e.reps) or e.hold_seconds or e.duration_minutes or e.distance
        if not dosed:
            yield Finding("EXERCISE_PARAMS_MISSING", Severity.BLOCKER,
                          f"'{e.name}' has no sets x reps and no hold, duration or distance.",
                          f"exercises[{i}].sets", FLOWSHEET,
                          "Enter sets and reps, or the hold or duration.")
        if e.load is not None and e.load_unit is None:
            yield Finding("EXERCISE_PARAMS_MISSING", Severity.BLOCKER,
                          f"'{e.name}' has a load of {e.load} without a unit.",
                          f"exercises[{i}].load_unit", FLOWSHEET, "Choose lb or kg.")


@rule("CARRY_FORWARD_UNCONFIRMED")
def carried_unconfirmed(ctx: RuleContext) -> Iterator[Finding]:
    for i, e in enumerate(ctx.session.exercises):
        if e.change == ExerciseChange.CARRIED:
            yield Finding("CARRY_FORWARD_UNCONFIRMED", Severity.BLOCKER,
                          f"'{e.name}' was carried forward from the last visit and not "
                          "confirmed: a copied note is not documentation of today's care.",
                          f"exercises[{i}].change", MBPM_NOTE,
                          "Choose as before, progressed, modified or held, and record today's "
                          "parameters and response.")


@rule("MODIFICATION_REASON_MISSING")
def reason_missing(ctx: RuleContext) -> Iterator[Finding]:
    for i, e in enumerate(ctx.session.exercises):
        changed = e.modification.strip() or e.change in (ExerciseChange.PROGRESSED,
                                                         ExerciseChange.MODIFIED)
        if changed and not e.modification_reason.strip():
            what = e.change.value if e.change != ExerciseChange.NEW else "modified"
            yield Finding("MODIFICATION_REASON_MISSING", Severity.BLOCKER,
                          f"'{e.name}' was {what} without the reason.",
                          f"exercises[{i}].modification_reason", MBPM_NOTE,
                          "Say why: the response that justified the progression or change.")


@rule("RESPONSE_MISSING")
def response_missing(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    if not s.exercises and not s.services:
        return
    documented = s.patient_response.strip() or any(
        e.response.strip() or e.pain_before is not None or e.pain_after is not None
        for e in s.exercises)
    if not documented:
        yield Finding("RESPONSE_MISSING", Severity.BLOCKER,
                      "The patient's response and tolerance are not documented.",
                      "patient_response", MBPM_NOTE,
                      "Record pain before and after, fatigue, compensations or tolerance.")


@rule("ASSESSMENT_MISSING")
def assessment_missing(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    if (s.exercises or s.services) and not s.assessment.strip():
        yield Finding("ASSESSMENT_MISSING", Severity.BLOCKER,
                      "The assessment is empty: the note does not say how the patient is "
                      "progressing toward the plan-of-care goals or why skilled therapy is "
                      "still needed.", "assessment",
                      MBPM_NOTE + "; reviewers deny for missing medical necessity",
                      "Write your assessment: progress toward the goals and why skilled "
                      "care continues.")


PROGRESS_MIN_WORDS = 6  # fewer cannot state progress toward goals ("." or "ok")
# Words of a goal that say nothing of which goal it is.
_GOAL_FILLER = frozenset((
    "goal", "goals", "with", "within", "without", "weeks", "week", "days", "months", "from",
    "that", "this", "will", "able", "patient", "independent", "independently", "increase",
    "improve", "improved", "return"))


def _keys(text: str) -> set[str]:
    """Words of four letters or more, cut to their first five (stairs/stair, walking/walk):
    enough to tell whether an assessment speaks of a goal."""
    return {w[:5] for w in re.findall(r"[a-z]{4,}", text.lower())}


@rule("PROGRESS_ASSESSMENT_THIN", "PROGRESS_GOALS_UNMENTIONED")
def progress_assessment(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    if s.note_type != NoteType.PROGRESS_REPORT or not s.assessment.strip():
        return  # an empty assessment is ASSESSMENT_MISSING's
    source = ("Reference §4 and §5: a progress report states progress toward each "
              "plan-of-care goal")
    words = len(s.assessment.split())
    if words < PROGRESS_MIN_WORDS:
        yield Finding(
            "PROGRESS_ASSESSMENT_THIN", Severity.BLOCKER,
            f"The progress report's assessment is {words} word{'s' * (words != 1)} "
            f"('{s.assessment.strip()[:40]}'): a reviewer expects progress toward each goal "
            "and why skilled care continues.", "assessment", source,
            "For each goal, write where the patient is now against it (measures, function), "
            "then why skilled therapy is still needed.")
        return
    goals = ctx.episode.goals if ctx.episode is not None else ()
    goal_keys = _keys(" ".join(goals)) - {w[:5] for w in _GOAL_FILLER}
    if goal_keys and not goal_keys & _keys(s.assessment):
        yield Finding(
            "PROGRESS_GOALS_UNMENTIONED", Severity.WARNING,
            "The progress report's assessment mentions none of the plan's goals "
            f"({'; '.join(goals)[:120]}): a reviewer looks for progress toward each one.",
            "assessment", source,
            "Name each goal and the patient's progress toward it (met, progressing, changed).")


@rule("INTERVENTION_UNDESCRIBED")
def intervention_undescribed(ctx: RuleContext) -> Iterator[Finding]:
    """The flowsheet describes exercise; every other timed service says what was done."""
    exercise_codes = {e.code for e in ctx.session.exercises}
    for i, line in enumerate(ctx.session.services):
        info = lookup(line.code)
        if info is None or not info.timed or line.code in exercise_codes:
            continue
        if not line.detail.strip():
            yield Finding("INTERVENTION_UNDESCRIBED", Severity.BLOCKER,
                          f"{line.code} ({info.description}) does not say what was done: "
                          "the note must identify each intervention, not only its code.",
                          f"services[{i}].detail", MBPM_NOTE,
                          "Say what was done on the line: technique, region and parameters "
                          "(for example 'grade III PA glides L4-5, 8 min').")


@rule("SKILLED_CONTENT_MISSING")
def skill_missing(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    if not any(line.code == "97110" for line in s.services):
        return
    cued = any(e.cues or (e.assistance and e.assistance != Assistance.INDEPENDENT)
               for e in s.exercises)
    changed = any(e.change in (ExerciseChange.PROGRESSED, ExerciseChange.MODIFIED)
                  or e.modification.strip() for e in s.exercises)
    if not (cued or changed or s.assessment.strip()):
        yield Finding("SKILLED_CONTENT_MISSING", Severity.BLOCKER,
                      "97110 is billed, but nothing shows skilled care: no cueing or "
                      "assistance, no progression or modification, no clinical reasoning.",
                      "assessment", MBPM_NOTE + "; exercise the patient could do alone is "
                                                "not skilled",
                      "Document the cues, progression and your assessment of the response.")


@rule("DIAGNOSIS_MISSING", "DIAGNOSIS_INVALID", "DIAGNOSIS_NOT_BILLABLE",
      "DIAGNOSIS_INITIAL_ENCOUNTER")
def diagnoses(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    if not s.diagnoses:
        yield Finding("DIAGNOSIS_MISSING", Severity.BLOCKER, "No ICD-10-CM diagnosis.",
                      "diagnoses", ICD, "Add the diagnosis treated (from the plan of care).")
        return
    for i, raw in enumerate(s.diagnoses):
        code = normalize_icd10(raw)
        field = f"diagnoses[{i}]"
        if ctx.codes is not None:
            status = ctx.codes.status(code)
            if status == "unknown":
                yield Finding("DIAGNOSIS_INVALID", Severity.BLOCKER,
                              f"{code} is not an ICD-10-CM code.", field, ICD,
                              "Search the code set by code or words and pick the code.")
                continue
            if status == "category":
                yield Finding("DIAGNOSIS_NOT_BILLABLE", Severity.BLOCKER,
                              f"{code} ({ctx.codes.description(code)}) is a category; only "
                              "the most specific codes are billable.", field, ICD,
                              f"Pick a more specific code under {code}.")
                continue
        if code[0] in "ST" and len(code.replace(".", "")) == 7 and code.endswith("A") \
                and s.note_type != NoteType.EVALUATION:
            yield Finding("DIAGNOSIS_INITIAL_ENCOUNTER", Severity.WARNING,
                          f"{code} has 7th character A (initial encounter, active treatment); "
                          "rehabilitation after active treatment is usually D.", field, ICD,
                          f"Use {code[:-1]}D (subsequent encounter) if treatment is "
                          "rehabilitation.")


@rule("PTA_SCOPE")
def pta_scope(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    if s.note_type not in PT_ONLY_NOTES:
        return
    for field, user_id in (("delivered_by", s.delivered_by),
                           ("signature", s.signature.signer if s.signature else None)):
        user = ctx.user(user_id)
        if user is not None and user.credential == Credential.PTA:
            yield Finding("PTA_SCOPE", Severity.BLOCKER,
                          f"A PTA ({user.display}) cannot write or sign a {s.note_type}.",
                          field, "Reference §5: only the PT writes evaluations, "
                                 "re-evaluations and progress reports",
                          "Have the supervising PT write and sign it.")


@rule("SIGNATURE_MISSING")
def signature(ctx: RuleContext) -> Iterator[Finding]:
    s = ctx.session
    sig = s.signature
    if s.status != SessionStatus.SIGNED or sig is None:
        yield Finding("SIGNATURE_MISSING", Severity.INFO,
                      "The note is not signed yet; it cannot be billed until it is.",
                      "signature", MBPM_NOTE, "Sign when nothing blocks.")
        return
    if not sig.credential.is_clinician or (sig.credential != Credential.PTA and not sig.npi):
        yield Finding("SIGNATURE_MISSING", Severity.BLOCKER,
                      f"The signature ({sig.signer_name}, {sig.credential}) lacks the "
                      "credentials of the person who furnished the service.", "signature",
                      MBPM_NOTE, "The treating PT or PTA signs with credentials and NPI.")


@rule("SERVICES_MISSING")
def services_missing(ctx: RuleContext) -> Iterator[Finding]:
    if not ctx.session.services:
        yield Finding("SERVICES_MISSING", Severity.BLOCKER,
                      "No service is recorded: a note documents each intervention provided.",
                      "services", MBPM_NOTE, "Add the codes of the services with their minutes.")


@rule("CLINICIAN_MISSING")
def clinician_missing(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.session.delivered_by is None:
        yield Finding("CLINICIAN_MISSING", Severity.BLOCKER,
                      "Who delivered the session is not recorded.", "delivered_by", MBPM_NOTE,
                      "Choose the PT or PTA who treated the patient.")
