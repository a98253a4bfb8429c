"""Field checks shared by the domain, the interchange parser and the UI.

Each check appends a Problem naming the field and what is expected, so one pass reports every
bad field at once. The limits are plausibility bounds for a rehab session: anything outside them
is a typing error, not a clinical choice.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from ptdoc.errors import Problem, ValidationError


@dataclass(frozen=True)
class Range:
    label: str
    low: int | Decimal
    high: int | Decimal
    unit: str = ""

    def expected(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"{self.label} must be a number from {self.low} to {self.high}{unit}"


# One table of bounds so the widget, the parser and the domain agree.
SETS = Range("Sets", 1, 20)
REPS = Range("Reps", 1, 300)
HOLD_SECONDS = Range("Hold", 1, 600, "seconds")
DURATION_MINUTES = Range("Duration", 1, 240, "minutes")
LOAD_LB = Range("Load", Decimal("0.1"), Decimal(500), "lb")
LOAD_KG = Range("Load", Decimal("0.1"), Decimal(227), "kg")
DISTANCE = Range("Distance", Decimal("0.1"), Decimal(20000))
PAIN = Range("Pain", 0, 10, "(0-10 scale)")
MINUTES = Range("Minutes", 0, 480)
TOTAL_MINUTES = Range("Total treatment time", 1, 480, "minutes")
GROUP_SIZE = Range("Group size", 2, 20, "patients")
IDLE_LOCK = Range("Idle lock", 1, 240, "minutes")

SHORT_TEXT = 200
LONG_TEXT = 20000

CODE_PATTERN = re.compile(r"^([0-9]{5}|[A-Z][0-9]{4})$")
MODIFIER_PATTERN = re.compile(r"^[A-Z0-9]{2}$")
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
EARLIEST_DATE = dt.date(1900, 1, 1)


class Checker:
    """Collects problems for one record; ``done()`` raises them all together."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []

    def add(self, field: str, message: str) -> None:
        self.problems.append(Problem(field, message))

    def extend(self, prefix: str, problems: list[Problem]) -> None:
        self.problems.extend(p.prefixed(prefix) for p in problems)

    def number(self, field: str, value: int | Decimal | None, rng: Range) -> None:
        if value is None:
            return
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            self.add(field, f"{rng.expected()} (got '{value}')")
        elif not rng.low <= value <= rng.high:
            self.add(field, f"{rng.expected()} (got {value})")

    def text(self, field: str, label: str, value: str, limit: int = SHORT_TEXT,
             required: bool = False) -> None:
        if not isinstance(value, str):
            self.add(field, f"{label} must be text")
        elif required and not value.strip():
            self.add(field, f"{label} is required")
        elif len(value) > limit:
            self.add(field, f"{label} must be at most {limit} characters (it has {len(value)})")
        elif "\x00" in value:
            self.add(field, f"{label} contains a character that cannot be stored")

    def done(self) -> None:
        if self.problems:
            raise ValidationError(self.problems)


def parse_int(text: str, rng: Range, field: str) -> int | None:
    """Text from a field or file to an int within ``rng``; empty means not recorded."""
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        raise ValidationError.single(field, f"{rng.expected()} (got '{text}')") from None
    if not rng.low <= value <= rng.high:
        raise ValidationError.single(field, f"{rng.expected()} (got {value})")
    return value


def parse_decimal(text: str, rng: Range, field: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise ValidationError.single(field, f"{rng.expected()} (got '{text}')") from None
    if not value.is_finite() or not rng.low <= value <= rng.high:
        raise ValidationError.single(field, f"{rng.expected()} (got {text})")
    return value


def parse_date(text: str, label: str, field: str) -> dt.date | None:
    text = text.strip()
    if not text:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise ValidationError.single(
            field, f"{label} must be a date as YYYY-MM-DD (got '{text}')"
        ) from None


def parse_time(text: str, label: str, field: str) -> dt.time | None:
    """A clock time typed as HH:MM (or H:MM); empty means not recorded."""
    text = text.strip()
    if not text:
        return None
    try:
        value = dt.time.fromisoformat(text if len(text) == 5 else text.zfill(5))
    except ValueError:
        raise ValidationError.single(field, f"{label} must be a clock time as HH:MM "
                                            f"(got '{text}')") from None
    return value.replace(second=0, microsecond=0)
