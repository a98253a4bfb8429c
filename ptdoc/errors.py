"""Errors a user can act on (KnownError) as opposed to bugs.

Anything raised that is not a KnownError is a bug: the UI logs it with its traceback and shows
the crash dialog; the CLI prints a one-line message. KnownErrors are shown as plain messages.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


class KnownError(Exception):
    """A problem the user can fix; its message says what happened and what to do."""


@dataclass(frozen=True)
class Problem:
    """One invalid field: a stable path (``exercises[2].sets``) and a message naming it."""

    field: str
    message: str

    def prefixed(self, prefix: str) -> Problem:
        return Problem(f"{prefix}.{self.field}" if self.field else prefix, self.message)


class ValidationError(KnownError):
    """One or more fields hold values that are not accepted. Nothing was stored."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems: tuple[Problem, ...] = tuple(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([Problem(field, message)])


class DoubleBooking(ValidationError):
    """The clinician already has a patient at that time: refused unless booked on purpose
    (a group visit). ``booked``: who is there already, as '2 patients' words them."""

    def __init__(self, message: str, booked: str):
        super().__init__([Problem("time", message)])
        self.booked = booked


class PermissionDenied(KnownError):
    """The signed-in user's role does not allow the action."""


class AccountDisabled(PermissionDenied):
    """The signed-in user was disabled by the administrator after signing in."""

    MESSAGE = "Your account was disabled by the administrator."


class PasswordChangeRequired(PermissionDenied):
    """The right password, but a temporary one an administrator gave: the user must choose
    their own before anything else. ``user`` is who signed in with it."""

    def __init__(self, message: str, user: object):
        super().__init__(message)
        self.user = user  # domain.User (errors imports nothing of the domain)


class NotFound(KnownError):
    """A record the user named does not exist."""


class ChangedElsewhere(KnownError):
    """The draft was saved by another window or workstation since this one last read it."""


class RecordLocked(KnownError):
    """The session is signed: it can only be corrected by an addendum."""


class DraftOpenElsewhere(RecordLocked):
    """The draft is open for editing on another workstation (or in another window)."""


class DatabaseError(KnownError):
    """The database file cannot be used as it is; the message names the way out."""


class DatabaseCorrupt(DatabaseError):
    pass


class DatabaseTooNew(DatabaseError):
    pass


class DatabaseLocked(DatabaseError):
    pass


class NotAPtdocDatabase(DatabaseError):
    pass


class ServerUnreachable(DatabaseError):
    """The database server cannot be reached (a dropped network, a stopped server): nothing
    was written; the same call may succeed once the connection is back. The message is for
    anyone at the front desk: the server's name, not the driver's words (``why``, for the
    log)."""

    def __init__(self, server: str, why: str = ""):
        self.server = server
        self.why = why
        super().__init__(f"The clinic's server {server} cannot be reached. Nothing saved is "
                         "lost, and ptdoc keeps trying to reach it.")
