"""Rules about the episode of care: dates, plan of care, progress reports, duplicates."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from ptdoc.domain import NoteType
from ptdoc.rule_context import RuleContext
from ptdoc.rules.engine import Finding, Severity, rule

REPORTS = (NoteType.PROGRESS_REPORT, NoteType.EVALUATION, NoteType.RE_EVALUATION)


@rule("DATE_INVALID")
def date_invalid(ctx: RuleContext) -> Iterator[Finding]:
    s, episode = ctx.session, ctx.episode
    if s.date_of_service > ctx.today:
        yield Finding("DATE_INVALID", Severity.BLOCKER,
                      f"The date of service {s.date_of_service} is in the future.",
                      "date_of_service", "A note documents care already given",
                      f"Use today's date ({ctx.today}) or the day the care was given.")
    if episode is not None and s.date_of_service < episode.start_date:
        yield Finding("DATE_INVALID", Severity.BLOCKER,
                      f"The date of service is before the episode began ({episode.start_date}).",
                      "date_of_service", "The episode of care", "Pick the right episode or date.")
    if episode is not None and episode.discharged_on is not None and \
            s.date_of_service > episode.discharged_on:
        yield Finding("DATE_INVALID", Severity.BLOCKER,
                      f"The date of service is after discharge ({episode.discharged_on}).",
                      "date_of_service", "The episode of care",
                      "Open a new episode for care after discharge.")


@rule("DUPLICATE_SESSION")
def duplicate(ctx: RuleContext) -> Iterator[Finding]:
    if ctx.same_day_sessions:
        yield Finding("DUPLICATE_SESSION", Severity.WARNING,
                      f"This patient has {ctx.same_day_sessions} other session"
                      f"{'s' * (ctx.same_day_sessions != 1)} on {ctx.session.date_of_service}.",
                      "date_of_service", "One note per patient per date of service",
                      "Merge the sessions, or give the reason for a second visit.")


@rule("PROGRESS_REPORT_DUE")
def progress_report(ctx: RuleContext) -> Iterator[Finding]:
    days = ctx.treatment_days_since_progress_report
    interval = ctx.pack.progress_report_days
    if days is None or ctx.session.note_type in REPORTS or days + 1 < interval:
        return
    severity = Severity.BLOCKER if ctx.medicare else Severity.WARNING
    yield Finding("PROGRESS_REPORT_DUE", severity,
                  f"This is treatment day {days + 1} {ctx.since_report}; one is due "
                  f"at least every {interval} treatment days.", "note_type",
                  ctx.pack.progress_report_source,
                  "Have the PT write this visit as a progress report.")


@rule("POC_EXPIRED", "POC_CERT_MISSING")
def plan_of_care(ctx: RuleContext) -> Iterator[Finding]:
    episode, s = ctx.episode, ctx.session
    if episode is None:
        if s.services:
            yield Finding("POC_CERT_MISSING", Severity.BLOCKER if ctx.medicare
                          else Severity.WARNING, "The session is not attached to an episode "
                          "with a plan of care.", "episode_id", ctx.pack.plan_source,
                          "Attach the patient's current episode.")
        return
    limit = episode.start_date + dt.timedelta(days=ctx.pack.max_plan_days - 1)
    through = episode.certified_through or limit
    if s.date_of_service > min(through, limit):
        yield Finding("POC_EXPIRED", Severity.BLOCKER,
                      f"The plan of care ran through {min(through, limit)}; this visit is after "
                      "it.", "episode_id", ctx.pack.plan_source,
                      "Recertify the plan of care (a re-evaluation or updated plan signed by "
                      "the physician).")
    due = episode.start_date + dt.timedelta(days=ctx.pack.certification_days)
    if episode.certified_on is None and not episode.order_on_file and s.date_of_service > due:
        yield Finding("POC_CERT_MISSING", Severity.BLOCKER if ctx.medicare else Severity.WARNING,
                      f"The plan of care started {episode.start_date} and is not certified "
                      f"{ctx.pack.certification_days} days later.", "episode_id",
                      ctx.pack.plan_source,
                      "Record the physician's certification, or the signed order on file.")
