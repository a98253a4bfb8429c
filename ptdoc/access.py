"""Proving who is at the keyboard: sign-in, and the signer's password again at signing.

Wrong secrets are slowed down, then locked out for a while, per user; every attempt (failed,
refused while locked out, or accepted) is in the audit log, which is also where the count of
recent failures is read from, so the limit holds across windows, workstations and the CLI.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ptdoc import auth, clock, keys
from ptdoc.domain import User
from ptdoc.errors import PasswordChangeRequired, PermissionDenied
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


_MINT = object()  # only reauthenticate makes a proof that carries a usable key


@dataclass(frozen=True)
class SignerProof:
    """A clinician who has just typed their own secret: what signing requires. It carries
    their private key, opened with that secret; a proof made any other way carries none."""

    user_id: int
    at: dt.datetime
    key_id: str = ""
    private_key: Any = field(default=None, repr=False, compare=False)
    mint: object = field(default=None, repr=False, compare=False)

    @property
    def usable(self) -> bool:
        return self.mint is _MINT and self.private_key is not None and bool(self.key_id)


def issue_key(store: Store, user: User, secret: str, at: dt.datetime, reason: str,
              actor: User | None = None) -> keys.KeyPair:
    """A new key pair for ``user``, sealed under ``secret``, appended to the key history and
    audited (in the caller's transaction when there is one)."""
    pair = keys.new_key_pair(secret)
    with store.db.atomic():
        store.keys.add(user.id or 0, pair.key_id, pair.public_key, pair.sealed_private, at,
                       reason)
        store.audit.record(actor or user, AuditAction.ADMIN, "user", user.id,
                           f"signing key {pair.key_id} ({reason})", at=at)
    return pair


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
          now: Callable[[], dt.datetime] = clock.utcnow, temporary_ok: bool = False) -> User:
    """The active user whose password or PIN this is; every attempt is audited.

    A temporary password (set by an administrator) is right but not enough: unless the caller
    is the user's own change of it (``temporary_ok``), PasswordChangeRequired says so, and the
    refusal is audited too."""
    user = store.users.by_username(username.strip())
    if user is None:
        store.audit.record(None, AuditAction.LOGIN_FAILED, "user", None, "sign-in", at=now())
        raise PermissionDenied(WRONG)
    _check(store, user, secret, "sign-in", now)  # refuses an inactive user too
    if store.keys.current(user.id or 0) is None:
        # A user from before keyed signatures: their password is known only now.
        issue_key(store, user, secret, now(), "first sign-in with keyed signatures")
    if not temporary_ok and store.users.must_change_password(user.id or 0):
        store.audit.record(user, AuditAction.DENIED, "user", user.id, "MUST_CHANGE_PASSWORD",
                           at=now())
        raise PasswordChangeRequired(
            f"The password of {user.username} was set by an administrator and is temporary: "
            "choose a new one to sign in.", user)
    return user


def reauthenticate(store: Store, user: User, secret: str,
                   now: Callable[[], dt.datetime] = clock.utcnow,
                   purpose: str = "sign") -> SignerProof:
    """The signer types their own secret again: a signature is their act, not the act of
    whoever reaches a signed-in keyboard (``purpose``: also a change of one's own password)."""
    user = store.users.get(user.id or 0)
    _check(store, user, secret, purpose, now)
    if purpose != "password" and store.users.must_change_password(user.id or 0):
        # Reset while they were signed in: the administrator knows this password, so it
        # signs nothing; their own change (a new sign-in asks it) makes the key they sign with.
        store.audit.record(user, AuditAction.DENIED, "user", user.id, "MUST_CHANGE_PASSWORD",
                           at=now())
        raise PasswordChangeRequired(
            f"The password of {user.username} was reset by an administrator and is temporary: "
            "sign in again to choose your own, then sign.", user)
    current = store.keys.current(user.id or 0)
    private = None if current is None else \
        keys.open_private_key(current.key_id, current.sealed_private, secret)
    if current is not None and private is not None:
        return SignerProof(user.id or 0, now(), current.key_id, private, _MINT)
    # No key yet, or one the password no longer opens: the secret just proved is the
    # user's, so they get a new pair; notes signed with the old key still verify by it.
    pair = issue_key(store, user, secret, now(), "signing" if current is None
                     else "signing; the previous key no longer opens")
    return SignerProof(user.id or 0, now(), pair.key_id, pair.private, _MINT)
