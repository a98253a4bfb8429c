"""Password and PIN hashing (scrypt from the standard library) and their strength rules."""

from __future__ import annotations

import hashlib
import hmac
import secrets

from ptdoc.errors import ValidationError

_N, _R, _P = 2**14, 8, 1


def check_secret(secret: str) -> None:
    """A PIN is 4+ digits (shared workstation, short idle lock); a password is 8+ characters."""
    if secret.isdigit():
        if len(secret) < 4:
            raise ValidationError.single("password", "A PIN must have at least 4 digits")
    elif len(secret) < 8:
        raise ValidationError.single("password", "A password must have at least 8 characters "
                                                 "(or use a PIN of 4 or more digits)")


def hash_secret(secret: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P)
    return f"scrypt${_N}${_R}${_P}${salt.hex()}${digest.hex()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        actual = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                                p=int(p))
    except ValueError:
        return False
    return hmac.compare_digest(actual.hex(), digest)
