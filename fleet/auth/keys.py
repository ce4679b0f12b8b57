"""The service secret: how strong it must be, and the keys derived from it, one per purpose.

`FLEET_JWT_SECRET` is the one secret the operator sets. Its length alone says little ("a" * 32 is 32
characters and no secret at all), so its randomness is estimated: the Shannon entropy of its characters
times its length, with runs of repeated or consecutive characters (aaaa, abcd, 1234) counted once. At least
MIN_BITS are needed; `secrets.token_urlsafe(32)` or `openssl rand -hex 32` give far more.
Nothing is keyed by the secret itself: each use has its own key derived from it (HMAC-SHA256 of the
secret over the purpose's label), so a value computed for one purpose never serves another.
"""

import hashlib
import hmac
import math
from collections import Counter

MIN_LENGTH = 32
MIN_BITS = 128
TOKENS = "fleet/auth/tokens/v1"  # signs login tokens (JWT) and the portal's session cookie
CSRF = "fleet/web/csrf/v1"  # binds the portal's CSRF token to its session
OTP = "fleet/paylater/otp/v1"  # keys the PayLater one-time codes' hashes


def estimated_bits(secret: str) -> float:
    """A conservative estimate of the randomness in `secret`, in bits."""
    kept = [ch for i, ch in enumerate(secret) if i == 0 or abs(ord(ch) - ord(secret[i - 1])) > 1]
    if not kept:
        return 0.0
    counts = Counter(kept)
    per_char = -sum(n / len(kept) * math.log2(n / len(kept)) for n in counts.values())
    return per_char * len(kept)


def weakness(secret: str | None) -> str | None:
    """Why `secret` may not be the service secret, or None when it may."""
    if not secret or len(secret) < MIN_LENGTH:
        return f"it must be at least {MIN_LENGTH} characters"
    bits = estimated_bits(secret)
    if bits < MIN_BITS:
        return f"it holds about {bits:.0f} bits of randomness; at least {MIN_BITS} are needed"
    return None


def derive(secret: str, purpose: str) -> str:
    """The key of `purpose` (TOKENS, CSRF, OTP), derived from the service secret."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).hexdigest()
