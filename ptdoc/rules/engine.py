"""The rule registry: small functions that each look at one kind of gap and yield Findings."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from ptdoc.rule_context import RuleContext


class Severity(StrEnum):
    BLOCKER = "blocker"   # the note cannot be signed
    WARNING = "warning"   # signed only with a written reason
    INFO = "info"

    @property
    def rank(self) -> int:
        return ("blocker", "warning", "info").index(self.value)


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    field: str    # a stable path such as exercises[2].sets; the UI focuses its widget
    source: str   # the manual or data the finding rests on
    fix: str


Rule = Callable[[RuleContext], Iterable[Finding]]
REGISTRY: dict[str, Rule] = {}


def rule(*codes: str) -> Callable[[Rule], Rule]:
    """Register a rule function under the finding codes it can produce."""
    def register(fn: Rule) -> Rule:
        for code in codes:
            if code in REGISTRY:
                raise ValueError(f"finding code {code} registered twice")
            REGISTRY[code] = fn
        return fn
    return register


def evaluate(ctx: RuleContext) -> list[Finding]:
    """Every finding for the session, blockers first, then by field."""
    seen: set[Rule] = set()
    findings: list[Finding] = []
    for fn in REGISTRY.values():
        if fn not in seen:
            seen.add(fn)
            findings.extend(fn(ctx))
    return sorted(findings, key=lambda f: (f.severity.rank, f.field, f.code))
