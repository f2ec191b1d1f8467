"""Card passwords at rest (防泄漏): AES-256-GCM under keys from the settings, each ciphertext stored
beside the id of the key that made it, so keys can be rotated. The first key encrypts; every key
decrypts. A database dump or a backup then holds no card password anyone could use.

Without FIELD_ENCRYPTION_KEY the key is derived from SECRET_KEY, so an existing set-up keeps
starting (check --deploy warns about it); the derived key stays among the decrypting ones once real
keys are set, so rows written before can still be read (and moved on by reencrypt_passwords).
"""

import base64
import functools
import hashlib
import hmac
import os
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

NONCE_BYTES = 12


@dataclass(frozen=True)
class Key:
    id: str
    aead: AESGCM
    derived: bool


def _key(raw, derived=False):
    # The id names the key without giving it away: a few bytes of its hash.
    return Key(id=hashlib.sha256(b"key-id:" + raw).hexdigest()[:8], aead=AESGCM(raw), derived=derived)


@functools.cache
def _keys(configured, secret_key):
    derived = _key(hmac.new(secret_key.encode(), b"field-encryption-key", hashlib.sha256).digest(), derived=True)
    keys = [_key(base64.urlsafe_b64decode(k.encode("ascii"))) for k in configured]
    return [*keys, derived] if keys else [derived]


def keys():
    """The keys in use, the encrypting one first."""
    return _keys(tuple(settings.FIELD_ENCRYPTION_KEYS), settings.SECRET_KEY)


def key_is_derived():
    return keys()[0].derived


class UnknownKey(Exception):
    """A ciphertext made under a key that is no longer configured."""


def encrypt(plain):
    """(ciphertext, key id) of a text; ("", "") for an empty one, which hides nothing."""
    if not plain:
        return "", ""
    key = keys()[0]
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, plain.encode(), key.id.encode())
    return base64.urlsafe_b64encode(nonce + sealed).decode("ascii"), key.id


def decrypt(ciphertext, key_id):
    if not ciphertext:
        return ""
    key = next((k for k in keys() if k.id == key_id), None)
    if key is None:
        raise UnknownKey(f"no configured key has the id {key_id!r}: put it back into FIELD_ENCRYPTION_KEY")
    raw = base64.urlsafe_b64decode(ciphertext.encode("ascii"))
    return key.aead.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], key.id.encode()).decode()
