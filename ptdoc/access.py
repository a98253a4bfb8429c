"""Proving who is at the keyboard: sign-in, and the signer's password again at signing.

Wrong secrets are slowed down, then locked out for a while, per user; every attempt (failed,
refused while locked out, or accepted) is in the audit log, which is also where the count of
recent failures is read from, so the limit holds across windows, workstations and the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from ptdoc import auth, clock
from ptdoc.domain import User
from ptdoc.errors import PermissionDenied
from ptdoc.repositories import AuditAction
from ptdoc.store import Store

FREE_FAILURES = 2    # wrong secrets in a row before each attempt must wait
LOCKOUT_AFTER = 5    # wrong secrets in a row that lock the account for a while
MAX_LOCKOUT = dt.timedelta(hours=1)

WRONG = "Unknown user name or wrong password/PIN."


def wait_after(failures: int) -> dt.timedelta:
    """How long the next attempt must wait after ``failures`` wrong secrets in a row:
    nothing, then 2 and 4 seconds, then a lockout of 5, 10, 20... minutes (at most an hour)."""
    if failures <= FREE_FAILURES:
        return dt.timedelta(0)
    if failures < LOCKOUT_AFTER:
        return dt.timedelta(seconds=2 ** (failures - FREE_FAILURES))
    return min(MAX_LOCKOUT, dt.timedelta(minutes=5 * 2 ** (failures - LOCKOUT_AFTER)))


def _in_words(delta: dt.timedelta) -> str:
    seconds = max(1, int(delta.total_seconds() + 0.999))
    if seconds < 60:
        return f"{seconds} second{'s' * (seconds != 1)}"
    minutes = (seconds + 59) // 60
    return f"{minutes} minute{'s' * (minutes != 1)}"


@dataclass(frozen=True)
class SignerProof:
    """A clinician who has just typed their own secret: what signing requires."""

    user_id: int
    at: dt.datetime


def _check(store: Store, user: User, secret: str, purpose: str,
           now: Callable[[], dt.datetime]) -> None:
    """Raise PermissionDenied unless ``secret`` is the user's and they are not locked out."""
    at = now()
    failures, last = store.audit.failures_in_a_row(user.id or 0)
    wait = wait_after(failures)
    if last is not None and at < last + wait:
        store.audit.record(user, AuditAction.DENIED, "user", user.id, f"LOCKED_OUT {purpose}",
                           at=at)
        what = "locked" if failures >= LOCKOUT_AFTER else "paused"
        raise PermissionDenied(f"{failures} wrong passwords/PINs in a row: {user.username} is "
                               f"{what} for {_in_words(last + wait - at)} more. Try again then "
                               "(an administrator can set a new password).")
    if not user.active or not auth.verify_secret(secret, store.users.password_hash(user.id or 0)):
        store.audit.record(user, AuditAction.LOGIN_FAILED, "user", user.id, purpose, at=at)
        after = wait_after(failures + 1)
        hint = f" Wait {_in_words(after)} before the next try." if after else ""
        raise PermissionDenied((WRONG if purpose == "sign-in" else
                                f"Wrong password/PIN for {user.display}.") + hint)
    store.audit.record(user, AuditAction.LOGIN, "user", user.id, purpose, at=at)


def login(store: Store, username: str, secret: str,
          now: Callable[[], dt.datetime] = clock.utcnow) -> User:
    """The active user whose password or PIN this is; every attempt is audited."""
    user = store.users.by_username(username.strip())
    if user is None:
        store.audit.record(None, AuditAction.LOGIN_FAILED, "user", None, "sign-in", at=now())
        raise PermissionDenied(WRONG)
    _check(store, user, secret, "sign-in", now)
    if not user.active:  # pragma: no cover - _check refuses inactive users
        raise PermissionDenied(WRONG)
    return user


def reauthenticate(store: Store, user: User, secret: str,
                   now: Callable[[], dt.datetime] = clock.utcnow,
                   purpose: str = "sign") -> SignerProof:
    """The signer types their own secret again: a signature is their act, not the act of
    whoever reaches a signed-in keyboard (``purpose``: also a change of one's own password)."""
    _check(store, store.users.get(user.id or 0), secret, purpose, now)
    return SignerProof(user.id or 0, now())
