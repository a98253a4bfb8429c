"""Billing units from minutes, by the CMS total-time method or the per-code method.

Pure functions over (code, minutes) pairs; the rules of reference §3 with the worked examples
of the Medicare Claims Processing Manual ch. 5 §20.2 as tests. A tie for the last unit(s) is a
real choice: every valid allocation is returned, with a default, for the clinician to pick.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations

from ptdoc.catalog import lookup
from ptdoc.domain import ServiceLine, UnitMethod
from ptdoc.errors import ValidationError

_ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth"]


@dataclass(frozen=True)
class UnitLine:
    code: str
    minutes: int | None
    units: int


METHOD_NAMES = {UnitMethod.CMS: "CMS 8-minute rule", UnitMethod.PER_CODE: "per-code method"}


def units_said(method: UnitMethod, units: int) -> str:
    """'CMS 8-minute rule: 2 units', as a biller reads it."""
    return f"{METHOD_NAMES[method]}: {units} unit{'s' * (units != 1)}"


@dataclass(frozen=True)
class UnitResult:
    method: UnitMethod
    total_timed_minutes: int
    total_units: int
    lines: tuple[UnitLine, ...]           # the default allocation
    choices: tuple[dict[str, int], ...]   # every valid allocation (one when there is no tie)
    explanation: tuple[str, ...]

    @property
    def tied(self) -> bool:
        return len(self.choices) > 1


def cms_total_units(timed_minutes: int) -> int:
    """8-22 minutes = 1 unit, 23-37 = 2, and on by 15 (under 8: none)."""
    return 0 if timed_minutes < 8 else (timed_minutes + 7) // 15


def per_code_units(minutes: int) -> int:
    return 0 if minutes < 8 else (minutes + 7) // 15


def _ordinal(n: int) -> str:
    return _ORDINALS[n - 1] if n <= len(_ORDINALS) else f"{n}th"


def compute_units(timed: Mapping[str, int], untimed: Mapping[str, int | None] | list[str],
                  method: UnitMethod = UnitMethod.CMS) -> UnitResult:
    """Units for timed codes (code -> minutes) and untimed codes (1 unit each; their minutes,
    if given, count toward total treatment time only)."""
    if isinstance(untimed, list):
        untimed = dict.fromkeys(untimed)
    for code, minutes in timed.items():
        if isinstance(minutes, bool) or not isinstance(minutes, int) or minutes < 0:
            raise ValidationError.single(code, f"Minutes for {code} must be a whole number of "
                                               f"0 or more (got {minutes!r})")
    total = sum(timed.values())
    if method == UnitMethod.PER_CODE:
        units = {code: per_code_units(m) for code, m in timed.items()}
        explanation = ["Per-code method: each timed code is rounded on its own minutes "
                       "(8-22 = 1 unit, 23-37 = 2, ...); minutes are not pooled."]
        explanation += [f"{code}: {m} minutes = {units[code]} unit{'s' * (units[code] != 1)}"
                        for code, m in timed.items()]
        choices = [units]
    else:
        choices, explanation = _cms(timed, total)
    untimed_units = dict.fromkeys(untimed, 1)
    if untimed:
        explanation.append("Untimed codes bill 1 unit each whatever their minutes: "
                           + ", ".join(untimed) + ".")
    full = [dict(c, **untimed_units) for c in choices]
    default = full[0]
    lines = [UnitLine(code, m, default[code]) for code, m in timed.items()]
    lines += [UnitLine(code, m, 1) for code, m in untimed.items()]
    return UnitResult(method, total, sum(default.values()), tuple(lines), tuple(full),
                      tuple(explanation))


def _cms(timed: dict[str, int], total: int) -> tuple[list[dict[str, int]], list[str]]:
    n = cms_total_units(total)
    explanation = []
    if total < 8:
        explanation.append(f"{total} timed minutes is under 8: no timed unit can be billed.")
        return [dict.fromkeys(timed, 0)], explanation
    low, high = 15 * n - 7, 15 * n + 7
    explanation.append(f"{total} timed minutes = {n} unit{'s' * (n != 1)} "
                       f"(CMS total-time method: {low}-{high} minutes).")
    full = {code: m // 15 for code, m in timed.items()}
    left = {code: m % 15 for code, m in timed.items()}
    remaining = n - sum(full.values())
    parts = [f"{code} has {full[code]} full unit{'s' * (full[code] != 1)} and "
             f"{left[code]} minute{'s' * (left[code] != 1)} left" for code in timed]
    if remaining == 0:
        explanation.append("; ".join(parts) + ": the full units make the total.")
        return [full], explanation
    ranked = sorted((c for c in timed if left[c] > 0), key=lambda c: -left[c])
    cutoff = left[ranked[remaining - 1]]
    sure = [c for c in ranked if left[c] > cutoff]
    tied = [c for c in ranked if left[c] == cutoff]
    need = remaining - len(sure)
    choices = []
    for pick in combinations(tied, need):
        alloc = dict(full)
        for c in (*sure, *pick):
            alloc[c] += 1
        choices.append(alloc)
    first = sum(full.values()) + 1
    which = _ordinal(first) if remaining == 1 else \
        f"{_ordinal(first)} to {_ordinal(first + remaining - 1)}"
    if len(choices) == 1:
        winners = " and ".join(sure + tied[:need])
        explanation.append("; ".join(parts) + f", so the {which} unit"
                           f"{'s' * (remaining != 1)} go{'es' * (remaining == 1)} to "
                           f"{winners} (largest minutes left).")
    else:
        explanation.append("; ".join(parts) + f": {', '.join(tied)} tie with {cutoff} "
                           f"minutes left for the {which} unit{'s' * (remaining != 1)}. "
                           "The clinician chooses which code bills it.")
    return choices, explanation


def units_for_session(services: list[tuple[str, int | None]],
                      method: UnitMethod) -> UnitResult:
    """Units for a session's service lines (code, minutes), split by the catalog's timed flag."""
    timed: dict[str, int] = {}
    untimed: dict[str, int | None] = {}
    for code, minutes in services:
        info = lookup(code)
        if info is not None and info.timed:
            timed[code] = timed.get(code, 0) + (minutes or 0)
        elif minutes is None:
            untimed.setdefault(code, None)
        else:
            untimed[code] = (untimed.get(code) or 0) + minutes
    return compute_units(timed, untimed, method)


@dataclass(frozen=True)
class WrongUnits:
    """A line whose stated units the payer's method does not give."""

    index: int       # the first line of the code that states units
    code: str
    stated: int      # the units its lines state together
    expected: int    # what the method gives (the default choice on a tie)


@dataclass(frozen=True)
class UnitCheck:
    result: UnitResult
    billed: dict[str, int]            # per code: the stated units where they are valid,
    #                                   computed ones for every code that states none
    wrong: tuple[WrongUnits, ...]

    @property
    def ok(self) -> bool:
        return not self.wrong


def check_stated_units(services: Sequence[ServiceLine], method: UnitMethod) -> UnitCheck:
    """Every line that states units, checked against the payer's method; units computed for
    the lines that state none (an untimed line without units does not exempt the others).

    The one check of billed units: the rules, the claim, the charges export and the superbill
    use it. Lines of one code are pooled, as the claim does: the units its lines state add up.
    A tie the stated units resolve is the clinician's choice and is kept.
    """
    result = units_for_session([(s.code, s.minutes) for s in services], method)
    stated: dict[str, int] = {}
    first: dict[str, int] = {}
    for i, line in enumerate(services):
        if line.units is not None:
            stated[line.code] = stated.get(line.code, 0) + line.units
            first.setdefault(line.code, i)
    fitting = [c for c in result.choices
               if all(c.get(code, 0) == units for code, units in stated.items())]
    if fitting:
        return UnitCheck(result, dict(fitting[0]), ())
    default = result.choices[0]
    possible = {code: {c.get(code, 0) for c in result.choices} for code in stated}
    # A value no valid allocation gives is wrong on its own; otherwise it is the combination
    # (two codes both taking a tied unit), and each code off the default is named.
    alone = [code for code, units in stated.items() if units not in possible[code]]
    named = alone or [code for code, units in stated.items() if units != default.get(code, 0)]
    wrong = tuple(WrongUnits(first[code], code, stated[code], default.get(code, 0))
                  for code in sorted(named, key=first.__getitem__))
    return UnitCheck(result, dict(default), wrong)
