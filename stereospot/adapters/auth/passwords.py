"""One password, stored only as an scrypt hash (hashlib), and stateless API tokens.

Hash format: `scrypt$<log2 n>$<r>$<p>$<salt b64>$<hash b64>` (what `stereospot
hash-password` prints, for STEREOSPOT_AUTH_PASSWORD_HASH). API tokens are
`sst_<id>.<mac>`, the mac an HMAC of the id under the app's secret key: any web process
with the same secret accepts them, and rotating the secret revokes them all.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

_PREFIX = "scrypt"
_LOG2_N, _R, _P = 15, 8, 1
_TOKEN_PREFIX = "sst_"  # noqa: S105 - a format marker, not a secret


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _scrypt(password: str, salt: bytes, log2_n: int, r: int, p: int) -> bytes:
    n = 1 << log2_n
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=256 * n * r + 1024 * 1024
    )


def hash_password(password: str) -> str:
    if not password:
        raise ValueError("the password is empty")
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _LOG2_N, _R, _P)
    return f"{_PREFIX}${_LOG2_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def check_hash_format(stored: str) -> None:
    """ValueError with a readable reason if `stored` is not a hash this module made."""
    parts = stored.strip().split("$")
    if len(parts) != 6 or parts[0] != _PREFIX or not all(x.isdigit() for x in parts[1:4]):
        raise ValueError("not a password hash from `stereospot hash-password`")
    if not 10 <= int(parts[1]) <= 20:
        raise ValueError("the hash's cost is out of range")


def verify_password(password: str, stored: str) -> bool:
    try:
        check_hash_format(stored)
        _name, log2_n, r, p, salt, digest = stored.strip().split("$")
        expected = _unb64(digest)
        actual = _scrypt(password, _unb64(salt), int(log2_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)


def _token_mac(secret: bytes, token_id: str) -> str:
    return _b64(hmac.new(secret, f"api-token|{token_id}".encode(), hashlib.sha256).digest())


def mint_token(secret: bytes) -> str:
    token_id = secrets.token_urlsafe(12)
    return f"{_TOKEN_PREFIX}{token_id}.{_token_mac(secret, token_id)}"


def token_valid(secret: bytes, token: str) -> bool:
    if not token.startswith(_TOKEN_PREFIX) or "." not in token:
        return False
    token_id, _, mac = token[len(_TOKEN_PREFIX) :].partition(".")
    return bool(token_id) and hmac.compare_digest(_token_mac(secret, token_id), mac)


class PasswordCredentials:
    """This module as the sign-in's Credentials (what the container provides)."""

    def hash_password(self, password: str) -> str:
        return hash_password(password)

    def check_hash_format(self, stored: str) -> None:
        check_hash_format(stored)

    def verify_password(self, password: str, stored: str) -> bool:
        return verify_password(password, stored)

    def mint_token(self, secret: bytes) -> str:
        return mint_token(secret)

    def token_valid(self, secret: bytes, token: str) -> bool:
        return token_valid(secret, token)
