"""Reading a patient list exported from another system (CSV): pure, no database.

Header names are matched case-insensitively and extra columns are ignored; UTF-8 with or
without a byte-order mark, CRLF or LF line ends; dates as YYYY-MM-DD or MM/DD/YYYY. Every row
that cannot be read is reported with its line number and why; the service decides what the
rows that can be read mean for the clinic (new, already here, conflicting).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from dataclasses import dataclass
from pathlib import Path

from ptdoc import fields
from ptdoc.domain import Sex
from ptdoc.errors import ValidationError

COLUMNS = ("mrn", "first_name", "last_name", "date_of_birth", "sex", "phone", "payer",
           "member_id")
REQUIRED = ("first_name", "last_name", "date_of_birth")
MAX_BYTES = 5_000_000   # a clinic's whole patient list fits many times over
MAX_ROWS = 20_000

_SEX_WORDS = {"f": Sex.FEMALE, "m": Sex.MALE, "u": Sex.UNKNOWN, "o": Sex.OTHER}


@dataclass(frozen=True)
class CsvPatient:
    """One readable row; ``line`` is where it starts in the file (the header is line 1)."""

    line: int
    mrn: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    sex: Sex | None
    phone: str
    payer: str
    member_id: str


@dataclass(frozen=True)
class CsvProblem:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def parse_sex(text: str) -> Sex | None:
    text = text.strip().lower()
    if not text:
        return None
    if text in _SEX_WORDS:
        return _SEX_WORDS[text]
    try:
        return Sex(text)
    except ValueError:
        raise ValidationError.single("sex", f"Sex must be one of {', '.join(Sex)} (or F, M, O, "
                                            f"U; got '{fields.clip(text)}')") from None


def load(path: Path) -> bytes:
    """The bytes of a patient list on disk; a file that is too big is refused before it is
    read, and one that cannot be read says why (ValidationError on ``file``)."""
    try:
        if path.stat().st_size > MAX_BYTES:
            raise ValidationError.single("file", f"{path.name} is larger than {MAX_BYTES:,} "
                                                 "bytes; split it")
        return path.read_bytes()
    except OSError as exc:
        raise ValidationError.single("file", f"cannot read {path}: {exc.strerror or exc}") \
            from None


def read(data: bytes) -> tuple[list[CsvPatient], list[CsvProblem]]:
    """The readable rows and the problems of the others. A file that is not a patient list at
    all (too big, not UTF-8, no header with the required columns) raises ValidationError."""
    if len(data) > MAX_BYTES:
        raise ValidationError.single("file", f"The file is larger than {MAX_BYTES:,} bytes; "
                                             "split it")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError.single("file", f"The file is not UTF-8 text (byte {exc.start}); "
                                             "save it as CSV UTF-8") from None
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise ValidationError.single("file", f"line 1: {exc}") from None
    if header is None:
        raise ValidationError.single("file", "The file is empty")
    names = [h.strip().lower().replace(" ", "_") for h in header]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise ValidationError.single("file", f"line 1: the header lacks {', '.join(missing)} "
                                             f"(columns: {', '.join(COLUMNS)})")
    where = {c: names.index(c) for c in COLUMNS if c in names}
    rows: list[CsvPatient] = []
    problems: list[CsvProblem] = []
    line = reader.line_num + 1
    count = 0
    try:
        for record in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in record):
                continue  # blank lines (a trailing newline, a spreadsheet's empty rows)
            count += 1
            if count > MAX_ROWS:
                raise ValidationError.single("file", f"The file has more than {MAX_ROWS:,} "
                                                     "patients; split it")
            row = _row(start, record, where)
            (rows if isinstance(row, CsvPatient) else problems).append(row)
    except csv.Error as exc:
        problems.append(CsvProblem(line, f"cannot be read as CSV ({exc}); the rest of the file "
                                         "was not read"))
    return rows, problems


def _row(line: int, record: list[str], where: dict[str, int]) -> CsvPatient | CsvProblem:
    def cell(name: str) -> str:
        i = where.get(name)
        return record[i].strip() if i is not None and i < len(record) else ""

    reasons = []
    for name, label in (("first_name", "first name"), ("last_name", "last name")):
        if not cell(name):
            reasons.append(f"the {label} is missing")
    born = sex = None
    if not cell("date_of_birth"):
        reasons.append("the date of birth is missing")
    else:
        try:
            born = fields.parse_date(cell("date_of_birth"), "Date of birth", "date_of_birth")
        except ValidationError as exc:
            reasons.append(exc.problems[0].message)
    try:
        sex = parse_sex(cell("sex"))
    except ValidationError as exc:
        reasons.append(exc.problems[0].message)
    if cell("member_id") and not cell("payer"):
        reasons.append("a member ID needs its payer")
    if reasons or born is None:
        return CsvProblem(line, "; ".join(reasons))
    return CsvPatient(line, cell("mrn"), cell("first_name"), cell("last_name"), born, sex,
                      cell("phone"), cell("payer"), cell("member_id"))
