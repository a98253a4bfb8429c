"""Charges for the biller: the claim lines of signed sessions over a range of dates, priced by
the fee schedule; what could not be charged (drafts, signatures that do not verify) is named
with who owes it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from ptdoc.charges import ChargeLine, charge_lines, owed_by
from ptdoc.domain import SessionStatus
from ptdoc.errors import ValidationError
from ptdoc.paper import signature_problem
from ptdoc.permissions import Permission
from ptdoc.services.core import WorkspaceCore

# A year and a day: a biller's export is a day, a week or a month; a longer range is a typo.
MAX_RANGE_DAYS = 366


@dataclass(frozen=True)
class Uncharged:
    """A session of the range that was not charged, and why."""

    session_id: int
    date_of_service: dt.date
    patient: str          # "Lee, Ann (MRN-1)"
    reason: str           # "not signed", or why the signature does not verify
    owed_by: str          # who signs it


@dataclass(frozen=True)
class ChargeReport:
    lines: tuple[ChargeLine, ...]
    uncharged: tuple[Uncharged, ...]
    missing_fees: tuple[str, ...]     # "97140 in 2026": billed codes without a fee

    @property
    def session_ids(self) -> list[int]:
        """The sessions the charges contain (audited with the export)."""
        return list(dict.fromkeys(line.session_id for line in self.lines))


class Charges(WorkspaceCore):
    def fees_of(self, year: int, cache: dict[int, dict[str, Decimal]]) -> dict[str, Decimal]:
        if year not in cache:
            cache[year] = self.store.fees.for_year(year)
        return cache[year]

    def charges(self, first: dt.date, last: dt.date) -> ChargeReport:
        """Every billable claim line of the signed sessions from ``first`` to ``last``."""
        self.require(Permission.BILLING)
        if last < first:
            raise ValidationError.single("to", f"{last} is before the first date {first}: "
                                               "expected a date on or after it")
        if (last - first).days >= MAX_RANGE_DAYS:
            raise ValidationError.single("to", f"{first} to {last} is more than a year: "
                                               f"expected at most {MAX_RANGE_DAYS} days")
        rows = sorted(self.store.sessions.listing(date=first, through=last, limit=1_000_000),
                      key=lambda r: (r.date_of_service, r.time_in or dt.time(),
                                     r.patient_name, r.id))
        lines: list[ChargeLine] = []
        uncharged: list[Uncharged] = []
        missing: set[str] = set()
        fees: dict[int, dict[str, Decimal]] = {}
        clinic = self.clinic()
        for row in rows:
            session = self.store.sessions.get(row.id)
            ctx = self.rule_context(session)
            who = f"{row.patient_name} ({row.mrn})"
            if session.status != SessionStatus.SIGNED:
                uncharged.append(Uncharged(row.id, row.date_of_service, who, "not signed",
                                           owed_by(session, ctx.users)))
                continue
            review = self.judge(ctx)
            problem = signature_problem(review)
            if problem:
                uncharged.append(Uncharged(row.id, row.date_of_service, who, problem,
                                           owed_by(session, ctx.users)))
                continue
            assert ctx.patient is not None  # read by rule_context
            found = charge_lines(session, review, ctx.patient, ctx.payer, ctx.users,
                                 self.fees_of(session.date_of_service.year, fees), clinic)
            missing |= {f"{line.code} in {line.date_of_service.year}" for line in found
                        if line.fee is None}
            lines += found
        return ChargeReport(tuple(lines), tuple(uncharged), tuple(sorted(missing)))

