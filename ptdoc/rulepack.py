"""The dated rule pack (resources/rulepack.json): thresholds, intervals and code-pair edits.

Every number that changes by year or quarter lives in the data file with its source, never in
code. Loaded once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class CodePair:
    first: str
    second: str
    modifier_allowed: bool
    effective_from: dt.date
    effective_to: dt.date | None
    note: str
    source: str

    def applies(self, codes: set[str], on: dt.date) -> bool:
        in_force = self.effective_from <= on and (self.effective_to is None or
                                                   on <= self.effective_to)
        return in_force and self.first in codes and self.second in codes


@dataclass(frozen=True)
class RulePack:
    kx_thresholds: dict[int, Decimal]
    kx_source: str
    review_threshold: Decimal
    review_source: str
    progress_report_days: int
    progress_report_source: str
    certification_days: int
    max_plan_days: int
    plan_source: str
    code_pairs: tuple[CodePair, ...]
    distinct_modifiers: frozenset[str]

    def kx_threshold(self, year: int) -> Decimal | None:
        return self.kx_thresholds.get(year)


@cache
def rules_stamp() -> str:
    """What judging depends on besides the note and its context: ptdoc's version (its rules)
    and the data files the rules read. Stored counts judged under another stamp are stale."""
    from ptdoc import __version__

    digest = hashlib.sha256(__version__.encode())
    for name in ("rulepack.json", "codes.json", "payer_profiles.json"):
        digest.update(resources.files("ptdoc.resources").joinpath(name).read_bytes())
    return digest.hexdigest()[:16]


@cache
def rule_pack() -> RulePack:
    data = json.loads(resources.files("ptdoc.resources").joinpath("rulepack.json").read_text())
    pairs = tuple(CodePair(
        p["first"], p["second"], p["modifier_allowed"],
        dt.date.fromisoformat(p["effective_from"]),
        dt.date.fromisoformat(p["effective_to"]) if p["effective_to"] else None,
        p["note"], p["source"]) for p in data["code_pairs"])
    kx = data["kx_thresholds"]
    return RulePack(
        kx_thresholds={row["year"]: Decimal(row["amount"]) for row in kx},
        kx_source="; ".join(sorted({row["source"] for row in kx})),
        review_threshold=Decimal(data["review_threshold"]["amount"]),
        review_source=data["review_threshold"]["source"],
        progress_report_days=data["progress_report_interval"]["treatment_days"],
        progress_report_source=data["progress_report_interval"]["source"],
        certification_days=data["plan_of_care"]["certification_days"],
        max_plan_days=data["plan_of_care"]["max_plan_days"],
        plan_source=data["plan_of_care"]["source"],
        code_pairs=pairs,
        distinct_modifiers=frozenset(data["distinct_service_modifiers"]),
    )
