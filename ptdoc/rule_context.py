"""Everything a rule may look at, passed in whole: rules read no clock, file or database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from ptdoc.domain import Episode, NoteType, Patient, Payer, Session, UnitMethod, User
from ptdoc.rulepack import RulePack, rule_pack


class CodeSet(Protocol):
    """The ICD-10-CM code set (ptdoc.icd_index.IcdIndex in the app)."""

    def status(self, code: str) -> str: ...

    def description(self, code: str) -> str | None: ...


def since_report(start: tuple[NoteType, dt.date] | None, episode: Episode | None) -> str:
    """Where treatment days are counted from, as a sentence says it: "since the last progress
    report (2026-11-02)", "since the evaluation (2026-10-01)" for a patient who never had a
    report, else since the plan of care began."""
    if start is None:
        began = f" ({episode.start_date})" if episode is not None else ""
        return f"since the plan of care began{began}"
    kind, day = start
    if kind == NoteType.PROGRESS_REPORT:
        return f"since the last progress report ({day})"
    return f"since the {kind.value} ({day})"


@dataclass(frozen=True)
class RuleContext:
    session: Session
    today: dt.date
    patient: Patient | None = None
    payer: Payer | None = None
    episode: Episode | None = None
    users: Mapping[int, User] = field(default_factory=dict)
    # Treatment days in the current progress-report period before this session.
    treatment_days_since_progress_report: int | None = None
    # The note that began that period (last progress report, else evaluation), and its date.
    reporting_start: tuple[NoteType, dt.date] | None = None
    # PT+SLP amount of the calendar year including this session; None when unknown.
    year_to_date_amount: Decimal | None = None
    missing_fees: tuple[str, ...] = ()
    same_day_sessions: int = 0
    codes: CodeSet | None = None
    pack: RulePack = field(default_factory=rule_pack)

    @property
    def since_report(self) -> str:
        return since_report(self.reporting_start, self.episode)

    @property
    def unit_method(self) -> UnitMethod:
        return self.payer.unit_method if self.payer else UnitMethod.CMS

    @property
    def medicare(self) -> bool:
        return bool(self.payer and self.payer.medicare)

    def user(self, user_id: int | None) -> User | None:
        return None if user_id is None else self.users.get(user_id)
