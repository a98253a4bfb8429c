"""Every rule has a clean case and a failing case; a registered rule without them fails here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import replace
from decimal import Decimal

import pytest

from ptdoc import rules
from ptdoc.catalog import payer_from_profile
from ptdoc.claim import build_claim
from ptdoc.domain import (
    Credential,
    Cue,
    DeliveryMode,
    Episode,
    ExerciseChange,
    ExerciseEntry,
    LoadUnit,
    NoteType,
    Patient,
    Provider,
    ServiceLine,
    Session,
    SessionStatus,
    Signature,
    User,
)
from ptdoc.review import review_context
from ptdoc.rule_context import RuleContext
from ptdoc.rules import Severity

TODAY = dt.date(2026, 11, 26)
PT = User("pt", "Pat Therapist", Credential.PT, "1234567893", id=1)
PTA = User("pta", "Alex Assistant", Credential.PTA, id=2)


@pytest.fixture(scope="module")
def base(icd) -> RuleContext:
    session = Session(
        patient_id=1, episode_id=1, date_of_service=dt.date(2026, 11, 20), delivered_by=1,
        diagnoses=("M17.11",), total_treatment_minutes=30,
        exercises=(ExerciseEntry("Sit to stand", sets=3, reps=10, minutes=12,
                                 cues=(Cue.VERBAL,), pain_before=3, pain_after=2),
                   ExerciseEntry("Leg press", sets=3, reps=12, load=Decimal(40),
                                 load_unit=LoadUnit.LB, minutes=11, response="quad fatigue")),
        services=(ServiceLine("97110", 23, 2, ("GP",)),),
        patient_response="Pain 3/10 before, 2/10 after.", assessment="Improving control.")
    return RuleContext(
        session=session, today=TODAY, codes=icd,
        patient=Patient("A1", "Ann", "Lee", dt.date(1950, 1, 1), 1, id=1),
        payer=payer_from_profile("Medicare Part B", "medicare"),
        episode=Episode(1, dt.date(2026, 10, 1), ("M17.11",), certified_on=dt.date(2026, 10, 5),
                        certified_through=dt.date(2026, 12, 29), id=1),
        users={1: PT, 2: PTA}, treatment_days_since_progress_report=3,
        year_to_date_amount=Decimal("500"))


def with_session(**changes) -> Callable[[RuleContext], RuleContext]:
    return lambda ctx: replace(ctx, session=replace(ctx.session, **changes))


def with_exercise(**changes) -> Callable[[RuleContext], RuleContext]:
    def change(ctx: RuleContext) -> RuleContext:
        first = replace(ctx.session.exercises[0], **changes)
        return replace(ctx, session=replace(ctx.session,
                                            exercises=(first, *ctx.session.exercises[1:])))
    return change


def with_services(*lines: ServiceLine, total: int = 30) -> Callable[[RuleContext], RuleContext]:
    return with_session(services=lines, total_treatment_minutes=total)


def signed(ctx: RuleContext, npi: str | None = "1234567893",
           credential: Credential = Credential.PT) -> RuleContext:
    sig = Signature(1, "Pat Therapist", credential, npi,
                    dt.datetime(2026, 11, 20, 18, tzinfo=dt.UTC), "a" * 64)
    return replace(ctx, session=replace(ctx.session, status=SessionStatus.SIGNED,
                                        signature=sig))


GP = ("GP",)
def same(ctx: RuleContext) -> RuleContext:
    return ctx



CASES: dict[str, tuple[Callable, Callable]] = {
    "CODE_UNKNOWN": (same, with_services(ServiceLine("97110", 23, 2, GP),
                                         ServiceLine("97999", None, 1, GP))),
    "TOTAL_TIME_BELOW_VISIT": (with_session(time_in=dt.time(10), time_out=dt.time(10, 30)),
                               with_session(time_in=dt.time(10), time_out=dt.time(10, 45))),
    "CODE_EVAL_FOR_EXERCISE": (same, with_services(ServiceLine("97162", None, 1, GP))),
    "EVALUATION_CODE_MISSING": (
        with_session(note_type=NoteType.EVALUATION, services=(
            ServiceLine("97163", None, 1, GP), ServiceLine("97110", 23, 2, GP))),
        with_session(note_type=NoteType.EVALUATION)),
    "EVALUATION_CODES_CONFLICT": (
        with_session(note_type=NoteType.RE_EVALUATION, services=(
            ServiceLine("97164", None, 1, GP), ServiceLine("97110", 23, 2, GP))),
        with_session(note_type=NoteType.EVALUATION, services=(
            ServiceLine("97161", None, 1, GP), ServiceLine("97110", 23, 2, GP),
            ServiceLine("97162", None, 1, GP)))),
    "PASSIVE_MODALITY_AS_EXERCISE": (same, with_exercise(name="Hot pack to knee")),
    "TIMED_MINUTES_MISSING": (same, with_services(ServiceLine("97110", None, 2, GP))),
    "UNITS_MINUTES_MISMATCH": (same, with_services(ServiceLine("97110", 23, 4, GP))),
    "TOTAL_TIME_INCONSISTENT": (same, with_services(ServiceLine("97110", 23, 2, GP),
                                                    ServiceLine("97010", 5, 1, GP), total=25)),
    "NOT_ONE_ON_ONE": (same, with_exercise(mode=DeliveryMode.SUPERVISED_INDEPENDENT)),
    "AIDE_TIME_BILLED": (same, with_exercise(delivered_by=Provider.AIDE)),
    "EXERCISE_MINUTES_MISMATCH": (same, with_services(ServiceLine("97110", 30, 2, GP),
                                                      total=35)),
    "PTA_NOT_ON_NOTE": (lambda ctx: with_exercise(delivered_by=Provider.PTA)(
                            with_session(delivered_by=2)(ctx)),
                        with_exercise(delivered_by=Provider.PTA)),
    "EXERCISE_MINUTES_LONGER_THAN_VISIT": (
        with_session(time_in=dt.time(10), time_out=dt.time(10, 30)),
        with_session(time_in=dt.time(10), time_out=dt.time(10, 20), total_treatment_minutes=20,
                     services=(ServiceLine("97110", 20, 1, GP),))),
    "EXERCISE_CODE_NOT_BILLED": (same, with_services(ServiceLine("97530", 10, 1, GP),
                                                     total=35)),
    "EXERCISE_MINUTES_MISSING": (
        with_exercise(minutes=None),  # 97110 is billed: its line's checks see the row
        lambda ctx: with_exercise(minutes=None)(
            with_services(ServiceLine("97530", 11, 1, GP, "sit to stand from low chair"),
                          total=35)(ctx))),
    "GROUP_AND_ONE_ON_ONE": (same, with_services(ServiceLine("97110", 23, 2, GP),
                                                 ServiceLine("97150", 20, 1, GP))),
    "MEDICARE_CODE_INVALID": (same, with_services(ServiceLine("97110", 23, 2, GP),
                                                  ServiceLine("97014", 10, 1, GP), total=35)),
    "MEDICARE_BUNDLED": (same, with_services(ServiceLine("97110", 23, 2, GP),
                                             ServiceLine("97010", 5, 1, GP))),
    "CODE_PAIR_EDIT": (with_services(ServiceLine("97110", 23, 2, GP),
                                     ServiceLine("97530", 10, 1, GP),
                                     ServiceLine("97140", 8, 0, ("GP", "59")), total=45),
                       with_services(ServiceLine("97110", 23, 2, GP),
                                     ServiceLine("97530", 10, 1, GP),
                                     ServiceLine("97140", 8, 0, GP), total=45)),
    "MODIFIER_MISSING": (same, with_services(ServiceLine("97110", 23, 2, ()))),
    "KX_THRESHOLD": (same, lambda ctx: replace(ctx, year_to_date_amount=Decimal("2600"))),
    "EXERCISE_PARAMS_MISSING": (same, with_exercise(sets=None, reps=None)),
    "CARRY_FORWARD_UNCONFIRMED": (with_exercise(change=ExerciseChange.AS_BEFORE),
                                  with_exercise(change=ExerciseChange.CARRIED)),
    "MODIFICATION_REASON_MISSING": (
        with_exercise(change=ExerciseChange.PROGRESSED, modification="Added 2 lb",
                      modification_reason="3 sets at 2/10 pain last visit"),
        with_exercise(change=ExerciseChange.PROGRESSED, modification="Added 2 lb")),
    "RESPONSE_MISSING": (same, lambda ctx: replace(ctx, session=replace(
        ctx.session, patient_response="", exercises=tuple(
            replace(e, response="", pain_before=None, pain_after=None)
            for e in ctx.session.exercises)))),
    "SKILLED_CONTENT_MISSING": (same, lambda ctx: replace(ctx, session=replace(
        ctx.session, assessment="", exercises=tuple(
            replace(e, cues=()) for e in ctx.session.exercises)))),
    "ASSESSMENT_MISSING": (same, with_session(assessment=" ")),
    "PROGRESS_ASSESSMENT_THIN": (
        with_session(note_type=NoteType.PROGRESS_REPORT,
                     assessment="Stairs with one rail now; skilled care continues for balance."),
        with_session(note_type=NoteType.PROGRESS_REPORT, assessment="ok")),
    "PROGRESS_GOALS_UNMENTIONED": (
        lambda ctx: replace(with_session(
            note_type=NoteType.PROGRESS_REPORT,
            assessment="Climbs stairs reciprocally with one rail; skilled care continues.")(ctx),
            episode=replace(ctx.episode, goals=("Ascend 12 stairs reciprocally in 6 weeks",))),
        lambda ctx: replace(with_session(
            note_type=NoteType.PROGRESS_REPORT,
            assessment="Patient is doing well overall and tolerating treatment.")(ctx),
            episode=replace(ctx.episode, goals=("Ascend 12 stairs reciprocally in 6 weeks",)))),
    "INTERVENTION_UNDESCRIBED": (
        with_services(ServiceLine("97110", 23, 2, GP),
                      ServiceLine("97140", 8, 1, GP, "grade III PA glides L4-5"), total=35),
        with_services(ServiceLine("97110", 23, 2, GP), ServiceLine("97140", 8, 1, GP),
                      total=35)),
    "DIAGNOSIS_MISSING": (same, with_session(diagnoses=())),
    "DIAGNOSIS_INVALID": (same, with_session(diagnoses=("M17.99",))),
    "DIAGNOSIS_NOT_BILLABLE": (same, with_session(diagnoses=("M17",))),
    "DIAGNOSIS_INITIAL_ENCOUNTER": (with_session(diagnoses=("S83.511D",)),
                                    with_session(diagnoses=("S83.511A",))),
    "PTA_SCOPE": (with_session(note_type=NoteType.PROGRESS_REPORT),
                  with_session(note_type=NoteType.PROGRESS_REPORT, delivered_by=2)),
    "SIGNATURE_MISSING": (signed, same),
    "DATE_INVALID": (same, with_session(date_of_service=dt.date(2026, 12, 1))),
    "DUPLICATE_SESSION": (same, lambda ctx: replace(ctx, same_day_sessions=1)),
    "PROGRESS_REPORT_DUE": (
        lambda ctx: replace(with_session(note_type=NoteType.PROGRESS_REPORT)(ctx),
                            treatment_days_since_progress_report=9),
        lambda ctx: replace(ctx, treatment_days_since_progress_report=9)),
    "POC_EXPIRED": (same, lambda ctx: replace(ctx, episode=replace(
        ctx.episode, certified_through=dt.date(2026, 11, 10)))),
    "POC_CERT_MISSING": (same, lambda ctx: replace(ctx, episode=replace(
        ctx.episode, certified_on=None))),
    "SERVICES_MISSING": (same, with_services(total=30)),
    "CLINICIAN_MISSING": (same, with_session(delivered_by=None)),
}


def codes_found(ctx: RuleContext) -> set[str]:
    return {f.code for f in rules.evaluate(ctx)}


def test_every_registered_rule_has_its_cases() -> None:
    assert set(rules.REGISTRY) == set(CASES)


def test_the_baseline_is_clean(base: RuleContext) -> None:
    findings = rules.evaluate(base)
    assert [f.code for f in findings] == ["SIGNATURE_MISSING"]
    assert findings[0].severity == Severity.INFO
    assert review_context(base).can_sign


@pytest.mark.parametrize("code", sorted(CASES))
def test_clean_case(code: str, base: RuleContext) -> None:
    assert code not in codes_found(CASES[code][0](base))


@pytest.mark.parametrize("code", sorted(CASES))
def test_failing_case(code: str, base: RuleContext) -> None:
    ctx = CASES[code][1](base)
    found = [f for f in rules.evaluate(ctx) if f.code == code]
    assert found, f"{code} not raised"
    for f in found:
        assert f.message and f.source and f.fix and f.field


def test_the_article_mistake_is_explained(base: RuleContext) -> None:
    ctx = CASES["CODE_EVAL_FOR_EXERCISE"][1](base)
    finding = next(f for f in rules.evaluate(ctx) if f.code == "CODE_EVAL_FOR_EXERCISE")
    assert finding.severity == Severity.BLOCKER
    assert finding.field == "services[0].code"
    assert "evaluation" in finding.message and "97110" in finding.fix


def test_fields_point_at_the_row(base: RuleContext) -> None:
    ctx = with_session(exercises=(*base.session.exercises,
                                  ExerciseEntry("Bridges", minutes=0)))(base)
    finding = next(f for f in rules.evaluate(ctx) if f.code == "EXERCISE_PARAMS_MISSING")
    assert finding.field == "exercises[2].sets"


def test_progress_report_is_a_blocker_for_medicare_only(base: RuleContext) -> None:
    due = replace(base, treatment_days_since_progress_report=9)
    assert _severity(due, "PROGRESS_REPORT_DUE") == Severity.BLOCKER
    commercial = replace(due, payer=payer_from_profile("Blue PPO", "commercial"))
    assert _severity(commercial, "PROGRESS_REPORT_DUE") == Severity.WARNING
    assert "PROGRESS_REPORT_DUE" not in codes_found(
        replace(base, treatment_days_since_progress_report=8))


def _severity(ctx: RuleContext, code: str) -> Severity:
    return next(f.severity for f in rules.evaluate(ctx) if f.code == code)


def test_kx_needs_the_modifier_and_reports_review_threshold(base: RuleContext) -> None:
    ctx = replace(base, year_to_date_amount=Decimal("3100"))
    found = {(f.code, f.severity) for f in rules.evaluate(ctx)}
    assert ("KX_THRESHOLD", Severity.WARNING) in found
    assert ("KX_THRESHOLD", Severity.INFO) in found
    assert ("MODIFIER_MISSING", Severity.BLOCKER) in found
    line = build_claim(ctx).lines[0]
    assert line.modifier_codes == ("GP", "KX")
    assert "past the 2026 threshold $2480" in line.modifiers[1].reason


def test_missing_fee_schedule_is_said_not_guessed(base: RuleContext) -> None:
    ctx = replace(base, year_to_date_amount=None, missing_fees=("97110",))
    finding = next(f for f in rules.evaluate(ctx) if f.code == "KX_THRESHOLD")
    assert "fee schedule" in finding.message and "97110" in finding.message


def test_cq_when_a_pta_furnished_more_than_ten_percent(base: RuleContext) -> None:
    ctx = with_exercise(delivered_by=Provider.PTA)(base)
    line = build_claim(ctx).lines[0]
    assert "CQ" in line.modifier_codes
    assert "12 of its 23 minutes" in line.modifiers[1].reason
    by_pta = with_session(delivered_by=2)(base)
    assert "furnished by a PTA" in build_claim(by_pta).lines[0].modifiers[1].reason
    commercial = replace(by_pta, payer=payer_from_profile("Blue PPO", "commercial"))
    assert build_claim(commercial).lines[0].modifier_codes == ()


def test_pta_rows_and_cq_need_a_pta_on_the_note(base: RuleContext) -> None:
    ctx = with_exercise(delivered_by=Provider.PTA)(base)
    finding = next(f for f in rules.evaluate(ctx) if f.code == "PTA_NOT_ON_NOTE")
    assert finding.severity == Severity.BLOCKER and finding.field == "exercises[0].delivered_by"
    assert "Row 1 'Sit to stand'" in finding.message and "Pat Therapist, PT" in finding.message
    assert "Set row 1's By to PT" in finding.fix
    cq = with_services(ServiceLine("97110", 23, 2, ("GP", "CQ")))(base)
    finding = next(f for f in rules.evaluate(cq) if f.code == "PTA_NOT_ON_NOTE")
    assert finding.field == "services[0].modifiers" and "Remove CQ from 97110" in finding.fix
    assert "PTA_NOT_ON_NOTE" not in codes_found(with_session(delivered_by=2)(cq))


def test_59_is_suggested_where_the_pair_allows_it(base: RuleContext) -> None:
    ctx = CASES["CODE_PAIR_EDIT"][1](base)
    by_code = {line.code: line for line in build_claim(ctx).lines}
    assert "59" in by_code["97140"].modifier_codes
    never = with_services(ServiceLine("97161", None, 1, GP), ServiceLine("97162", None, 1, GP))
    finding = next(f for f in rules.evaluate(never(base)) if f.code == "CODE_PAIR_EDIT")
    assert "never" in finding.message
    assert "59" not in build_claim(never(base)).lines[1].modifier_codes


def test_a_tie_chosen_by_the_clinician_is_kept(base: RuleContext) -> None:
    three = (ServiceLine("97112", 7, 0, GP), ServiceLine("97110", 7, 0, GP),
             ServiceLine("97140", 7, 1, GP))
    ctx = with_services(*three, total=25)(base)
    assert "UNITS_MINUTES_MISMATCH" not in codes_found(ctx)
    assert {line.code: line.units for line in build_claim(ctx).lines} == {
        "97112": 0, "97110": 0, "97140": 1}
    both = with_services(ServiceLine("97112", 7, 1, GP), ServiceLine("97110", 7, 0, GP),
                         ServiceLine("97140", 7, 1, GP), total=25)(base)
    assert "UNITS_MINUTES_MISMATCH" in codes_found(both)


def test_per_code_payer_units(base: RuleContext) -> None:
    ctx = replace(with_services(ServiceLine("97110", 33, 2, GP),
                                ServiceLine("97140", 7, 0, GP), total=45)(base),
                  payer=payer_from_profile("Blue PPO", "commercial"))
    assert "UNITS_MINUTES_MISMATCH" not in codes_found(ctx)
    medicare = with_services(ServiceLine("97110", 33, 2, GP), ServiceLine("97140", 7, 0, GP),
                             total=45)(base)
    assert "UNITS_MINUTES_MISMATCH" in codes_found(medicare)


def test_passive_words_do_not_catch_exercise_names(base: RuleContext) -> None:
    for name in ("Scapular retraction", "Knee extensions", "Chin tucks", "Ice skater lunges"):
        assert "PASSIVE_MODALITY_AS_EXERCISE" not in codes_found(with_exercise(name=name)(base))
    for name in ("Ice to knee", "TENS unit", "Mechanical traction", "Ultrasound R shoulder"):
        assert "PASSIVE_MODALITY_AS_EXERCISE" in codes_found(with_exercise(name=name)(base))


def test_signer_without_npi_is_a_blocker(base: RuleContext) -> None:
    ctx = signed(base, npi=None)
    assert _severity(ctx, "SIGNATURE_MISSING") == Severity.BLOCKER


def test_an_evaluation_without_its_code_says_so_and_points_at_the_chooser(
        base: RuleContext) -> None:
    ctx = with_session(note_type=NoteType.EVALUATION)(base)
    finding = next(f for f in rules.evaluate(ctx) if f.code == "EVALUATION_CODE_MISSING")
    assert finding.severity == Severity.BLOCKER and finding.field == "evaluation_code"
    assert "no evaluation code (one of 97161-97163)" in finding.message
    assert "only 97110" in finding.message and "charge is lost" in finding.message
    assert "Reference §1" in finding.source
    assert "97161" in finding.fix and "97163" in finding.fix
    assert not review_context(ctx).can_sign
    for code in ("97161", "97162", "97163"):
        billed = with_services(ServiceLine(code, None, 1, GP), *base.session.services)(ctx)
        assert not {"EVALUATION_CODE_MISSING", "EVALUATION_CODES_CONFLICT"} & \
            codes_found(billed), code


def test_a_re_evaluation_bills_97164_and_not_an_initial_evaluation_code(
        base: RuleContext) -> None:
    ctx = with_session(note_type=NoteType.RE_EVALUATION)(base)
    finding = next(f for f in rules.evaluate(ctx) if f.code == "EVALUATION_CODE_MISSING")
    assert "no re-evaluation code (97164)" in finding.message and "97164" in finding.fix
    wrong = with_services(ServiceLine("97162", None, 1, GP), *base.session.services)(ctx)
    finding = next(f for f in rules.evaluate(wrong) if f.code == "EVALUATION_CODE_MISSING")
    assert finding.field == "services[0].code"
    assert "bills 97162 (PT evaluation, moderate complexity)" in finding.message
    assert "a re-evaluation bills 97164" in finding.message
    # an initial evaluation billing the re-evaluation's code is told the same way
    swapped = with_session(note_type=NoteType.EVALUATION, services=(
        ServiceLine("97110", 23, 2, GP), ServiceLine("97164", None, 1, GP)))(base)
    finding = next(f for f in rules.evaluate(swapped) if f.code == "EVALUATION_CODE_MISSING")
    assert finding.field == "services[1].code" and "one of 97161-97163" in finding.message


def test_other_notes_need_no_evaluation_code(base: RuleContext) -> None:
    for note_type in (NoteType.DAILY, NoteType.PROGRESS_REPORT):
        ctx = with_session(note_type=note_type)(base)
        assert not {"EVALUATION_CODE_MISSING", "EVALUATION_CODES_CONFLICT"} & codes_found(ctx)


def test_a_row_without_minutes_under_an_unbilled_timed_code_is_named(base: RuleContext) -> None:
    ctx = CASES["EXERCISE_MINUTES_MISSING"][1](base)
    (finding,) = [f for f in rules.evaluate(ctx) if f.code == "EXERCISE_MINUTES_MISSING"]
    assert finding.severity == Severity.WARNING and finding.field == "exercises[0].minutes"
    assert "Row 1 'Sit to stand' is coded 97110" in finding.message
    assert "no 97110 line is billed" in finding.message and "97110" in finding.fix
    # a row with zero minutes is a row without minutes; each such row is named
    both = with_session(exercises=tuple(replace(e, minutes=0)
                                        for e in ctx.session.exercises))(ctx)
    assert [f.field for f in rules.evaluate(both) if f.code == "EXERCISE_MINUTES_MISSING"] \
        == ["exercises[0].minutes", "exercises[1].minutes"]


def test_rows_that_do_not_count_toward_the_code_are_left_to_their_own_rules(
        base: RuleContext) -> None:
    unbilled = CASES["EXERCISE_MINUTES_MISSING"][1](base)
    for change in (dict(change=ExerciseChange.HELD), dict(delivered_by=Provider.AIDE),
                   dict(mode=DeliveryMode.SUPERVISED_INDEPENDENT),
                   dict(code="97010")):  # untimed: its minutes make no units
        ctx = with_exercise(**change)(unbilled)
        assert "EXERCISE_MINUTES_MISSING" not in codes_found(ctx), change
