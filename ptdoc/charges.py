"""What a signed session charges: one line per claim line, priced by the fee schedule.

The units and modifiers are the claim's (``claim.build_claim`` through the session's review,
the same lines ``ptdoc check --session`` prints); this module only adds who, what and how
much, and writes the biller's CSV and JSON. Pure: the services hand in every fact.

Rendering provider of a PTA's line: Medicare does not enroll physical therapist assistants
in private practice; "their services are billed under the NPI number of the therapist who is
providing the required level of supervision" (R. Gawenda, PPS Impact, "Common questions and
answers regarding physical therapist assistants",
https://www.ppsimpact.org/common-questions-and-answers-regarding-physical-therapist-assistants/),
and most commercial payers follow. So a PTA's line names the supervising PT as rendering
clinician and NPI; who delivered it stays in its own columns and the CQ modifier stays on it.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal

from ptdoc.domain import OFFICE, Clinic, Credential, Patient, Payer, Session, User
from ptdoc.review import Review

# Claim diagnosis pointers: up to twelve codes listed once for the claim (A-L), and each line
# points at up to four of them (CMS-1500 box 21 and 24E).
POINTER_LETTERS = "ABCDEFGHIJKL"
POINTERS_PER_LINE = 4
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ChargeLine:
    session_id: int
    date_of_service: dt.date
    mrn: str
    patient: str
    payer: str
    member_id: str
    rendering: str                  # who the claim names: the supervising PT for a PTA
    rendering_npi: str
    supervising: str
    supervising_npi: str
    delivered_by: str               # who treated the patient and signed
    delivered_by_npi: str
    credential: str                 # of who delivered it: "PT", "DPT", "PTA"
    code: str
    modifiers: tuple[str, ...]
    units: int
    minutes: int | None
    pointers: str                   # "AB": into the session's diagnoses, in order
    diagnoses: tuple[str, ...]      # the codes those pointers name, in pointer order
    fee: Decimal | None             # None: the code has no fee for the year
    charge: Decimal | None
    place_of_service: str = OFFICE  # the clinic's CMS code (reference §10)


def money(amount: Decimal | None) -> str:
    """'$1,234.50', or 'no fee' when the fee schedule has none."""
    return "no fee" if amount is None else f"${amount.quantize(CENT):,}"


def line_charge(fees: Mapping[str, Decimal], code: str, units: int) -> Decimal | None:
    fee = fees.get(code)
    return None if fee is None else (fee * units).quantize(CENT)


def total(amounts: Iterable[Decimal | None]) -> Decimal | None:
    """The sum, or None when any amount is unknown (a missing fee is never guessed as 0)."""
    out = Decimal(0)
    for amount in amounts:
        if amount is None:
            return None
        out += amount
    return out.quantize(CENT)


def pointers(diagnoses: tuple[str, ...]) -> list[tuple[str, str]]:
    """The session's diagnoses with their claim letters: [('A', 'M17.11'), ...]."""
    return list(zip(POINTER_LETTERS, diagnoses, strict=False))


def _name(users: Mapping[int, User], user_id: int | None) -> User | None:
    return users.get(user_id) if user_id is not None else None


def place_of_service(session: Session | None, clinic: Clinic | None) -> str:
    """Where a session is billed as furnished: as recorded when it was signed, else (a draft)
    the clinic's setting now."""
    if session is not None and session.place_of_service:
        return session.place_of_service
    return clinic.place_of_service if clinic else OFFICE


def rendering_provider(session: Session, users: Mapping[int, User]) -> User | None:
    """Whom a claim names as rendering provider: the clinician, or for a PTA the supervising
    PT (a PTA is billed under the supervising therapist's NPI; see the module docstring).
    None when a PTA's note names no supervisor: the PTA is never the rendering provider."""
    clinician = _name(users, session.delivered_by)
    if clinician is not None and clinician.credential == Credential.PTA:
        return _name(users, session.supervised_by)
    return clinician


def charge_lines(session: Session, review: Review, patient: Patient, payer: Payer | None,
                 users: Mapping[int, User], fees: Mapping[str, Decimal], clinic: Clinic | None
                 ) -> tuple[ChargeLine, ...]:
    """The session's billable claim lines (a line without units bills nothing), priced, at
    the session's place of service."""
    place = place_of_service(session, clinic)
    lettered = pointers(session.diagnoses)[:POINTERS_PER_LINE]
    rendering = rendering_provider(session, users)
    clinician = _name(users, session.delivered_by)
    supervising = _name(users, session.supervised_by)
    return tuple(
        ChargeLine(
            session_id=session.id or 0, date_of_service=session.date_of_service,
            mrn=patient.mrn, patient=patient.display_name,
            payer=payer.name if payer else "self-pay", member_id=patient.member_id,
            rendering=rendering.display if rendering else "",
            rendering_npi=(rendering.npi or "") if rendering else "",
            supervising=supervising.display if supervising else "",
            supervising_npi=(supervising.npi or "") if supervising else "",
            delivered_by=clinician.display if clinician else "",
            delivered_by_npi=(clinician.npi or "") if clinician else "",
            credential=str(clinician.credential) if clinician else "",
            code=line.code, modifiers=line.modifier_codes, units=line.units,
            minutes=line.minutes, pointers="".join(letter for letter, _ in lettered),
            diagnoses=tuple(code for _, code in lettered), fee=fees.get(line.code),
            charge=line_charge(fees, line.code, line.units), place_of_service=place)
        for line in review.claim.lines if line.units)


def owed_by(session: Session, users: Mapping[int, User]) -> str:
    """Who signs a note still unsigned: its clinician, or their supervising PT."""
    clinician = _name(users, session.delivered_by)
    supervisor = _name(users, session.supervised_by)
    if clinician is None:
        return "no clinician recorded"
    return clinician.display + (f" (or {supervisor.display}, supervising)" if supervisor
                                else "")


COLUMNS = ("session_id", "date_of_service", "mrn", "patient_name", "payer", "member_id",
           "rendering_clinician", "rendering_npi", "supervising_clinician", "supervising_npi",
           "delivered_by", "delivered_by_npi", "credential", "cpt_code",
           "modifiers", "units", "minutes", "diagnosis_pointers", "diagnosis_codes", "fee",
           "charge", "place_of_service")


def _row(line: ChargeLine) -> dict[str, object]:
    return {"session_id": line.session_id, "date_of_service": line.date_of_service.isoformat(),
            "mrn": line.mrn, "patient_name": line.patient, "payer": line.payer,
            "member_id": line.member_id, "rendering_clinician": line.rendering,
            "rendering_npi": line.rendering_npi, "supervising_clinician": line.supervising,
            "supervising_npi": line.supervising_npi, "delivered_by": line.delivered_by,
            "delivered_by_npi": line.delivered_by_npi, "credential": line.credential,
            "cpt_code": line.code, "modifiers": list(line.modifiers), "units": line.units,
            "minutes": line.minutes, "diagnosis_pointers": line.pointers,
            "diagnosis_codes": list(line.diagnoses),
            "fee": None if line.fee is None else f"{line.fee.quantize(CENT)}",
            "charge": None if line.charge is None else f"{line.charge}",
            "place_of_service": line.place_of_service}


# A spreadsheet runs a cell that starts with one of these as a formula: typed text (a name,
# a member ID) is written with a leading apostrophe so it stays text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_TEXT_COLUMNS = {"mrn", "patient_name", "payer", "member_id", "rendering_clinician",
                 "supervising_clinician", "delivered_by"}


def _cell(column: str, value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return " ".join(value)
    text = str(value)
    if column in _TEXT_COLUMNS and text.startswith(_FORMULA_START):
        return "'" + text
    return text


def to_csv(lines: Iterable[ChargeLine], bom: bool = False) -> str:
    """One header row, one row per line; ISO dates, plain decimals, no index column."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for line in lines:
        row = _row(line)
        writer.writerow([_cell(c, row[c]) for c in COLUMNS])
    return ("\ufeff" if bom else "") + out.getvalue()


def _json_row(line: ChargeLine) -> dict[str, object]:
    """The CSV's row with a program's types: pointers a list like the codes, money numbers."""
    row = _row(line)
    row["diagnosis_pointers"] = list(line.pointers)
    row["fee"] = None if line.fee is None else float(line.fee.quantize(CENT))
    row["charge"] = None if line.charge is None else float(line.charge)
    return row


def to_json(lines: Iterable[ChargeLine]) -> str:
    return json.dumps([_json_row(line) for line in lines], indent=2, ensure_ascii=False) + "\n"
