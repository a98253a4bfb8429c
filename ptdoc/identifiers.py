"""Format checks for the identifiers a note carries: NPI and ICD-10-CM codes.

Whether an ICD-10-CM code exists and is billable needs the shipped code set; that lives in the
rules. Here only the shape is checked, so the domain can refuse nonsense without any data file.
"""

from __future__ import annotations

import re

ICD10_PATTERN = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
MRN_PATTERN = re.compile(r"^[A-Za-z0-9-]{1,20}$")


def normalize_icd10(code: str) -> str:
    """Upper-case, trimmed, with the dot after the third character added when it was left out."""
    code = code.strip().upper()
    if "." not in code and len(code) > 3:
        code = f"{code[:3]}.{code[3:]}"
    return code


def icd10_format_ok(code: str) -> bool:
    return bool(ICD10_PATTERN.match(code))


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def npi_ok(npi: str) -> bool:
    """10 digits, first 1 or 2, Luhn check digit over the prefix 80840 + the number."""
    return (
        len(npi) == 10 and npi.isdigit() and npi[0] in "12" and luhn_ok("80840" + npi)
    )


def npi_with_check_digit(first_nine: str) -> str:
    """The NPI whose first nine digits are given (for the demo and tests)."""
    for d in "0123456789":
        if luhn_ok("80840" + first_nine + d):
            return first_nine + d
    raise AssertionError("unreachable: one check digit always fits")
