"""Password hashes in Mosquitto's PBKDF2-SHA512 format (`$7$iterations$salt$hash`).

One format serves both the fleet's users and the terminals' broker credentials, so `fleet
mosquitto-config` can write the stored hashes straight into a Mosquitto password file: the fleet never
keeps a terminal's password, only what Mosquitto needs to check it.
"""

import base64
import functools
import hashlib
import hmac
import secrets

USER_ITERATIONS = 210_000  # people log in rarely: make guessing expensive
# Mosquitto checks a terminal's password on every connect; this is its own tool's default order of cost
# raised tenfold. The passwords are 128-bit random, so the iteration count is not what protects them.
DEVICE_ITERATIONS = 1_000
_SALT_BYTES = 12


def hash_password(password: str, iterations: int = USER_ITERATIONS) -> str:
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, encoded: str) -> bool:
    """True when `password` matches `encoded`; a malformed hash never matches."""
    try:
        empty, scheme, iterations, salt, digest = encoded.split("$")
        if empty or scheme != "7":
            return False
        expected = base64.b64decode(digest, validate=True)
        actual = hashlib.pbkdf2_hmac(
            "sha512", password.encode(), base64.b64decode(salt, validate=True), int(iterations)
        )
    except ValueError:
        return False
    return hmac.compare_digest(actual, expected)


def new_device_password() -> str:
    """A terminal's broker password: 128 random bits, URL-safe, provisioned once into its flash."""
    return secrets.token_urlsafe(16)


@functools.cache
def dummy_hash() -> str:
    """Checked against when the username is unknown, so a failed login costs the same either way."""
    return hash_password(secrets.token_urlsafe(16))
