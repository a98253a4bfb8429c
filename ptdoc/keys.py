"""Signing keys: an Ed25519 key pair per user, the private half encrypted under the password.

The private key is stored only encrypted: ChaCha20-Poly1305 under a key that scrypt derives
from the user's password or PIN (its own salt, so the stored password hash reveals nothing
of it). Only someone who types the password can sign; anyone holding the public key (the
clinic's key history, or any copy of it) can check a signature. A key is named by its
fingerprint, the first 16 hex digits of the SHA-256 of the public key, so the same key has
the same id in every copy of the database and in every session file.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidSignature, InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

# The same cost as password hashes (auth.py): about 50 ms, paid at sign-in and at signing.
_N, _R, _P = 2**14, 8, 1


@dataclass(frozen=True)
class KeyPair:
    """A new key pair as stored: the public key and the private key sealed by a password."""

    key_id: str
    public_key: str     # base64 of the 32 raw bytes
    sealed_private: str  # JSON: scrypt parameters, salt, nonce, ciphertext (base64)
    private: Ed25519PrivateKey = field(repr=False, compare=False)


def fingerprint(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()[:16]


def _derive(secret: str, salt: bytes, n: int = _N, r: int = _R, p: int = _P) -> bytes:
    return hashlib.scrypt(secret.encode(), salt=salt, n=n, r=r, p=p, dklen=32)


def new_key_pair(secret: str) -> KeyPair:
    private = Ed25519PrivateKey.generate()
    public_raw = private.public_key().public_bytes_raw()
    key_id = fingerprint(public_raw)
    salt, nonce = secrets.token_bytes(16), secrets.token_bytes(12)
    # The key id is authenticated with the ciphertext: a sealed key moved onto another
    # public key's row does not open.
    sealed = ChaCha20Poly1305(_derive(secret, salt)).encrypt(
        nonce, private.private_bytes_raw(), key_id.encode())
    box = {"kdf": "scrypt", "n": _N, "r": _R, "p": _P, "salt": _b64(salt),
           "nonce": _b64(nonce), "sealed": _b64(sealed)}
    return KeyPair(key_id, _b64(public_raw), json.dumps(box, sort_keys=True), private)


def open_private_key(key_id: str, sealed_private: str, secret: str) -> Ed25519PrivateKey | None:
    """The private key, or None when the secret does not open it (or the box is damaged)."""
    try:
        box = json.loads(sealed_private)
        key = _derive(secret, _unb64(box["salt"]), int(box["n"]), int(box["r"]), int(box["p"]))
        raw = ChaCha20Poly1305(key).decrypt(_unb64(box["nonce"]), _unb64(box["sealed"]),
                                            key_id.encode())
        return Ed25519PrivateKey.from_private_bytes(raw)
    except (InvalidTag, ValueError, KeyError, TypeError, binascii.Error):
        return None


def sign(private: Ed25519PrivateKey, content: bytes) -> str:
    return _b64(private.sign(content))


def verify(public_key: str, signature: str, content: bytes) -> bool:
    """Whether ``signature`` (base64) is the holder of ``public_key``'s over ``content``."""
    try:
        Ed25519PublicKey.from_public_bytes(_unb64(public_key)).verify(_unb64(signature),
                                                                      content)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)
