"""Keys derived from the server secret: pseudonyms for senders, sealed addresses for contact."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.models import SEALED_PASSPHRASE

_NONCE_BYTES = 12
# What replaces a sealed passphrase that can no longer be opened: it matches nothing.
UNUSABLE_PASSPHRASE = "unusable$"


def _derive(secret: bytes, purpose: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose).derive(secret)


class Sealer:
    """Turns platform identities into pseudonyms and addresses into sealed boxes."""

    __slots__ = ("_pseudonym_key", "_seal", "_webhook_key")

    def __init__(self, secret: str) -> None:
        raw = secret.encode()
        self._pseudonym_key = _derive(raw, b"tipline pseudonym v1")
        self._seal = AESGCM(_derive(raw, b"tipline sealed address v1"))
        self._webhook_key = _derive(raw, b"tipline webhook token v1")

    def pseudonym(self, channel: str, platform_user: str) -> str:
        """A stable alias for one person on one channel; the id cannot be read back from it."""
        mac = hmac.new(self._pseudonym_key, f"{channel}:{platform_user}".encode(), "sha256")
        return mac.hexdigest()[:32]

    def seal(self, address: str, *, bound_to: str) -> bytes:
        """Encrypt an address so that it only opens for the record it was sealed for."""
        nonce = os.urandom(_NONCE_BYTES)
        return nonce + self._seal.encrypt(nonce, address.encode(), bound_to.encode())

    def open(self, box: bytes, *, bound_to: str) -> str | None:
        """The address in a sealed box, or None if the box was tampered with or moved."""
        try:
            plain = self._seal.decrypt(box[:_NONCE_BYTES], box[_NONCE_BYTES:], bound_to.encode())
        except InvalidTag:
            return None
        return plain.decode()

    def seal_passphrase(self, passphrase: str, *, code: str) -> str:
        """A tip's passphrase sealed to that tip, kept until the slow hash replaces it."""
        box = self.seal(passphrase, bound_to=f"passphrase:{code}")
        return SEALED_PASSPHRASE + base64.b64encode(box).decode()

    def open_passphrase(self, stored: str, *, code: str) -> str | None:
        """The passphrase in a sealed value; None if it is not one, or not sealed for `code`."""
        if not stored.startswith(SEALED_PASSPHRASE):
            return None
        try:
            box = base64.b64decode(stored.removeprefix(SEALED_PASSPHRASE), validate=True)
            return self.open(box, bound_to=f"passphrase:{code}")
        except ValueError:  # not base64, or too short to be a box
            return None

    def passphrase_matches(self, typed: str, stored: str, *, code: str) -> bool:
        """Whether a typed passphrase is the tip's, sealed or hashed (the hash takes ~50 ms)."""
        if stored.startswith(SEALED_PASSPHRASE):
            sealed = self.open_passphrase(stored, code=code)
            return sealed is not None and hmac.compare_digest(sealed.encode(), typed.encode())
        return stored != UNUSABLE_PASSPHRASE and check_passphrase(typed, stored)

    def digest(self, purpose: str, value: str) -> str:
        """A keyed hash of a typed code (invite, join): a copied database alone cannot crack it."""
        mac = hmac.new(self._pseudonym_key, f"{purpose}:{value.upper()}".encode(), "sha256")
        return mac.hexdigest()

    def webhook_token(self, platform: str = "telegram") -> str:
        """The secret a platform echoes back on every webhook call, stable across restarts."""
        if platform == "telegram":
            return base64.urlsafe_b64encode(self._webhook_key).decode().rstrip("=")
        return self.digest(f"webhook:{platform}", platform)[:48]


def hash_passphrase(passphrase: str, salt: bytes | None = None) -> str:
    """A slow, salted hash of a tip's passphrase, as 'salt$hash' in hex."""
    salt = salt if salt is not None else os.urandom(16)
    digest = hashlib.scrypt(passphrase.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return f"{salt.hex()}${digest.hex()}"


def check_passphrase(passphrase: str, stored: str) -> bool:
    """Whether a typed passphrase matches the stored hash, in constant time."""
    salt_hex, _, _ = stored.partition("$")
    return hmac.compare_digest(hash_passphrase(passphrase, bytes.fromhex(salt_hex)), stored)
