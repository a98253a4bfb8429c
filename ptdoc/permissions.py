"""Who may do what. Enforced by the services for every call, whatever the UI shows."""

from __future__ import annotations

from enum import Enum, auto

from ptdoc.domain import Credential, NoteType, User


class Permission(Enum):
    VIEW_SCHEDULE = auto()      # day lists: patient, clinician, status; no clinical text
    PRINT_SUMMARY = auto()      # session summaries and day sheets
    BILLING = auto()            # the charges export and superbills (codes, diagnoses, money)
    VIEW_CLINICAL = auto()      # open a note's full content
    DOCUMENT = auto()           # create and edit drafts
    SIGN = auto()
    ADDENDUM = auto()
    EXPORT_NOTE = auto()
    EVALUATE = auto()           # evaluations, re-evaluations, progress reports, plans of care
    MANAGE_PATIENTS = auto()    # registration: demographics and payer
    SCHEDULE = auto()           # book a patient's next appointment
    MANAGE_USERS = auto()
    MANAGE_CLINIC = auto()
    BACKUP = auto()
    VERIFY = auto()             # signatures and the audit chain checked: ids, dates, verdicts


_CLINICAL = {Permission.VIEW_SCHEDULE, Permission.PRINT_SUMMARY, Permission.BILLING,
             Permission.VIEW_CLINICAL, Permission.DOCUMENT, Permission.SIGN,
             Permission.ADDENDUM, Permission.EXPORT_NOTE, Permission.VERIFY}

# Registering patients and booking them is front-desk work that clinicians do too.
_FRONT = {Permission.MANAGE_PATIENTS, Permission.SCHEDULE}

ROLE_PERMISSIONS: dict[Credential, frozenset[Permission]] = {
    Credential.PT: frozenset(_CLINICAL | _FRONT | {Permission.EVALUATE}),
    Credential.DPT: frozenset(_CLINICAL | _FRONT | {Permission.EVALUATE}),
    Credential.PTA: frozenset(_CLINICAL | _FRONT),
    Credential.AIDE: frozenset({Permission.VIEW_SCHEDULE}),
    Credential.FRONT_DESK: frozenset({Permission.VIEW_SCHEDULE, Permission.PRINT_SUMMARY,
                                      Permission.BILLING, *_FRONT}),
    Credential.ADMIN: frozenset({Permission.VIEW_SCHEDULE, Permission.PRINT_SUMMARY,
                                 Permission.BILLING, *_FRONT, Permission.MANAGE_USERS,
                                 Permission.MANAGE_CLINIC, Permission.BACKUP,
                                 Permission.VERIFY}),
}

# Notes only a physical therapist may write (reference §5: a PTA cannot write these).
PT_ONLY_NOTES = frozenset({NoteType.EVALUATION, NoteType.RE_EVALUATION,
                           NoteType.PROGRESS_REPORT})

_DESCRIPTIONS = {
    Permission.VIEW_SCHEDULE: "see the schedule",
    Permission.PRINT_SUMMARY: "print session summaries",
    Permission.BILLING: "export charges or print superbills",
    Permission.VIEW_CLINICAL: "open clinical notes",
    Permission.DOCUMENT: "create or edit clinical notes",
    Permission.SIGN: "sign notes",
    Permission.ADDENDUM: "add addenda to notes",
    Permission.EXPORT_NOTE: "export clinical notes",
    Permission.EVALUATE: "write evaluations, progress reports or plans of care",
    Permission.MANAGE_PATIENTS: "register or edit patients",
    Permission.SCHEDULE: "book appointments",
    Permission.MANAGE_USERS: "manage users",
    Permission.MANAGE_CLINIC: "change clinic settings",
    Permission.BACKUP: "back up or restore the database",
    Permission.VERIFY: "verify the signatures and the audit log",
}


def allowed(actor: User | None, permission: Permission) -> bool:
    """``None`` is code that builds a clinic rather than a person (the demo builder, the tests'
    setup): it may do everything except sign, since a signature always belongs to a named
    clinician. The command line acts as a signed-in user, never as ``None``.
    """
    if actor is None:
        return permission is not Permission.SIGN
    return actor.active and permission in ROLE_PERMISSIONS[actor.credential]


def describe(permission: Permission) -> str:
    return _DESCRIPTIONS[permission]
