"""A session judged: its findings and the claim it supports, and whether it may be signed."""

from __future__ import annotations

from dataclasses import dataclass

from ptdoc import rules
from ptdoc.claim import Claim, build_claim
from ptdoc.rule_context import RuleContext
from ptdoc.rules import Finding, Severity


@dataclass(frozen=True)
class Review:
    findings: tuple[Finding, ...]
    claim: Claim
    acknowledged: frozenset[tuple[str, str]]  # (code, field) of warnings given a reason

    @property
    def blockers(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.BLOCKER]

    @property
    def open_warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == Severity.WARNING
                and (f.code, f.field) not in self.acknowledged]

    @property
    def can_sign(self) -> bool:
        return not self.blockers and not self.open_warnings


def review_context(ctx: RuleContext) -> Review:
    acks = frozenset((a.code, a.field) for a in ctx.session.acknowledgements)
    return Review(tuple(rules.evaluate(ctx)), build_claim(ctx), acks)


def draft_status(blockers: int, warnings: int) -> str:
    """A judged draft's status in the words the day view and the front desk's paper share:
    'Open flags (1 blocker) — awaiting signature', or 'Awaiting signature'."""
    flags = flag_counts(blockers, warnings)
    return f"Open flags ({flags}) — awaiting signature" if flags else "Awaiting signature"


def flag_counts(blockers: int, warnings: int) -> str:
    """'1 blocker, 2 warnings' ('' when none): the day view and the front desk's paper say
    a draft's open flags in the same words."""
    parts = []
    if blockers:
        parts.append(f"{blockers} blocker{'s' * (blockers != 1)}")
    if warnings:
        parts.append(f"{warnings} warning{'s' * (warnings != 1)}")
    return ", ".join(parts)
