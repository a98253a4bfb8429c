"""Field checks shared by the domain, the interchange parser and the UI.

Each check appends a Problem naming the field and what is expected, so one pass reports every
bad field at once. The limits are plausibility bounds for a rehab session: anything outside them
is a typing error, not a clinical choice.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal

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
# A draft open on a workstation that has not saved it for this long may be taken over.
DRAFT_IDLE = Range("Open draft idle", 5, 240, "minutes")
DRAFT_IDLE_DEFAULT = 20

VISIT_MINUTES = Range("Visit", 1, 1440, "minutes (a day)")
TREATMENT_DAYS = Range("Treatment days", 0, 1000)
AMOUNT = Range("Amount", Decimal(0), Decimal(1_000_000), "dollars")
YEAR = Range("Year", 1900, 2100)

# Text limits by kind: longer is a pasted file or a broken export, never a note, and would make
# every screen and PDF that shows it crawl.
NAME_TEXT = 100         # a person's, payer's or exercise's name
CODE_TEXT = 40          # phone, member id, finding code
SHORT_TEXT = 200        # a label: region, position, equipment, frequency
ADDRESS_TEXT = 500
CELL_TEXT = 2000        # text in one flowsheet row (modification, its reason, response), a goal
NARRATIVE_TEXT = 5000   # free-text narrative: response, assessment, home program, addenda

# How many rows a record may list.
MAX_EXERCISES = 100
MAX_SERVICES = 20
MAX_DIAGNOSES = 12      # a claim carries at most 12 diagnosis pointers
MAX_GOALS = 30
MAX_ACKNOWLEDGEMENTS = 200
MAX_ADDENDA = 100
MAX_CLINICIANS = 50

# Interchange files: larger or deeper is not a session file.
MAX_FILE_BYTES = 2_000_000
MAX_JSON_DEPTH = 20

CODE_PATTERN = re.compile(r"^([0-9]{5}|[A-Z][0-9]{4})$")
MODIFIER_PATTERN = re.compile(r"^[A-Z0-9]{2}$")
# A decimal as people write it (12.5), never 1E+3, NaN or 40 digits: what the file schema says.
DECIMAL_PATTERN = re.compile(r"^-?[0-9]{1,9}(\.[0-9]{1,4})?$")
TYPED_DECIMAL_PATTERN = re.compile(r"^-?[0-9]{0,9}(\.[0-9]{0,4})?$")  # also 12. and .5
USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,31}$")
EARLIEST_DATE = dt.date(1900, 1, 1)
LATEST_DATE = dt.date(2100, 12, 31)


def date_expected(label: str) -> str:
    return f"{label} must be a date from {EARLIEST_DATE} to {LATEST_DATE}"


def date_in_bounds(value: object) -> bool:
    """A date (or UTC time) ptdoc can show, add days to and print: 1900-2100."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return isinstance(value, dt.date) and EARLIEST_DATE <= value <= LATEST_DATE


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
            self.add(field, f"{rng.expected()} (got '{clip(str(value))}')")
        elif isinstance(value, Decimal) and not DECIMAL_PATTERN.match(str(value)):
            # The file writes str(value): 1E+2 or 40 decimals would not read back.
            self.add(field, f"{rng.expected()}, with at most 4 decimals (got "
                            f"'{clip(str(value))}')")
        elif not rng.low <= value <= rng.high:
            self.add(field, f"{rng.expected()} (got {clip(str(value))})")

    def text(self, field: str, label: str, value: str, limit: int = SHORT_TEXT,
             required: bool = False) -> None:
        if not isinstance(value, str):
            self.add(field, f"{label} must be text")
        elif required and not value.strip():
            self.add(field, f"{label} is required")
        elif len(value) > limit:
            self.add(field, f"{label} must be at most {limit} characters (it has {len(value)})")
        elif "\x00" in value or not storable(value):
            self.add(field, f"{label} contains a character that cannot be stored")

    def date(self, field: str, label: str, value: object, required: bool = False,
             earliest: dt.date = EARLIEST_DATE) -> None:
        if value is None:
            if required:
                self.add(field, f"{label} is required")
        elif not date_in_bounds(value) or _as_date(value) < earliest:
            low = max(earliest, EARLIEST_DATE)
            self.add(field, f"{label} must be a date from {low} to {LATEST_DATE} "
                            f"(got '{value}')")

    def count(self, field: str, label: str, items: tuple[object, ...], limit: int) -> None:
        if len(items) > limit:
            self.add(field, f"{label}: at most {limit} (got {len(items)})")

    def done(self) -> None:
        if self.problems:
            raise ValidationError(self.problems)


def storable(text: str) -> bool:
    """UTF-8 can carry it (a lone surrogate from a JSON escape cannot be stored or printed)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _as_date(value: object) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value  # type: ignore[return-value]


def parse_int(text: str, rng: Range, field: str) -> int | None:
    """Text from a field or file to an int within ``rng``; empty means not recorded."""
    text = text.strip()
    if not text:
        return None
    digits = text.removeprefix("-")
    # ASCII digits only ('²' passes isdigit), and few of them: int() of thousands of digits
    # is refused by Python itself.
    if not (digits.isascii() and digits.isdigit()) or len(digits) > 12:
        raise ValidationError.single(field, f"{rng.expected()} (got '{clip(text)}')")
    value = int(text)
    if not rng.low <= value <= rng.high:
        raise ValidationError.single(field, f"{rng.expected()} (got {value})")
    return value


def parse_decimal(text: str, rng: Range, field: str) -> Decimal | None:
    text = text.strip()
    if not text:
        return None
    if not TYPED_DECIMAL_PATTERN.match(text) or text in ("-", ".", "-."):
        raise ValidationError.single(field, f"{rng.expected()} (got '{clip(text)}')")
    value = Decimal(text)
    if not rng.low <= value <= rng.high:
        raise ValidationError.single(field, f"{rng.expected()} (got {text})")
    return value


# A dollar amount as people write it: $31.75, 1,250 or 1,250.00 (commas in threes only).
_MONEY = re.compile(r"\$?\s*([0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?|[0-9]*(?:\.[0-9]*)?)")


def parse_amount(text: str, field: str) -> Decimal | None:
    """A fee in dollars, with or without its $ and thousands commas; empty is None."""
    text = text.strip()
    money = _MONEY.fullmatch(text)
    plain = money.group(1).replace(",", "") if money and text.isascii() else text
    if money and not plain:
        plain = text  # "$" alone: refused below as what was typed
    try:
        return parse_decimal(plain, AMOUNT, field)
    except ValidationError:
        raise ValidationError.single(field, f"{AMOUNT.expected()}, such as 29.50, $31.75 or "
                                            f"1,250 (got '{clip(text)}')") from None


DATE_FORMS = "YYYY-MM-DD or MM/DD/YYYY"
_ISO_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})")
_US_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")


def parse_date(text: str, label: str, field: str) -> dt.date | None:
    """A date as people type it: YYYY-MM-DD, or MM/DD/YYYY (M/D/YYYY too) as US systems and
    forms write it. Empty means not recorded. The one reading of every typed date: fields,
    command-line arguments and imported files."""
    text = text.strip()
    if not text:
        return None
    # ASCII digits only: \d also matches other scripts' digits, which no one types here.
    iso, us = _ISO_DATE.fullmatch(text), _US_DATE.fullmatch(text)
    value = None
    try:
        if iso and text.isascii():
            value = dt.date(*(int(g) for g in iso.groups()))
        elif us and text.isascii():
            month, day, year = (int(g) for g in us.groups())
            value = dt.date(year, month, day)
    except ValueError:  # the shape of a date, but no such day (02/30/2026, 1950-13-04)
        # 31/12/1950 is a day-first date: say which number is the month.
        hint = ", the month first" if us and int(us.group(1)) > 12 else ""
        raise ValidationError.single(
            field, f"{label} '{clip(text)}' is not a date (written as {DATE_FORMS}{hint})"
        ) from None
    if value is None:
        raise ValidationError.single(
            field, f"{label} must be a date as {DATE_FORMS} (got '{clip(text)}')")
    if not date_in_bounds(value):
        raise ValidationError.single(field, f"{date_expected(label)} (got {value})")
    return value


_CLOCK = re.compile(r"(?:(\d{1,2}):(\d{2})|(\d{1,4}))\s*(?:([ap])\.?(?:m\.?)?)?")
TIME_FORMS = "10:00, 1000, 10a, 2:30p, 14:30 or now"


def parse_time(text: str, label: str, field: str,
               now: dt.time | None = None) -> dt.time | None:
    """A clock time typed the ways clinicians write it: 10:00, 1000, 930, 10a, 2:30p,
    2:30 pm, 1430, or "now" (``now``: the clinic's current minute). Empty: not recorded."""
    text = text.strip()
    if not text:
        return None
    if text.lower() == "now" and now is not None:
        return now.replace(second=0, microsecond=0)
    value = _clock(text.lower())
    if value is None:
        raise ValidationError.single(field, f"{label} must be a clock time such as "
                                            f"{TIME_FORMS} (got '{clip(text)}')")
    return value


def _clock(text: str) -> dt.time | None:
    match = _CLOCK.fullmatch(text)
    if match is None:
        return None
    colon_hours, colon_minutes, digits, half = match.groups()
    if digits is not None:  # 10, 930, 1430: the last two digits are minutes past 2 digits
        hour, minute = (int(digits), 0) if len(digits) <= 2 else \
            (int(digits[:-2]), int(digits[-2:]))
    else:
        hour, minute = int(colon_hours), int(colon_minutes)
    if half is not None:
        if not 1 <= hour <= 12:
            return None  # "14p" or "0a" is a typing mistake, not a time
        hour = hour % 12 + (12 if half == "p" else 0)
    elif digits is not None and len(digits) <= 2:
        return None  # a bare "10" could be minutes or an hour: ask for the form
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def clip(text: str, limit: int = 40) -> str:
    """What the user typed, shortened for a one-line message."""
    return text if len(text) <= limit else text[:limit] + "…"


def search_key(text: str) -> str:
    """A name as patient search compares it: without case or accents, so the front desk
    finds José typing "jose", "JOSE" or "José", and Straße typing "strasse". Each patient's
    names are stored with theirs (``m017_name_search_keys``), so both backends compare the
    same text, decided here, and an index finds a beginning."""
    decomposed = unicodedata.normalize("NFKD", text.strip().casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def prefix_range(prefix: str) -> tuple[str, str]:
    """``[low, high)``: the texts that begin with ``prefix`` (not empty), in code-point order
    (SQLite's BINARY, PostgreSQL's "C"), as a range an index reads."""
    following = ord(prefix[-1]) + 1
    if 0xD800 <= following <= 0xDFFF:  # surrogates are no characters: skip them
        following = 0xE000
    if following > 0x10FFFF:  # nothing follows the last code point: its own prefix's range
        return (prefix, prefix_range(prefix[:-1])[1]) if len(prefix) > 1 else (prefix, prefix)
    return prefix, prefix[:-1] + chr(following)
