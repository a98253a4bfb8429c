"""A clinic, its people and its treatment sessions: frozen dataclasses that validate themselves.

Constructing a record with a bad field raises ValidationError listing every bad field with a
message that names it, so no layer above can hold or store nonsense. Checks that need the date
(a future date of service) take ``today`` as an argument: nothing here reads the clock.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from ptdoc import clock
from ptdoc import fields as f
from ptdoc.errors import Problem, ValidationError
from ptdoc.identifiers import MRN_PATTERN, icd10_format_ok, npi_ok


class Credential(StrEnum):
    PT = "PT"
    DPT = "DPT"
    PTA = "PTA"
    AIDE = "aide"
    FRONT_DESK = "front desk"
    ADMIN = "admin"

    @property
    def is_therapist(self) -> bool:
        """A licensed PT (any degree) — may evaluate, write progress reports and plans of care."""
        return self in (Credential.PT, Credential.DPT)

    @property
    def is_clinician(self) -> bool:
        """May document and sign treatment notes."""
        return self in (Credential.PT, Credential.DPT, Credential.PTA)


class UnitMethod(StrEnum):
    CMS = "cms"
    PER_CODE = "per-code"


class PayerProfile(StrEnum):
    MEDICARE = "medicare"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    MEDICAID = "medicaid"
    COMMERCIAL = "commercial"
    WORKERS_COMP = "workers_comp"
    SELF_PAY = "self_pay"


class Sex(StrEnum):
    """As the payer has it on file (claims carry it)."""

    FEMALE = "female"
    MALE = "male"
    OTHER = "other"
    UNKNOWN = "unknown"


class SessionStatus(StrEnum):
    DRAFT = "draft"
    SIGNED = "signed"


class NoteType(StrEnum):
    DAILY = "daily"
    EVALUATION = "evaluation"
    RE_EVALUATION = "re-evaluation"
    PROGRESS_REPORT = "progress report"

    @property
    def named(self) -> str:
        """As a sentence names it: "daily note", "progress report" (not "progress report
        note")."""
        return f"{self.value} note" if self is NoteType.DAILY else self.value


class DeliveryMode(StrEnum):
    ONE_ON_ONE = "one-on-one"
    GROUP = "group"
    SUPERVISED_INDEPENDENT = "supervised-independent"
    AIDE = "aide"


class Provider(StrEnum):
    """Who delivered an exercise: drives CQ (PTA) and the aide-time rule."""

    PT = "PT"
    PTA = "PTA"
    AIDE = "aide"


class SupervisorAvailability(StrEnum):
    ON_SITE = "on site"
    REACHABLE = "reachable by phone"
    NOT_AVAILABLE = "not available"


class Side(StrEnum):
    LEFT = "left"
    RIGHT = "right"
    BILATERAL = "bilateral"
    NOT_APPLICABLE = "n/a"


class LoadUnit(StrEnum):
    LB = "lb"
    KG = "kg"


class DistanceUnit(StrEnum):
    FT = "ft"
    M = "m"


class Assistance(StrEnum):
    INDEPENDENT = "independent"
    STAND_BY = "stand-by"
    CONTACT_GUARD = "contact guard"
    MIN = "min assist"
    MOD = "mod assist"
    MAX = "max assist"
    DEPENDENT = "dependent"


class Cue(StrEnum):
    VERBAL = "verbal"
    TACTILE = "tactile"
    VISUAL = "visual"


class ExerciseChange(StrEnum):
    """How an exercise relates to the last visit; carried-forward rows must say which."""

    NEW = "new"
    CARRIED = "carried forward"  # copied from the last visit; the clinician must choose
    AS_BEFORE = "as before"
    PROGRESSED = "progressed"
    MODIFIED = "modified"
    HELD = "held"


class AddendumKind(StrEnum):
    AMENDMENT = "amendment"
    CORRECTION = "correction"
    LATE_ENTRY = "late entry"


class _Validated:
    """Runs ``_check`` after construction and raises every problem it found."""

    def __post_init__(self) -> None:
        check = f.Checker()
        self._check(check)  # type: ignore[attr-defined]
        check.done()


def _check_npi(check: f.Checker, field_name: str, label: str, npi: str | None) -> None:
    if npi is not None and not npi_ok(npi):
        check.add(field_name, f"{label} must be 10 digits starting with 1 or 2 with a valid "
                              f"check digit (got '{npi}')")


def _check_user_ref(check: f.Checker, field_name: str, label: str, value: object,
                    required: bool = True) -> None:
    if value is None and not required:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        check.add(field_name, f"{label} must name a user of this clinic")


def _check_utc(check: f.Checker, field_name: str, label: str, value: object) -> None:
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        check.add(field_name, f"{label} must be a time in UTC")
    elif not f.date_in_bounds(value):
        check.add(field_name, f"{label} must be between {f.EARLIEST_DATE} and {f.LATEST_DATE}")


def _check_diagnoses(check: f.Checker, codes: tuple[str, ...]) -> None:
    check.count("diagnoses", "Diagnoses", codes, f.MAX_DIAGNOSES)
    for i, code in enumerate(codes):
        if not isinstance(code, str) or not icd10_format_ok(code):
            check.add(f"diagnoses[{i}]", f"Diagnosis must be an ICD-10-CM code such as M17.11 "
                                         f"(letter, two characters, optional dot and up to four "
                                         f"more; got '{code}')")
    if len(set(codes)) != len(codes):
        check.add("diagnoses", "Diagnoses must not list the same code twice")


# CMS place-of-service codes (the claim's box 24B) where a clinic furnishes outpatient therapy
# on a professional claim (reference §10: 11 for a private practice's office, 22 for a
# hospital outpatient department). The name follows the code on paper.
PLACES_OF_SERVICE = {
    "11": "office",
    "12": "home",
    "13": "assisted living facility",
    "19": "off campus-outpatient hospital",
    "22": "on campus-outpatient hospital",
    "31": "skilled nursing facility",
    "32": "nursing facility",
    "49": "independent clinic",
    "62": "comprehensive outpatient rehabilitation facility",
    "71": "public health clinic",
    "72": "rural health clinic",
    "99": "other place of service",
}
OFFICE = "11"


def place_of_service_text(code: str) -> str:
    """'11 (office)': the code a claim carries and what it means."""
    name = PLACES_OF_SERVICE.get(code)
    return f"{code} ({name})" if name else code


@dataclass(frozen=True)
class Clinic(_Validated):
    name: str
    address: str = ""
    phone: str = ""
    npi: str | None = None
    idle_lock_minutes: int = 10
    # Times are stored in UTC and shown in this zone; a new clinic starts in the computer's.
    time_zone: str = field(default_factory=clock.workstation_zone)
    # Where the clinic's services are billed as furnished: every charge line and superbill.
    place_of_service: str = OFFICE
    # A draft open elsewhere with no save for this long may be taken over (with a question).
    draft_idle_minutes: int = f.DRAFT_IDLE_DEFAULT

    def _check(self, check: f.Checker) -> None:
        check.text("name", "Clinic name", self.name, required=True)
        check.text("address", "Address", self.address, limit=f.ADDRESS_TEXT)
        check.text("phone", "Phone", self.phone, limit=f.CODE_TEXT)
        _check_npi(check, "npi", "Clinic NPI", self.npi)
        check.number("idle_lock_minutes", self.idle_lock_minutes, f.IDLE_LOCK)
        check.number("draft_idle_minutes", self.draft_idle_minutes, f.DRAFT_IDLE)
        if not isinstance(self.time_zone, str) or not clock.is_zone(self.time_zone):
            check.add("time_zone", f"Time zone must be {clock.ZONE_EXAMPLE} "
                                   f"(got '{self.time_zone}')")
        if self.place_of_service not in PLACES_OF_SERVICE:
            check.add("place_of_service",
                      "Place of service must be a two-digit CMS place-of-service code, one of "
                      + ", ".join(PLACES_OF_SERVICE) + "; such as "
                      + " or ".join(place_of_service_text(c) for c in ("11", "22", "19"))
                      + f" (got '{self.place_of_service}')")


@dataclass(frozen=True)
class User(_Validated):
    username: str
    full_name: str
    credential: Credential
    npi: str | None = None
    active: bool = True
    id: int | None = None

    def _check(self, check: f.Checker) -> None:
        if not isinstance(self.username, str) or not f.USERNAME_PATTERN.match(self.username):
            check.add("username", "User name must be 2-32 lower-case letters, digits, '.', '_' "
                                  f"or '-' (got '{self.username}')")
        check.text("full_name", "Full name", self.full_name, limit=f.NAME_TEXT, required=True)
        if not isinstance(self.credential, Credential):
            check.add("credential", f"Credential must be one of {', '.join(Credential)}")
        _check_npi(check, "npi", "NPI", self.npi)
        if self.credential in (Credential.PT, Credential.DPT) and self.npi is None:
            check.add("npi", "NPI is required for a physical therapist")

    @property
    def display(self) -> str:
        return f"{self.full_name}, {self.credential}"


@dataclass(frozen=True)
class Payer(_Validated):
    """A payer and how it bills: defaults come from its profile, the clinic may change them."""

    name: str
    profile: PayerProfile
    unit_method: UnitMethod
    medicare: bool
    gp_required: bool = True
    cq_applies: bool = True
    kx_applies: bool = False
    code_pair_edits: bool = True
    id: int | None = None

    def _check(self, check: f.Checker) -> None:
        check.text("name", "Payer name", self.name, required=True)
        if not isinstance(self.profile, PayerProfile):
            check.add("profile", f"Payer profile must be one of {', '.join(PayerProfile)}")
        if not isinstance(self.unit_method, UnitMethod):
            check.add("unit_method", "Unit method must be 'cms' or 'per-code'")


@dataclass(frozen=True)
class Patient(_Validated):
    """A registered patient: demographics, and the primary (and optional secondary) payer with
    the member ID on each card. The next appointment is an Appointment, not a patient field."""

    mrn: str
    first_name: str
    last_name: str
    date_of_birth: dt.date
    payer_id: int | None = None
    member_id: str = ""
    sex: Sex | None = None
    phone: str = ""
    address: str = ""
    secondary_payer_id: int | None = None
    secondary_member_id: str = ""
    id: int | None = None

    def _check(self, check: f.Checker) -> None:
        if not isinstance(self.mrn, str) or not MRN_PATTERN.match(self.mrn):
            check.add("mrn", f"MRN must be 1-20 letters, digits or '-' (got '{self.mrn}')")
        check.text("first_name", "First name", self.first_name, limit=f.NAME_TEXT,
                   required=True)
        check.text("last_name", "Last name", self.last_name, limit=f.NAME_TEXT, required=True)
        check.date("date_of_birth", "Date of birth", self.date_of_birth, required=True)
        check.text("member_id", "Member ID", self.member_id, limit=f.CODE_TEXT)
        check.text("secondary_member_id", "Secondary member ID", self.secondary_member_id,
                   limit=f.CODE_TEXT)
        if self.sex is not None and not isinstance(self.sex, Sex):
            check.add("sex", f"Sex must be one of {', '.join(Sex)}")
        check.text("phone", "Phone", self.phone, limit=f.CODE_TEXT)
        check.text("address", "Address", self.address, limit=f.ADDRESS_TEXT)
        if self.secondary_payer_id is not None:
            if self.payer_id is None:
                check.add("secondary_payer_id", "A secondary payer needs a primary payer")
            elif self.secondary_payer_id == self.payer_id:
                check.add("secondary_payer_id", "The secondary payer must differ from the "
                                                "primary payer")
        elif self.secondary_member_id:
            check.add("secondary_member_id", "A secondary member ID needs a secondary payer")

    @property
    def display_name(self) -> str:
        return f"{self.last_name}, {self.first_name}"


@dataclass(frozen=True)
class Appointment(_Validated):
    """A patient's expected visit: a day, usually a time, and the clinician they will see."""

    patient_id: int
    day: dt.date
    time: dt.time | None = None
    clinician_id: int | None = None
    id: int | None = None

    def _check(self, check: f.Checker) -> None:
        check.date("day", "Appointment date", self.day, required=True,
                   earliest=dt.date(2000, 1, 1))
        if self.time is not None and (not isinstance(self.time, dt.time) or self.time.second
                                      or self.time.microsecond or self.time.tzinfo):
            check.add("time", "Appointment time must be a clock time in whole minutes (HH:MM)")
        _check_user_ref(check, "clinician_id", "Clinician", self.clinician_id, required=False)

    @property
    def when(self) -> str:
        """As the front desk reads it: 2026-05-04 09:30."""
        return f"{self.day.isoformat()} {self.time:%H:%M}" if self.time else self.day.isoformat()


@dataclass(frozen=True)
class Episode(_Validated):
    """An episode of care under one plan of care (re-certifying extends ``certified_through``)."""

    patient_id: int
    start_date: dt.date
    diagnoses: tuple[str, ...] = ()
    goals: tuple[str, ...] = ()
    frequency: str = ""
    duration: str = ""
    certified_through: dt.date | None = None
    certified_on: dt.date | None = None
    order_on_file: bool = False
    physician_name: str = ""
    physician_npi: str | None = None
    discharged_on: dt.date | None = None
    id: int | None = None

    def _check(self, check: f.Checker) -> None:
        _check_diagnoses(check, self.diagnoses)
        check.count("goals", "Goals", self.goals, f.MAX_GOALS)
        for i, goal in enumerate(self.goals):
            check.text(f"goals[{i}]", "Goal", goal, limit=f.CELL_TEXT, required=True)
        check.text("frequency", "Frequency", self.frequency)
        check.text("duration", "Duration", self.duration)
        check.text("physician_name", "Certifying physician", self.physician_name,
                   limit=f.NAME_TEXT)
        before = len(check.problems)
        check.date("start_date", "Plan start date", self.start_date, required=True)
        for name, label in (("certified_through", "Certified-through date"),
                            ("certified_on", "Certification date"),
                            ("discharged_on", "Discharge date")):
            check.date(name, label, getattr(self, name))
        if len(check.problems) != before:
            return  # the order checks below compare dates that must be valid first
        _check_npi(check, "physician_npi", "Physician NPI", self.physician_npi)
        if self.certified_through is not None and self.certified_through < self.start_date:
            check.add("certified_through", "Certified-through date must not be before the "
                                           "plan start date")
        if self.certified_on is not None and self.certified_on < self.start_date:
            check.add("certified_on", "Certification date must not be before the plan start")
        if self.discharged_on is not None and self.discharged_on < self.start_date:
            check.add("discharged_on", "Discharge date must not be before the plan start")


@dataclass(frozen=True)
class ExerciseEntry(_Validated):
    name: str
    region: str = ""
    side: Side | None = None
    position: str = ""
    equipment: str = ""
    load: Decimal | None = None
    load_unit: LoadUnit | None = None
    sets: int | None = None
    reps: int | None = None
    hold_seconds: int | None = None
    duration_minutes: int | None = None
    distance: Decimal | None = None
    distance_unit: DistanceUnit | None = None
    assistance: Assistance | None = None
    cues: tuple[Cue, ...] = ()
    change: ExerciseChange = ExerciseChange.NEW
    modification: str = ""
    modification_reason: str = ""
    pain_before: int | None = None
    pain_after: int | None = None
    response: str = ""
    minutes: int | None = None
    code: str = "97110"
    mode: DeliveryMode = DeliveryMode.ONE_ON_ONE
    delivered_by: Provider = Provider.PT

    def _check(self, check: f.Checker) -> None:
        check.text("name", "Exercise name", self.name, limit=f.NAME_TEXT, required=True)
        for name, label in (("region", "Body region"), ("position", "Position"),
                            ("equipment", "Equipment")):
            check.text(name, label, getattr(self, name))
        check.number("load", self.load,
                     f.LOAD_KG if self.load_unit == LoadUnit.KG else f.LOAD_LB)
        check.number("sets", self.sets, f.SETS)
        check.number("reps", self.reps, f.REPS)
        check.number("hold_seconds", self.hold_seconds, f.HOLD_SECONDS)
        check.number("duration_minutes", self.duration_minutes, f.DURATION_MINUTES)
        check.number("distance", self.distance, f.DISTANCE)
        if self.distance is not None and self.distance_unit is None:
            check.add("distance_unit", "Distance needs a unit (ft or m)")
        check.number("pain_before", self.pain_before, f.PAIN)
        check.number("pain_after", self.pain_after, f.PAIN)
        check.number("minutes", self.minutes, f.MINUTES)
        check.text("modification", "Modification", self.modification, limit=f.CELL_TEXT)
        check.text("modification_reason", "Modification reason", self.modification_reason,
                   limit=f.CELL_TEXT)
        check.text("response", "Patient response", self.response, limit=f.CELL_TEXT)
        if not f.CODE_PATTERN.match(self.code or ""):
            check.add("code", f"Code must be a CPT/HCPCS code such as 97110 (got '{self.code}')")
        if len(set(self.cues)) != len(self.cues):
            check.add("cues", "Cues must not list the same kind twice")


@dataclass(frozen=True)
class ServiceLine(_Validated):
    """A billed (or documented-but-not-billed) code with its minutes and chosen units.

    ``detail`` says what was done on a line that is not exercise (the flowsheet says that for
    exercise): technique, region and parameters, so the note identifies each intervention.
    """

    code: str
    minutes: int | None = None
    units: int | None = None
    modifiers: tuple[str, ...] = ()
    detail: str = ""

    def _check(self, check: f.Checker) -> None:
        if not f.CODE_PATTERN.match(self.code or ""):
            check.add("code", f"Code must be a CPT/HCPCS code such as 97110 (got '{self.code}')")
        check.number("minutes", self.minutes, f.MINUTES)
        check.number("units", self.units, f.Range("Units", 0, 32))
        check.text("detail", "What was done", self.detail)
        for i, mod in enumerate(self.modifiers):
            if not isinstance(mod, str) or not f.MODIFIER_PATTERN.match(mod):
                check.add(f"modifiers[{i}]", f"Modifier must be two letters or digits such as "
                                             f"GP (got '{mod}')")
        if len(self.modifiers) > 4:
            check.add("modifiers", "A line takes at most 4 modifiers")
        if len(set(self.modifiers)) != len(self.modifiers):
            check.add("modifiers", "Modifiers must not repeat")


@dataclass(frozen=True)
class Acknowledgement(_Validated):
    """A warning the clinician accepted, with the written reason shown on the note."""

    code: str
    field: str
    reason: str

    def _check(self, check: f.Checker) -> None:
        check.text("code", "Finding code", self.code, limit=f.CODE_TEXT, required=True)
        check.text("field", "Finding field", self.field)
        check.text("reason", "Reason", self.reason, limit=f.NARRATIVE_TEXT, required=True)


_KEY_ID = re.compile(r"[0-9a-f]{16}")
_BASE64_SIGNATURE = re.compile(r"[A-Za-z0-9+/]{86}==")


@dataclass(frozen=True)
class Signature(_Validated):
    signer: int
    signer_name: str
    credential: Credential
    npi: str | None
    signed_at: dt.datetime
    content_hash: str
    # The signer's Ed25519 key (its fingerprint in the key history), the signature over
    # ``content`` (base64) and the signed content itself: canonical JSON of the patient's
    # identity as it was at signing, the session and this signature's signer and time.
    # None on notes signed before keyed signatures, which carry the SHA-256 only.
    key_id: str | None = None
    value: str | None = None
    content: str | None = None

    def _check(self, check: f.Checker) -> None:
        _check_user_ref(check, "signer", "Signer", self.signer)
        check.text("signer_name", "Signer name", self.signer_name, limit=f.NAME_TEXT,
                   required=True)
        if not isinstance(self.credential, Credential) or not self.credential.is_clinician:
            check.add("credential", "Signer must be a PT, DPT or PTA")
        _check_npi(check, "npi", "Signer NPI", self.npi)
        _check_utc(check, "signed_at", "Signature time", self.signed_at)
        if not isinstance(self.content_hash, str) or len(self.content_hash) != 64 or \
                any(c not in "0123456789abcdef" for c in self.content_hash):
            check.add("content_hash", "Content hash must be a SHA-256 hex digest")
        keyed = (self.key_id, self.value, self.content)
        if any(v is not None for v in keyed) and not all(isinstance(v, str) for v in keyed):
            check.add("key_id", "A keyed signature needs its key id, value and content")
        if isinstance(self.key_id, str) and not _KEY_ID.fullmatch(self.key_id):
            check.add("key_id", "Key id must be 16 hex digits")
        if isinstance(self.value, str) and not _BASE64_SIGNATURE.fullmatch(self.value):
            check.add("value", "Signature value must be 64 bytes in base64")
        if isinstance(self.content, str) and len(self.content) > f.MAX_FILE_BYTES:
            check.add("content", f"Signed content is longer than {f.MAX_FILE_BYTES:,} "
                                 "characters")


@dataclass(frozen=True)
class Addendum(_Validated):
    kind: AddendumKind
    author: int
    author_name: str
    created_at: dt.datetime
    reason: str
    text: str
    id: int | None = None

    def _check(self, check: f.Checker) -> None:
        if not isinstance(self.kind, AddendumKind):
            check.add("kind", "Addendum kind must be amendment, correction or late entry")
        _check_user_ref(check, "author", "Author", self.author)
        check.text("author_name", "Author name", self.author_name, limit=f.NAME_TEXT,
                   required=True)
        check.text("reason", "Reason", self.reason, limit=f.NARRATIVE_TEXT, required=True)
        check.text("text", "Addendum text", self.text, limit=f.NARRATIVE_TEXT, required=True)
        _check_utc(check, "created_at", "Addendum time", self.created_at)


def clock_minutes(start: dt.time, end: dt.time) -> int:
    """Minutes from one clock time to a later one the same day (negative if it is earlier)."""
    return (end.hour * 60 + end.minute) - (start.hour * 60 + start.minute)

@dataclass(frozen=True)
class Session(_Validated):
    """One date of service for one patient: a draft until signed, then locked."""

    patient_id: int
    date_of_service: dt.date
    episode_id: int | None = None
    note_type: NoteType = NoteType.DAILY
    status: SessionStatus = SessionStatus.DRAFT
    delivered_by: int | None = None
    supervised_by: int | None = None
    supervisor_availability: SupervisorAvailability | None = None
    mode: DeliveryMode = DeliveryMode.ONE_ON_ONE
    group_size: int | None = None
    time_in: dt.time | None = None
    time_out: dt.time | None = None
    total_treatment_minutes: int | None = None
    diagnoses: tuple[str, ...] = ()
    exercises: tuple[ExerciseEntry, ...] = ()
    services: tuple[ServiceLine, ...] = ()
    patient_response: str = ""
    assessment: str = ""
    home_program: str = ""
    acknowledgements: tuple[Acknowledgement, ...] = ()
    signature: Signature | None = None
    addenda: tuple[Addendum, ...] = field(default=())
    id: int | None = None
    # The clinic's place of service recorded when the note is signed (None on a draft): a
    # claim keeps where it was furnished when the clinic's setting later changes.
    place_of_service: str | None = None

    @property
    def visit_minutes(self) -> int | None:
        """Length of the visit: clock time in to out, else the total treatment time."""
        if self.time_in is not None and self.time_out is not None:
            return clock_minutes(self.time_in, self.time_out)
        return self.total_treatment_minutes

    def _check(self, check: f.Checker) -> None:
        check.date("date_of_service", "Date of service", self.date_of_service, required=True,
                   earliest=dt.date(2000, 1, 1))
        _check_user_ref(check, "delivered_by", "Treating clinician", self.delivered_by,
                        required=False)
        _check_user_ref(check, "supervised_by", "Supervisor", self.supervised_by,
                        required=False)
        for name, label, rows, limit in (
                ("exercises", "Exercises", self.exercises, f.MAX_EXERCISES),
                ("services", "Billing lines", self.services, f.MAX_SERVICES),
                ("acknowledgements", "Accepted warnings", self.acknowledgements,
                 f.MAX_ACKNOWLEDGEMENTS),
                ("addenda", "Addenda", self.addenda, f.MAX_ADDENDA)):
            check.count(name, label, rows, limit)
        check.number("group_size", self.group_size, f.GROUP_SIZE)
        check.number("total_treatment_minutes", self.total_treatment_minutes, f.TOTAL_MINUTES)
        for name in ("time_in", "time_out"):
            value = getattr(self, name)
            if value is not None and (value.second or value.microsecond or value.tzinfo):
                check.add(name, f"{name.replace('_', ' ').capitalize()} must be a clock time "
                                "in whole minutes (HH:MM)")
        if self.time_in is not None and self.time_out is not None and \
                self.time_out <= self.time_in:
            check.add("time_out", "Time out must be after time in")
        _check_diagnoses(check, self.diagnoses)
        check.text("patient_response", "Patient response", self.patient_response,
                   limit=f.NARRATIVE_TEXT)
        check.text("assessment", "Assessment", self.assessment, limit=f.NARRATIVE_TEXT)
        check.text("home_program", "Home program", self.home_program, limit=f.NARRATIVE_TEXT)
        visit = self.visit_minutes
        if visit is not None and visit > 0:
            _check_minutes_fit(check, self, visit)
        if (self.status == SessionStatus.SIGNED) != (self.signature is not None):
            check.add("signature", "A signed session needs a signature, and only a signed "
                                   "session may carry one")
        if self.addenda and self.status != SessionStatus.SIGNED:
            check.add("addenda", "Addenda belong to signed sessions; edit a draft directly")


def _check_minutes_fit(check: f.Checker, s: Session, visit: int) -> None:
    """Minutes longer than the visit, said once, on the total: a visit shortened by a time
    out would otherwise be reported on every exercise row and billing line."""
    longer = [f"{e.name} {e.minutes} min" for e in s.exercises
              if e.minutes is not None and e.minutes > visit]
    longer += [f"billed {line.code} {line.minutes} min" for line in s.services
               if line.minutes is not None and line.minutes > visit]
    total = s.total_treatment_minutes
    if total is not None and total > visit:
        check.add("total_treatment_minutes", f"Total treatment time ({total} min) is longer "
                  f"than the visit ({visit} min from time in to time out)"
                  + (f"; so are {_listed(longer)}" if longer else ""))
    elif longer:
        check.add("total_treatment_minutes", f"Minutes are longer than the visit ({visit} min "
                  f"from time in to time out): {_listed(longer)}")


def _listed(items: list[str], shown: int = 3) -> str:
    more = len(items) - shown
    return ", ".join(items[:shown]) + (f" and {more} more" if more > 0 else "")


def check_dates(session: Session, today: dt.date,
                patient: Patient | None = None) -> list[Problem]:
    """Checks of the date of service against today and the patient; empty when all is well."""
    problems = []
    dos = session.date_of_service
    if dos > today:
        problems.append(Problem("date_of_service", f"Date of service {dos} is in the future; "
                                                   f"it must be today ({today}) or earlier"))
    if patient is not None and dos < patient.date_of_birth:
        problems.append(Problem("date_of_service", "Date of service is before the patient's "
                                                   "date of birth"))
    return problems


def require_valid_dates(session: Session, today: dt.date,
                        patient: Patient | None = None) -> None:
    problems = check_dates(session, today, patient)
    if problems:
        raise ValidationError(problems)
