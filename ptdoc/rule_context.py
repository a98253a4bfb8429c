"""Everything a rule may look at, passed in whole: rules read no clock, file or database."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from ptdoc.domain import Episode, Patient, Payer, Session, UnitMethod, User
from ptdoc.rulepack import RulePack, rule_pack


class CodeSet(Protocol):
    """The ICD-10-CM code set (ptdoc.icd_index.IcdIndex in the app)."""

    def status(self, code: str) -> str: ...

    def description(self, code: str) -> str | None: ...


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
    # PT+SLP amount of the calendar year including this session; None when unknown.
    year_to_date_amount: Decimal | None = None
    missing_fees: tuple[str, ...] = ()
    same_day_sessions: int = 0
    codes: CodeSet | None = None
    pack: RulePack = field(default_factory=rule_pack)

    @property
    def unit_method(self) -> UnitMethod:
        return self.payer.unit_method if self.payer else UnitMethod.CMS

    @property
    def medicare(self) -> bool:
        return bool(self.payer and self.payer.medicare)

    def user(self, user_id: int | None) -> User | None:
        return None if user_id is None else self.users.get(user_id)
