"""The claim lines a session supports: units by the payer's method and the modifiers it needs.

Each modifier carries the reason it applies (reference §6): GP on PT lines under a PT plan of
care, CQ when a PTA furnished more than 10% of a service, KX past the year's threshold, and
59/X where a code-pair edit allows it. Pure: everything comes from the RuleContext.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ptdoc.billing import UnitCheck, UnitResult, check_stated_units
from ptdoc.catalog import lookup
from ptdoc.domain import Credential, DeliveryMode, Provider, ServiceLine, Session
from ptdoc.rule_context import RuleContext


@dataclass(frozen=True)
class AppliedModifier:
    modifier: str
    reason: str


@dataclass(frozen=True)
class ClaimLine:
    code: str
    description: str
    minutes: int | None
    units: int
    modifiers: tuple[AppliedModifier, ...]

    @property
    def modifier_codes(self) -> tuple[str, ...]:
        return tuple(m.modifier for m in self.modifiers)


@dataclass(frozen=True)
class Claim:
    lines: tuple[ClaimLine, ...]
    units: UnitResult
    chosen: dict[str, int]   # the allocation used: the session's own when valid, else default


def unit_check(ctx: RuleContext) -> UnitCheck:
    """The session's stated units against its payer's method (``billing.check_stated_units``)."""
    return check_stated_units(ctx.session.services, ctx.unit_method)


def pta_share(ctx: RuleContext, code: str) -> tuple[int, int]:
    """(PTA minutes, all minutes) of the exercises documented under ``code``."""
    rows = [e for e in ctx.session.exercises if e.code == code and e.minutes]
    return (sum(e.minutes or 0 for e in rows if e.delivered_by == Provider.PTA),
            sum(e.minutes or 0 for e in rows))


def _threshold_passed(ctx: RuleContext) -> bool:
    threshold = ctx.pack.kx_threshold(ctx.session.date_of_service.year)
    return (threshold is not None and ctx.year_to_date_amount is not None
            and ctx.year_to_date_amount > threshold)


def required_modifiers(ctx: RuleContext, code: str) -> list[AppliedModifier]:
    payer = ctx.payer
    if payer is None:
        return []
    found = []
    if payer.gp_required:
        found.append(AppliedModifier("GP", "PT service under a PT plan of care"))
    if payer.cq_applies:
        clinician = ctx.user(ctx.session.delivered_by)
        pta, total = pta_share(ctx, code)
        if clinician is not None and clinician.credential == Credential.PTA:
            found.append(AppliedModifier("CQ", f"furnished by a PTA ({clinician.display})"))
        elif total and pta * 10 > total:
            found.append(AppliedModifier("CQ", f"a PTA furnished {pta} of its {total} minutes "
                                               "(more than 10%)"))
    if payer.kx_applies and _threshold_passed(ctx):
        threshold = ctx.pack.kx_threshold(ctx.session.date_of_service.year)
        found.append(AppliedModifier("KX", f"year-to-date PT and speech therapy amount "
                                           f"${ctx.year_to_date_amount} is past the "
                                           f"{ctx.session.date_of_service.year} threshold "
                                           f"${threshold}; medical necessity is attested"))
    return found


def distinct_modifier(ctx: RuleContext, code: str) -> AppliedModifier | None:
    """59/X on the second code of a pair whose edit allows a modifier."""
    payer = ctx.payer
    if payer is not None and not payer.code_pair_edits:
        return None
    codes = {s.code for s in ctx.session.services}
    for pair in ctx.pack.code_pairs:
        if pair.modifier_allowed and pair.second == code and \
                pair.applies(codes, ctx.session.date_of_service):
            own = [m for s in ctx.session.services if s.code == code for m in s.modifiers
                   if m in ctx.pack.distinct_modifiers]
            return AppliedModifier(own[0] if own else "59",
                                   f"distinct service from {pair.first}: {pair.note}")
    return None


def services_from_exercises(session: Session) -> tuple[ServiceLine, ...]:
    """The session's lines with each exercise code's minutes set to the one-on-one minutes of
    its exercises (aide, group and supervised-independent minutes left out); other lines kept."""
    minutes: dict[str, int] = {}
    for e in session.exercises:
        minutes.setdefault(e.code, 0)
        if e.minutes and e.mode == DeliveryMode.ONE_ON_ONE and e.delivered_by != Provider.AIDE:
            minutes[e.code] += e.minutes
    lines = [replace(s, minutes=minutes.pop(s.code)) if s.code in minutes else s
             for s in session.services]
    lines += [ServiceLine(code, m) for code, m in minutes.items()]
    return tuple(lines)


def apply_claim(session: Session, claim: Claim) -> Session:
    """The session with ptdoc's units and modifiers on its lines (the clinician's own 59/X
    kept); a line whose code the claim has not seen is left as it is."""
    by_code = {line.code: line for line in claim.lines}
    lines = []
    for s in session.services:
        line = by_code.get(s.code)
        if line is None:
            lines.append(s)
            continue
        mods = list(line.modifier_codes)
        lines.append(replace(s, units=line.units, modifiers=tuple(mods[:4])))
    return replace(session, services=tuple(lines))


def build_claim(ctx: RuleContext) -> Claim:
    check = unit_check(ctx)
    result, chosen = check.result, check.billed
    lines = []
    seen: set[str] = set()
    for service in ctx.session.services:
        if service.code in seen:
            continue  # one claim line per code; minutes of repeated lines are pooled
        seen.add(service.code)
        info = lookup(service.code)
        mods = required_modifiers(ctx, service.code)
        extra = distinct_modifier(ctx, service.code)
        if extra is not None:
            mods.append(extra)
        minutes = next((line.minutes for line in result.lines if line.code == service.code),
                       None)
        lines.append(ClaimLine(service.code, info.description if info else "unknown code",
                               minutes, chosen.get(service.code, 0), tuple(mods)))
    return Claim(tuple(lines), result, chosen)
